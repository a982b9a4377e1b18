/**
 * Approval gates in the interpreter workflow: the escalation chain notifies each tier's SNS topic (read back from the
 * SQS queue subscribed to it in moto), stops once the gate is decided, and replays from its history; an execution an
 * alert started cannot be approved as the alert's principal.
 */
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Type } from '@sinclair/typebox';
import type { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { RunbookRegistry } from '../../runbooks/registry';
import { expr, type RunbookDefinition, type Step } from '../../runbooks/dsl/types';
import { readNotifications } from '../../scripts/seed';
import { approvalUpdate, type Principal, type RunbookWorkflowInput } from '../../workflows/messages';
import { testAws, unique, type TestAws } from '../stack/aws';
import { commander, startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

/** An SNS topic delivering to its own SQS queue: one escalation tier as its people would receive it. */
async function tier(name: string): Promise<{ topicArn: string; queueUrl: string }> {
  const n = unique(name);
  const { TopicArn } = await aws.clients.sns.send(new CreateTopicCommand({ Name: n }));
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: n }));
  const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await aws.clients.sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: attrs.Attributes!.QueueArn! }),
  );
  return { topicArn: TopicArn!, queueUrl: QueueUrl! };
}

function escalating(tier2After: '3s' | '5s'): RunbookDefinition {
  return {
    id: 'escalating',
    version: '1.0.0',
    title: 'Escalation test',
    description: 'a gate that escalates to two tiers',
    incidentType: 'test',
    severity: 'SEV2',
    params: Type.Object({ tier1: Type.String(), tier2: Type.String() }),
    steps: [
      {
        id: 'approve',
        kind: 'approval',
        title: 'Go ahead?',
        approvers: { roles: ['incident-commander'] },
        timeout: '60s',
        onTimeout: 'reject',
        escalation: [
          { after: '1s', topicArn: expr('params.tier1'), message: 'tier one: please decide' },
          { after: tier2After, topicArn: expr('params.tier2') },
        ],
      },
    ],
  };
}

function input(def: RunbookDefinition, params: Record<string, unknown>, startedBy: Principal): RunbookWorkflowInput {
  const rb = new RunbookRegistry([def]).get(def.id)!;
  return { runbook: rb.definition, digest: rb.digest, params, startedBy, reason: 'test' };
}

const since = (from: string, to: string) => Date.parse(to) - Date.parse(from);

test('an undecided gate escalates to tier 1, then tier 2, each recorded in the step state; the history replays', async () => {
  const [t1, t2] = await Promise.all([tier('tier1'), tier('tier2')]);
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      input(escalating('3s'), { tier1: t1.topicArn, tier2: t2.topicArn }, { id: 'user:sam' }),
    );
    const [first] = await readNotifications(aws.sqs, t1.queueUrl, { count: 1, timeoutMs: 15_000 });
    expect(first?.json).toMatchObject({
      subject: 'firebreak: approval overdue (tier 1): Go ahead?',
      message: {
        event: 'approval-escalated',
        tier: 1,
        text: 'tier one: please decide',
        executionId: handle.workflowId,
        stepId: 'approve',
        roles: ['incident-commander'],
        approvalsNeeded: 1,
      },
    });
    const [second] = await readNotifications(aws.sqs, t2.queueUrl, { count: 1, timeoutMs: 15_000 });
    expect(second?.json).toMatchObject({ message: { event: 'approval-escalated', tier: 2 } });

    const state = await waitForState(handle, (s) => s.steps[0].escalations?.length === 2);
    const gate = state.steps[0];
    expect(gate.escalations).toEqual([
      expect.objectContaining({
        tier: 1,
        after: '1s',
        status: 'sent',
        topicArn: t1.topicArn,
        messageId: expect.any(String),
      }),
      expect.objectContaining({ tier: 2, after: '3s', status: 'sent', topicArn: t2.topicArn }),
    ]);
    expect(since(gate.startedAt!, gate.escalations![0].at)).toBeGreaterThanOrEqual(1000);
    expect(since(gate.startedAt!, gate.escalations![1].at)).toBeGreaterThanOrEqual(3000);
    expect(state.pendingApproval?.escalations).toHaveLength(2);

    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve', decision: 'approve', decidedBy: commander }],
    });
    expect((await handle.result()).status).toBe('succeeded');
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } }, history);
  });
});

test('a gate decided before tier 2 is due never notifies tier 2; the pending timer is cancelled', async () => {
  const [t1, t2] = await Promise.all([tier('early1'), tier('early2')]);
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      input(escalating('5s'), { tier1: t1.topicArn, tier2: t2.topicArn }, { id: 'user:sam' }),
    );
    expect(await readNotifications(aws.sqs, t1.queueUrl, { count: 1, timeoutMs: 15_000 })).toHaveLength(1);
    const waiting = await waitForState(handle, (s) => s.steps[0].escalations?.length === 1);
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve', decision: 'approve', decidedBy: commander }],
    });
    const final = await handle.result();
    expect(final.steps[0].escalations).toHaveLength(1);
    // Wait out tier 2's time with margin: nothing arrives.
    const tier2Due = Date.parse(waiting.steps[0].startedAt!) + 5_000;
    const late = await readNotifications(aws.sqs, t2.queueUrl, { count: 1, timeoutMs: tier2Due + 3_000 - Date.now() });
    expect(late).toEqual([]);
    const history = await handle.fetchHistory();
    expect((history.events ?? []).some((e) => e.timerCanceledEventAttributes)).toBe(true);
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } }, history);
  });
});

test('an execution an alert started cannot be approved as the alert; anyone else with the role may', async () => {
  const base = escalating('3s');
  const def: RunbookDefinition = { ...base, steps: base.steps.map((st) => ({ ...st, escalation: undefined }) as Step) };
  const alert = { id: 'alert:3f2a', roles: ['incident-commander'] };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(def, { tier1: 'x', tier2: 'y' }, { id: alert.id }));
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    const refused = await handle
      .executeUpdate(approvalUpdate, { args: [{ stepId: 'approve', decision: 'approve', decidedBy: alert }] })
      .catch((e) => e.cause as ApplicationFailure);
    expect(refused).toMatchObject({ type: 'SelfApproval' });
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve', decision: 'approve', decidedBy: commander }],
    });
    const final = await handle.result();
    expect(final.steps[0].approval?.decidedBy).toEqual(commander);
  });
});
