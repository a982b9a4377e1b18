/**
 * Undoing a runbook's changes: the compensations of the completed (or partly completed) steps in reverse, with the
 * resource's lock, handing the resource over instead when other executions' containments are on it, and waiting
 * (bounded) for a retry request when compensations still fail.
 */
import { condition, log, patched } from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import { resolveValue } from '../runbooks/dsl/expressions';
import type { ActionStep, Step } from '../runbooks/dsl/types';
import { RELEASE_WAIT, rollbackLeaseMs } from './resource-lock';
import { PATCH_ROLLBACK_RETRY, rollbackOptions, rollbackRetryWindowMs, rollbackScheduleToCloseMs } from './rollback';
import { activity, attemptsOf, errorInfo, summarise, type RunContext } from './runbook-support';
import { originalState } from './runbook-steps';

/** The rollback of one execution; `compensate()` runs it (once per execution). */
export function compensation(ctx: RunContext): { compensate(): Promise<boolean> } {
  const { runbook, rs, state, now, lock } = ctx;

  /** Decided once, when the rollback starts: histories from before it replay with the old rollback. */
  let rollbackRetry = false;

  /**
   * Whether a step's compensation is due: it succeeded, or it failed having reported partial changes, or its
   * compensation failed before (a retry).
   */
  const compensable = (step: Step): step is ActionStep => {
    if (step.kind !== 'action' || !step.rollback) return false;
    const st = rs.stepState(step.id);
    if (st.status === 'succeeded') return true;
    return rollbackRetry && (st.status === 'rollback-failed' || (st.status === 'failed' && st.partial !== undefined));
  };

  /** Compensates the due steps in reverse; every failure is recorded and the rest still run. */
  const rollBack = async (round: number): Promise<boolean> => {
    let complete = true;
    for (const step of [...runbook.steps].reverse()) {
      if (!compensable(step)) continue;
      const st = rs.stepState(step.id);
      const rollback = step.rollback!;
      const record = (st.rollback = { action: rollback.action, status: 'running' as const, startedAt: now() });
      const spec = rollbackRetry ? { ...rollback, ...rollbackOptions(runbook, step) } : rollback;
      try {
        const withBlock = (await resolveValue(rollback.with, ctx.context())) as Record<string, unknown>;
        const envelope = await activity(
          rollback.action,
          round === 1 ? `rollback:${step.id}` : `rollback:${step.id}:${round}`,
          spec,
        )({
          ...withBlock,
          ctx: ctx.stepContext(`rollback:${step.id}`),
        });
        st.rollback = {
          ...record,
          status: 'succeeded',
          endedAt: now(),
          attempts: envelope.attempt,
          output: summarise(envelope.output),
        };
        st.status = 'rolled-back';
      } catch (err) {
        complete = false;
        st.rollback = {
          ...record,
          status: 'failed',
          endedAt: now(),
          error: errorInfo(err),
          attempts: attemptsOf(err, spec.retry),
        };
        st.status = 'rollback-failed';
        log.error('rollback step failed', { stepId: step.id, error: st.rollback.error?.message });
      }
    }
    return complete;
  };

  /**
   * The rollback: with the resource's lock, unless other executions' containments are on the resource (then this
   * one's compensations would undo theirs: it hands the resource over to them and changes nothing). Compensations that
   * still fail leave the execution `rollback-failed`, waiting for a retry request, within a bound.
   */
  const compensate = async (): Promise<boolean> => {
    rollbackRetry = patched(PATCH_ROLLBACK_RETRY);
    const rollback = state.rollback!;
    for (let round = 1; ; round++) {
      const complete = await compensateOnce(round);
      if (complete || !rollbackRetry) return complete;
      rollback.remaining = runbook.steps.filter(compensable).map((s) => s.id);
      const windowMs = rollbackRetryWindowMs(runbook);
      rollback.retryUntil = new Date(Date.now() + windowMs).toISOString();
      ctx.setStatus('rollback-failed');
      const retried = await condition(() => rs.retryRequest !== undefined, windowMs);
      rollback.retryUntil = undefined;
      if (!retried) {
        // Nobody retried: the record must not keep a containment that no execution will ever release.
        await lock?.forget();
        return false;
      }
      rs.retryRequest = undefined;
      rollback.remaining = undefined;
      ctx.setStatus('rolling-back');
    }
  };

  const compensateOnce = async (round: number): Promise<boolean> => {
    const lockState = state.resourceLock;
    if (!lock || !(lock.held || lockState?.outcome === 'contained')) return rollBack(round);
    const grant = await lock.acquire({
      purpose: 'release',
      leaseMs: rollbackLeaseMs(runbook, (step) =>
        step.kind === 'action' ? rollbackScheduleToCloseMs(runbook, step) : 0,
      ),
      timeoutMs: durationMs(RELEASE_WAIT),
      onWaiting: (waiting) => ctx.setStatus(waiting ? 'waiting-resource' : 'rolling-back'),
    });
    if (!grant) {
      const holder = state.resourceLock?.holder;
      log.error('no resource lock for the rollback', { holder: holder?.executionId });
      return false;
    }
    if (grant.others.length > 0) {
      state.rollback!.handedOverTo = grant.others.map((c) => c.executionId);
      log.info('resource handed over; compensations not run', { to: state.rollback!.handedOverTo });
      await lock.release('released');
      return true;
    }
    const changed = runbook.steps.some(compensable);
    const complete = await rollBack(round);
    await lock.release(complete ? (changed ? 'released' : 'unchanged') : 'contained', originalState(ctx));
    return complete;
  };

  return { compensate };
}
