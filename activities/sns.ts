/**
 * SNS activities: notifications with a JSON body that carries the execution context.
 */
import { createHash } from 'node:crypto';
import { PublishCommand, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { isClientFactory, type AwsClients, type ClientFactory } from './clients';
import { awsCall } from './errors';
import { CallPlan } from './plan';
import type { ActivityInput, ActionOutput, StepContext } from './schemas';

/** SNS subject limit (characters). */
export const MAX_SUBJECT_LENGTH = 100;
const FALLBACK_SUBJECT = 'firebreak notification';
/** The message ID a dry run reports: nothing is sent. */
export const NOT_SENT = '(not sent)';

export interface SnsActivities {
  'sns.publish': (input: ActivityInput<'sns.publish'>) => Promise<ActionOutput<'sns.publish'>>;
}

/** The JSON body every notification carries. */
export interface NotificationBody {
  /** The subject as given (the SNS subject itself may be shortened). */
  subject: string;
  /** A structured message, when the caller gave an object. */
  message?: Record<string, unknown>;
  /** A text message, when the caller gave a string. */
  text?: string;
  context: StepContext | null;
  sentAt: string;
}

/**
 * Makes a subject SNS accepts: printable ASCII only (accents are dropped from letters, other characters become `?`),
 * no line breaks, starting with a visible character, at most 100 characters (longer ones end with `...`).
 */
export function sanitizeSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[^\u0020-\u007e]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  if (ascii === '') return FALLBACK_SUBJECT;
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3).trimEnd()}...`;
}

/**
 * Creates the SNS activities, keyed by action name.
 *
 * @param source AWS clients (only `sns` is used) or the factory. Notifications always go out from the worker's own
 *   account and region, whatever the step's target: the topics are firebreak's, not the affected account's.
 */
export function createSnsActivities(source: Pick<AwsClients, 'sns'> | ClientFactory): SnsActivities {
  const { sns } = isClientFactory(source) ? source.own : source;
  return {
    /**
     * Standard topics have no deduplication, so a retried publish may deliver twice; FIFO topics (`.fifo`) get a
     * deduplication ID derived from the execution step, so retries within SNS's 5-minute window deliver once. A dry
     * run sends nothing: it reports the Publish it would make and the message ID `(not sent)`.
     */
    async 'sns.publish'({ topicArn, subject, message, ctx, dryRun }) {
      const plan = new CallPlan(dryRun);
      const body: NotificationBody = {
        subject,
        ...(typeof message === 'string' ? { text: message } : { message }),
        context: ctx ?? null,
        sentAt: new Date().toISOString(),
      };
      const attributes: Record<string, MessageAttributeValue> = {};
      // Attributes let subscriptions filter by execution or runbook without parsing the body.
      if (ctx) {
        attributes['firebreak.execution-id'] = { DataType: 'String', StringValue: ctx.executionId };
        attributes['firebreak.runbook-id'] = { DataType: 'String', StringValue: ctx.runbookId };
        if (ctx.incidentId) attributes['firebreak.incident-id'] = { DataType: 'String', StringValue: ctx.incidentId };
      }
      const fifo = topicArn.endsWith('.fifo');
      const dedupSource = ctx ? `${ctx.executionId}/${ctx.stepId}` : JSON.stringify({ subject, message });
      const cmd = new PublishCommand({
        TopicArn: topicArn,
        Subject: sanitizeSubject(subject),
        Message: JSON.stringify(body),
        MessageAttributes: Object.keys(attributes).length > 0 ? attributes : undefined,
        ...(fifo
          ? {
              MessageGroupId: (ctx?.executionId ?? 'firebreak').slice(0, 128),
              MessageDeduplicationId: createHash('sha256').update(dedupSource).digest('hex'),
            }
          : {}),
      });
      const out = await plan.call('sns', cmd, () => awsCall('sns.publish', () => sns.send(cmd), `topic ${topicArn}`));
      return { messageId: out?.MessageId ?? NOT_SENT, ...plan.fields() };
    },
  };
}
