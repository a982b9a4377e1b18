/**
 * The action catalogue: what each action does and which action undoes it. Pure data, safe for the DSL and the API.
 *
 * Where an action runs: the step context's `target` (account and region; the worker's own when absent), reached by
 * AssumeRole for another account (activities/clients.ts). Notifications (`sns.publish`) always go out from the
 * worker's own account.
 *
 * Dry runs: actions with `dryRun: true` here take a `dryRun` input flag. With it they make only their describe/get/list
 * calls, make no change, and return the output a real run would (what they found and would do) plus `dryRun: true`
 * and `calls`: each mutating call they would have made, as `{ service, operation, input }`.
 */
import type { SlowAction } from '../workflows/task-queues';
import { ActionSchemas, type ActionName } from './schemas';

/**
 * What kind of evidence an action's output is, for the execution's evidence manifest (api/evidence.ts): the output of
 * every succeeded step of such an action becomes one or more artefacts there, with SHA-256, time and step.
 */
export type EvidenceKind =
  'instance-metadata' | 'ebs-snapshots' | 'command-output' | 'volatile-data' | 'console-output' | 'automation-output';

export interface ActionInfo {
  name: ActionName;
  description: string;
  /** AWS service (one activities module per service). */
  service: 'ec2' | 'sns' | 'ssm' | 'autoscaling' | 'elbv2' | 'wafv2' | 'cloudwatch';
  /** The action that compensates this one, when there is one; runbooks name it in their `rollback` block. */
  rollback?: ActionName;
  /**
   * True when the action does anything beyond reading: changes AWS state, sends a message, runs a command. A plan never
   * runs such an action for real (only its dry-run form), so when in doubt, true.
   */
  mutating: boolean;
  /** True when the input takes `dryRun` (see above). */
  dryRun?: boolean;
  /** Set when the output is forensic evidence (see {@link EvidenceKind}). */
  evidence?: EvidenceKind;
  /**
   * Speed class: true when the action polls or waits on AWS for long (minutes). Slow actions run on the slow task queue
   * with their own worker slots (workflows/task-queues.ts lists them for the interpreter; this type keeps both equal).
   */
  slow?: boolean;
}

/** `slow: true` on exactly the actions workflows/task-queues.ts routes to the slow queue. */
type SpeedOf<A extends ActionName> = A extends SlowAction ? { slow: true } : { slow?: false };

export const ActionCatalogue: { readonly [A in ActionName]: ActionInfo & { name: A } & SpeedOf<A> } = {
  'ec2.captureInstance': {
    name: 'ec2.captureInstance',
    service: 'ec2',
    mutating: false,
    evidence: 'instance-metadata',
    description:
      'Describe an instance: state, VPC, ENIs with their security groups, volumes, tags, termination protection, ' +
      'Auto Scaling group (lifecycle state, scale-in protection), target group registrations, instance profile.',
  },
  'ec2.isolateInstance': {
    name: 'ec2.isolateInstance',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.restoreSecurityGroups',
    description:
      'Create or find the quarantine security group of the instance VPC (no ingress, no egress) and move every ENI to it.',
  },
  'ec2.restoreSecurityGroups': {
    name: 'ec2.restoreSecurityGroups',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    description: 'Put the given security groups back on each ENI of the instance.',
  },
  'ec2.setTerminationProtection': {
    name: 'ec2.setTerminationProtection',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.setTerminationProtection',
    description: 'Enable or disable API termination protection; reports the previous value for rollback.',
  },
  'ec2.snapshotVolumes': {
    name: 'ec2.snapshotVolumes',
    slow: true,
    service: 'ec2',
    mutating: true,
    dryRun: true,
    evidence: 'ebs-snapshots',
    description: 'Snapshot every attached EBS volume with evidence tags (execution, step, time, source volume).',
  },
  'ec2.tagInstance': {
    name: 'ec2.tagInstance',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.tagInstance',
    description: 'Add or overwrite tags on the instance.',
  },
  'ec2.denyCidrInNetworkAcl': {
    name: 'ec2.denyCidrInNetworkAcl',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.removeNetworkAclEntry',
    description:
      "Add a deny-all entry for a CIDR to the network ACL of a subnet (or of an instance's subnet): the hard cut that " +
      'also ends established connections. Takes the first free rule number from minRuleNumber (default 1); an ' +
      'identical entry already there is reused (created: false).',
  },
  'ec2.removeNetworkAclEntry': {
    name: 'ec2.removeNetworkAclEntry',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    description:
      'Remove a deny entry made by ec2.denyCidrInNetworkAcl, only while that rule number still holds the deny for that ' +
      'CIDR; a no-op when created is false.',
  },
  'ec2.stopInstance': {
    name: 'ec2.stopInstance',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.startInstance',
    description: 'Stop the instance (memory is lost: collect volatile data first); reports the state before.',
  },
  'ec2.startInstance': {
    name: 'ec2.startInstance',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    description:
      'Start a stopped instance; a no-op when previousState says it was not running. Retries while it is stopping.',
  },
  'ec2.preserveInstance': {
    name: 'ec2.preserveInstance',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.restorePreservation',
    description:
      'Keep the evidence: shutdown behaviour "stop" and DeleteOnTermination=false on every EBS volume; reports the values ' +
      'before.',
  },
  'ec2.restorePreservation': {
    name: 'ec2.restorePreservation',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    description: 'Put back the shutdown behaviour and DeleteOnTermination values captured by ec2.preserveInstance.',
  },
  'ec2.detachInstanceProfile': {
    name: 'ec2.detachInstanceProfile',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.restoreInstanceProfile',
    description:
      'Disassociate the instance profile (its role credentials stop being handed out), or replace it with ' +
      'replacementProfileArn; reports the profile before.',
  },
  'ec2.restoreInstanceProfile': {
    name: 'ec2.restoreInstanceProfile',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    description: 'Make the instance profile the given one again (none when absent).',
  },
  'autoscaling.detachInstance': {
    name: 'autoscaling.detachInstance',
    service: 'autoscaling',
    mutating: true,
    dryRun: true,
    rollback: 'autoscaling.reattachInstance',
    description:
      'Take the instance out of its Auto Scaling group (mode detach, default) or put it in Standby, decrementing ' +
      'desired capacity so that no replacement is launched (lowering the minimum by one when needed); a no-op for an ' +
      'instance in no group.',
  },
  'autoscaling.reattachInstance': {
    name: 'autoscaling.reattachInstance',
    service: 'autoscaling',
    mutating: true,
    dryRun: true,
    description:
      'Attach the instance to its group again (or exit Standby), which raises desired capacity by one, and restore the ' +
      'minimum.',
  },
  'elbv2.deregisterInstance': {
    name: 'elbv2.deregisterInstance',
    service: 'elbv2',
    mutating: true,
    dryRun: true,
    rollback: 'elbv2.registerInstance',
    description:
      "Find every target group of the instance's VPC it is registered in and deregister it; reports each group and port.",
  },
  'elbv2.registerInstance': {
    name: 'elbv2.registerInstance',
    service: 'elbv2',
    mutating: true,
    dryRun: true,
    description: 'Register the instance again in the given target groups on the same ports.',
  },
  'wafv2.blockAddress': {
    name: 'wafv2.blockAddress',
    service: 'wafv2',
    mutating: true,
    dryRun: true,
    rollback: 'wafv2.unblockAddress',
    description:
      'Add an address (CIDR) to a WAFv2 IP set used as a block list, with its lock token, reading again and retrying ' +
      'on WAFOptimisticLockException; an address already there is reported added: false.',
  },
  'wafv2.unblockAddress': {
    name: 'wafv2.unblockAddress',
    service: 'wafv2',
    mutating: true,
    dryRun: true,
    description: 'Remove the address from the IP set (lock-token aware); a no-op when added is false.',
  },
  'cloudwatch.describeAlarm': {
    name: 'cloudwatch.describeAlarm',
    service: 'cloudwatch',
    mutating: false,
    description: "Read an alarm's state (OK, ALARM, INSUFFICIENT_DATA), reason and time, for verification steps.",
  },
  'sns.publish': {
    name: 'sns.publish',
    service: 'sns',
    mutating: true,
    dryRun: true,
    description: 'Publish a notification (subject plus a JSON body with the execution context) to an SNS topic.',
  },
  'ssm.runCommand': {
    name: 'ssm.runCommand',
    slow: true,
    service: 'ssm',
    mutating: true,
    dryRun: true,
    evidence: 'command-output',
    description:
      'Send an SSM command (document, parameters) to one instance, several, or SSM targets and wait for every ' +
      'invocation, heartbeating; reports status, exit code and output per instance (truncated output flagged). Fails ' +
      'when any invocation fails unless allowFailure is set.',
  },
  'ssm.startAutomation': {
    name: 'ssm.startAutomation',
    slow: true,
    service: 'ssm',
    mutating: true,
    dryRun: true,
    evidence: 'automation-output',
    description:
      'Start an SSM Automation runbook (tagged with the execution and step, so a retry finds it) and poll it to its ' +
      'end, heartbeating; fails when it does not succeed unless allowFailure is set.',
  },
  'ssm.getParameter': {
    name: 'ssm.getParameter',
    service: 'ssm',
    mutating: false,
    description: 'Read an SSM parameter, e.g. the previous release a rollback returns to.',
  },
  'ssm.collectVolatileData': {
    name: 'ssm.collectVolatileData',
    slow: true,
    service: 'ssm',
    mutating: true,
    dryRun: true,
    evidence: 'volatile-data',
    description:
      'Collect what a stop would lose through SSM Run Command (process list, network connections, logged-in users), ' +
      'one command each, with the SHA-256 of each output; before isolation or stop, while the SSM agent can answer.',
  },
  'ec2.isolateInstanceTwoPhase': {
    name: 'ec2.isolateInstanceTwoPhase',
    service: 'ec2',
    mutating: true,
    dryRun: true,
    rollback: 'ec2.restoreSecurityGroups',
    description:
      'Per ENI, first an allow-all "untracked" group (tracked connections become untracked), then the no-rule ' +
      'quarantine group (which drops them); a plain swap leaves tracked connections open. ICMP and other always-tracked ' +
      'flows need the network ACL deny (ec2.denyCidrInNetworkAcl) as the hard cut.',
  },
  'ec2.getConsoleOutput': {
    name: 'ec2.getConsoleOutput',
    service: 'ec2',
    mutating: false,
    evidence: 'console-output',
    description: "Read the instance's console output (GetConsoleOutput), decoded, with its SHA-256.",
  },
  'cloudwatch.waitForAlarmState': {
    name: 'cloudwatch.waitForAlarmState',
    slow: true,
    service: 'cloudwatch',
    mutating: false,
    dryRun: true,
    description:
      'Poll an alarm until it is in the given state (default OK), heartbeating; fails (AlarmStateNotReached) at the ' +
      'deadline, so that a verification step can escalate. A dry run reads the state once.',
  },
};

export const actionNames = Object.keys(ActionSchemas) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ActionSchemas, name);
}
