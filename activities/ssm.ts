/**
 * SSM activities: Run Command on one instance, several, or SSM targets, waiting for every invocation; and, from
 * ssm-automation.ts and ssm-volatile.ts, Automation runbooks, parameters and volatile-data collection.
 */
import { createHash } from 'node:crypto';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
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
import { awsCall, classifyAwsError, describeAwsError, refuse } from './errors';
import { CallPlan } from './plan';
import { MAX_STDERR, MAX_STDOUT, pause, sha256 } from './ssm-common';
import type { ActionName, ActionOutput, ActivityInput, StepContext } from './schemas';
import { createSsmAutomationActivities } from './ssm-automation';
import { createVolatileDataActivities } from './ssm-volatile';
import { sendOnce } from './send-once';

type SsmActionName = Extract<ActionName, `ssm.${string}`>;
export type SsmActivities = { [A in SsmActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };
type RunCommandInput = ActivityInput<'ssm.runCommand'>;
type RunCommandOutput = ActionOutput<'ssm.runCommand'>;
type Invocation = NonNullable<RunCommandOutput['invocations']>[number];

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

/**
 * Creates the SSM activities, keyed by action name.
 *
 * @param source fixed clients (only `ssm` is used), or the factory that gives each step its target's clients
 */
export function createSsmActivities(
  source: Pick<AwsClients, 'ssm'> | ClientFactory,
  opts: SsmActivityOptions = {},
): SsmActivities {
  return routeByTarget(source, (clients) => {
    const runCommand = buildRunCommand(clients, opts);
    return {
      'ssm.runCommand': (input) => runCommand(input, { resumeFromHeartbeat: true }),
      ...createSsmAutomationActivities(clients),
      ...createVolatileDataActivities(runCommand),
    };
  });
}

/** Runs a command; `resumeFromHeartbeat` is off when one activity runs several commands (their beats would mix). */
export type RunCommandFn = (input: RunCommandInput, how: { resumeFromHeartbeat: boolean }) => Promise<RunCommandOutput>;

function buildRunCommand(clients: Pick<AwsClients, 'ssm'>, opts: SsmActivityOptions): RunCommandFn {
  const { ssm } = clients;
  const graceMs = opts.invocationGraceMs ?? 30_000;
  const maxPages = opts.maxListPages ?? 10;
  const what = 'ssm.runCommand';

  /**
   * The command an earlier attempt of this step sent, if any. ListCommands cannot filter by comment, so this lists
   * commands (of the instance, when there is one) newest first and matches the marker here; moto ignores the
   * DocumentName filter, which the comparison below makes harmless.
   */
  async function findEarlierCommand(
    instanceId: string | undefined,
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
        instanceId ? `commands of instance ${instanceId}` : 'commands',
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

  /**
   * The instances a command sent to `targets` reached. moto lists them in the command's InstanceIds; real SSM leaves
   * those empty for targets and lists the invocations instead, which can take a moment to appear.
   */
  async function targetInstances(commandId: string): Promise<string[]> {
    const started = Date.now();
    for (;;) {
      const listed = await awsCall(
        what,
        () => ssm.send(new ListCommandsCommand({ CommandId: commandId })),
        `command ${commandId}`,
      );
      const cmd = listed.Commands?.[0];
      if (cmd?.InstanceIds?.length) return [...cmd.InstanceIds].sort();
      const ids: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await awsCall(
          what,
          () => ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, NextToken: nextToken })),
          `invocations of command ${commandId}`,
        );
        ids.push(...(page.CommandInvocations ?? []).map((i) => i.InstanceId!).filter(Boolean));
        nextToken = page.NextToken;
      } while (nextToken);
      const expected = cmd?.TargetCount ?? 0;
      if (ids.length > 0 && ids.length >= expected) return [...new Set(ids)].sort();
      if (cmd && TERMINAL.has(cmd.Status ?? '') && expected === 0) return [];
      if (Date.now() - started > graceMs) {
        return refuse(what, `command ${commandId} reached no instance of its targets`, 'NoTargetInstances');
      }
      heartbeatIfActive({ commandId, status: 'Pending' } satisfies RunCommandProgress);
      await pause(1000);
    }
  }

  async function cancelQuietly(commandId: string, instanceIds: string[]): Promise<void> {
    const cancel = ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: instanceIds }));
    // Best effort: the activity is going away either way, so neither an error nor a slow answer may hold it up.
    await Promise.race([cancel.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }

  /** Polls one invocation until its status is final. */
  async function waitFor(
    commandId: string,
    instanceId: string,
    interval: number,
    beat: (status: string) => void,
  ): Promise<GetCommandInvocationCommandOutput> {
    const started = Date.now();
    for (;;) {
      let status = 'Pending';
      try {
        const invocation = await ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
        status = invocation.Status ?? 'Pending';
        beat(status);
        if (TERMINAL.has(status)) return invocation;
      } catch (err) {
        // Right after SendCommand the invocation may not be registered yet.
        if (describeAwsError(err).name !== 'InvocationDoesNotExist' || Date.now() - started > graceMs) {
          classifyAwsError(err, what, `invocation of command ${commandId} on instance ${instanceId}`);
        }
        beat(status);
      }
      await pause(interval);
    }
  }

  /**
   * Idempotency under retry, in order: the command ID in the last heartbeat (a retry after a heartbeat timeout);
   * else, with a step context, an earlier command of this step found by its comment marker; else a new command.
   * Without a step context a retry that never heartbeated sends the command again.
   */
  return async (input, how) => {
    const { documentName, parameters, comment, pollIntervalMs, ctx } = input;
    const interval = pollIntervalMs ?? 2000;
    const given = [input.instanceId, input.instanceIds, input.targets].filter((x) => x !== undefined).length;
    if (given !== 1) {
      return refuse(what, 'give exactly one of instanceId, instanceIds and targets', 'InvalidTargets');
    }
    const explicit = input.instanceId ? [input.instanceId] : input.instanceIds;
    const where = explicit ? `instance ${explicit.join(', ')}` : 'its targets';
    const marker = ctx ? commandMarker(ctx) : undefined;
    const send = sendOnce(
      new SendCommandCommand({
        // InstanceIds is what real SSM needs. moto 5.2.1 sends a command with only InstanceIds to every instance it
        // knows; only these instances' invocations are read back below.
        InstanceIds: explicit,
        Targets: input.targets?.map((t) => ({ Key: t.key, Values: t.values })),
        DocumentName: documentName,
        Parameters: parameters,
        Comment: commentFor(marker, comment),
        TimeoutSeconds: input.timeoutSeconds,
      }),
    );
    if (input.dryRun) {
      const plan = new CallPlan(true);
      await plan.call('ssm', send, async () => undefined);
      return { commandId: '', status: 'DryRun', invocations: [], ...plan.fields() };
    }

    const activity = activityContext();
    const lastBeat = how.resumeFromHeartbeat ? (activity?.info.heartbeatDetails as unknown) : undefined;
    let commandId = isProgress(lastBeat) ? lastBeat.commandId : undefined;
    if (!commandId && marker) commandId = await findEarlierCommand(explicit?.[0], documentName, marker);
    if (!commandId) {
      commandId = await awsCall(what, () => ssm.send(send), where).then(
        (sent) => sent.Command!.CommandId!,
        async (err: unknown) => {
          // A 5xx or a dropped connection can come after SSM took the command: look for it by its marker before
          // this attempt fails (the step's retry would find it too, but only after spending one of its attempts).
          if (!marker || !(err instanceof ApplicationFailure) || err.nonRetryable) throw err;
          const taken = await findEarlierCommand(explicit?.[0], documentName, marker);
          if (!taken) throw err;
          return taken;
        },
      );
    }
    const id = commandId;
    heartbeatIfActive({ commandId: id, status: 'Pending' } satisfies RunCommandProgress);

    const instanceIds = explicit ?? (await targetInstances(id));
    const statuses = new Map<string, string>(instanceIds.map((i) => [i, 'Pending']));
    // One status for the heartbeat: the first still-running invocation's, else the first unsuccessful one's.
    const overall = (): string => {
      const all = [...statuses.values()];
      return all.find((s) => !TERMINAL.has(s)) ?? all.find((s) => s !== 'Success') ?? 'Success';
    };
    const beat = (instanceId: string) => (status: string) => {
      statuses.set(instanceId, status);
      heartbeatIfActive({ commandId: id, status: overall() } satisfies RunCommandProgress);
    };
    let raw: GetCommandInvocationCommandOutput[];
    try {
      raw = await Promise.all(instanceIds.map((i) => waitFor(id, i, interval, beat(i))));
    } catch (err) {
      // Only the workflow's own cancellation stops the command. A worker shutting down (a deploy) or a timeout leaves
      // it running: the retry resumes it from the heartbeat details.
      if (err instanceof CancelledFailure && cancellationRequestedByWorkflow()) await cancelQuietly(id, instanceIds);
      throw err;
    }

    const invocations: Invocation[] = raw.map((inv, i) => ({
      instanceId: instanceIds[i],
      status: inv.Status!,
      responseCode: inv.ResponseCode,
      stdout: inv.StandardOutputContent,
      stderr: inv.StandardErrorContent,
      stdoutTruncated: (inv.StandardOutputContent ?? '').length >= MAX_STDOUT,
      stderrTruncated: (inv.StandardErrorContent ?? '').length >= MAX_STDERR,
      stdoutSha256: sha256(inv.StandardOutputContent ?? ''),
    }));
    const failures = invocations.filter((inv) => inv.status !== 'Success');
    const first = invocations[0];
    const result: RunCommandOutput = {
      commandId: id,
      status: failures[0]?.status ?? 'Success',
      instanceId: first?.instanceId,
      responseCode: first?.responseCode,
      stdout: first?.stdout,
      stderr: first?.stderr,
      invocations,
      failed: failures.length,
    };
    if (failures.length > 0 && !input.allowFailure) {
      const f = failures[0];
      const stderr = (f.stderr ?? '').trim();
      const on =
        invocations.length === 1
          ? `instance ${f.instanceId} ended ${f.status}`
          : `${failures.length} of ${invocations.length} instances failed; instance ${f.instanceId} ended ${f.status}`;
      throw ApplicationFailure.create({
        message:
          `${what}: command ${id} on ${on}` +
          (f.responseCode !== undefined ? ` (exit code ${f.responseCode})` : '') +
          (stderr ? `: ${stderr.slice(0, 500)}` : ''),
        type: `SsmCommand${f.status}`,
        nonRetryable: true,
        details: [{ ...result, status: f.status, responseCode: f.responseCode, stdout: f.stdout, stderr: f.stderr }],
      });
    }
    return result;
  };
}
