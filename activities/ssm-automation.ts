/**
 * SSM Automation (start a runbook such as AWS-RestartEC2Instance or a team's own rollback document, and wait for its
 * end) and SSM parameters (read a value, e.g. the previous release a rollback goes back to).
 */
import { createHash } from 'node:crypto';
import {
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  GetParameterCommand,
  StartAutomationExecutionCommand,
  StopAutomationExecutionCommand,
  type AutomationExecution,
} from '@aws-sdk/client-ssm';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { activityContext, cancellationRequestedByWorkflow, heartbeatIfActive, type AwsClients } from './clients';
import { awsCall, refuse } from './errors';
import { CallPlan } from './plan';
import type { ActionOutput, ActivityInput, StepContext } from './schemas';
import { pause } from './ssm-common';

type AutomationActionName = 'ssm.startAutomation' | 'ssm.getParameter';
type AutomationActivities = {
  [A in AutomationActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>>;
};

/** Automation statuses after which nothing changes any more. */
const TERMINAL = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
  'CompletedWithSuccess',
  'CompletedWithFailure',
  'Rejected',
  'Exited',
]);
const SUCCEEDED = new Set(['Success', 'CompletedWithSuccess']);

/**
 * The tag key that marks an automation as started by one execution step (a tag key, because DescribeAutomationExecutions
 * filters by tag key only): `firebreak:step:<sha256 prefix of execution and step IDs>`.
 */
export function automationMarker(ctx: Pick<StepContext, 'executionId' | 'stepId'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([ctx.executionId, ctx.stepId]))
    .digest('hex');
  return `firebreak:step:${digest.slice(0, 40)}`;
}

/** The same marker as a UUID: StartAutomationExecution's ClientToken must be one. */
function clientToken(marker: string): string {
  const h = createHash('sha256').update(marker).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface AutomationProgress {
  automationExecutionId: string;
  status: string;
}

function isProgress(x: unknown): x is AutomationProgress {
  return typeof x === 'object' && x !== null && typeof (x as AutomationProgress).automationExecutionId === 'string';
}

export function createSsmAutomationActivities(clients: Pick<AwsClients, 'ssm'>): AutomationActivities {
  const { ssm } = clients;

  async function findEarlier(what: string, marker: string): Promise<string | undefined> {
    const out = await awsCall(
      what,
      () => ssm.send(new DescribeAutomationExecutionsCommand({ Filters: [{ Key: 'TagKey', Values: [marker] }] })),
      'automation executions',
    );
    const found = [...(out.AutomationExecutionMetadataList ?? [])].sort(
      (a, b) => (b.ExecutionStartTime?.getTime() ?? 0) - (a.ExecutionStartTime?.getTime() ?? 0),
    );
    return found[0]?.AutomationExecutionId;
  }

  return {
    /**
     * Idempotency under retry: the automation ID in the last heartbeat; else one an earlier attempt started, found by
     * its marker tag; else a new one, started with a ClientToken derived from the same marker.
     */
    async 'ssm.startAutomation'({
      documentName,
      documentVersion,
      parameters,
      pollIntervalMs,
      allowFailure,
      dryRun,
      ctx,
    }) {
      const what = 'ssm.startAutomation';
      const resource = `automation document ${documentName}`;
      const marker = ctx ? automationMarker(ctx) : undefined;
      const start = new StartAutomationExecutionCommand({
        DocumentName: documentName,
        DocumentVersion: documentVersion,
        Parameters: parameters,
        ClientToken: marker ? clientToken(marker) : undefined,
        Tags: ctx
          ? [
              { Key: marker!, Value: 'firebreak' },
              { Key: 'firebreak:execution-id', Value: ctx.executionId.slice(0, 256) },
              { Key: 'firebreak:step-id', Value: ctx.stepId.slice(0, 256) },
            ]
          : undefined,
      });
      if (dryRun) {
        const plan = new CallPlan(true);
        await plan.call('ssm', start, async () => undefined);
        return { automationExecutionId: '', documentName, status: 'DryRun', started: false, ...plan.fields() };
      }

      const lastBeat = activityContext()?.info.heartbeatDetails as unknown;
      let id = isProgress(lastBeat) ? lastBeat.automationExecutionId : undefined;
      if (!id && marker) id = await findEarlier(what, marker);
      const started = !id;
      if (!id) id = (await awsCall(what, () => ssm.send(start), resource)).AutomationExecutionId!;
      const automationExecutionId = id;
      heartbeatIfActive({ automationExecutionId, status: 'Pending' } satisfies AutomationProgress);

      let execution: AutomationExecution;
      try {
        for (;;) {
          const out = await awsCall(
            what,
            () => ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: automationExecutionId })),
            `automation execution ${automationExecutionId}`,
          );
          execution = out.AutomationExecution ?? {};
          const status = execution.AutomationExecutionStatus ?? 'Pending';
          heartbeatIfActive({ automationExecutionId, status } satisfies AutomationProgress);
          if (TERMINAL.has(status)) break;
          await pause(pollIntervalMs ?? 5000);
        }
      } catch (err) {
        // As with Run Command: only the workflow's own cancellation stops the automation; a worker's shutdown leaves
        // it running for the retry to resume.
        if (err instanceof CancelledFailure && cancellationRequestedByWorkflow()) {
          await ssm
            .send(new StopAutomationExecutionCommand({ AutomationExecutionId: automationExecutionId, Type: 'Cancel' }))
            .catch(() => undefined);
        }
        throw err;
      }
      const status = execution.AutomationExecutionStatus!;
      const result = {
        automationExecutionId,
        documentName,
        status,
        outputs: execution.Outputs,
        failureMessage: execution.FailureMessage,
        started,
      };
      if (!SUCCEEDED.has(status) && !allowFailure) {
        throw ApplicationFailure.create({
          message:
            `${what}: automation ${automationExecutionId} of ${documentName} ended ${status}` +
            (execution.FailureMessage ? `: ${execution.FailureMessage.slice(0, 500)}` : ''),
          type: `SsmAutomation${status}`,
          nonRetryable: true,
          details: [result],
        });
      }
      return result;
    },

    async 'ssm.getParameter'({ name, withDecryption }) {
      const what = 'ssm.getParameter';
      const out = await awsCall(
        what,
        () => ssm.send(new GetParameterCommand({ Name: name, WithDecryption: withDecryption })),
        `parameter ${name}`,
      );
      const p = out.Parameter;
      if (!p?.Value) return refuse(what, `parameter ${name} has no value`, 'ParameterNotFound');
      return {
        name: p.Name ?? name,
        value: p.Value,
        version: p.Version,
        lastModifiedAt: p.LastModifiedDate?.toISOString(),
      };
    },
  };
}
