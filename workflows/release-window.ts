/**
 * The rollback window of a succeeded execution: a human may extend it (an Update, so the caller learns at once whether
 * it was refused) when an investigation needs longer than the runbook's window before releasing what it contained.
 * The extension is recorded in history (the Update's arguments) and in the state (`windowExtensions`).
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { durationMs as toMs } from '../runbooks/dsl/duration';
import type { RunbookDefinition } from '../runbooks/dsl/types';
import { holdsRole, releaseRoles } from './approval-policy';
import {
  extendWindowUpdate,
  RejectionType,
  type ExecutionState,
  type WindowExtension,
  type WindowExtensionRequest,
} from './messages';

/** The longest single extension. */
export const MAX_WINDOW_EXTENSION_MS = 30 * 24 * 3600_000;
/** The latest a window may end, counted from the execution's end: extensions cannot keep it open for ever. */
export const MAX_WINDOW_MS = 180 * 24 * 3600_000;

function durationMs(d: string | number): number {
  try {
    return toMs(d as Parameters<typeof toMs>[0]);
  } catch {
    return NaN;
  }
}

/**
 * Registers the window-extension Update. The workflow waits on `state.rollbackWindowUntil`, so moving it here is
 * what keeps the execution open.
 */
export function handleWindowExtensions(opts: {
  state: ExecutionState;
  runbook: RunbookDefinition;
  rollbackRequested: () => boolean;
  /** Counts an accepted extension (towards the run's bound before it continues as new). */
  accepted?: () => void;
}): void {
  const { state, runbook } = opts;
  const refuse = (message: string, type: string): never => {
    throw ApplicationFailure.nonRetryable(message, type);
  };
  setHandler(
    extendWindowUpdate,
    (request: WindowExtensionRequest): WindowExtension => {
      const previousUntil = state.rollbackWindowUntil!;
      const until = new Date(Date.parse(previousUntil) + durationMs(request.extendBy)).toISOString();
      const record: WindowExtension = {
        reason: request.reason,
        extendBy: request.extendBy,
        requestedBy: request.requestedBy,
        requestedAt: new Date().toISOString(),
        previousUntil,
        until,
      };
      opts.accepted?.();
      state.rollbackWindowUntil = until;
      state.windowExtensions = [...(state.windowExtensions ?? []), record];
      return record;
    },
    {
      validator: (request) => {
        if (!request?.reason?.trim() || !request.requestedBy?.id) {
          refuse('extending the rollback window needs a reason and an identity', RejectionType.invalid);
        }
        if (state.status !== 'succeeded' || state.rollbackWindowUntil === undefined || opts.rollbackRequested()) {
          refuse(
            `execution is ${state.status}${state.rollbackWindowUntil === undefined ? ' with no open rollback window' : ' and being rolled back'}`,
            RejectionType.notInWindow,
          );
        }
        const ms = durationMs(request.extendBy);
        if (!(ms > 0) || ms > MAX_WINDOW_EXTENSION_MS) {
          refuse(
            `extendBy must be a positive duration of at most 30 days (got ${JSON.stringify(request.extendBy)})`,
            RejectionType.invalid,
          );
        }
        const endedAt = Date.parse(state.endedAt ?? state.startedAt);
        if (Date.parse(state.rollbackWindowUntil!) + ms - endedAt > MAX_WINDOW_MS) {
          refuse('the rollback window may not end more than 180 days after the execution', RejectionType.invalid);
        }
        const roles = releaseRoles(runbook);
        if (!holdsRole(request.requestedBy, roles)) {
          refuse(`extending the rollback window needs one of the roles ${roles.join(', ')}`, RejectionType.forbidden);
        }
      },
    },
  );
}
