/**
 * SSM activities: run a command on an instance and wait for its result.
 */
import { createHash } from 'node:crypto';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type Command,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  activityContext,
  cancellationRequestedByWorkflow,
  heartbeatIfActive,
  routeByTarget,
  type AwsClients,
  type ClientFactory,
} from './clients';
import { awsCall, classifyAwsError, describeAwsError } from './errors';
import type { ActionOutput, ActivityInput, StepContext } from './schemas';

export interface SsmActivities {
  'ssm.runCommand': (input: ActivityInput<'ssm.runCommand'>) => Promise<ActionOutput<'ssm.runCommand'>>;
}

export interface SsmActivityOptions {
  /** How long `InvocationDoesNotExist` is taken as "not registered yet" after polling starts; default 30 s. */
  invocationGraceMs?: number;
  /** Most ListCommands pages read when looking for an earlier attempt's command; default 10. */
  maxListPages?: number;
}

/** Invocation statuses after which the status no longer changes. */
const TERMINAL = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut']);
/** SSM limits a command comment to 100 characters. */
const MAX_COMMENT = 100;
/** The longest readable marker; longer execution/step IDs are hashed so the caller's comment still fits. */
const MAX_READABLE_MARKER = 60;

/** What the activity heartbeats; a retry after a heartbeat timeout resumes the command it names. */
interface RunCommandProgress {
  commandId: string;
  status: string;
}

/**
 * The comment prefix that marks a command as sent by one execution step: `firebreak:<executionId>:<stepId>`, or
 * `firebreak:<sha256 prefix>` when that would be long or an ID holds characters other than letters, digits and `_.-`.
 * SendCommand has no client token, so this is how a retry finds the command an earlier attempt sent.
 */
export function commandMarker(ctx: StepContext): string {
  const readable = `firebreak:${ctx.executionId}:${ctx.stepId}`;
  // Only plain IDs stay readable: a colon or space inside one could make one step's marker a prefix of another's.
  const plain = /^[\w.-]+$/.test(ctx.executionId) && /^[\w.-]+$/.test(ctx.stepId);
  if (plain && readable.length <= MAX_READABLE_MARKER) return readable;
  const digest = createHash('sha256')
    .update(JSON.stringify([ctx.executionId, ctx.stepId]))
    .digest('hex');
  return `firebreak:${digest.slice(0, 40)}`;
}

function commentFor(marker: string | undefined, comment: string | undefined): string | undefined {
  const text = [marker, comment].filter((x) => x).join(' ');
  return text === '' ? undefined : text.slice(0, MAX_COMMENT);
}

function hasMarker(cmd: Command, marker: string): boolean {
  return cmd.Comment === marker || (cmd.Comment ?? '').startsWith(`${marker} `);
}

function isProgress(x: unknown): x is RunCommandProgress {
  return typeof x === 'object' && x !== null && typeof (x as RunCommandProgress).commandId === 'string';
}

/** Sleeps; inside an activity the sleep rejects with CancelledFailure when the activity is cancelled. */
function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  return ctx ? ctx.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Creates the SSM activities, keyed by action name.
 *
 * @param source fixed clients (only `ssm` is used), or the factory that gives each step its target's clients
 */
export function createSsmActivities(
  source: Pick<AwsClients, 'ssm'> | ClientFactory,
  opts: SsmActivityOptions = {},
): SsmActivities {
  return routeByTarget(source, (clients) => buildSsmActivities(clients, opts));
}

function buildSsmActivities(clients: Pick<AwsClients, 'ssm'>, opts: SsmActivityOptions): SsmActivities {
  const { ssm } = clients;
  const graceMs = opts.invocationGraceMs ?? 30_000;
  const maxPages = opts.maxListPages ?? 10;
  const what = 'ssm.runCommand';

  /**
   * The command an earlier attempt of this step sent to the instance, if any. ListCommands cannot filter by comment,
   * so this lists the instance's commands for the document (newest first) and matches the marker here; moto ignores
   * the DocumentName filter, which the comparison below makes harmless.
   */
  async function findEarlierCommand(
    instanceId: string,
    documentName: string,
    marker: string,
  ): Promise<string | undefined> {
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const out = await awsCall(
        what,
        () =>
          ssm.send(
            new ListCommandsCommand({
              InstanceId: instanceId,
              Filters: [{ key: 'DocumentName', value: documentName }],
              NextToken: nextToken,
            }),
          ),
        `commands of instance ${instanceId}`,
      );
      const mine = (out.Commands ?? [])
        .filter((c) => c.DocumentName === documentName && hasMarker(c, marker))
        .sort((a, b) => (b.RequestedDateTime?.getTime() ?? 0) - (a.RequestedDateTime?.getTime() ?? 0));
      if (mine[0]?.CommandId) return mine[0].CommandId;
      nextToken = out.NextToken;
      if (!nextToken) return undefined;
    }
    return undefined;
  }

  async function cancelQuietly(commandId: string, instanceId: string): Promise<void> {
    const cancel = ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
    // Best effort: the activity is going away either way, so neither an error nor a slow answer may hold it up.
    await Promise.race([cancel.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }

  return {
    /**
     * Idempotency under retry, in order: the command ID in the last heartbeat (a retry after a heartbeat timeout);
     * else, with a step context, an earlier command of this step found by its comment marker; else a new command.
     * Without a step context a retry that never heartbeated sends the command again.
     */
    async 'ssm.runCommand'({ instanceId, documentName, parameters, comment, pollIntervalMs, ctx }) {
      const interval = pollIntervalMs ?? 2000;
      const activity = activityContext();
      const resource = `instance ${instanceId}`;
      const marker = ctx ? commandMarker(ctx) : undefined;

      const lastBeat = activity?.info.heartbeatDetails as unknown;
      let commandId = isProgress(lastBeat) ? lastBeat.commandId : undefined;
      if (!commandId && marker) commandId = await findEarlierCommand(instanceId, documentName, marker);
      if (!commandId) {
        // InstanceIds is what real SSM needs. moto 5.2.1 sends a command with only InstanceIds to every instance it
        // knows; only this instance's invocation is read back below.
        const sent = await awsCall(
          what,
          () =>
            ssm.send(
              new SendCommandCommand({
                InstanceIds: [instanceId],
                DocumentName: documentName,
                Parameters: parameters,
                Comment: commentFor(marker, comment),
              }),
            ),
          resource,
        );
        commandId = sent.Command!.CommandId!;
      }
      heartbeatIfActive({ commandId, status: 'Pending' } satisfies RunCommandProgress);

      const started = Date.now();
      const poll = async (): Promise<GetCommandInvocationCommandOutput> => {
        for (;;) {
          let status = 'Pending';
          try {
            const invocation = await ssm.send(
              new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
            );
            status = invocation.Status ?? 'Pending';
            heartbeatIfActive({ commandId, status } satisfies RunCommandProgress);
            if (TERMINAL.has(status)) return invocation;
          } catch (err) {
            // Right after SendCommand the invocation may not be registered yet.
            if (describeAwsError(err).name !== 'InvocationDoesNotExist' || Date.now() - started > graceMs) {
              classifyAwsError(err, what, `invocation of command ${commandId} on ${resource}`);
            }
            heartbeatIfActive({ commandId, status } satisfies RunCommandProgress);
          }
          await pause(interval);
        }
      };
      let invocation: GetCommandInvocationCommandOutput;
      try {
        invocation = await poll();
      } catch (err) {
        // Only the workflow's own cancellation stops the command. A worker shutting down (a deploy) or a timeout leaves
        // it running: the retry resumes it from the heartbeat details.
        if (err instanceof CancelledFailure && cancellationRequestedByWorkflow())
          await cancelQuietly(commandId, instanceId);
        throw err;
      }

      const result = {
        commandId,
        instanceId,
        status: invocation.Status!,
        responseCode: invocation.ResponseCode,
        stdout: invocation.StandardOutputContent,
        stderr: invocation.StandardErrorContent,
      };
      if (result.status !== 'Success') {
        const stderr = (result.stderr ?? '').trim();
        throw ApplicationFailure.create({
          message:
            `${what}: command ${commandId} on ${resource} ended ${result.status}` +
            (result.responseCode !== undefined ? ` (exit code ${result.responseCode})` : '') +
            (stderr ? `: ${stderr.slice(0, 500)}` : ''),
          type: `SsmCommand${result.status}`,
          nonRetryable: true,
          details: [{ ...result, statusDetails: invocation.StatusDetails }],
        });
      }
      return result;
    },
  };
}
