/**
 * The engine's own activity for the resource record (workflows/resource.ts): a lock request is a signal-with-start, so
 * the record is created on first use and exactly one exists per resource. Not a catalogue action: runbooks never name
 * it; the interpreter calls it around the steps that change the execution's resource.
 */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  lockRequestSignal,
  lockRequestUpdate,
  OWN,
  RESOURCE_WORKFLOW,
  resourceWorkflowId,
  type LockGrant,
  type LockRequest,
  type ResourceKey,
} from '../workflows/resource-messages';
import { cancellationRequestedByWorkflow } from './activity-context';
import { classifyAwsError } from './errors';

export interface ResourceActivities {
  /**
   * `requestId` (executions with the `resource-lock-answer` patch): ask by Update-with-Start under that Update ID and
   * return the grant when the resource was free; without it, by signal-with-start, the grant following as a signal.
   * The ID is unique per request, so an attempt retried after a lost answer gets the first attempt's answer.
   * @returns the record's workflow ID, under the resolved key (the one the execution signals from then on), and
   *   the grant when it came in the answer.
   */
  'resource.requestLock'(input: {
    key: ResourceKey;
    request: LockRequest;
    requestId?: string;
  }): Promise<{ workflowId: string; granted?: LockGrant }>;
}

/** The worker's own account and region: what an execution that names no target acts in. */
export interface OwnTarget {
  account(): Promise<string>;
  region: string;
}

/** The worker's own account from STS GetCallerIdentity, asked once (a failure is not cached). */
export function ownTargetOf(sts: Pick<STSClient, 'send'>, region: string): OwnTarget {
  let identity: Promise<string> | undefined;
  return {
    region,
    account() {
      identity ??= sts.send(new GetCallerIdentityCommand({})).then(
        (out) => out.Account!,
        (err) => {
          identity = undefined;
          return classifyAwsError(err, 'sts.GetCallerIdentity', 'the worker identity');
        },
      );
      return identity;
    },
  };
}

/**
 * The key with the worker's own account and region in place of `self`: an execution started without a target and one
 * started from an alert that names the account and region take the same lock on the same instance.
 */
export async function resolveResourceKey(key: ResourceKey, own: OwnTarget): Promise<ResourceKey> {
  return {
    account: key.account === OWN ? await own.account() : key.account,
    region: key.region === OWN ? own.region : key.region,
    resource: key.resource,
  };
}

/**
 * Why an unanswered request will never be answered, when that is knowable: the record runs on another task queue
 * (started by a deployment with another `FIREBREAK_TASK_QUEUE`), which this worker does not serve. Retrying would only
 * wait again, so the failure is final and says what to do.
 */
async function recordElsewhere(
  client: Context['client'],
  workflowId: string,
  taskQueue: string,
  cause: unknown,
): Promise<ApplicationFailure | undefined> {
  const found = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  if (!found || found.status.name !== 'RUNNING' || found.taskQueue === taskQueue) return undefined;
  return ApplicationFailure.create({
    type: 'ResourceRecordElsewhere',
    nonRetryable: true,
    message:
      `the resource record ${workflowId} runs on task queue "${found.taskQueue}", not on this worker's ` +
      `"${taskQueue}", and did not answer: serve that queue with a worker, or end the record ` +
      `(temporal workflow terminate --workflow-id '${workflowId}') once nothing holds the resource`,
    cause: cause instanceof Error ? cause : undefined,
  });
}

/**
 * @param taskQueue where the resource records run: the worker's own queue.
 * @param own resolves `self` in keys; without it keys are used as given (records keyed `self`).
 */
export function createResourceActivities(taskQueue: string, own?: OwnTarget): ResourceActivities {
  return {
    async 'resource.requestLock'({ key, request, requestId }) {
      const workflowId = resourceWorkflowId(own ? await resolveResourceKey(key, own) : key);
      const ctx = Context.current();
      const { client } = ctx;
      if (requestId) {
        // The worker's client gives up the call when the activity is cancelled (a shutdown stops the record's
        // tasks too, so its answer would never come). Asked by the workflow: said as the cancellation it is. By the
        // worker's shutdown: the client's error, a retryable failure, so the request is retried elsewhere at once
        // (under the same Update ID: it gets the record's first answer).
        // And it gives up shortly before the attempt's start-to-close time is over: a draining worker that took this
        // task after its shutdown's cancellations went out would otherwise wait on the record for ever (nothing
        // cancels it: it does not heartbeat). Before, not at: a failure that reaches the server after the attempt's
        // timeout is dropped, and the attempt counts as timed out (so a final failure below would never count).
        const startToClose = ctx.info.startToCloseTimeoutMs;
        const deadline = startToClose > 0 ? Date.now() + startToClose - Math.min(5_000, startToClose / 5) : undefined;
        const ask = () =>
          client.workflow.executeUpdateWithStart(lockRequestUpdate, {
            args: [request],
            updateId: requestId,
            startWorkflowOperation: new WithStartWorkflowOperation(RESOURCE_WORKFLOW, {
              workflowId,
              taskQueue,
              args: [],
              workflowIdConflictPolicy: 'USE_EXISTING',
            }),
          });
        const { granted } = await (deadline ? client.withDeadline(deadline, ask) : ask()).catch(
          async (err: unknown) => {
            if (cancellationRequestedByWorkflow())
              throw new CancelledFailure('lock request given up: activity cancelled', [], err as Error);
            throw (await recordElsewhere(client, workflowId, taskQueue, err)) ?? err;
          },
        );
        return granted ? { workflowId, granted } : { workflowId };
      }
      await client.workflow.signalWithStart(RESOURCE_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [],
        signal: lockRequestSignal,
        signalArgs: [request],
      });
      return { workflowId };
    },
  };
}
