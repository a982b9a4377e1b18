/**
 * The runbook execution's queries, signals and Updates, over its state (workflows/runbook-state.ts). Every handler
 * is synchronous, so a run that continues as new has nothing of theirs in flight once `allHandlersFinished` holds;
 * each accepted message counts towards the run's bound (`messagesThisRun`).
 */
import { log, setHandler } from '@temporalio/workflow';
import type { RunbookDefinition } from '../runbooks/dsl/types';
import { approvalUpdate, incidentNewsSignal, rollbackUpdate, stateQuery } from './messages';
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

  handleWindowExtensions({
    state,
    runbook,
    rollbackRequested: () => rs.rollbackRequest !== undefined,
    accepted: () => rs.messagesThisRun++,
  });
}
