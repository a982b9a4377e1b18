/**
 * CloudWatch alarms, as an SNS notification (the alarm's SNS action) or as an EventBridge "CloudWatch Alarm State
 * Change" event. Both go through one mapping ({@link AlarmFacts} → {@link NormalisedAlert}) so that the same alarm
 * state change gives the same name, account, region and resource, hence the same fingerprint, whichever way it came.
 *
 * State: ALARM → firing, OK → resolved. INSUFFICIENT_DATA → {@link UnsupportedAlertError} (`insufficient-data`): it
 * says the alarm cannot evaluate, which proves neither a problem nor its end; opening an incident on it pages on
 * every gap in a sparse metric, and resolving on it would close an incident whose instance merely stopped reporting
 * (perhaps because a runbook isolated it). An alarm whose missing data should page sets TreatMissingData=breaching.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AlertResource, AlertTransport, NormalisedAlert } from './alert';
import { UnsupportedAlertError } from './errors';
import { parseEventBridgeEnvelope } from './envelope';
import type { SnsNotification } from './sns';
import { Nullable, StringEnum, checker, compactLabels, malformed, parseArn, requireIsoTime, str } from './validate';

/** CloudWatch alarm states. */
export const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/**
 * Metric dimensions that name a resource, in priority order: the first one an alarm's metric has is its resource
 * (`InstanceId` before `AutoScalingGroupName`, `LoadBalancer` before `TargetGroup`).
 */
export const DIMENSION_RESOURCE_TYPES: readonly { dimension: string; type: string }[] = [
  { dimension: 'InstanceId', type: 'ec2:instance' },
  { dimension: 'LoadBalancer', type: 'elbv2:loadbalancer' },
  { dimension: 'LoadBalancerName', type: 'elb:loadbalancer' },
  { dimension: 'AutoScalingGroupName', type: 'autoscaling:group' },
  { dimension: 'FunctionName', type: 'lambda:function' },
  { dimension: 'DBInstanceIdentifier', type: 'rds:instance' },
  { dimension: 'DBClusterIdentifier', type: 'rds:cluster' },
  { dimension: 'QueueName', type: 'sqs:queue' },
  { dimension: 'TableName', type: 'dynamodb:table' },
  { dimension: 'BucketName', type: 's3:bucket' },
  { dimension: 'VolumeId', type: 'ec2:volume' },
  { dimension: 'NatGatewayId', type: 'ec2:natgateway' },
  { dimension: 'TopicName', type: 'sns:topic' },
  { dimension: 'TargetGroup', type: 'elbv2:targetgroup' },
];

/**
 * The resource of an alarm's metric: the first {@link DIMENSION_RESOURCE_TYPES} dimension it has; else its
 * dimension whose name sorts first, as `<namespace>:<dimension>` lowercased with the `AWS/` prefix dropped
 * (`AWS/EFS` `FileSystemId` gives `efs:filesystemid`, a custom `MyApp/Orders` `Shard` gives `myapp/orders:shard`); sorted, not "first", because SNS lists dimensions as an array and EventBridge as an object,
 * and both must give the same resource. No dimensions: no resource.
 */
export function resourceFromDimensions(
  namespace: string | undefined,
  dimensions: Record<string, string>,
): AlertResource | undefined {
  for (const { dimension, type } of DIMENSION_RESOURCE_TYPES) {
    const id = dimensions[dimension];
    if (id) return { type, id };
  }
  const names = Object.keys(dimensions)
    .filter((n) => dimensions[n] !== '')
    .sort();
  if (names.length === 0) return undefined;
  const ns = (namespace ?? 'cloudwatch').replace(/^aws\//i, '').toLowerCase();
  return { type: `${ns}:${names[0].toLowerCase()}`, id: dimensions[names[0]] };
}

/** What both transports say about an alarm state change, before mapping. */
interface AlarmFacts {
  name: string;
  state: AlarmState;
  previousState?: string;
  description?: string;
  reason?: string;
  account?: string;
  region?: string;
  alarmArn?: string;
  /** The alarm's metric (single metric, or the first MetricStat of a metric-math / anomaly-detection alarm). */
  metric?: { namespace?: string; name?: string; dimensions: Record<string, string> };
  /** The first expression of a metric-math or anomaly-detection alarm. */
  expression?: string;
  alarmRule?: string;
  tags?: Record<string, string>;
  occurredAt: string;
}

function alarmType(f: AlarmFacts): string {
  if (f.alarmRule) return 'composite';
  if (f.expression && /^\s*ANOMALY_DETECTION_BAND\s*\(/i.test(f.expression)) return 'anomaly-detection';
  if (f.expression) return 'metric-math';
  return 'metric';
}

function toAlert(
  f: AlarmFacts,
  t: { via: AlertTransport; deliveryId: string; title: string; raw: unknown; extra?: Record<string, string> },
): NormalisedAlert {
  if (f.state === 'INSUFFICIENT_DATA') {
    throw new UnsupportedAlertError(
      'insufficient-data',
      `alarm ${f.name} is INSUFFICIENT_DATA: no incident is opened or closed on it`,
      {
        alarmName: f.name,
        state: f.state,
      },
    );
  }
  const metric = f.metric;
  const resource = metric && resourceFromDimensions(metric.namespace, metric.dimensions);
  const dimensionLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric?.dimensions ?? {})) dimensionLabels[`dimension:${k}`] = v;
  const tagLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.tags ?? {})) tagLabels[`tag:${k}`] = v;
  const alert: NormalisedAlert = {
    source: 'cloudwatch',
    via: t.via,
    deliveryId: t.deliveryId,
    name: f.name,
    title: t.title,
    state: f.state === 'ALARM' ? 'firing' : 'resolved',
    labels: compactLabels({
      alarmName: f.name,
      alarmArn: f.alarmArn,
      alarmType: alarmType(f),
      alarmState: f.state,
      previousState: f.previousState,
      reason: f.reason,
      namespace: metric?.namespace,
      metric: metric?.name,
      expression: f.expression,
      alarmRule: f.alarmRule,
      ...dimensionLabels,
      ...tagLabels,
      ...t.extra,
    }),
    occurredAt: f.occurredAt,
    raw: t.raw,
  };
  // Optional fields are left out rather than set to undefined: the alert is stored as JSON and compared in tests.
  if (f.description !== undefined) alert.description = f.description;
  if (f.account !== undefined) alert.account = f.account;
  if (f.region !== undefined) alert.region = f.region;
  if (resource) alert.resource = resource;
  if (metric && (metric.namespace !== undefined || metric.name !== undefined)) {
    alert.metric = {};
    if (metric.namespace !== undefined) alert.metric.namespace = metric.namespace;
    if (metric.name !== undefined) alert.metric.name = metric.name;
  }
  return alert;
}

// ---- SNS ------------------------------------------------------------------------------------------------------

const Str = Nullable(Type.String());
const SnsDimensions = Nullable(Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), value: Str })));
const SnsMetric = Type.Object({
  Namespace: Type.Optional(Str),
  MetricName: Type.Optional(Str),
  Dimensions: Type.Optional(SnsDimensions),
});

/** The alarm message CloudWatch publishes to SNS (the `Message` of the notification, JSON-encoded). */
export const CloudWatchSnsMessageSchema = Type.Object(
  {
    AlarmName: Type.String({ minLength: 1 }),
    NewStateValue: StringEnum(ALARM_STATES),
    AlarmDescription: Type.Optional(Str),
    AWSAccountId: Type.Optional(Str),
    NewStateReason: Type.Optional(Str),
    StateChangeTime: Type.Optional(Str),
    Region: Type.Optional(Str),
    AlarmArn: Type.Optional(Str),
    OldStateValue: Type.Optional(Str),
    AlarmRule: Type.Optional(Str),
    Trigger: Type.Optional(
      Nullable(
        Type.Object({
          MetricName: Type.Optional(Str),
          Namespace: Type.Optional(Str),
          Dimensions: Type.Optional(SnsDimensions),
          Metrics: Type.Optional(
            Nullable(
              Type.Array(
                Type.Object({
                  Id: Type.Optional(Str),
                  Expression: Type.Optional(Str),
                  Label: Type.Optional(Str),
                  MetricStat: Type.Optional(Nullable(Type.Object({ Metric: SnsMetric }))),
                }),
              ),
            ),
          ),
        }),
      ),
    ),
  },
  { additionalProperties: true },
);
export type CloudWatchSnsMessage = Static<typeof CloudWatchSnsMessageSchema>;
const checkSnsMessage = checker(CloudWatchSnsMessageSchema);

type SnsDims = Static<typeof SnsDimensions> | undefined;
function dimsFromArray(dims: SnsDims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dims ?? []) if (typeof d.value === 'string') out[d.name] = d.value;
  return out;
}

/**
 * Reads the `Message` of an SNS notification as JSON: undefined when it is plainly not JSON (some other publisher
 * on the topic), a parse error when it starts like a JSON object but does not parse (truncated or mangled).
 */
export function parseSnsMessageJson(sns: SnsNotification): Record<string, unknown> | undefined {
  const text = sns.Message.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    malformed('SNS message', '/Message', `is not valid JSON (${(err as Error).message})`, err);
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A CloudWatch alarm from the SNS notification its alarm action published. deliveryId is the SNS MessageId (kept on a
 * redelivery); the title is the Subject, else the alarm name; region and account come from the AlarmArn (the
 * `Region` field is a display name such as "EU (Ireland)"), falling back to AWSAccountId and the topic's ARN.
 *
 * @throws AlertParseError the Message is truncated JSON, or an alarm message with missing or mistyped fields.
 * @throws UnsupportedAlertError the Message is not a CloudWatch alarm, or the alarm is INSUFFICIENT_DATA.
 */
export function fromCloudWatchSnsMessage(sns: SnsNotification): NormalisedAlert {
  const json = parseSnsMessageJson(sns);
  if (!json || (json.AlarmName === undefined && json.NewStateValue === undefined)) {
    throw new UnsupportedAlertError('not-an-alarm', 'the SNS message is not a CloudWatch alarm notification', {
      topicArn: sns.TopicArn,
    });
  }
  const m = checkSnsMessage(json, 'CloudWatch alarm message', '/Message');
  const alarmArn = parseArn(m.AlarmArn);
  const topicArn = parseArn(sns.TopicArn);
  const trigger = m.Trigger ?? undefined;
  let metric: AlarmFacts['metric'];
  let expression: string | undefined;
  if (trigger && (str(trigger.MetricName) || str(trigger.Namespace))) {
    metric = {
      namespace: str(trigger.Namespace),
      name: str(trigger.MetricName),
      dimensions: dimsFromArray(trigger.Dimensions),
    };
  } else if (trigger?.Metrics) {
    const stat = trigger.Metrics.find((q) => q.MetricStat)?.MetricStat?.Metric;
    if (stat)
      metric = {
        namespace: str(stat.Namespace),
        name: str(stat.MetricName),
        dimensions: dimsFromArray(stat.Dimensions),
      };
    expression = trigger.Metrics.map((q) => str(q.Expression)).find((e) => e !== undefined);
  }
  const facts: AlarmFacts = {
    name: m.AlarmName,
    state: m.NewStateValue,
    previousState: str(m.OldStateValue),
    description: str(m.AlarmDescription),
    reason: str(m.NewStateReason),
    account: str(m.AWSAccountId) ?? str(alarmArn?.account) ?? str(topicArn?.account),
    // Alarm actions publish to topics of the alarm's region, so the topic's region stands in for a missing AlarmArn.
    region: str(alarmArn?.region) ?? str(topicArn?.region),
    alarmArn: str(m.AlarmArn),
    metric,
    expression,
    alarmRule: str(m.AlarmRule),
    occurredAt: str(m.StateChangeTime)
      ? requireIsoTime(m.StateChangeTime as string, 'CloudWatch alarm message', '/Message/StateChangeTime')
      : requireIsoTime(sns.Timestamp, 'SNS message', '/Timestamp'),
  };
  return toAlert(facts, {
    via: 'sns',
    deliveryId: sns.MessageId,
    title: str(sns.Subject) ?? m.AlarmName,
    raw: { sns, message: json },
    extra: { topicArn: sns.TopicArn },
  });
}

// ---- EventBridge ----------------------------------------------------------------------------------------------

/** EventBridge detail-type of CloudWatch alarm state changes. */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

const EbState = Type.Object({
  value: Type.Optional(Str),
  reason: Type.Optional(Str),
  timestamp: Type.Optional(Str),
});

/** The `detail` of a "CloudWatch Alarm State Change" event. */
export const AlarmStateChangeDetailSchema = Type.Object(
  {
    alarmName: Type.String({ minLength: 1 }),
    state: Type.Object({
      value: StringEnum(ALARM_STATES),
      reason: Type.Optional(Str),
      timestamp: Type.Optional(Str),
    }),
    previousState: Type.Optional(Nullable(EbState)),
    configuration: Type.Optional(
      Nullable(
        Type.Object({
          description: Type.Optional(Str),
          alarmRule: Type.Optional(Str),
          metrics: Type.Optional(
            Nullable(
              Type.Array(
                Type.Object({
                  id: Type.Optional(Str),
                  expression: Type.Optional(Str),
                  label: Type.Optional(Str),
                  metricStat: Type.Optional(
                    Nullable(
                      Type.Object({
                        metric: Type.Object({
                          namespace: Type.Optional(Str),
                          name: Type.Optional(Str),
                          dimensions: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
                        }),
                      }),
                    ),
                  ),
                }),
              ),
            ),
          ),
        }),
      ),
    ),
    // Present when the alarm has tag propagation enabled.
    alarmTags: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
  },
  { additionalProperties: true },
);
const checkDetail = checker(AlarmStateChangeDetailSchema);

/** How an event reached us, when not straight from an EventBridge API destination (e.g. wrapped in SNS). */
export interface EventTransport {
  via: AlertTransport;
  deliveryId: string;
  raw: unknown;
}

/**
 * A CloudWatch alarm from an EventBridge "CloudWatch Alarm State Change" event (string or parsed). deliveryId is the
 * event id; account and region are the event's; name, resource and metric follow the SNS mapping exactly.
 *
 * @throws AlertParseError a malformed envelope or detail.
 * @throws UnsupportedAlertError another detail-type, or an INSUFFICIENT_DATA state.
 */
export function fromEventBridgeAlarm(event: unknown, transport?: EventTransport): NormalisedAlert {
  const env = parseEventBridgeEnvelope(event);
  if (env['detail-type'] !== ALARM_STATE_CHANGE) {
    throw new UnsupportedAlertError('detail-type', `not a ${ALARM_STATE_CHANGE} event: ${env['detail-type']}`, {
      detailType: env['detail-type'],
    });
  }
  const d = checkDetail(env.detail, 'CloudWatch alarm event', '/detail');
  const cfg = d.configuration ?? undefined;
  const metrics = cfg?.metrics ?? [];
  const stat = metrics.find((q) => q.metricStat)?.metricStat?.metric;
  const alarmArn = (env.resources ?? []).find((r) => parseArn(r)?.service === 'cloudwatch');
  const facts: AlarmFacts = {
    name: d.alarmName,
    state: d.state.value,
    previousState: str(d.previousState?.value),
    description: str(cfg?.description),
    reason: str(d.state.reason),
    account: env.account,
    region: env.region,
    alarmArn,
    metric: stat
      ? { namespace: str(stat.namespace), name: str(stat.name), dimensions: { ...(stat.dimensions ?? {}) } }
      : undefined,
    expression: metrics.map((q) => str(q.expression)).find((e) => e !== undefined),
    alarmRule: str(cfg?.alarmRule),
    tags: d.alarmTags ?? undefined,
    occurredAt: str(d.state.timestamp)
      ? requireIsoTime(d.state.timestamp as string, 'CloudWatch alarm event', '/detail/state/timestamp')
      : requireIsoTime(env.time, 'EventBridge event', '/time'),
  };
  return toAlert(facts, {
    via: transport?.via ?? 'eventbridge',
    deliveryId: transport?.deliveryId ?? env.id,
    title: d.alarmName,
    raw: transport?.raw ?? env,
  });
}
