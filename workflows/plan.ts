/**
 * Plan before apply: walks a runbook's steps the way the interpreter would, but changes nothing. Read-only actions run
 * as they are and dry-run-capable actions run with `dryRun: true` (describe calls only), on the worker, in the
 * execution's target account and region, so the plan sees the live state with the same credentials an execution would
 * use. Expressions resolve against those outputs; approvals and waits are listed with their policy; each step's
 * compensation is resolved into the rollback plan. A mutating action without a dry-run form is described, never run.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityEnvelope } from '../activities/envelope';
import type { PlannedCall, StepContext } from '../activities/schemas';
import { evaluate, resolveValue } from '../runbooks/dsl/expressions';
import type { ActionStep, ExpressionContext, Step } from '../runbooks/dsl/types';
import { gatePolicy } from './approval-policy';
import type { Plan, PlanInput, PlannedStep, PreviewMode } from './plan-messages';

type Activity = (input: unknown) => Promise<ActivityEnvelope>;

/** Describe calls are quick; a plan must answer a person waiting at a terminal. */
const activities = proxyActivities<Record<string, Activity>>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '20s',
  retry: { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '5s' },
});

export async function planWorkflow(input: PlanInput): Promise<Plan> {
  const info = workflowInfo();
  const { runbook } = input;
  const outputs: ExpressionContext['steps'] = {};
  const context = (): ExpressionContext => ({
    params: input.params,
    steps: outputs,
    execution: { id: info.workflowId, runbookId: runbook.id, digest: input.digest, startedBy: input.requestedBy },
    incident: { alertState: 'unknown' },
  });
  const ctx = (stepId: string): StepContext => ({
    executionId: info.workflowId,
    runbookId: runbook.id,
    stepId,
    target: input.target,
  });

  /** Runs an action in its preview mode; undefined output when it cannot be previewed. */
  const preview = async (action: string, id: string, args: Record<string, unknown>, mode: PreviewMode) => {
    if (mode === 'none') return { output: undefined, calls: undefined };
    const withFlag = mode === 'dry-run' ? { ...args, dryRun: true } : args;
    const { output } = await activities[action]({ ...withFlag, ctx: ctx(id) });
    const calls = (output as { calls?: PlannedCall[] } | undefined)?.calls;
    return { output, calls };
  };

  const planAction = async (step: ActionStep, planned: PlannedStep): Promise<void> => {
    const mode = input.previews[step.id] ?? 'none';
    planned.action = step.action;
    planned.preview = mode;
    let args: Record<string, unknown>;
    try {
      args = (await resolveValue(step.with, context())) as Record<string, unknown>;
    } catch (err) {
      planned.outcome = 'unresolved';
      planned.note = `inputs depend on what could not be previewed: ${message(err)}`;
      outputs[step.id] = { status: 'unknown' };
      return;
    }
    planned.input = args;
    if (mode === 'none') {
      planned.outcome = 'not-previewable';
      planned.note = `${step.action} has no dry-run form: it would be called with the input shown`;
      outputs[step.id] = { status: 'unknown' };
    } else {
      try {
        const { output, calls } = await preview(step.action, step.id, args, mode);
        planned.outcome = 'previewed';
        planned.output = output;
        planned.calls = calls ?? (mode === 'read' ? [] : undefined);
        outputs[step.id] = { status: 'succeeded', output };
      } catch (err) {
        // The live state refuses it (e.g. the instance does not exist): that is what the plan must say.
        planned.outcome = 'unresolved';
        planned.note = `the preview failed: ${message(err)}`;
        outputs[step.id] = { status: 'failed' };
      }
    }
    if (step.rollback) {
      planned.rollback = { action: step.rollback.action };
      try {
        planned.rollback.input = await resolveValue(step.rollback.with, context());
        // A compensation's dry run would describe undoing a change that has not happened: its input is the plan.
      } catch (err) {
        planned.rollback.note = `input depends on what could not be previewed: ${message(err)}`;
      }
    }
  };

  const steps: PlannedStep[] = [];
  for (const step of runbook.steps as Step[]) {
    const planned: PlannedStep = { id: step.id, kind: step.kind, title: step.title, outcome: 'gate' };
    steps.push(planned);
    if (step.when !== undefined) {
      try {
        if (!(await evaluate(step.when, context()))) {
          planned.outcome = 'skipped';
          planned.note = `when "${step.when}" is false`;
          outputs[step.id] = { status: 'skipped' };
          continue;
        }
      } catch (err) {
        planned.outcome = 'unresolved';
        planned.note = `when "${step.when}" could not be evaluated: ${message(err)}`;
        continue;
      }
    }
    switch (step.kind) {
      case 'action':
        await planAction(step, planned);
        break;
      case 'approval': {
        const policy = gatePolicy(step);
        planned.approval = {
          roles: policy.roles.length > 0 ? policy.roles : undefined,
          min: policy.min,
          fourEyes: policy.fourEyes,
          timeout: String(step.timeout),
          onTimeout: step.onTimeout,
        };
        // The plan assumes approval, to show what would follow.
        outputs[step.id] = { status: 'succeeded', output: { decidedBy: 'plan' } };
        break;
      }
      case 'wait':
        planned.until = step.until;
        outputs[step.id] = { status: 'succeeded' };
        break;
      default:
        throw ApplicationFailure.nonRetryable(`unknown step kind ${(step as { kind: string }).kind}`);
    }
  }

  const resourceParam = runbook.resource ? input.params[runbook.resource.param] : undefined;
  return {
    planId: info.workflowId,
    runbookId: runbook.id,
    runbookVersion: runbook.version,
    digest: input.digest,
    params: input.params,
    target: input.target,
    resource: typeof resourceParam === 'string' ? `${runbook.resource!.type}/${resourceParam}` : undefined,
    steps,
    changes: steps.flatMap((s) => (s.calls ?? []).map((c) => ({ ...c, stepId: s.id }))),
    rollbackPlan: [...steps]
      .reverse()
      .filter((s) => s.rollback && s.outcome !== 'skipped')
      .map((s) => ({ stepId: s.id, action: s.rollback!.action, input: s.rollback!.input, note: s.rollback!.note })),
    notPreviewable: steps.filter((s) => s.outcome === 'not-previewable').map((s) => s.id),
  };
}

function message(err: unknown): string {
  const e = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return e instanceof Error ? e.message : String(e);
}
