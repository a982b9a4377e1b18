/**
 * Runbook executions for the history corpus: the shipped ec2-compromise runbook through every ending it has today,
 * started the way the API starts them. Deadlines and failures use drill variants of the definition (the definition is
 * pinned in the execution's input, so a variant replays like any other execution).
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { expr, type RunbookDefinition, type Step } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import {
  approvalUpdate,
  extendWindowUpdate,
  RUNBOOK_WORKFLOW,
  rollbackUpdate,
  type RunbookWorkflowInput,
} from '../../workflows/messages';
import { RESOURCE_WORKFLOW, resourceWorkflowId } from '../../workflows/resource-messages';
import {
  closed,
  commander,
  executionState,
  responder,
  type Recorded,
  type Scenario,
  type ScenarioContext,
} from './context';

const DEAD_INSTANCE = 'i-0000000000000dead';

/** A drill variant of ec2-compromise: same id, a version saying what changed. */
export function drill(name: string, change: Partial<RunbookDefinition>): RunbookDefinition {
  return { ...ec2Compromise, version: `${ec2Compromise.version}+drill.${name}`, ...change };
}

/** ec2-compromise with the approval gate's deadline and onTimeout replaced. */
export function withDeadline(name: string, timeout: string, onTimeout: 'reject' | 'approve' | 'fail') {
  return drill(name, {
    // A short deadline leaves no room for the runbook's escalation tier (refused at load when it falls after it).
    steps: ec2Compromise.steps.map((s) =>
      s.kind === 'approval' ? { ...s, timeout: timeout as '1s', onTimeout, escalation: undefined } : s,
    ),
  });
}

const steps = (...ids: string[]): Step[] => ec2Compromise.steps.filter((s) => ids.includes(s.id));

async function start(
  ctx: ScenarioContext,
  def: RunbookDefinition,
  params?: Record<string, unknown>,
  extra?: Partial<RunbookWorkflowInput>,
): Promise<WorkflowHandle> {
  const loaded = new RunbookRegistry([def]).get(def.id)!;
  const input: RunbookWorkflowInput = {
    ...extra,
    runbook: loaded.definition,
    digest: loaded.digest,
    params: params ?? { instanceId: ctx.nextInstance(), notifyTopicArn: ctx.env.topicArn },
    startedBy: responder,
    reason: 'history corpus recording',
  };
  return ctx.client.workflow.start(RUNBOOK_WORKFLOW, {
    taskQueue: ctx.taskQueue,
    workflowId: `${def.id}-${randomUUID()}`,
    args: [input],
  });
}

const waitingApproval = (h: WorkflowHandle) => executionState(h, (s) => s.status === 'waiting-approval', 'approval');

function decide(h: WorkflowHandle, decision: 'approve' | 'reject', comment: string) {
  return h.executeUpdate(approvalUpdate, {
    args: [{ stepId: 'approve-isolation', decision, comment, decidedBy: commander }],
  });
}

/** Runs `drive` on a new execution of `def`, waits for it to close, and names it for the corpus. */
function scenario(
  name: string,
  description: string,
  def: RunbookDefinition,
  drive: (h: WorkflowHandle) => Promise<unknown>,
  params?: (ctx: ScenarioContext) => Record<string, unknown>,
  extra?: Partial<RunbookWorkflowInput>,
): Scenario {
  return {
    name,
    async run(ctx): Promise<Recorded[]> {
      const handle = await start(ctx, def, params?.(ctx), extra);
      await drive(handle);
      await closed(handle);
      return [{ scenario: name, workflowId: handle.workflowId, description }];
    },
  };
}

/**
 * Two executions on one instance: the first is granted the resource in its request's answer; the second is queued
 * (told who holds it), granted by the record's signal once the first is cancelled and has undone its changes, and
 * released. Records both executions and the resource record itself (its Update and signal handlers).
 */
const resourceQueued: Scenario = {
  name: 'runbook-resource-queued',
  async run(ctx): Promise<Recorded[]> {
    const params = { instanceId: ctx.nextInstance(), notifyTopicArn: ctx.env.topicArn };
    const first = await start(ctx, ec2Compromise, params);
    const held = await waitingApproval(first);
    const second = await start(ctx, ec2Compromise, params);
    await executionState(second, (s) => s.status === 'waiting-resource', 'the second to queue');
    await first.cancel();
    await closed(first);
    await waitingApproval(second);
    await second.executeUpdate(rollbackUpdate, { args: [{ reason: 'duplicate finding', requestedBy: commander }] });
    await closed(second);
    const record = ctx.client.workflow.getHandle(held.resourceLock!.key);
    await closed(record);
    const what = 'ec2-compromise twice on one instance: the second waits for the first (cancelled), then is released';
    return [
      { scenario: 'runbook-resource-queued.first', workflowId: first.workflowId, description: `${what}: the first` },
      { scenario: 'runbook-resource-queued.second', workflowId: second.workflowId, description: `${what}: the second` },
      {
        scenario: 'runbook-resource-queued.record',
        workflowId: record.workflowId,
        description: `${what}: the resource record`,
      },
    ];
  },
};

/**
 * The instance's resource record runs on a queue no worker serves (left by a deployment under another task queue
 * name): the execution's lock request goes unanswered, fails for good, and the execution fails with it, nothing
 * changed (the `lock-request-failure-state` patch). The record is ended by hand afterwards, as an operator would.
 */
const lockElsewhere: Scenario = {
  name: 'runbook-lock-elsewhere',
  async run(ctx): Promise<Recorded[]> {
    const instanceId = ctx.nextInstance();
    // The account and region the worker resolves `self` to, as the seeded topic's ARN names them.
    const [, , , region, account] = ctx.env.topicArn.split(':');
    const record = await ctx.client.workflow.start(RESOURCE_WORKFLOW, {
      workflowId: resourceWorkflowId({ account, region, resource: `ec2:instance/${instanceId}` }),
      taskQueue: `${ctx.taskQueue}-renamed-away`,
      args: [],
    });
    const handle = await start(ctx, ec2Compromise, { instanceId, notifyTopicArn: ctx.env.topicArn });
    await closed(handle);
    await record.terminate('history corpus: the record on the old queue ended by hand');
    return [
      {
        scenario: 'runbook-lock-elsewhere',
        workflowId: handle.workflowId,
        description:
          "ec2-compromise whose instance's resource record runs on a queue no worker serves: fails, nothing changed",
      },
    ];
  },
};

export const runbookScenarios: Scenario[] = [
  resourceQueued,
  lockElsewhere,
  scenario(
    'runbook-approved-released',
    'ec2-compromise: evidence, approval by a commander, isolation; then a rollback requested inside the rollback window releases the instance',
    ec2Compromise,
    async (h) => {
      await waitingApproval(h);
      await decide(h, 'approve', 'isolate it');
      await executionState(h, (s) => s.status === 'succeeded' && !!s.rollbackWindowUntil, 'rollback window');
      await h.executeUpdate(rollbackUpdate, { args: [{ reason: 'false positive', requestedBy: commander }] });
    },
  ),
  scenario(
    'runbook-continue-as-new',
    'ec2-compromise held in its rollback window, bounded at 3 messages a run: approved, the window extended 6 times (the execution continues as new twice or more), then released from the latest run',
    ec2Compromise,
    async (h) => {
      await waitingApproval(h);
      await decide(h, 'approve', 'isolate it');
      await executionState(h, (s) => s.status === 'succeeded' && !!s.rollbackWindowUntil, 'rollback window');
      for (let i = 1; i <= 6; i++) {
        await h.executeUpdate(extendWindowUpdate, {
          args: [{ reason: `investigation continues (${i})`, extendBy: '1h', requestedBy: commander }],
        });
      }
      await executionState(h, (s) => (s.run ?? 1) >= 3, 'continued as new twice');
      await h.executeUpdate(rollbackUpdate, { args: [{ reason: 'investigation closed', requestedBy: commander }] });
    },
    undefined,
    { history: { maxMessages: 3 } },
  ),
  scenario(
    'runbook-rejected',
    'ec2-compromise: the commander rejects the isolation; completed steps are rolled back',
    ec2Compromise,
    async (h) => {
      await waitingApproval(h);
      await decide(h, 'reject', 'not convinced');
    },
  ),
  scenario(
    'runbook-rollback-while-waiting',
    'ec2-compromise: a rollback is requested while the approval is pending',
    ec2Compromise,
    async (h) => {
      await waitingApproval(h);
      await h.executeUpdate(rollbackUpdate, { args: [{ reason: 'wrong instance', requestedBy: commander }] });
    },
  ),
  scenario(
    'runbook-cancelled',
    'ec2-compromise: the execution is cancelled while the approval is pending; completed steps are rolled back',
    ec2Compromise,
    async (h) => {
      await waitingApproval(h);
      await h.cancel();
    },
  ),
  scenario(
    'runbook-deadline-reject',
    'drill: approval deadline of 2s passes, onTimeout=reject; rolled back',
    withDeadline('deadline-reject', '2s', 'reject'),
    async () => undefined,
  ),
  scenario(
    'runbook-deadline-fail',
    'drill: approval deadline of 2s passes, onTimeout=fail; rolled back and failed',
    withDeadline('deadline-fail', '2s', 'fail'),
    async () => undefined,
  ),
  scenario(
    'runbook-deadline-approve-window-expired',
    'drill: approval deadline of 2s passes, onTimeout=approve; isolated; the 3s rollback window expires unused',
    { ...withDeadline('deadline-approve', '2s', 'approve'), rollbackWindow: '3s' },
    async () => undefined,
  ),
  scenario(
    'runbook-step-failed',
    'drill: a step after isolation fails (instance not found, not retryable); completed steps rolled back in reverse',
    drill('step-failed', {
      steps: [
        ...steps('capture', 'protect-termination', 'isolate', 'tag-quarantined'),
        { id: 'inspect-peer', kind: 'action', action: 'ec2.captureInstance', with: { instanceId: DEAD_INSTANCE } },
        {
          id: 'tag-after',
          kind: 'action',
          action: 'ec2.tagInstance',
          with: { instanceId: expr('params.instanceId'), tags: { after: 'yes' } },
        },
      ],
    }),
    async () => undefined,
  ),
  scenario(
    'runbook-rollback-step-failed',
    'drill: a step fails, and one compensation fails too (2 attempts); the other compensations still run',
    drill('rollback-failed', {
      // Left rollback-failed, the execution waits this long for a retry request before it closes.
      rollbackRetryWindow: '1s',
      steps: [
        ...steps('capture', 'protect-termination'),
        {
          id: 'tag-suspect',
          kind: 'action',
          action: 'ec2.tagInstance',
          with: { instanceId: expr('params.instanceId'), tags: { suspect: 'yes' } },
          rollback: {
            action: 'ec2.tagInstance',
            with: { instanceId: 'i-0000000000000beef', tags: { suspect: 'no' } },
            retry: { maximumAttempts: 2 },
          },
        },
        { id: 'inspect-peer', kind: 'action', action: 'ec2.captureInstance', with: { instanceId: DEAD_INSTANCE } },
      ],
    }),
    async () => undefined,
  ),
  scenario(
    'runbook-skipped-and-continued',
    'drill: a when-condition skips a step, a failing continueOnError step is recorded and the run goes on; no rollback window',
    drill('skip-continue', {
      rollbackWindow: undefined,
      steps: [
        ...steps('capture'),
        {
          id: 'only-if-stopped',
          kind: 'action',
          action: 'ec2.tagInstance',
          when: "steps.capture.output.state = 'stopped'",
          with: { instanceId: expr('params.instanceId'), tags: { stopped: 'yes' } },
        },
        {
          id: 'peer',
          kind: 'action',
          action: 'ec2.captureInstance',
          with: { instanceId: DEAD_INSTANCE },
          continueOnError: true,
        },
        ...steps('tag-quarantined'),
      ],
    }),
    async () => undefined,
  ),
  scenario(
    'runbook-invalid-params',
    'ec2-compromise started with invalid params (not through the API, which refuses them): fails at once',
    ec2Compromise,
    async () => undefined,
    () => ({ instanceId: 'not-an-instance', extra: 1 }),
  ),
];
