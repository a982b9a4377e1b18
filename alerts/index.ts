/**
 * Alert ingestion, transport- and framework-free: parsers from AWS and webhook payloads to {@link NormalisedAlert},
 * SNS signature verification, fingerprints and severity triage. Used by the API routes; no Fastify, no Temporal.
 */
export type { AlertResource, AlertSource, AlertTransport, NormalisedAlert } from './alert';
export * from './errors';
export * from './sns';
export * from './cloudwatch';
export * from './guardduty';
export * from './generic';
export * from './dispatch';
export * from './fingerprint';
export * from './severity';
export { EventBridgeEnvelopeSchema, parseEventBridgeEnvelope, type EventBridgeEnvelope } from './envelope';
export { toIsoTime, parseArn, type ArnParts } from './validate';
