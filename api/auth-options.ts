/**
 * The API's credentials as the configuration names them (kept apart from server.ts so tests and the CLI can build them).
 */
import type { Config } from '../config/env';
import { JwtVerifier } from './jwt';
import type { AuthOptions } from './plugins/auth';
import { parseTokenEntries, readTokenFile, TokenStore } from './tokens';

/** Hashed static tokens and, with an OIDC issuer, JWTs; `none` only as configured. */
export function authOptions(config: Config): AuthOptions {
  if (config.authMode === 'none') return { mode: 'none' };
  const tokens = new TokenStore([
    ...parseTokenEntries(config.apiTokens),
    ...(config.apiTokensFile ? readTokenFile(config.apiTokensFile) : []),
  ]);
  const o = config.oidc;
  const jwt =
    o &&
    new JwtVerifier({
      issuer: o.issuer,
      audience: o.audience,
      jwks: o.jwksUrl ? { url: o.jwksUrl } : { json: JwtVerifier.readJwksFile(o.jwksFile!) },
      rolesClaim: o.rolesClaim,
      principalClaim: o.principalClaim,
      clockToleranceSec: o.clockSkewSec,
      algorithms: o.algorithms,
    });
  return { mode: 'token', tokens, jwt };
}
