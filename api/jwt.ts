/**
 * OIDC JWTs as bearer credentials, verified with jose against a JWKS (a URL, cached, or a file).
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../workflows/messages';
import { CredentialError } from './tokens';

export interface JwtOptions {
  issuer: string;
  audience: string;
  /** A JWKS document's URL (fetched and cached by jose) or its contents (read from a file at start). */
  jwks: { url: string } | { json: { keys: unknown[] } };
  /** Claim holding the roles (dot path, e.g. `realm_access.roles`); an array or a space-separated string. */
  rolesClaim: string;
  /** Claim naming the principal. */
  principalClaim: string;
  clockToleranceSec: number;
  algorithms: string[];
}

/** OIDC access or ID tokens: signature against the JWKS, issuer, audience, expiry and not-before with clock skew. */
export class JwtVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet>;

  constructor(private readonly opts: JwtOptions) {
    this.keys =
      'url' in opts.jwks
        ? // Cached by jose; a key it has not seen triggers a refetch, at most once per cooldown.
          createRemoteJWKSet(new URL(opts.jwks.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
        : createLocalJWKSet(opts.jwks.json as Parameters<typeof createLocalJWKSet>[0]);
  }

  static readJwksFile(path: string): { keys: unknown[] } {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(json.keys)) throw new Error(`${path}: not a JWKS document (no "keys" array)`);
    return { keys: json.keys };
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockToleranceSec,
        algorithms: this.opts.algorithms,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw new CredentialError(expired ? 'jwt-expired' : 'jwt-invalid', expired ? 'token expired' : 'invalid token', {
        cause: err,
      });
    }
    const subject = claim(payload, this.opts.principalClaim);
    if (typeof subject !== 'string' || subject === '') {
      throw new CredentialError('jwt-invalid', `token has no ${this.opts.principalClaim} claim`);
    }
    const rawRoles = claim(payload, this.opts.rolesClaim);
    const roles = Array.isArray(rawRoles)
      ? rawRoles.filter((r): r is string => typeof r === 'string')
      : typeof rawRoles === 'string'
        ? rawRoles.split(/\s+/).filter(Boolean)
        : [];
    // A JWT never grants the local wildcard: `*` only comes from FIREBREAK_AUTH_MODE=none.
    return { id: `user:${subject}`, roles: roles.filter((r) => r !== '*') };
  }
}

function claim(payload: JWTPayload, path: string): unknown {
  let v: unknown = payload;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** A compact JWS has three base64url parts; static tokens have none of its dots. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
