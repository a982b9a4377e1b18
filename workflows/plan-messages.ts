/**
 * Plan (dry run) of a runbook: its input and result, shared by the workflow, the API and the CLI.
 */
import type { ExecutionTarget, PlannedCall } from '../activities/schemas';
import type { RunbookDefinition } from '../runbooks/dsl/types';

export const PLAN_WORKFLOW = 'planWorkflow';

/**
 * How a step's action can be previewed, decided by the API from the catalogue: `read` actions change nothing and run
 * as they are; `dry-run` actions run with `dryRun: true` (describe calls only, the calls they would make reported);
 * `none`: a mutating action without a dry-run form, which the plan only describes and never runs.
 */
export type PreviewMode = 'read' | 'dry-run' | 'none';

export interface PlanInput {
  runbook: RunbookDefinition;
  digest: string;
  params: Record<string, unknown>;
  target?: ExecutionTarget;
  /** By step ID, for action steps (and `rollback:<stepId>` for their compensations). */
  previews: Record<string, PreviewMode>;
  requestedBy: string;
}

export interface PlannedStep {
  id: string;
  kind: 'action' | 'approval' | 'wait';
  title?: string;
  /**
   * `previewed`: ran read-only or as a dry run; `not-previewable`: a mutating action without a dry-run form, not run;
   * `skipped`: its `when` is false; `unresolved`: its inputs or condition need what an earlier step could not preview;
   * `gate`: an approval or a wait the execution would stop at.
   */
  outcome: 'previewed' | 'not-previewable' | 'skipped' | 'unresolved' | 'gate';
  action?: string;
  preview?: PreviewMode;
  /** The action's input with every expression resolved (as far as the preview could). */
  input?: unknown;
  output?: unknown;
  /** Mutating calls the action would make, from its dry run. */
  calls?: PlannedCall[];
  /** Why a step could not be previewed or resolved. */
  note?: string;
  /** Approval gates: who would have to decide, and the deadline's consequence. */
  approval?: { roles?: string[]; min: number; fourEyes: boolean; timeout: string; onTimeout: string };
  /** Wait steps: the condition. */
  until?: string;
  /** The compensation the execution would run on rollback, with its input resolved against the preview. */
  rollback?: { action: string; input?: unknown; calls?: PlannedCall[]; note?: string };
}

export interface Plan {
  planId: string;
  runbookId: string;
  runbookVersion: string;
  digest: string;
  params: Record<string, unknown>;
  target?: ExecutionTarget;
  resource?: string;
  steps: PlannedStep[];
  /** Every mutating call the dry runs reported, in step order. */
  changes: (PlannedCall & { stepId: string })[];
  /** Compensations, in the order a rollback would run them (reverse of the steps). */
  rollbackPlan: { stepId: string; action: string; input?: unknown; note?: string }[];
  /** Mutating steps that could not be previewed: the plan cannot vouch for what they would do. */
  notPreviewable: string[];
}
