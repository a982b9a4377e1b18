/**
 * Approval policy as pure functions, shared by the runbook workflow (its Update validators) and the API (which gates a
 * caller may decide): one reading of the rules, so the list never offers a gate the workflow would refuse.
 */
import type { ApprovalStep, RunbookDefinition } from '../runbooks/dsl/types';
import { RejectionType, type ApprovalRecord, type GatePolicy, type Principal } from './messages';

/** Roles that stand for every role: `admin`, and `*` (the local no-auth mode's operator). */
export const EVERY_ROLE: readonly string[] = ['admin', '*'];
/**
 * The local no-auth mode has one identity for every caller, so four-eyes cannot hold there: its operator (`*`, which
 * no credential can carry) is exempt. Everywhere else the starter needs a second person.
 */
const LOCAL_OPERATOR_ROLE = '*';

/** A gate's policy with the defaults applied: min 1, four-eyes on. */
export function gatePolicy(step: ApprovalStep): GatePolicy {
  return {
    roles: step.approvers?.roles ?? [],
    min: step.approvers?.min ?? 1,
    fourEyes: step.allowSelfApproval !== true,
  };
}

/** The roles a release needs: the runbook's `release.approvers.roles`, else the union of its gates' roles. */
export function releaseRoles(runbook: RunbookDefinition): string[] {
  if (runbook.release) return runbook.release.approvers.roles;
  const roles = runbook.steps.flatMap((s) => (s.kind === 'approval' ? (s.approvers?.roles ?? []) : []));
  return [...new Set(roles)];
}

/** Whether the principal holds one of `roles` (an empty list asks for none). */
export function holdsRole(principal: Principal, roles: readonly string[]): boolean {
  const held = principal.roles ?? [];
  return roles.length === 0 || held.some((r) => EVERY_ROLE.includes(r) || roles.includes(r));
}

export interface Refusal {
  type: (typeof RejectionType)[keyof typeof RejectionType];
  message: string;
}

/**
 * Why `principal` may not record `decision` on an open gate, or undefined when it may. The gate being open is the
 * caller's check (it knows the execution's state).
 */
export function decisionRefusal(args: {
  stepId: string;
  policy: GatePolicy;
  startedBy: Principal;
  approvals: readonly ApprovalRecord[];
  principal: Principal;
  decision: 'approve' | 'reject';
}): Refusal | undefined {
  const { stepId, policy, startedBy, approvals, principal, decision } = args;
  if (!holdsRole(principal, policy.roles)) {
    return {
      type: RejectionType.forbidden,
      message: `approval "${stepId}" needs one of the roles ${policy.roles.join(', ')}`,
    };
  }
  // Rejecting one's own gate stays allowed: it stops the execution, which the starter may do anyway (a rollback).
  if (
    decision === 'approve' &&
    policy.fourEyes &&
    principal.id === startedBy.id &&
    !(principal.roles ?? []).includes(LOCAL_OPERATOR_ROLE)
  ) {
    return {
      type: RejectionType.selfApproval,
      message: `four-eyes: ${principal.id} started this execution and may not approve its gate "${stepId}"`,
    };
  }
  const earlier = approvals.find((a) => a.decidedBy.id === principal.id);
  if (earlier) {
    return {
      type: RejectionType.duplicate,
      message: `${principal.id} already approved "${stepId}" at ${earlier.decidedAt}; another approver is needed`,
    };
  }
  return undefined;
}
