/**
 * Input and output schemas of every action in the catalogue.
 *
 * This module imports no AWS SDK and no Node builtins: the runbook DSL, the load-time validator and the API read it,
 * and the workflow imports its types only.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const InstanceId = Type.String({ pattern: '^i-[0-9a-f]{8,17}$', description: 'EC2 instance ID' });
const Tags = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 }));

/**
 * Execution context the interpreter adds to every activity input (never written in a runbook): it names the
 * execution and step so that activities can tag evidence and find what an earlier attempt created.
 */
export const StepContext = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  stepId: Type.String(),
  incidentId: Type.Optional(Type.String()),
});
export type StepContext = Static<typeof StepContext>;

// ---- ec2 -----------------------------------------------------------------------------------------------------------

export const CaptureInstanceInput = Type.Object({ instanceId: InstanceId });
export const NetworkInterfaceGroups = Type.Object({
  networkInterfaceId: Type.String(),
  groupIds: Type.Array(Type.String()),
});
export const CaptureInstanceOutput = Type.Object({
  instanceId: Type.String(),
  state: Type.String(),
  vpcId: Type.String(),
  subnetId: Type.Optional(Type.String()),
  privateIpAddress: Type.Optional(Type.String()),
  networkInterfaces: Type.Array(NetworkInterfaceGroups),
  volumes: Type.Array(Type.Object({ volumeId: Type.String(), deviceName: Type.Optional(Type.String()) })),
  tags: Tags,
  terminationProtection: Type.Boolean(),
});

export const IsolateInstanceInput = Type.Object({
  instanceId: InstanceId,
  /** Name of the quarantine group; one per VPC. */
  quarantineGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
export const IsolateInstanceOutput = Type.Object({
  instanceId: Type.String(),
  vpcId: Type.String(),
  quarantineGroupId: Type.String(),
  quarantineGroupCreated: Type.Boolean(),
  /** The groups each ENI had before it was moved; a retry of the same step reports them from the ENI tags it wrote. */
  networkInterfaces: Type.Array(NetworkInterfaceGroups),
});

export const RestoreSecurityGroupsInput = Type.Object({
  instanceId: InstanceId,
  networkInterfaces: Type.Array(NetworkInterfaceGroups, { minItems: 1 }),
});
export const RestoreSecurityGroupsOutput = Type.Object({
  instanceId: Type.String(),
  restored: Type.Array(NetworkInterfaceGroups),
});

export const SetTerminationProtectionInput = Type.Object({ instanceId: InstanceId, enabled: Type.Boolean() });
export const SetTerminationProtectionOutput = Type.Object({
  instanceId: Type.String(),
  previous: Type.Boolean(),
  current: Type.Boolean(),
});

export const SnapshotVolumesInput = Type.Object({
  instanceId: InstanceId,
  /** Extra tags put on every snapshot besides the evidence tags. */
  tags: Type.Optional(Tags),
});
export const SnapshotVolumesOutput = Type.Object({
  instanceId: Type.String(),
  snapshots: Type.Array(Type.Object({ volumeId: Type.String(), snapshotId: Type.String(), created: Type.Boolean() })),
});

export const TagInstanceInput = Type.Object({ instanceId: InstanceId, tags: Tags });
export const TagInstanceOutput = Type.Object({ instanceId: Type.String(), tags: Tags });

// ---- sns -----------------------------------------------------------------------------------------------------------

export const PublishNotificationInput = Type.Object({
  topicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
  /** SNS subjects: ASCII, at most 100 characters; longer ones are cut. */
  subject: Type.String({ minLength: 1 }),
  /** Sent as the JSON body together with the execution context. */
  message: Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]),
});
export const PublishNotificationOutput = Type.Object({ messageId: Type.String() });

// ---- ssm -----------------------------------------------------------------------------------------------------------

export const RunCommandInput = Type.Object({
  instanceId: InstanceId,
  documentName: Type.String({ minLength: 1 }),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  comment: Type.Optional(Type.String({ maxLength: 100 })),
  /** How often to poll the invocation while waiting. */
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, default: 2000 })),
});
export const RunCommandOutput = Type.Object({
  commandId: Type.String(),
  instanceId: Type.String(),
  status: Type.String(),
  responseCode: Type.Optional(Type.Integer()),
  stdout: Type.Optional(Type.String()),
  stderr: Type.Optional(Type.String()),
});

// ---- the catalogue's types ------------------------------------------------------------------------------------------

/** Every action the runbook DSL can name: its input and output schemas. */
export const ActionSchemas = {
  'ec2.captureInstance': { input: CaptureInstanceInput, output: CaptureInstanceOutput },
  'ec2.isolateInstance': { input: IsolateInstanceInput, output: IsolateInstanceOutput },
  'ec2.restoreSecurityGroups': { input: RestoreSecurityGroupsInput, output: RestoreSecurityGroupsOutput },
  'ec2.setTerminationProtection': { input: SetTerminationProtectionInput, output: SetTerminationProtectionOutput },
  'ec2.snapshotVolumes': { input: SnapshotVolumesInput, output: SnapshotVolumesOutput },
  'ec2.tagInstance': { input: TagInstanceInput, output: TagInstanceOutput },
  'sns.publish': { input: PublishNotificationInput, output: PublishNotificationOutput },
  'ssm.runCommand': { input: RunCommandInput, output: RunCommandOutput },
} as const satisfies Record<string, { input: TSchema; output: TSchema }>;

export type ActionName = keyof typeof ActionSchemas;
export type ActionInput<A extends ActionName> = Static<(typeof ActionSchemas)[A]['input']>;
export type ActionOutput<A extends ActionName> = Static<(typeof ActionSchemas)[A]['output']>;

/** What the interpreter passes to an activity: the evaluated `with` block plus the step context. */
export type ActivityInput<A extends ActionName> = ActionInput<A> & { ctx?: StepContext };

/** The shape of the activities object a worker registers: one function per action, named as the action. */
export type ActionActivities = { [A in ActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };
