/**
 * The runbook execution's queries, signals and Updates, over its state (workflows/runbook-state.ts). Every handler
 * is synchronous, so a run that continues as new has nothing of theirs in flight once `allHandlersFinished` holds;
 * each accepted message counts towards the run's bound (`messagesThisRun`).
 */
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { RunbookDefinition } from '../runbooks/dsl/types';
import {
  approvalUpdate,
  incidentNewsSignal,
  rollbackRequestSignal,
  rollbackUpdate,
  stateQuery,
  type RollbackRequest,
} from './messages';
import { handleWindowExtensions } from './release-window';
import type { RunbookState } from './runbook-state';

export function registerHandlers(rs: RunbookState, runbook: RunbookDefinition): void {
  const { state } = rs;
  setHandler(stateQuery, () => state);
  setHandler(incidentNewsSignal, (news) => {
    rs.messagesThisRun++;
    rs.news(news);
  });

  setHandler(
    approvalUpdate,
    (decision) => {
      rs.messagesThisRun++;
      const result = rs.decide(decision);
      log.info('approval decided', { stepId: decision.stepId, decision: decision.decision, by: decision.decidedBy.id });
      return result;
    },
    { validator: (decision) => rs.validateDecision(decision) },
  );

  setHandler(
    rollbackUpdate,
    (request) => {
      rs.messagesThisRun++;
      const retry = state.status === 'rollback-failed' && state.rollback !== undefined;
      rs.requestRollback(request);
      log.info(retry ? 'rollback retry requested' : 'rollback requested', {
        by: request.requestedBy.id,
        reason: request.reason,
      });
      return { accepted: true as const, status: state.status };
    },
    { validator: (request) => rs.validateRollback(request) },
  );

  // The same request as a signal: the API sends it when no worker confirmed the Update in time, because the server
  // holds a signal durably (an admitted Update only in memory). Nobody waits for an answer, so a refusal is recorded in
  // the state; a repeat of the request already taken (the Update admitted meanwhile, then run) is no refusal.
  setHandler(rollbackRequestSignal, (request) => {
    rs.messagesThisRun++;
    const taken = state.status === 'rollback-failed' ? rs.retryRequest : rs.rollbackRequest;
    if (taken && sameRequest(taken, request)) return;
    try {
      rs.validateRollback(request);
    } catch (err) {
      const failure = err instanceof ApplicationFailure ? err : undefined;
      state.refusedRequests = [
        ...(state.refusedRequests ?? []).slice(-19),
        {
          kind: request?.release ? 'release' : 'rollback',
          requestedBy: request?.requestedBy,
          reason: request?.reason,
          refusedAt: new Date().toISOString(),
          type: failure?.type ?? undefined,
          message: (err as Error).message,
        },
      ];
      log.warn('rollback request (signal) refused', { message: (err as Error).message });
      return;
    }
    const retry = state.status === 'rollback-failed' && state.rollback !== undefined;
    rs.requestRollback(request);
    log.info(retry ? 'rollback retry requested (signal)' : 'rollback requested (signal)', {
      by: request.requestedBy.id,
      reason: request.reason,
    });
  });

  handleWindowExtensions({
    state,
    runbook,
    rollbackRequested: () => rs.rollbackRequest !== undefined,
    accepted: () => rs.messagesThisRun++,
  });
}

/** The same rollback request (its Update and its signal fallback carry one request). */
function sameRequest(a: RollbackRequest, b: RollbackRequest): boolean {
  return a.reason === b?.reason && a.requestedBy?.id === b?.requestedBy?.id && !!a.release === !!b?.release;
}
