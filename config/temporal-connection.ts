/**
 * How the worker (NativeConnection) and the API (Connection) reach Temporal: plain for a local dev server; TLS, mTLS
 * and/or an API key for an existing cluster or Temporal Cloud. Both SDK connections take the same options.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from './env';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(
  config: Pick<Config, 'temporalAddress' | 'temporalTls' | 'temporalApiKey'>,
): TemporalConnectionOptions {
  const t = config.temporalTls;
  // An API key is only ever sent over TLS (Temporal Cloud requires it; a key in clear text would leak).
  if (!t && !config.temporalApiKey) return { address: config.temporalAddress };
  const tls: TLSConfig = {};
  if (t?.certPath && t.keyPath) tls.clientCertPair = { crt: readFileSync(t.certPath), key: readFileSync(t.keyPath) };
  if (t?.caPath) tls.serverRootCACertificate = readFileSync(t.caPath);
  if (t?.serverName) tls.serverNameOverride = t.serverName;
  return {
    address: config.temporalAddress,
    tls,
    ...(config.temporalApiKey ? { apiKey: config.temporalApiKey } : {}),
  };
}
