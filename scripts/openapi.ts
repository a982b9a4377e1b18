/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI document of the API as the app itself generates it (the
 * document /docs/json serves). test/api/openapi.test.ts fails when the committed file is stale.
 *
 * The app is built with a lazy Temporal connection that is never used: generating the document calls nothing.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../api/app';
import { TokenStore } from '../api/tokens';
import { runbooks } from '../runbooks';
import { RunbookRegistry } from '../runbooks/registry';

export const OPENAPI_FILE = path.join(__dirname, '..', 'docs', 'openapi.json');

/** The document, as text: stable key order as generated, two-space indentation, a final newline. */
export async function openApiDocument(): Promise<string> {
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const app = await buildApp({
    client: new Client({ connection }),
    registry: new RunbookRegistry(runbooks),
    taskQueue: 'firebreak',
    publicUrl: 'http://127.0.0.1:3000',
    // The document does not depend on the credentials: every operation names its own security.
    auth: { mode: 'token', tokens: new TokenStore([]) },
  });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await connection.close();
  }
}

if (require.main === module) {
  openApiDocument()
    .then((text) => {
      writeFileSync(OPENAPI_FILE, text);
      console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
    })
    .catch((err) => {
      console.error('openapi failed:', err);
      process.exit(1);
    });
}
