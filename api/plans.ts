/**
 * Plans (dry runs) over the Temporal client: the plan runs as a short workflow on the worker, which holds the AWS
 * credentials and reaches the execution's target account; the API waits for its result.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ActionCatalogue } from '../activities/catalogue';
import type { ActionName, ExecutionTarget } from '../activities/schemas';
import { validateParams } from '../runbooks/dsl/params';
import type { LoadedRunbook } from '../runbooks/dsl/types';
import { PLAN_WORKFLOW, type Plan, type PlanInput, type PreviewMode } from '../workflows/plan-messages';
import type { Principal } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { UnavailableError, ValidationFailedError } from './errors';
import { callTemporal } from './temporal';

/** How long a caller waits for a plan; describe calls on a few resources take seconds. */
const PLAN_WAIT_MS = 60_000;

/** How each action can be previewed, from the catalogue. */
export function previewMode(action: ActionName): PreviewMode {
  const info = ActionCatalogue[action];
  // A dry-run form wins even for a read-only action: it is how one that waits, or runs commands, is previewed.
  if (info.dryRun) return 'dry-run';
  return info.mutating ? 'none' : 'read';
}

export class PlanService {
  constructor(private readonly opts: { client: Client; taskQueue: string }) {}

  async plan(
    runbook: LoadedRunbook,
    body: { params: Record<string, unknown>; target?: ExecutionTarget },
    by: Principal,
  ): Promise<Plan> {
    const checked = validateParams(runbook.definition.params, body.params);
    if (!checked.ok)
      throw new ValidationFailedError(`invalid params for runbook ${runbook.definition.id}`, checked.errors);
    const previews: Record<string, PreviewMode> = {};
    for (const step of runbook.definition.steps)
      if (step.kind === 'action') previews[step.id] = previewMode(step.action);
    const input: PlanInput = {
      runbook: runbook.definition,
      digest: runbook.digest,
      params: checked.value,
      target: body.target,
      previews,
      requestedBy: by.id,
    };
    const planId = `plan-${runbook.definition.id}-${randomUUID()}`;
    const handle = await callTemporal(this.opts.client, () =>
      this.opts.client.workflow.start(PLAN_WORKFLOW, {
        taskQueue: this.opts.taskQueue,
        workflowId: planId,
        args: [input],
        workflowExecutionTimeout: '5m',
        // kind=plan keeps plans out of the execution and incident lists.
        typedSearchAttributes: [
          { key: SA.kind, value: 'plan' },
          { key: SA.runbookId, value: runbook.definition.id },
        ],
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              `plan ${planId} did not finish within ${PLAN_WAIT_MS / 1000}s; is the worker running?`,
            ),
          ),
        PLAN_WAIT_MS,
      );
    });
    try {
      return (await Promise.race([handle.result(), timeout])) as Plan;
    } finally {
      clearTimeout(timer);
    }
  }
}
