/**
 * Dispatchers: which parser an EventBridge event or an SNS notification goes to.
 */
import type { NormalisedAlert } from './alert';
import { ALARM_STATE_CHANGE, fromCloudWatchSnsMessage, fromEventBridgeAlarm, parseSnsMessageJson } from './cloudwatch';
import { parseEventBridgeEnvelope } from './envelope';
import { UnsupportedAlertError } from './errors';
import { GUARDDUTY_FINDING, fromGuardDutyFinding } from './guardduty';
import type { SnsNotification } from './sns';

/** EventBridge detail-types firebreak turns into alerts. */
export const SUPPORTED_DETAIL_TYPES: readonly string[] = [ALARM_STATE_CHANGE, GUARDDUTY_FINDING];

/**
 * An EventBridge event (string body or parsed, e.g. from an API destination): the envelope is checked (version, id,
 * detail-type, source, account, time, region, detail), then "CloudWatch Alarm State Change" goes to
 * {@link fromEventBridgeAlarm} and "GuardDuty Finding" to {@link fromGuardDutyFinding}.
 *
 * @throws AlertParseError a malformed envelope or detail.
 * @throws UnsupportedAlertError any other detail-type (named in the message and details).
 */
export function fromEventBridge(event: unknown): NormalisedAlert {
  const env = parseEventBridgeEnvelope(event);
  switch (env['detail-type']) {
    case ALARM_STATE_CHANGE:
      return fromEventBridgeAlarm(env);
    case GUARDDUTY_FINDING:
      return fromGuardDutyFinding(env);
    default:
      throw new UnsupportedAlertError(
        'detail-type',
        `no alert parser for EventBridge detail-type "${env['detail-type']}"`,
        {
          detailType: env['detail-type'],
          source: env.source,
        },
      );
  }
}

/**
 * An SNS notification, whatever it carries: a CloudWatch alarm message, or an EventBridge event that a rule with an
 * SNS target published (e.g. GuardDuty → EventBridge → SNS). Either way deliveryId is the SNS MessageId and `via` is
 * `sns`; the SNS envelope is kept in `raw`.
 *
 * @throws AlertParseError a truncated or malformed Message.
 * @throws UnsupportedAlertError a Message that is neither, an unsupported detail-type, an INSUFFICIENT_DATA alarm.
 */
export function fromSnsNotification(sns: SnsNotification): NormalisedAlert {
  const json = parseSnsMessageJson(sns);
  if (json && 'detail-type' in json) {
    const transport = { via: 'sns' as const, deliveryId: sns.MessageId, raw: { sns, message: json } };
    const env = parseEventBridgeEnvelope(json);
    if (env['detail-type'] === ALARM_STATE_CHANGE) return fromEventBridgeAlarm(env, transport);
    if (env['detail-type'] === GUARDDUTY_FINDING) return fromGuardDutyFinding(env, transport);
    throw new UnsupportedAlertError(
      'detail-type',
      `no alert parser for EventBridge detail-type "${env['detail-type']}"`,
      {
        detailType: env['detail-type'],
        source: env.source,
      },
    );
  }
  return fromCloudWatchSnsMessage(sns);
}
