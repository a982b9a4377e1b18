/**
 * The OpenAPI document: every operation's security and error answers follow from the permission its route declares,
 * and the committed docs/openapi.json is what `npm run openapi` writes today (CI fails when it is stale).
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { UNAUTHENTICATED, type Permission } from '../../api/permissions';
import { runbooks } from '../../runbooks';
import { RunbookRegistry } from '../../runbooks/registry';
import { OPENAPI_FILE, openApiDocument } from '../../scripts/openapi';

test('docs/openapi.json is current: run `npm run openapi` after changing a route or schema', async () => {
  const committed = readFileSync(OPENAPI_FILE, 'utf8');
  const current = await openApiDocument();
  // Parsed first, so a failure shows which part differs.
  expect(JSON.parse(committed)).toEqual(JSON.parse(current));
  expect(committed).toBe(current);
});

test('every operation: security and 401/403 from its permission, 429 everywhere, 400 where it takes input', async () => {
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const app = await buildApp({
    client: new Client({ connection }),
    registry: new RunbookRegistry(runbooks),
    taskQueue: 'unused',
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
  });
  await app.ready();
  const spec = app.swagger() as any;
  expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['bearer', 'webhookSecret']);
  expect(spec.security).toBeUndefined();
  const permissions = new Map(app.routePermissions().map((r) => [`${r.method} ${r.url}`, r.permission]));
  let operations = 0;
  for (const [path, ops] of Object.entries<Record<string, any>>(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      operations++;
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      const permission = permissions.get(`${method.toUpperCase()} ${url}`) as Permission;
      expect([method, path, permission]).toEqual([method, path, expect.any(String)]);
      const codes = Object.keys(op.responses);
      const open = UNAUTHENTICATED.includes(permission);
      expect([path, codes.includes('401'), codes.includes('429')]).toEqual([path, !open, true]);
      if (!open) {
        expect([path, op.security]).toEqual([path, [{ bearer: [] }]]);
        expect(codes).toContain('403');
      } else if (permission === 'public') {
        expect([path, op.security]).toEqual([path, []]);
      } else {
        // Alert endpoints: signed (SNS) or the shared secret, never a bearer credential.
        expect(JSON.stringify(op.security)).not.toContain('bearer');
      }
      if (op.parameters?.length || op.requestBody)
        expect([path, codes]).toEqual([path, expect.arrayContaining(['400'])]);
      for (const code of codes.filter((c) => c >= '400')) {
        expect(op.responses[code].content['application/json'].schema.properties.error.required).toEqual([
          'code',
          'message',
        ]);
      }
    }
  }
  expect(operations).toBeGreaterThanOrEqual(16);
  await app.close();
  await connection.close();
});
