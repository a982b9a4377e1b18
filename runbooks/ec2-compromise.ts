import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';

/**
 * A compromised EC2 instance: preserve evidence, then (with an incident commander's or security lead's approval, never
 * the starter's own) cut it off the network. An undecided gate escalates after 30 minutes. Rolling back (a release,
 * for the same roles) puts its security groups and termination protection back and marks it released.
 */
export const ec2Compromise = defineRunbook({
  id: 'ec2-compromise',
  version: '1.2.0',
  title: 'Contain a compromised EC2 instance',
  description:
    'Capture the instance, snapshot its volumes as evidence, protect it from termination, and after approval move ' +
    'every network interface into a quarantine security group with no ingress and no egress.',
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
      id: 'approve-isolation',
      kind: 'approval',
      title: 'Isolate the instance from the network?',
      instructions:
        'Evidence is preserved. Approving moves every ENI into the quarantine group (no traffic in or out).',
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
      id: 'isolate',
      kind: 'action',
      title: 'Move every ENI into the quarantine group',
      action: 'ec2.isolateInstance',
      with: { instanceId: expr('params.instanceId'), quarantineGroupName: expr('params.quarantineGroupName') },
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
          snapshots: expr('steps.`snapshot-volumes`.output.snapshots.snapshotId'),
        },
      },
      continueOnError: true,
    },
  ],
});
