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
 * Where an execution acts: an AWS account and region. An absent part means the worker's own (its credentials' account,
 * its configured region).
 */
export const ExecutionTarget = Type.Object(
  {
    account: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: '12-digit AWS account ID' })),
    region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', description: 'AWS region' })),
  },
  { additionalProperties: false },
);
export type ExecutionTarget = Static<typeof ExecutionTarget>;

/**
 * Execution context the interpreter adds to every activity input (never written in a runbook): it names the
 * execution and step so that activities can tag evidence and find what an earlier attempt created.
 */
export const StepContext = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  stepId: Type.String(),
  incidentId: Type.Optional(Type.String()),
  /** Where the step acts; the worker's own account and region when absent. */
  target: Type.Optional(ExecutionTarget),
});
export type StepContext = Static<typeof StepContext>;

// ---- dry runs -------------------------------------------------------------------------------------------------------

/** A mutating AWS call that a dry run would have made, with its input. */
export const PlannedCall = Type.Object({
  service: Type.String(),
  operation: Type.String(),
  input: Type.Unknown(),
});
export type PlannedCall = Static<typeof PlannedCall>;

/**
 * `dryRun: true` makes only describe/get/list calls: the action answers what it found and would do, and `calls` lists
 * the mutating calls it would have made (empty when nothing needs changing).
 */
const DryRunInput = {
  dryRun: Type.Optional(Type.Boolean({ description: 'Only read; return the mutating calls that would be made' })),
};
const DryRunOutput = { dryRun: Type.Optional(Type.Boolean()), calls: Type.Optional(Type.Array(PlannedCall)) };

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
  /** Its Auto Scaling group, if any: what autoscaling.detachInstance takes it out of and the release puts it back in. */
  autoScaling: Type.Optional(
    Type.Object({
      autoScalingGroupName: Type.String(),
      lifecycleState: Type.Optional(Type.String()),
      healthStatus: Type.Optional(Type.String()),
      protectedFromScaleIn: Type.Boolean(),
    }),
  ),
  /** Every target group registration (port, health): what elbv2.deregisterInstance removes and the release restores. */
  targetGroups: Type.Optional(
    Type.Array(
      Type.Object({
        targetGroupArn: Type.String(),
        port: Type.Optional(Type.Integer()),
        availabilityZone: Type.Optional(Type.String()),
        state: Type.Optional(Type.String()),
      }),
    ),
  ),
  /** The IAM instance profile association, if any (its credentials are what the instance can act with). */
  instanceProfile: Type.Optional(
    Type.Object({
      arn: Type.String(),
      associationId: Type.Optional(Type.String()),
      state: Type.Optional(Type.String()),
    }),
  ),
});

export const IsolateInstanceInput = Type.Object({
  instanceId: InstanceId,
  /** Name of the quarantine group; one per VPC. */
  quarantineGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  ...DryRunInput,
});
export const IsolateInstanceOutput = Type.Object({
  instanceId: Type.String(),
  vpcId: Type.String(),
  /** In a dry run where the group does not exist yet: the placeholder `sg-(created)`, also in `calls`. */
  quarantineGroupId: Type.String(),
  quarantineGroupCreated: Type.Boolean(),
  /**
   * The groups each ENI had before it was moved; a retry of the same step reports them from the ENI tags it wrote.
   * In a dry run: the groups each ENI has now (what a real run would report and its rollback put back).
   */
  networkInterfaces: Type.Array(NetworkInterfaceGroups),
  ...DryRunOutput,
});

export const RestoreSecurityGroupsInput = Type.Object({
  instanceId: InstanceId,
  networkInterfaces: Type.Array(NetworkInterfaceGroups, { minItems: 1 }),
  ...DryRunInput,
});
export const RestoreSecurityGroupsOutput = Type.Object({
  instanceId: Type.String(),
  restored: Type.Array(NetworkInterfaceGroups),
  ...DryRunOutput,
});

export const SetTerminationProtectionInput = Type.Object({
  instanceId: InstanceId,
  enabled: Type.Boolean(),
  ...DryRunInput,
});
export const SetTerminationProtectionOutput = Type.Object({
  instanceId: Type.String(),
  previous: Type.Boolean(),
  /** The value a real run leaves (in a dry run: would leave). */
  current: Type.Boolean(),
  ...DryRunOutput,
});

export const SnapshotVolumesInput = Type.Object({
  instanceId: InstanceId,
  /** Extra tags put on every snapshot besides the evidence tags. */
  tags: Type.Optional(Tags),
  ...DryRunInput,
});
export const SnapshotVolumesOutput = Type.Object({
  instanceId: Type.String(),
  /**
   * One entry per attached volume. In a dry run, a volume that a real run would snapshot has the placeholder
   * `snapshotId` `snap-(created)` and `created: true` (its CreateSnapshot is in `calls`); one whose snapshot of this
   * step already exists reports that snapshot with `created: false`.
   */
  snapshots: Type.Array(Type.Object({ volumeId: Type.String(), snapshotId: Type.String(), created: Type.Boolean() })),
  ...DryRunOutput,
});

export const TagInstanceInput = Type.Object({ instanceId: InstanceId, tags: Tags, ...DryRunInput });
export const TagInstanceOutput = Type.Object({ instanceId: Type.String(), tags: Tags, ...DryRunOutput });

// ---- ec2: network ACL, stop/start, evidence preservation, instance profile ----------------------------------------

const Cidr = Type.String({ pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$', description: 'IPv4 or IPv6 CIDR' });
const RuleNumber = Type.Integer({ minimum: 1, maximum: 32766 });

export const DenyCidrInput = Type.Object({
  /** The subnet whose network ACL gets the entry; or give `instanceId` for the instance's subnet. */
  subnetId: Type.Optional(Type.String({ pattern: '^subnet-[0-9a-f]+$' })),
  instanceId: Type.Optional(InstanceId),
  cidr: Cidr,
  /** Outbound rule instead of inbound. */
  egress: Type.Optional(Type.Boolean({ default: false })),
  /** Lowest rule number to use (the first free one from here is taken); default 1, so it is evaluated first. */
  minRuleNumber: Type.Optional(RuleNumber),
  ...DryRunInput,
});
export const DenyCidrOutput = Type.Object({
  networkAclId: Type.String(),
  subnetId: Type.String(),
  ruleNumber: Type.Integer(),
  egress: Type.Boolean(),
  cidr: Type.String(),
  /** False when an identical deny entry was already there (not firebreak's to remove). */
  created: Type.Boolean(),
  ...DryRunOutput,
});

export const RemoveNetworkAclEntryInput = Type.Object({
  networkAclId: Type.String({ pattern: '^acl-[0-9a-f]+$' }),
  ruleNumber: RuleNumber,
  egress: Type.Boolean(),
  cidr: Cidr,
  /** The deny step's `created`: false makes this a no-op, so a pre-existing entry is never removed. */
  created: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const RemoveNetworkAclEntryOutput = Type.Object({
  networkAclId: Type.String(),
  ruleNumber: Type.Integer(),
  removed: Type.Boolean(),
  ...DryRunOutput,
});

export const StopInstanceInput = Type.Object({
  instanceId: InstanceId,
  force: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const StartInstanceInput = Type.Object({
  instanceId: InstanceId,
  /** The stop step's `previousState`: anything but running/pending makes this a no-op (it was not running). */
  previousState: Type.Optional(Type.String()),
  ...DryRunInput,
});
export const InstanceStateOutput = Type.Object({
  instanceId: Type.String(),
  /** The state before firebreak first changed it (kept in a tag across retries). */
  previousState: Type.String(),
  currentState: Type.String(),
  changed: Type.Boolean(),
  ...DryRunOutput,
});

const VolumeDeleteOnTermination = Type.Object({
  deviceName: Type.String(),
  volumeId: Type.Optional(Type.String()),
  deleteOnTermination: Type.Boolean(),
});
const ShutdownBehavior = Type.Union([Type.Literal('stop'), Type.Literal('terminate')]);
export const PreserveInstanceInput = Type.Object({ instanceId: InstanceId, ...DryRunInput });
export const PreserveInstanceOutput = Type.Object({
  instanceId: Type.String(),
  /** The values before firebreak first changed them: what the rollback puts back. */
  previous: Type.Object({ shutdownBehavior: ShutdownBehavior, volumes: Type.Array(VolumeDeleteOnTermination) }),
  changed: Type.Boolean(),
  ...DryRunOutput,
});
export const RestorePreservationInput = Type.Object({
  instanceId: InstanceId,
  shutdownBehavior: ShutdownBehavior,
  volumes: Type.Array(VolumeDeleteOnTermination),
  ...DryRunInput,
});
export const RestorePreservationOutput = Type.Object({
  instanceId: Type.String(),
  changed: Type.Boolean(),
  ...DryRunOutput,
});

const InstanceProfileArn = Type.String({ pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/' });
export const DetachInstanceProfileInput = Type.Object({
  instanceId: InstanceId,
  /** Put this profile in place of the current one (e.g. a deny-all profile) instead of leaving none. */
  replacementProfileArn: Type.Optional(InstanceProfileArn),
  ...DryRunInput,
});
export const InstanceProfileOutput = Type.Object({
  instanceId: Type.String(),
  /** The profile before firebreak first changed it; absent when there was none. */
  previousProfileArn: Type.Optional(Type.String()),
  currentProfileArn: Type.Optional(Type.String()),
  changed: Type.Boolean(),
  ...DryRunOutput,
});
export const RestoreInstanceProfileInput = Type.Object({
  instanceId: InstanceId,
  /** The detach step's `previousProfileArn`; absent means the instance had none. */
  instanceProfileArn: Type.Optional(InstanceProfileArn),
  ...DryRunInput,
});

// ---- autoscaling ---------------------------------------------------------------------------------------------------

const AsgMode = Type.Union([Type.Literal('detach'), Type.Literal('standby')]);
export const DetachFromAsgInput = Type.Object({
  instanceId: InstanceId,
  /** `detach` (default) leaves the group; `standby` stays in it, out of service. */
  mode: Type.Optional(AsgMode),
  ...DryRunInput,
});
export const DetachFromAsgOutput = Type.Object({
  instanceId: Type.String(),
  /** Absent when nothing was changed (in no group, or already in Standby by someone else's doing). */
  autoScalingGroupName: Type.Optional(Type.String()),
  mode: AsgMode,
  /** Set when the group's minimum had to be lowered so that desired capacity could drop by one (no replacement). */
  minSizeBefore: Type.Optional(Type.Integer()),
  changed: Type.Boolean(),
  ...DryRunOutput,
});
export const ReattachToAsgInput = Type.Object({
  instanceId: InstanceId,
  /** The detach step's output; absent group means nothing to do. */
  autoScalingGroupName: Type.Optional(Type.String({ minLength: 1 })),
  mode: AsgMode,
  minSizeBefore: Type.Optional(Type.Integer({ minimum: 0 })),
  ...DryRunInput,
});
export const ReattachToAsgOutput = Type.Object({
  instanceId: Type.String(),
  autoScalingGroupName: Type.Optional(Type.String()),
  changed: Type.Boolean(),
  ...DryRunOutput,
});

// ---- elbv2 ---------------------------------------------------------------------------------------------------------

const TargetRegistration = Type.Object({
  targetGroupArn: Type.String(),
  port: Type.Optional(Type.Integer()),
  availabilityZone: Type.Optional(Type.String()),
});
export const DeregisterTargetsInput = Type.Object({ instanceId: InstanceId, ...DryRunInput });
export const DeregisterTargetsOutput = Type.Object({
  instanceId: Type.String(),
  /** Every registration removed (a retry reports them from the target groups' firebreak tags). */
  targets: Type.Array(TargetRegistration),
  ...DryRunOutput,
});
export const RegisterTargetsInput = Type.Object({
  instanceId: InstanceId,
  targets: Type.Array(TargetRegistration),
  ...DryRunInput,
});
export const RegisterTargetsOutput = Type.Object({
  instanceId: Type.String(),
  registered: Type.Array(TargetRegistration),
  ...DryRunOutput,
});

// ---- wafv2 ---------------------------------------------------------------------------------------------------------

const IpSetRef = {
  ipSetName: Type.String({ minLength: 1, maxLength: 128 }),
  ipSetId: Type.String({ minLength: 1, maxLength: 36 }),
  scope: Type.Union([Type.Literal('REGIONAL'), Type.Literal('CLOUDFRONT')]),
};
const IpAddress = Type.String({
  pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$',
  description: 'IPv4/IPv6 address or CIDR (a bare address becomes /32 or /128)',
});
export const BlockAddressInput = Type.Object({ ...IpSetRef, address: IpAddress, ...DryRunInput });
export const BlockAddressOutput = Type.Object({
  ipSetArn: Type.String(),
  /** The address as stored in the IP set (CIDR). */
  address: Type.String(),
  /** False when the address was already in the set before firebreak added it (not firebreak's to remove). */
  added: Type.Boolean(),
  ...DryRunOutput,
});
export const UnblockAddressInput = Type.Object({
  ...IpSetRef,
  address: IpAddress,
  /** The block step's `added`: false makes this a no-op. */
  added: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const UnblockAddressOutput = Type.Object({
  ipSetArn: Type.String(),
  address: Type.String(),
  removed: Type.Boolean(),
  ...DryRunOutput,
});

// ---- cloudwatch ----------------------------------------------------------------------------------------------------

export const DescribeAlarmInput = Type.Object({ alarmName: Type.String({ minLength: 1, maxLength: 255 }) });
export const DescribeAlarmOutput = Type.Object({
  alarmName: Type.String(),
  /** OK, ALARM or INSUFFICIENT_DATA. */
  state: Type.String(),
  stateReason: Type.Optional(Type.String()),
  stateUpdatedAt: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  metricName: Type.Optional(Type.String()),
});

export const WaitForAlarmStateInput = Type.Object({
  alarmName: Type.String({ minLength: 1, maxLength: 255 }),
  /** The state to wait for; default OK. */
  state: Type.Optional(Type.Union([Type.Literal('OK'), Type.Literal('ALARM'), Type.Literal('INSUFFICIENT_DATA')])),
  /** Give up (non-retryable AlarmStateNotReached) after this long. */
  timeoutSeconds: Type.Integer({ minimum: 1, maximum: 86400 }),
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, default: 10000 })),
  ...DryRunInput,
});
export const WaitForAlarmStateOutput = Type.Object({
  ...DescribeAlarmOutput.properties,
  /** A dry run reads the state once and does not wait. */
  ...DryRunOutput,
});

// ---- sns -----------------------------------------------------------------------------------------------------------

export const PublishNotificationInput = Type.Object({
  topicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
  /** SNS subjects: ASCII, at most 100 characters; longer ones are cut. */
  subject: Type.String({ minLength: 1 }),
  /** Sent as the JSON body together with the execution context. */
  message: Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]),
  ...DryRunInput,
});
export const PublishNotificationOutput = Type.Object({
  /** In a dry run, where nothing is sent: the placeholder `(not sent)`; the Publish is in `calls`. */
  messageId: Type.String(),
  ...DryRunOutput,
});

// ---- ssm -----------------------------------------------------------------------------------------------------------

const SsmTarget = Type.Object({
  /** `tag:<name>`, `InstanceIds`, `resource-groups:Name` … as SSM's SendCommand Targets take them. */
  key: Type.String({ minLength: 1, maxLength: 163 }),
  values: Type.Array(Type.String(), { minItems: 1, maxItems: 50 }),
});
export const RunCommandInput = Type.Object({
  /** One instance; or `instanceIds`, or `targets` (exactly one of the three). */
  instanceId: Type.Optional(InstanceId),
  instanceIds: Type.Optional(Type.Array(InstanceId, { minItems: 1, maxItems: 50 })),
  targets: Type.Optional(Type.Array(SsmTarget, { minItems: 1, maxItems: 5 })),
  documentName: Type.String({ minLength: 1 }),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  comment: Type.Optional(Type.String({ maxLength: 100 })),
  /** How often to poll the invocations while waiting. */
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, default: 2000 })),
  /** SSM's own per-invocation execution timeout. */
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 172800 })),
  /** Report failed invocations in the output instead of failing the step (default: any failure fails it). */
  allowFailure: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const CommandInvocation = Type.Object({
  instanceId: Type.String(),
  status: Type.String(),
  responseCode: Type.Optional(Type.Integer()),
  stdout: Type.Optional(Type.String()),
  stderr: Type.Optional(Type.String()),
  /** SSM returns at most 24,000 characters of stdout and 8,000 of stderr; true when the output reached that size. */
  stdoutTruncated: Type.Optional(Type.Boolean()),
  stderrTruncated: Type.Optional(Type.Boolean()),
  /** `sha256:<hex>` of stdout as returned. */
  stdoutSha256: Type.Optional(Type.String()),
});
export const RunCommandOutput = Type.Object({
  commandId: Type.String(),
  /** `Success` when every invocation succeeded; else the status of the first that did not. */
  status: Type.String(),
  /** The first invocation's fields, kept for single-instance callers. */
  instanceId: Type.Optional(Type.String()),
  responseCode: Type.Optional(Type.Integer()),
  stdout: Type.Optional(Type.String()),
  stderr: Type.Optional(Type.String()),
  /** Every target's invocation, in instance order. */
  invocations: Type.Optional(Type.Array(CommandInvocation)),
  /** How many invocations did not succeed (only non-zero with allowFailure). */
  failed: Type.Optional(Type.Integer()),
  ...DryRunOutput,
});

export const StartAutomationInput = Type.Object({
  documentName: Type.String({ minLength: 1, maxLength: 128 }),
  documentVersion: Type.Optional(Type.String({ minLength: 1 })),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, default: 5000 })),
  /** Report a failed automation in the output instead of failing the step. */
  allowFailure: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const StartAutomationOutput = Type.Object({
  automationExecutionId: Type.String(),
  documentName: Type.String(),
  /** Success, Failed, TimedOut, Cancelled, CompletedWithSuccess, CompletedWithFailure … */
  status: Type.String(),
  outputs: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  failureMessage: Type.Optional(Type.String()),
  /** False when a retry found the automation an earlier attempt started. */
  started: Type.Boolean(),
  ...DryRunOutput,
});

export const GetParameterInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 2048 }),
  withDecryption: Type.Optional(Type.Boolean()),
});
export const GetParameterOutput = Type.Object({
  name: Type.String(),
  value: Type.String(),
  version: Type.Optional(Type.Integer()),
  lastModifiedAt: Type.Optional(Type.String()),
});

const Platform = Type.Union([Type.Literal('linux'), Type.Literal('windows')]);
export const VolatileArtefact = Type.Object({
  /** `processes`, `network-connections`, `logged-in-users`. */
  name: Type.String(),
  commandId: Type.String(),
  status: Type.String(),
  responseCode: Type.Optional(Type.Integer()),
  content: Type.String(),
  truncated: Type.Boolean(),
  /** `sha256:<hex>` of `content`, taken when it was collected. */
  sha256: Type.String(),
  collectedAt: Type.String(),
});
export const CollectVolatileDataInput = Type.Object({
  instanceId: InstanceId,
  platform: Type.Optional(Platform),
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, default: 2000 })),
  /** Keep what was collected when one collection fails (default: the step fails). */
  allowPartial: Type.Optional(Type.Boolean()),
  ...DryRunInput,
});
export const CollectVolatileDataOutput = Type.Object({
  instanceId: Type.String(),
  platform: Platform,
  artefacts: Type.Array(VolatileArtefact),
  ...DryRunOutput,
});

// ---- ec2: two-phase isolation, console output ------------------------------------------------------------------------

export const IsolateTwoPhaseInput = Type.Object({
  instanceId: InstanceId,
  /** The no-rule group of the second phase; one per VPC. */
  quarantineGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  /** The allow-all group of the first phase (turns tracked connections untracked); one per VPC. */
  untrackedGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  /** Only these ENIs of the instance (default: every one). */
  networkInterfaceIds: Type.Optional(Type.Array(Type.String({ pattern: '^eni-[0-9a-f]+$' }), { minItems: 1 })),
  ...DryRunInput,
});
export const IsolateTwoPhaseOutput = Type.Object({
  instanceId: Type.String(),
  vpcId: Type.String(),
  untrackedGroupId: Type.String(),
  quarantineGroupId: Type.String(),
  /** The groups each ENI had before; what ec2.restoreSecurityGroups puts back. */
  networkInterfaces: Type.Array(NetworkInterfaceGroups),
  ...DryRunOutput,
});

export const ConsoleOutputInput = Type.Object({
  instanceId: InstanceId,
  /** The most recent output (Nitro instances) instead of the buffer at the last boot. */
  latest: Type.Optional(Type.Boolean()),
});
export const ConsoleOutputOutput = Type.Object({
  instanceId: Type.String(),
  /** The console text, decoded. */
  output: Type.String(),
  bytes: Type.Integer(),
  /** `sha256:<hex>` of `output`. */
  sha256: Type.String(),
  /** When EC2 last updated the output. */
  timestamp: Type.Optional(Type.String()),
  collectedAt: Type.String(),
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
  'ec2.denyCidrInNetworkAcl': { input: DenyCidrInput, output: DenyCidrOutput },
  'ec2.removeNetworkAclEntry': { input: RemoveNetworkAclEntryInput, output: RemoveNetworkAclEntryOutput },
  'ec2.stopInstance': { input: StopInstanceInput, output: InstanceStateOutput },
  'ec2.startInstance': { input: StartInstanceInput, output: InstanceStateOutput },
  'ec2.preserveInstance': { input: PreserveInstanceInput, output: PreserveInstanceOutput },
  'ec2.restorePreservation': { input: RestorePreservationInput, output: RestorePreservationOutput },
  'ec2.detachInstanceProfile': { input: DetachInstanceProfileInput, output: InstanceProfileOutput },
  'ec2.restoreInstanceProfile': { input: RestoreInstanceProfileInput, output: InstanceProfileOutput },
  'autoscaling.detachInstance': { input: DetachFromAsgInput, output: DetachFromAsgOutput },
  'autoscaling.reattachInstance': { input: ReattachToAsgInput, output: ReattachToAsgOutput },
  'elbv2.deregisterInstance': { input: DeregisterTargetsInput, output: DeregisterTargetsOutput },
  'elbv2.registerInstance': { input: RegisterTargetsInput, output: RegisterTargetsOutput },
  'wafv2.blockAddress': { input: BlockAddressInput, output: BlockAddressOutput },
  'wafv2.unblockAddress': { input: UnblockAddressInput, output: UnblockAddressOutput },
  'cloudwatch.describeAlarm': { input: DescribeAlarmInput, output: DescribeAlarmOutput },
  'sns.publish': { input: PublishNotificationInput, output: PublishNotificationOutput },
  'ssm.runCommand': { input: RunCommandInput, output: RunCommandOutput },
  'ssm.startAutomation': { input: StartAutomationInput, output: StartAutomationOutput },
  'ssm.getParameter': { input: GetParameterInput, output: GetParameterOutput },
  'ssm.collectVolatileData': { input: CollectVolatileDataInput, output: CollectVolatileDataOutput },
  'ec2.isolateInstanceTwoPhase': { input: IsolateTwoPhaseInput, output: IsolateTwoPhaseOutput },
  'ec2.getConsoleOutput': { input: ConsoleOutputInput, output: ConsoleOutputOutput },
  'cloudwatch.waitForAlarmState': { input: WaitForAlarmStateInput, output: WaitForAlarmStateOutput },
} as const satisfies Record<string, { input: TSchema; output: TSchema }>;

export type ActionName = keyof typeof ActionSchemas;
export type ActionInput<A extends ActionName> = Static<(typeof ActionSchemas)[A]['input']>;
export type ActionOutput<A extends ActionName> = Static<(typeof ActionSchemas)[A]['output']>;

/** What the interpreter passes to an activity: the evaluated `with` block plus the step context. */
export type ActivityInput<A extends ActionName> = ActionInput<A> & { ctx?: StepContext };

/** The shape of the activities object a worker registers: one function per action, named as the action. */
export type ActionActivities = { [A in ActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };
