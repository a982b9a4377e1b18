/**
 * What the runbook library's end-to-end tests share: a workflow input for a shipped runbook, loaded and pinned as the
 * API would (validated, digested).
 */
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { RunbookWorkflowInput } from '../../workflows/messages';

export function runbookInput(
  def: RunbookDefinition,
  params: Record<string, unknown>,
  startedBy = { id: 'user:test', roles: ['responder'] },
): RunbookWorkflowInput {
  const loaded = new RunbookRegistry([def]).get(def.id)!;
  return { runbook: loaded.definition, digest: loaded.digest, params, startedBy, reason: 'test' };
}
