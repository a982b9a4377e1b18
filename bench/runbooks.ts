/**
 * Runbooks only the benchmarks use: eight action steps with no gate (the interpreter bench, beside its hand-written
 * twin in bench/baseline/workflows.ts), and a gated one that open incidents wait in (the open-incidents bench).
 */
import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from '../runbooks/dsl/types';

const params = Type.Object(
  {
    instanceId: Type.String({ pattern: '^i-[0-9a-f]{8,17}$' }),
    notifyTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
  },
  { additionalProperties: false },
);

export const benchEightSteps = defineRunbook({
  id: 'bench-eight-steps',
  version: '1.0.0',
  title: 'Benchmark: eight actions, no gate',
  description: 'The same eight actions as the hand-written baseline workflow, interpreted.',
  incidentType: 'bench',
  severity: 'SEV3',
  params,
  steps: [
    {
      id: 'capture',
      kind: 'action',
      title: 'Capture',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'notify',
      kind: 'action',
      title: 'Notify',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"bench: " & params.instanceId'),
        message: {
          event: 'started',
          instanceId: expr('params.instanceId'),
          state: expr('steps.capture.output.state'),
        },
      },
    },
    {
      id: 'snapshot',
      kind: 'action',
      title: 'Snapshot',
      action: 'ec2.snapshotVolumes',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'console',
      kind: 'action',
      title: 'Console output',
      action: 'ec2.getConsoleOutput',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'protect',
      kind: 'action',
      title: 'Termination protection',
      action: 'ec2.setTerminationProtection',
      with: { instanceId: expr('params.instanceId'), enabled: true },
    },
    {
      id: 'preserve',
      kind: 'action',
      title: 'Preserve',
      action: 'ec2.preserveInstance',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'tag',
      kind: 'action',
      title: 'Tag',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { 'firebreak:bench': 'tagged' } },
    },
    {
      id: 'notify-done',
      kind: 'action',
      title: 'Notify done',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"bench: done " & params.instanceId'),
        message: { event: 'done', instanceId: expr('params.instanceId') },
      },
    },
  ],
});

/** Capture, wait for an approval, tag: started by CloudWatch alarms named `*bench-gate*` on one instance. */
export const benchGated = defineRunbook({
  id: 'bench-gated',
  version: '1.0.0',
  title: 'Benchmark: one action, an approval gate, one action',
  description: 'What an open incident waits in for the open-incidents bench.',
  incidentType: 'bench',
  severity: 'SEV3',
  triggers: [
    {
      sources: ['cloudwatch'],
      alarmNames: ['*bench-gate*'],
      resourceTypes: ['ec2:instance'],
      params: { instanceId: expr('alert.resource.id'), notifyTopicArn: expr('notify.topicArn') },
    },
  ],
  params,
  steps: [
    {
      id: 'capture',
      kind: 'action',
      title: 'Capture',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'approve',
      kind: 'approval',
      title: 'Go on?',
      approvers: { roles: ['incident-commander'], min: 1 },
      timeout: '1h',
      onTimeout: 'reject',
    },
    {
      id: 'tag',
      kind: 'action',
      title: 'Tag',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { 'firebreak:bench': 'approved' } },
    },
  ],
});

/** Enough tag steps that one execution's history passes 1,000 events (each step: six events), for bench 6. */
export const LONG_STEPS = 170;

export const benchLong = defineRunbook({
  id: 'bench-long',
  version: '1.0.0',
  title: 'Benchmark: a long history',
  description: 'Many small steps, so the forensics bench has a 1,000-event history to build a timeline from.',
  incidentType: 'bench',
  severity: 'SEV4',
  params,
  steps: Array.from({ length: LONG_STEPS }, (_, i) => ({
    id: `tag-${i}`,
    kind: 'action' as const,
    title: `Tag ${i}`,
    action: 'ec2.tagInstance' as const,
    with: { instanceId: expr('params.instanceId'), tags: { 'firebreak:bench-step': String(i) } },
  })),
});
export const BENCH_RUNBOOKS = [benchEightSteps, benchGated, benchLong];
