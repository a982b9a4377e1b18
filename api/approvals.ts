/**
 * The pending approval gates across executions: what waits for a human, with what that human needs to decide. Found
 * through visibility (executions whose status is `waiting-approval`), then read from each execution's state, so the
 * list shows the gate as the workflow sees it now.
 */
import type { Client } from '@temporalio/client';
import { decisionRefusal } from '../workflows/approval-policy';
import { stateQuery, type ExecutionState, type GatePolicy, type Principal } from '../workflows/messages';
import { permissionsOf } from './permissions';
import type { PendingGate } from './schemas';
import { callTemporal } from './temporal';
import { listWorkflows } from './visibility';

/** One execution's state query may take this long; a stuck one (no worker) must not hold up the whole list. */
const STATE_DEADLINE_MS = 3_000;

export interface ApprovalServiceOptions {
  client: Client;
  publicUrl: string;
}

export interface PendingGatesPage {
  items: PendingGate[];
  nextPageToken?: string;
  /** Executions listed as waiting whose state could not be read (logged by the route). */
  unreadable: { executionId: string; error: string }[];
}

export class ApprovalService {
  constructor(private readonly opts: ApprovalServiceOptions) {}

  /**
   * The gates pending on one page of waiting executions. With `mine`, only those `principal` may approve now: it holds
   * a role the gate names (admin stands for all), four-eyes does not exclude it, and it has not approved already.
   */
  async pending(
    principal: Principal,
    query: { mine: boolean; pageSize: number; pageToken?: string },
  ): Promise<PendingGatesPage> {
    const { client } = this.opts;
    const page = await callTemporal(client, () =>
      listWorkflows(client, 'runbook', {
        status: 'waiting-approval',
        pageSize: query.pageSize,
        pageToken: query.pageToken,
      }),
    );
    const unreadable: PendingGatesPage['unreadable'] = [];
    const states = await Promise.all(
      page.items.map(async (item) => {
        try {
          const handle = client.workflow.getHandle(item.id);
          return await client.connection.withDeadline(Date.now() + STATE_DEADLINE_MS, () => handle.query(stateQuery));
        } catch (err) {
          unreadable.push({ executionId: item.id, error: err instanceof Error ? err.message : String(err) });
          return undefined;
        }
      }),
    );
    const gates = states.flatMap((s) => (s ? this.gate(s) : []));
    const mayDecide = permissionsOf(principal).has('approvals:decide');
    const items = query.mine ? gates.filter((g) => mayDecide && this.mayApprove(principal, g)) : gates;
    return { items, nextPageToken: page.nextPageToken, unreadable };
  }

  private mayApprove(principal: Principal, gate: PendingGate): boolean {
    return (
      decisionRefusal({
        stepId: gate.stepId,
        policy: gate.policy,
        startedBy: gate.startedBy,
        // Only the approvers' identities matter here.
        approvals: gate.approvedBy.map((a) => ({
          stepId: gate.stepId,
          decision: 'approve' as const,
          decidedBy: { id: a.id },
          decidedAt: a.at,
          via: 'human' as const,
        })),
        principal,
        decision: 'approve',
      }) === undefined
    );
  }

  private gate(state: ExecutionState): PendingGate[] {
    const pending = state.pendingApproval;
    if (!pending || state.status !== 'waiting-approval') return [];
    // Executions started before approval policies existed carry only the roles: the defaults apply.
    const policy: GatePolicy = pending.policy ?? { roles: pending.roles ?? [], min: 1, fourEyes: true };
    const step = state.steps.find((s) => s.id === pending.stepId);
    const approvedBy = pending.approvedBy ?? [];
    const root = this.opts.publicUrl.replace(/\/$/, '');
    const base = `${root}/v1/executions/${encodeURIComponent(state.executionId)}`;
    return [
      {
        executionId: state.executionId,
        runbookId: state.runbookId,
        runbookVersion: state.runbookVersion,
        runbookTitle: state.title,
        severity: state.severity,
        resource: state.resource,
        incidentId: state.incidentId,
        startedBy: state.startedBy,
        reason: state.reason,
        stepId: pending.stepId,
        title: pending.title,
        instructions: pending.instructions,
        deadline: pending.deadline,
        onTimeout: pending.onTimeout,
        policy,
        approvedBy,
        approvalsNeeded: pending.approvalsNeeded ?? Math.max(0, policy.min - approvedBy.length),
        next: pending.next ?? [],
        escalations: step?.escalations ?? [],
        approveUrl: `${base}/approvals/${encodeURIComponent(pending.stepId)}`,
        executionUrl: base,
        pageUrl: `${root}/console/executions/${encodeURIComponent(state.executionId)}`,
      },
    ];
  }
}
