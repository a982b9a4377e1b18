/**
 * Runbook executions over the Temporal client: start, read, decide, roll back. Shared by the API routes and, later,
 * the CLI. Temporal errors become ApiErrors here, in one place.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { validateParams } from '../runbooks/dsl/params';
import type { LoadedRunbook } from '../runbooks/dsl/types';
import {
  approvalUpdate,
  extendWindowUpdate,
  RejectionType,
  rollbackRequestSignal,
  rollbackUpdate,
  RUNBOOK_WORKFLOW,
  stateQuery,
  type ApprovalResult,
  type ExecutionState,
  type ExecutionStatus,
  type Principal,
  type RollbackRequest,
  type RunbookWorkflowInput,
  type WindowExtension,
} from '../workflows/messages';
import {
  resourceKeyOf,
  resourceRecordQuery,
  resourceWorkflowId,
  type ResourceRecord,
} from '../workflows/resource-messages';
import type { ExecutionHistoryLimits } from '../workflows/runbook-state';
import { SA, targetAttributes } from '../workflows/search-attributes';
import { resolveResourceKey, type OwnTarget } from '../activities/resource';
import {
  ConflictError,
  ForbiddenError,
  NotConfirmedError,
  NotFoundError,
  UnavailableError,
  ValidationFailedError,
  type ApiError,
} from './errors';
import type { ExecutionView } from './schemas';
import { callTemporal, describeWorkflow, isDeadline, runUpdate } from './temporal';
import { listWorkflows, type ListFilters, type ListPage } from './visibility';

export interface ExecutionServiceOptions {
  client: Client;
  taskQueue: string;
  publicUrl: string;
  /** When executions continue as new; default EXECUTION_HISTORY_DEFAULTS (tests set it low). */
  history?: Partial<ExecutionHistoryLimits>;
  /** Resolves `self` in resource keys as the worker does; unset: keys as given. */
  ownTarget?: OwnTarget;
}

/**
 * The answer to a rollback or release request. `confirmed`: a worker's validator took it (its status then is the
 * execution's); otherwise the server holds it durably and the execution has not run it yet (`pending-worker`).
 */
export interface RollbackAck {
  accepted: true;
  confirmed: boolean;
  status: ExecutionStatus | 'pending-worker';
}

export class ExecutionService {
  constructor(private readonly opts: ExecutionServiceOptions) {}

  /** Validates params against the runbook's schema and starts an execution pinned to this definition. */
  async start(
    runbook: LoadedRunbook,
    body: { params: Record<string, unknown>; reason?: string; target?: RunbookWorkflowInput['target'] },
    startedBy: Principal,
  ) {
    const checked = validateParams(runbook.definition.params, body.params);
    if (!checked.ok)
      throw new ValidationFailedError(`invalid params for runbook ${runbook.definition.id}`, checked.errors);
    await this.refuseHeldResource(runbook, checked.value, body.target);
    const executionId = `${runbook.definition.id}-${randomUUID()}`;
    const input: RunbookWorkflowInput = {
      runbook: runbook.definition,
      digest: runbook.digest,
      params: checked.value,
      startedBy,
      reason: body.reason,
      target: body.target,
      history: this.opts.history,
    };
    const where = await this.whereItActs(body.target);
    await callTemporal(this.opts.client, () =>
      this.opts.client.workflow.start(RUNBOOK_WORKFLOW, {
        taskQueue: this.opts.taskQueue,
        workflowId: executionId,
        args: [input],
        typedSearchAttributes: [
          { key: SA.kind, value: 'runbook' },
          { key: SA.runbookId, value: runbook.definition.id },
          { key: SA.digest, value: runbook.digest },
          { key: SA.severity, value: runbook.definition.severity },
          { key: SA.status, value: 'running' },
          { key: SA.startedBy, value: startedBy.id },
          ...targetAttributes(where),
        ],
      }),
    );
    return { executionId, runbookId: runbook.definition.id, digest: runbook.digest, status: 'running' as const };
  }

  /**
   * The account and region an execution acts in, for its search attributes: what it names, else the worker's own
   * (when known here). Unknown parts are left out rather than failing the start.
   */
  private async whereItActs(target: RunbookWorkflowInput['target']): Promise<{ account?: string; region?: string }> {
    const own = this.opts.ownTarget;
    if (!own) return { ...target };
    const account = target?.account ?? (await own.account().catch(() => undefined));
    return { account, region: target?.region ?? own.region };
  }

  /** The execution's state, running or closed. */
  async get(executionId: string): Promise<ExecutionView> {
    const handle = this.handle(executionId);
    const description = await describeWorkflow(this.opts.client, handle, RUNBOOK_WORKFLOW, 'execution');
    let state: ExecutionState;
    try {
      state = await handle.query(stateQuery);
    } catch (err) {
      // A closed execution that completed still has its final state as its result.
      if (description.status.name === 'COMPLETED') state = (await handle.result()) as ExecutionState;
      else
        throw new UnavailableError('no worker answered the state query; is the firebreak worker running?', undefined, {
          cause: err,
        });
    }
    return this.view(state, description.status.name);
  }

  async decide(
    executionId: string,
    stepId: string,
    decision: { decision: 'approve' | 'reject'; comment?: string },
    decidedBy: Principal,
  ): Promise<ApprovalResult> {
    const handle = this.handle(executionId);
    return this.update(handle, () =>
      handle.executeUpdate(approvalUpdate, {
        args: [{ stepId, decision: decision.decision, comment: decision.comment, decidedBy }],
      }),
    );
  }

  async rollback(executionId: string, reason: string, requestedBy: Principal): Promise<RollbackAck> {
    return this.requestRollback(executionId, { reason, requestedBy });
  }

  /** The state as the running workflow answers it now (no describe: for metrics after a decision). */
  async state(executionId: string): Promise<ExecutionState> {
    return callTemporal(this.opts.client, () => this.handle(executionId).query(stateQuery));
  }

  /** Whether the execution belongs to a drill (FirebreakDrill set): drills never count in the metrics. */
  async isDrill(executionId: string): Promise<boolean> {
    const description = await callTemporal(this.opts.client, () => this.handle(executionId).describe());
    return description.typedSearchAttributes.get(SA.drill) !== undefined;
  }

  /** Releases a succeeded execution inside its rollback window (a rollback Update that refuses anything else). */
  async release(executionId: string, reason: string, requestedBy: Principal): Promise<RollbackAck> {
    return this.requestRollback(executionId, { reason, requestedBy, release: true });
  }

  /**
   * A rollback (or release) request: the Update first, so a worker's validator refuses it at once (4xx). When no worker
   * confirms it in time (none runs, or it is far behind), the server holds the Update only in memory; the same request
   * then goes as a signal, which the server holds durably, and the answer says so (`confirmed: false`, 202). The
   * execution runs it when a worker is back; the Update, if it still arrives too, is refused as a repeat.
   */
  private async requestRollback(executionId: string, request: RollbackRequest): Promise<RollbackAck> {
    const handle = this.handle(executionId);
    try {
      const ack = await this.update(handle, () => handle.executeUpdate(rollbackUpdate, { args: [request] }));
      return { ...ack, confirmed: true };
    } catch (err) {
      // Unconfirmed, or a live server too slow to answer at all: whether the signal lands decides the answer.
      if (!(err instanceof NotConfirmedError || (err instanceof UnavailableError && isDeadline(err.cause)))) throw err;
      try {
        await callTemporal(this.opts.client, () => handle.signal(rollbackRequestSignal, request));
      } catch (signalErr) {
        if (signalErr instanceof WorkflowNotFoundError)
          throw new ConflictError(`execution ${executionId} is closed`, undefined, { cause: signalErr });
        throw err;
      }
      return { accepted: true, confirmed: false, status: 'pending-worker' };
    }
  }

  /** Moves the end of a succeeded execution's rollback window later. */
  async extendWindow(
    executionId: string,
    body: { reason: string; extendBy: string | number },
    requestedBy: Principal,
  ): Promise<WindowExtension> {
    const handle = this.handle(executionId);
    return this.update(handle, () => handle.executeUpdate(extendWindowUpdate, { args: [{ ...body, requestedBy }] }));
  }

  async list(filters: ListFilters): Promise<ListPage> {
    return callTemporal(this.opts.client, () => listWorkflows(this.opts.client, 'runbook', filters));
  }

  /**
   * An execution started by hand does not queue behind another one changing the same resource (an incident's would
   * wait): 409 naming the holder. No record, or a closed one, means the resource is free.
   */
  private async refuseHeldResource(
    runbook: LoadedRunbook,
    params: Record<string, unknown>,
    target: RunbookWorkflowInput['target'],
  ): Promise<void> {
    const spec = runbook.definition.resource;
    const id = spec ? params[spec.param] : undefined;
    if (!spec || typeof id !== 'string') return;
    const resource = `${spec.type}/${id}`;
    let record: ResourceRecord;
    try {
      const key = resourceKeyOf(target, resource);
      const own = this.opts.ownTarget;
      // The worker's account unknown here (no AWS credentials on the API): the record as keyed before resolution.
      const resolved = own ? await resolveResourceKey(key, own).catch(() => key) : key;
      const handle = this.opts.client.workflow.getHandle(resourceWorkflowId(resolved));
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return;
      record = await handle.query(resourceRecordQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw new UnavailableError('could not read the resource record; is the firebreak worker running?', undefined, {
        cause: err,
      });
    }
    const holder = record.holder;
    if (!holder) return;
    throw new ConflictError(
      `resource ${resource} is held by execution ${holder.executionId} (${holder.runbookId}, ${holder.purpose} since ` +
        `${holder.since}); start again once it is released`,
      { reason: 'ResourceHeld', resource, holder: { executionId: holder.executionId, runbookId: holder.runbookId } },
    );
  }

  private handle(executionId: string): WorkflowHandle {
    return this.opts.client.workflow.getHandle(executionId);
  }

  /** An Update on a running execution; a validator's rejection becomes 400/403/404/409, a closed execution 409. */
  private update<T>(handle: WorkflowHandle, call: () => Promise<T>): Promise<T> {
    const base = `${this.opts.publicUrl.replace(/\/$/, '')}/v1/executions/${encodeURIComponent(handle.workflowId)}`;
    return runUpdate(this.opts.client, handle, RUNBOOK_WORKFLOW, 'execution', call, (f) => rejection(f, base));
  }

  private view(state: ExecutionState, workflowStatus: string): ExecutionView {
    const root = this.opts.publicUrl.replace(/\/$/, '');
    const base = `${root}/v1/executions/${encodeURIComponent(state.executionId)}`;
    return {
      ...state,
      workflowStatus,
      pageUrl: `${root}/console/executions/${encodeURIComponent(state.executionId)}`,
      pendingApproval: state.pendingApproval && {
        ...state.pendingApproval,
        approveUrl: `${base}/approvals/${encodeURIComponent(state.pendingApproval.stepId)}`,
      },
    };
  }
}

function rejection(failure: ApplicationFailure, executionUrl: string): ApiError {
  const type = failure.type as (typeof RejectionType)[keyof typeof RejectionType] | null | undefined;
  switch (type) {
    case RejectionType.unknownStep:
      return new NotFoundError(failure.message);
    case RejectionType.notPending:
    case RejectionType.notRunning:
    case RejectionType.duplicate:
      return new ConflictError(failure.message, { reason: type });
    case RejectionType.notInWindow:
      // Running and failed executions are rolled back, not released.
      return new ConflictError(failure.message, { reason: type, rollbackUrl: `${executionUrl}/rollback` });
    case RejectionType.forbidden:
    case RejectionType.selfApproval:
      return new ForbiddenError(failure.message, { reason: type });
    case RejectionType.invalid:
      return new ValidationFailedError(failure.message);
    default:
      return new ConflictError(failure.message);
  }
}
