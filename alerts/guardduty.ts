/**
 * GuardDuty findings, from the EventBridge "GuardDuty Finding" event (or the bare finding, its `detail`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AlertResource, NormalisedAlert } from './alert';
import { UnsupportedAlertError } from './errors';
import type { EventTransport } from './cloudwatch';
import { parseEventBridgeEnvelope } from './envelope';
import { guardDutyBand } from './severity';
import { Nullable, checker, compactLabels, malformed, readJsonObject, requireIsoTime, str } from './validate';

/** EventBridge detail-type of GuardDuty findings. */
export const GUARDDUTY_FINDING = 'GuardDuty Finding';

const Str = Nullable(Type.String());

/** A GuardDuty finding (the `detail` of the event); only the fields firebreak reads are checked. */
export const GuardDutyFindingSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    severity: Type.Number({ minimum: 0, maximum: 10 }),
    accountId: Type.Optional(Str),
    region: Type.Optional(Str),
    arn: Type.Optional(Str),
    title: Type.Optional(Str),
    description: Type.Optional(Str),
    createdAt: Type.Optional(Str),
    updatedAt: Type.Optional(Str),
    resource: Type.Object({ resourceType: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
    service: Type.Optional(
      Nullable(
        Type.Object(
          {
            archived: Type.Optional(Nullable(Type.Boolean())),
            count: Type.Optional(Nullable(Type.Number())),
            detectorId: Type.Optional(Str),
          },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  { additionalProperties: true },
);
export type GuardDutyFinding = Static<typeof GuardDutyFindingSchema>;
const checkFinding = checker(GuardDutyFindingSchema);

type Details = Record<string, any>;

/**
 * GuardDuty `resource.resourceType` → firebreak resource type, and where the resource's ID is in the finding. A type
 * not listed becomes `{ type: <resourceType lowercased>, id: <finding id> }`; so does a listed one whose ID is absent.
 */
export const GUARDDUTY_RESOURCE_TYPES: Readonly<Record<string, { type: string; id: (resource: Details) => unknown }>> =
  {
    Instance: { type: 'ec2:instance', id: (r) => r.instanceDetails?.instanceId },
    AccessKey: { type: 'iam:accesskey', id: (r) => r.accessKeyDetails?.accessKeyId },
    S3Bucket: { type: 's3:bucket', id: (r) => r.s3BucketDetails?.[0]?.name },
    EKSCluster: { type: 'eks:cluster', id: (r) => r.eksClusterDetails?.name },
    ECSCluster: { type: 'ecs:cluster', id: (r) => r.ecsClusterDetails?.name },
    Container: { type: 'container', id: (r) => r.containerDetails?.id ?? r.containerDetails?.name },
    Lambda: { type: 'lambda:function', id: (r) => r.lambdaDetails?.functionName },
    RDSDBInstance: { type: 'rds:instance', id: (r) => r.rdsDbInstanceDetails?.dbInstanceIdentifier },
    RDSLimitlessDB: { type: 'rds:limitlessdb', id: (r) => r.rdsLimitlessDbDetails?.dbShardGroupIdentifier },
  };

function resourceOf(finding: GuardDutyFinding): AlertResource {
  const r = finding.resource as Details;
  const known = GUARDDUTY_RESOURCE_TYPES[r.resourceType];
  if (known) {
    const id = known.id(r);
    return { type: known.type, id: typeof id === 'string' && id !== '' ? id : finding.id };
  }
  return { type: String(r.resourceType).toLowerCase(), id: finding.id };
}

const WHAT = 'GuardDuty finding';

/**
 * A GuardDuty finding as an alert: name and findingType are the finding type, severity its numeric severity's band
 * (see severity.ts), state firing, or resolved once the finding is archived. `event` is the EventBridge event
 * (deliveryId = event id) or the bare finding (deliveryId = `<finding id>@<updatedAt>`: GuardDuty re-publishes an
 * updated finding under the same id, and each update is a delivery of its own).
 *
 * @throws AlertParseError a malformed envelope or finding.
 * @throws UnsupportedAlertError an EventBridge event of another detail-type.
 */
export function fromGuardDutyFinding(event: unknown, transport?: EventTransport): NormalisedAlert {
  const obj = readJsonObject(event, WHAT);
  const isEvent = 'detail-type' in obj || 'detail' in obj;
  let finding: GuardDutyFinding;
  let base: {
    via: NormalisedAlert['via'];
    deliveryId: string;
    account?: string;
    region?: string;
    time?: string;
    raw: unknown;
  };
  if (isEvent) {
    const env = parseEventBridgeEnvelope(obj);
    if (env['detail-type'] !== GUARDDUTY_FINDING) {
      throw new UnsupportedAlertError('detail-type', `not a ${GUARDDUTY_FINDING} event: ${env['detail-type']}`, {
        detailType: env['detail-type'],
      });
    }
    finding = checkFinding(env.detail, WHAT, '/detail');
    base = {
      via: 'eventbridge',
      deliveryId: env.id,
      account: env.account,
      region: env.region,
      time: env.time,
      raw: env,
    };
  } else {
    finding = checkFinding(obj, WHAT);
    const stamp = str(finding.updatedAt) ?? str(finding.createdAt);
    if (!stamp) malformed(WHAT, '/updatedAt', 'is required for a finding outside an EventBridge event');
    base = { via: 'webhook', deliveryId: `${finding.id}@${stamp}`, raw: obj };
  }
  if (transport) base = { ...base, ...transport };

  const prefix = isEvent ? '/detail' : '';
  const stamp = str(finding.updatedAt) ?? str(finding.createdAt);
  const occurredAt = stamp
    ? requireIsoTime(stamp, WHAT, `${prefix}/${str(finding.updatedAt) ? 'updatedAt' : 'createdAt'}`)
    : requireIsoTime(base.time as string, 'EventBridge event', '/time');
  const band = guardDutyBand(finding.severity);
  const service = finding.service ?? undefined;
  const resource = resourceOf(finding);
  const alert: NormalisedAlert = {
    source: 'guardduty',
    via: base.via,
    deliveryId: base.deliveryId,
    name: finding.type,
    title: str(finding.title) ?? finding.type,
    state: service?.archived === true ? 'resolved' : 'firing',
    resource,
    findingType: finding.type,
    labels: compactLabels({
      findingId: finding.id,
      findingArn: str(finding.arn),
      findingType: finding.type,
      severity: String(finding.severity),
      severityLabel: band?.label,
      resourceType: (finding.resource as Details).resourceType,
      detectorId: str(service?.detectorId),
      count: typeof service?.count === 'number' ? String(service.count) : undefined,
    }),
    occurredAt,
    raw: base.raw,
  };
  const description = str(finding.description);
  if (description !== undefined) alert.description = description;
  if (band) alert.severity = band.severity;
  // The finding's own account and region: in a GuardDuty administrator account, events carry member findings.
  const account = str(finding.accountId) ?? base.account;
  const region = str(finding.region) ?? base.region;
  if (account !== undefined) alert.account = account;
  if (region !== undefined) alert.region = region;
  return alert;
}
