import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';

/**
 * A compromised EC2 instance, contained in the order of AWS's incident-response playbooks: capture its metadata, take
 * the evidence (volume snapshots, volatile data and console output while the instance still answers), protect it
 * from termination and keep its volumes; then, with an incident commander's or security lead's approval (never the
 * starter's own), take it out of its Auto Scaling group (so no replacement launches and no health check terminates
 * it) and its load balancers' target groups, isolate every ENI in two phases (allow-all "untracked" group, then the
 * no-rule quarantine group, which drops established connections too), tag it, notify. An undecided gate escalates
 * after 30 minutes.
 *
 * Volatile data is collected before isolation, not after: the quarantine group allows no egress, so the SSM agent
 * could no longer answer. For ICMP and other always-tracked flows, add a network ACL deny (ec2.denyCidrInNetworkAcl).
 *
 * Rolling back (a release, for the same roles) restores exactly what was captured: security groups, target groups,
 * the Auto Scaling group, shutdown behaviour and DeleteOnTermination, termination protection; the instance is tagged
 * released. Evidence is kept.
 */
export const ec2Compromise = defineRunbook({
  id: 'ec2-compromise',
  version: '2.0.0',
  title: 'Contain a compromised EC2 instance',
  description:
    'Capture the instance, snapshot its volumes, collect volatile data and console output, protect it from ' +
    'termination, and after approval detach it from its Auto Scaling group and target groups and move every network ' +
    'interface, through an allow-all group, into a quarantine group with no ingress and no egress.',
  incidentType: 'ec2-compromise',
  severity: 'SEV2',
  rollbackWindow: '7d',
  // `capture` records the instance's original state: when another execution already contained the instance, this
  // execution builds on the original that execution recorded (see the README's resource lock).
  resource: { type: 'ec2:instance', param: 'instanceId', original: 'capture' },
  triggers: [
    {
      // GuardDuty findings where the instance itself is the actor.
      sources: ['guardduty'],
      findingTypes: [
        'UnauthorizedAccess:EC2/*',
        'Backdoor:EC2/*',
        'CryptoCurrency:EC2/*',
        'Trojan:EC2/*',
        'Impact:EC2/*',
      ],
      resourceTypes: ['ec2:instance'],
      minSeverity: 'SEV3',
      params: { instanceId: expr('alert.resource.id'), notifyTopicArn: expr('notify.topicArn') },
    },
    {
      // CloudWatch alarms on a single instance whose name says what they watch for.
      sources: ['cloudwatch'],
      alarmNames: ['*egress-spike*', '*compromise*'],
      resourceTypes: ['ec2:instance'],
      params: { instanceId: expr('alert.resource.id'), notifyTopicArn: expr('notify.topicArn') },
    },
  ],
  params: Type.Object(
    {
      instanceId: Type.String({ pattern: '^i-[0-9a-f]{8,17}$', description: 'The suspected instance' }),
      notifyTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:', description: 'Where notifications go' }),
      quarantineGroupName: Type.String({ default: 'firebreak-quarantine', minLength: 1, maxLength: 255 }),
      untrackedGroupName: Type.String({ default: 'firebreak-untracked', minLength: 1, maxLength: 255 }),
      platform: Type.Union([Type.Literal('linux'), Type.Literal('windows')], {
        default: 'linux',
        description: 'Which commands collect volatile data',
      }),
      escalationTopicArn: Type.Optional(
        Type.String({
          pattern: '^arn:aws[a-z-]*:sns:',
          description: 'Who hears of an approval left undecided for 30 minutes; default the notification topic',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  steps: [
    {
      id: 'capture',
      kind: 'action',
      title: 'Capture the instance state',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'notify-started',
      kind: 'action',
      title: 'Notify: containment started',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"firebreak: containing " & params.instanceId'),
        message: {
          event: 'containment-started',
          instanceId: expr('params.instanceId'),
          vpcId: expr('steps.capture.output.vpcId'),
          state: expr('steps.capture.output.state'),
        },
      },
      continueOnError: true,
    },
    {
      id: 'snapshot-volumes',
      kind: 'action',
      title: 'Snapshot every attached volume as evidence',
      action: 'ec2.snapshotVolumes',
      with: { instanceId: expr('params.instanceId') },
      timeout: '10m',
    },
    {
      id: 'volatile-data',
      kind: 'action',
      title: 'Collect volatile data (processes, connections, users) through SSM',
      // Only a running instance has any; a failure (no SSM agent) is recorded and containment goes on.
      when: "steps.capture.output.state = 'running'",
      action: 'ssm.collectVolatileData',
      with: { instanceId: expr('params.instanceId'), platform: expr('params.platform'), allowPartial: true },
      timeout: '10m',
      heartbeatTimeout: '1m',
      retry: { maximumAttempts: 2 },
      continueOnError: true,
    },
    {
      id: 'console-output',
      kind: 'action',
      title: 'Keep the console output',
      action: 'ec2.getConsoleOutput',
      with: { instanceId: expr('params.instanceId') },
      continueOnError: true,
    },
    {
      id: 'protect-termination',
      kind: 'action',
      title: 'Enable termination protection',
      action: 'ec2.setTerminationProtection',
      with: { instanceId: expr('params.instanceId'), enabled: true },
      rollback: {
        action: 'ec2.setTerminationProtection',
        with: { instanceId: expr('params.instanceId'), enabled: expr('steps.`protect-termination`.output.previous') },
      },
    },
    {
      id: 'preserve',
      kind: 'action',
      title: 'Shutdown behaviour stop, volumes kept on termination',
      action: 'ec2.preserveInstance',
      with: { instanceId: expr('params.instanceId') },
      rollback: {
        action: 'ec2.restorePreservation',
        with: {
          instanceId: expr('params.instanceId'),
          shutdownBehavior: expr('steps.preserve.output.previous.shutdownBehavior'),
          volumes: expr('steps.preserve.output.previous.volumes'),
        },
      },
    },
    {
      id: 'approve-isolation',
      kind: 'approval',
      title: 'Isolate the instance from the network?',
      instructions:
        'Evidence is preserved. Approving takes the instance out of its Auto Scaling group and load balancer target ' +
        'groups and moves every ENI into the quarantine group (no traffic in or out, established connections dropped).',
      // One approval by someone other than the starter (four-eyes is on by default).
      approvers: { roles: ['incident-commander', 'security-lead'], min: 1 },
      timeout: '1h',
      onTimeout: 'reject',
      escalation: [
        {
          after: '30m',
          topicArn: expr('$exists(params.escalationTopicArn) ? params.escalationTopicArn : params.notifyTopicArn'),
          message: 'Isolation of a suspected compromised instance awaits a decision; it is rejected at the deadline.',
        },
      ],
    },
    {
      id: 'detach-asg',
      kind: 'action',
      title: 'Detach from its Auto Scaling group (no replacement)',
      action: 'autoscaling.detachInstance',
      with: { instanceId: expr('params.instanceId') },
      rollback: {
        action: 'autoscaling.reattachInstance',
        with: {
          instanceId: expr('params.instanceId'),
          autoScalingGroupName: expr('steps.`detach-asg`.output.autoScalingGroupName'),
          mode: expr('steps.`detach-asg`.output.mode'),
          minSizeBefore: expr('steps.`detach-asg`.output.minSizeBefore'),
        },
      },
    },
    {
      id: 'deregister-targets',
      kind: 'action',
      title: 'Deregister from every load balancer target group',
      action: 'elbv2.deregisterInstance',
      with: { instanceId: expr('params.instanceId') },
      rollback: {
        action: 'elbv2.registerInstance',
        with: {
          instanceId: expr('params.instanceId'),
          targets: expr('steps.`deregister-targets`.output.targets'),
        },
      },
    },
    {
      id: 'isolate',
      kind: 'action',
      title: 'Isolate every ENI: allow-all group, then the no-rule quarantine group',
      action: 'ec2.isolateInstanceTwoPhase',
      with: {
        instanceId: expr('params.instanceId'),
        quarantineGroupName: expr('params.quarantineGroupName'),
        untrackedGroupName: expr('params.untrackedGroupName'),
      },
      rollback: {
        // Only the ENIs the isolation moved (all of them, or those it reported before it failed), each back to its
        // captured groups.
        action: 'ec2.restoreSecurityGroups',
        with: {
          instanceId: expr('params.instanceId'),
          networkInterfaces: expr(
            'steps.capture.output.networkInterfaces[networkInterfaceId in $$.steps.isolate.output.networkInterfaces.networkInterfaceId][]',
          ),
        },
      },
    },
    {
      id: 'tag-quarantined',
      kind: 'action',
      title: 'Tag the instance as quarantined',
      action: 'ec2.tagInstance',
      with: {
        instanceId: expr('params.instanceId'),
        tags: { 'firebreak:status': 'quarantined', 'firebreak:execution-id': expr('execution.id') },
      },
      rollback: {
        action: 'ec2.tagInstance',
        with: {
          instanceId: expr('params.instanceId'),
          tags: { 'firebreak:status': 'released', 'firebreak:execution-id': expr('execution.id') },
        },
      },
    },
    {
      id: 'notify-contained',
      kind: 'action',
      title: 'Notify: instance contained',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"firebreak: contained " & params.instanceId'),
        message: {
          event: 'contained',
          instanceId: expr('params.instanceId'),
          quarantineGroupId: expr('steps.isolate.output.quarantineGroupId'),
          autoScalingGroup: expr('steps.`detach-asg`.output.autoScalingGroupName'),
          targetGroups: expr('steps.`deregister-targets`.output.targets.targetGroupArn'),
          snapshots: expr('steps.`snapshot-volumes`.output.snapshots.snapshotId'),
          evidence: expr('"/v1/executions/" & execution.id & "/evidence"'),
        },
      },
      continueOnError: true,
    },
  ],
});
