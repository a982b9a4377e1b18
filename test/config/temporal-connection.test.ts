/**
 * Connecting to an existing Temporal cluster or Temporal Cloud: TLS, mTLS and API-key settings, validated at start and
 * turned into the SDK connections' options.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/env';
import { temporalConnectionOptions } from '../../config/temporal-connection';

const dir = mkdtempSync(path.join(tmpdir(), 'firebreak-tls-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const address = 'ns.acct.tmprl.cloud:7233';

it('connects in plain text to a local dev server by default', () => {
  expect(temporalConnectionOptions(loadConfig({}))).toEqual({ address: '127.0.0.1:7233' });
});

it('uses mTLS with a client certificate, a private CA and a server name', () => {
  const config = loadConfig({
    FIREBREAK_TEMPORAL_ADDRESS: address,
    FIREBREAK_TEMPORAL_TLS_CERT: cert,
    FIREBREAK_TEMPORAL_TLS_KEY: key,
    FIREBREAK_TEMPORAL_TLS_CA: ca,
    FIREBREAK_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  const opts = temporalConnectionOptions(config);
  expect(opts.address).toBe(address);
  expect(opts.apiKey).toBeUndefined();
  expect(Buffer.from(opts.tls!.clientCertPair!.crt).toString()).toContain('cert');
  expect(Buffer.from(opts.tls!.clientCertPair!.key).toString()).toContain('key');
  expect(Buffer.from(opts.tls!.serverRootCACertificate!).toString()).toContain('ca');
  expect(opts.tls!.serverNameOverride).toBe('temporal.internal');
});

it('sends an API key over TLS with the system roots (Temporal Cloud)', () => {
  const opts = temporalConnectionOptions(
    loadConfig({ FIREBREAK_TEMPORAL_ADDRESS: address, FIREBREAK_TEMPORAL_API_KEY: 'secret-key' }),
  );
  expect(opts).toEqual({ address, tls: {}, apiKey: 'secret-key' });
});

it('refuses a certificate without its key, and files it cannot read', () => {
  expect(() => loadConfig({ FIREBREAK_TEMPORAL_TLS_CERT: cert })).toThrow(/set both \(mTLS\) or neither/);
  expect(() => loadConfig({ FIREBREAK_TEMPORAL_TLS_CA: path.join(dir, 'missing.pem') })).toThrow(
    /FIREBREAK_TEMPORAL_TLS_CA: cannot read/,
  );
});
