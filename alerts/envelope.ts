/**
 * The EventBridge event envelope, common to every AWS service event (and to events delivered through an API
 * destination, or wrapped in an SNS notification by an EventBridge rule with an SNS target).
 */
import { Type, type Static } from '@sinclair/typebox';
import { checker, readJsonObject } from './validate';

export const EventBridgeEnvelopeSchema = Type.Object(
  {
    version: Type.String(),
    id: Type.String({ minLength: 1 }),
    'detail-type': Type.String({ minLength: 1 }),
    source: Type.String({ minLength: 1 }),
    account: Type.String({ minLength: 1 }),
    time: Type.String({ minLength: 1 }),
    region: Type.String({ minLength: 1 }),
    resources: Type.Optional(Type.Array(Type.String())),
    detail: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);
export type EventBridgeEnvelope = Static<typeof EventBridgeEnvelopeSchema>;

const checkEnvelope = checker(EventBridgeEnvelopeSchema);

/**
 * Checks an EventBridge event's envelope (a string body or a parsed object).
 * @throws AlertParseError listing every missing or mistyped envelope field.
 */
export function parseEventBridgeEnvelope(event: unknown): EventBridgeEnvelope {
  return checkEnvelope(readJsonObject(event, 'EventBridge event'), 'EventBridge event');
}
