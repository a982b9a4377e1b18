/**
 * Static API tokens, kept only as SHA-256 hashes (in FIREBREAK_API_TOKENS or a token file), and the error every
 * refused credential becomes. A credential yields a Principal; nothing from the request body ever does.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Principal } from '../workflows/messages';

/** Why a credential was refused; logged and counted, never shown in detail to the caller. */
export type CredentialProblem = 'missing' | 'malformed' | 'unknown-token' | 'jwt-expired' | 'jwt-invalid' | 'jwt-off';

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly code = 'CREDENTIAL_REFUSED';
  constructor(
    readonly problem: CredentialProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token (URL-safe, 256 bits) and the entry that stores only its hash. */
export function newToken(name: string, roles: string[]): { token: string; entry: string } {
  const token = `fbk_${randomBytes(32).toString('base64url')}`;
  return { token, entry: `sha256:${sha256Hex(token)}=${name}:${roles.join('+')}` };
}

export interface StoredToken {
  /** SHA-256 of the token, hex. */
  sha256: string;
  principal: Principal;
}

const HASH = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
// `*` (every role) is never a token's: only FIREBREAK_AUTH_MODE=none grants it.
const ROLE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Parses `FIREBREAK_API_TOKENS`: `sha256:<hex>=<name>:<role>+<role>,…`. A plain token is refused, so a secret never
 * sits in the environment or a config file in clear.
 */
export function parseTokenEntries(spec: string): StoredToken[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const m = /^sha256:([^=]*)=([^:]*):(.*)$/.exec(entry);
      if (!m) {
        throw new Error(
          `entry ${i + 1} is not sha256:<hex>=<name>:<role>+<role> (plain tokens are not accepted: ` +
            '`npm run token -- <name> <role>` prints a new token and its entry)',
        );
      }
      return stored(m[1].toLowerCase(), m[2], m[3] ? m[3].split('+') : [], `entry ${i + 1}`);
    });
}

/** Reads a JSON token file: `[{ "name": "alice", "roles": ["responder"], "sha256": "<hex>" }]`. */
export function readTokenFile(path: string): StoredToken[] {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`${path}: expected a JSON array of { name, roles, sha256 }`);
  return raw.map((e: { name?: unknown; roles?: unknown; sha256?: unknown }, i) => {
    if (typeof e?.sha256 !== 'string' || typeof e.name !== 'string' || !Array.isArray(e.roles)) {
      throw new Error(`${path}: entry ${i + 1} needs name, roles (array) and sha256`);
    }
    return stored(e.sha256.toLowerCase(), e.name, e.roles.map(String), `${path} entry ${i + 1}`);
  });
}

function stored(hash: string, name: string, roles: string[], where: string): StoredToken {
  if (!HASH.test(hash)) throw new Error(`${where}: sha256 must be 64 hex characters`);
  if (!NAME.test(name)) throw new Error(`${where}: name must match ${NAME}`);
  const bad = roles.filter((r) => !ROLE.test(r));
  if (roles.length === 0 || bad.length > 0) throw new Error(`${where}: roles must be one or more of ${ROLE}`);
  return { sha256: hash, principal: { id: `user:${name}`, roles } };
}

/** Static tokens, compared by hash in constant time against every entry (timing reveals neither prefix nor match). */
export class TokenStore {
  private readonly entries: { hash: Buffer; principal: Principal }[];

  constructor(tokens: readonly StoredToken[]) {
    const seen = new Set<string>();
    for (const t of tokens) {
      if (seen.has(t.sha256)) throw new Error(`two token entries share one hash (${t.principal.id})`);
      seen.add(t.sha256);
    }
    this.entries = tokens.map((t) => ({ hash: Buffer.from(t.sha256, 'hex'), principal: t.principal }));
  }

  /** Tests and scripts: a store from plain tokens, hashed here. */
  static fromPlain(tokens: Record<string, Principal>): TokenStore {
    return new TokenStore(
      Object.entries(tokens).map(([token, principal]) => ({ sha256: sha256Hex(token), principal })),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  authenticate(presented: string): Principal | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.hash, hash)) found = e.principal;
    return found;
  }
}
