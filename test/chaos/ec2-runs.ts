/**
 * ec2-compromise runs for the chaos scenarios: start one, drive it to its fate (approved; approved then released;
 * rejected at the gate) whatever the chaos around it does, and check its effects through the AWS API on moto:
 * nothing missing (the run's end state) and nothing doubled (one snapshot per volume, one quarantine and one untracked
 * group per VPC).
 */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListCommandsCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Client } from '@temporalio/client';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import type { SeededInstance } from '../../scripts/seed';
import {
  approvalUpdate,
  RUNBOOK_WORKFLOW,
  rollbackUpdate,
  stateQuery,
  type ExecutionState,
  type RunbookWorkflowInput,
} from '../../workflows/messages';
import type { runbookWorkflow } from '../../workflows/runbook';
import { commander, uniqueId } from '../stack/temporal';
import { pause, retrying, type Tally } from './chaos';

/** `fail`: approved, then a step fails for good (an injected fault) and the run rolls back. */
export type Fate = 'approve' | 'release' | 'reject' | 'fail';
export const FATES: Fate[] = ['approve', 'release', 'reject'];

export interface Run {
  executionId: string;
  runId: string;
  instance: SeededInstance;
  vpcId: string;
  fate: Fate;
  final?: ExecutionState;
  /** Why driving the run stopped short, if it did. */
  error?: string;
}

export function compromiseInput(
  instanceId: string,
  topicArn: string,
  def: RunbookDefinition = ec2Compromise,
): RunbookWorkflowInput {
  const rb = new RunbookRegistry([def]).get(def.id)!;
  return {
    runbook: rb.definition,
    digest: rb.digest,
    params: { instanceId, notifyTopicArn: topicArn },
    startedBy: { id: 'user:chaos' },
    reason: 'chaos',
  };
}

export async function startRun(
  client: Client,
  taskQueue: string,
  opts: { instance: SeededInstance; vpcId: string; topicArn: string; fate: Fate; def?: RunbookDefinition },
): Promise<Run> {
  const executionId = uniqueId('chaos');
  const handle = await retrying(
    () =>
      client.workflow.start<typeof runbookWorkflow>(RUNBOOK_WORKFLOW, {
        taskQueue,
        workflowId: executionId,
        args: [compromiseInput(opts.instance.instanceId, opts.topicArn, opts.def)],
      }),
    120_000,
    `start ${executionId}`,
  );
  return {
    executionId,
    runId: handle.firstExecutionRunId,
    instance: opts.instance,
    vpcId: opts.vpcId,
    fate: opts.fate,
  };
}

/** Polls the state (queries fail while no worker or server answers) until `done` holds. */
export async function stateWhen(
  client: Client,
  executionId: string,
  done: (s: ExecutionState) => boolean,
  timeoutMs: number,
): Promise<ExecutionState> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecutionState | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await client.workflow.getHandle(executionId).query(stateQuery);
      if (done(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    await pause(500);
  }
  throw new Error(
    `${executionId}: not done in ${timeoutMs} ms; last status ${last?.status ?? 'none'} ${String(lastErr ?? '')}`,
  );
}

/** The status a run of this fate ends with (a failed step fails the execution once its rollback ran). */
const wanted = (fate: Fate) => (fate === 'approve' ? 'succeeded' : fate === 'fail' ? 'failed' : 'rolled-back');

const settled = (s: ExecutionState) =>
  ['succeeded', 'rolled-back', 'failed', 'rollback-failed', 'cancelled'].includes(s.status);

/**
 * Decides the gate and, for a release, asks for the rollback once the run succeeded; returns the final state. Each
 * Update has its own ID, so a retry after a lost answer is the same Update, not a second decision.
 */
export async function driveRun(client: Client, run: Run, timeoutMs: number): Promise<ExecutionState> {
  const handle = client.workflow.getHandle(run.executionId);
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const atGate = await stateWhen(client, run.executionId, (s) => s.status === 'waiting-approval' || settled(s), left());
  // Settled before its gate (a step failed for good): nothing to decide; its state says why.
  if (settled(atGate)) return (run.final = atGate);
  await retrying(
    () =>
      handle.executeUpdate(approvalUpdate, {
        updateId: `${run.executionId}-decision`,
        args: [
          {
            stepId: 'approve-isolation',
            decision: run.fate === 'reject' ? 'reject' : 'approve',
            comment: 'chaos',
            decidedBy: commander,
          },
        ],
      }),
    left(),
    `decide ${run.executionId}`,
  );
  if (run.fate === 'release') {
    await stateWhen(client, run.executionId, settled, left());
    await retrying(
      () =>
        handle.executeUpdate(rollbackUpdate, {
          updateId: `${run.executionId}-release`,
          args: [{ reason: 'chaos release', requestedBy: commander }],
        }),
      left(),
      `release ${run.executionId}`,
    );
  }
  const want = wanted(run.fate);
  run.final = await stateWhen(
    client,
    run.executionId,
    (s) => s.status === want || (settled(s) && s.status !== 'succeeded'),
    left(),
  );
  return run.final;
}

/**
 * Checks one run's end state and evidence in moto; what is missing is lost, what is there twice is doubled (a
 * snapshot of a volume, a volatile-data command).
 */
export async function checkRun(clients: { ec2: EC2Client; ssm: SSMClient }, run: Run, tally: Tally): Promise<void> {
  const { ec2 } = clients;
  const id = run.executionId;
  const want = wanted(run.fate);
  const final = run.final;
  if (!final || final.status !== want)
    tally.lose(
      `${id} (${run.fate}): ended ${final?.status ?? 'never'}` +
        `${final?.failure ? ` at ${final.failure.stepId}: ${final.failure.message}` : ''} ${run.error ?? ''}`.trimEnd(),
    );
  if (final?.rollback && run.fate !== 'approve' && final.rollback.complete !== true)
    tally.lose(`${id}: rollback incomplete`);

  const snaps = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:firebreak:execution-id', Values: [id] }],
    }),
  );
  const byVolume = new Map<string, number>();
  for (const s of snaps.Snapshots ?? []) byVolume.set(s.VolumeId!, (byVolume.get(s.VolumeId!) ?? 0) + 1);
  for (const v of run.instance.volumeIds) {
    const n = byVolume.get(v) ?? 0;
    if (n === 0) tally.lose(`${id}: no snapshot of ${v}`);
    if (n > 1) tally.double(`${id}: ${n} snapshots of ${v}`);
  }

  const commands = await clients.ssm.send(new ListCommandsCommand({ InstanceId: run.instance.instanceId }));
  const sent = new Map<string, number>();
  for (const c of commands.Commands ?? []) {
    if (c.Comment?.startsWith(`firebreak:${id}:`)) sent.set(c.Comment, (sent.get(c.Comment) ?? 0) + 1);
  }
  for (const [comment, n] of sent) if (n > 1) tally.double(`${id}: ${n} SSM commands "${comment}"`);

  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [run.instance.instanceId] }));
  const inst = out.Reservations![0].Instances![0];
  const tags = Object.fromEntries((inst.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  const groups = (inst.NetworkInterfaces ?? []).map((e) =>
    (e.Groups ?? [])
      .map((g) => g.GroupId!)
      .sort()
      .join(','),
  );
  const protection = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: run.instance.instanceId, Attribute: 'disableApiTermination' }),
  );
  const protectedNow = protection.DisableApiTermination?.Value ?? false;
  const original = [...run.instance.groupIds].sort().join(',');
  if (run.fate === 'approve') {
    const [quarantine] = await vpcGroups(ec2, run.vpcId, 'firebreak-quarantine');
    if (!quarantine || groups.some((g) => g !== quarantine.GroupId)) tally.lose(`${id}: not isolated (${groups})`);
    if (tags['firebreak:status'] !== 'quarantined') tally.lose(`${id}: status tag ${tags['firebreak:status']}`);
    if (!protectedNow) tally.lose(`${id}: termination protection off`);
  } else {
    if (groups.some((g) => g !== original)) tally.lose(`${id}: groups not restored (${groups})`);
    const tag = run.fate === 'release' ? 'released' : undefined;
    if (tags['firebreak:status'] !== tag) tally.lose(`${id}: status tag ${tags['firebreak:status']}, want ${tag}`);
    if (protectedNow) tally.lose(`${id}: termination protection still on`);
  }
}

/** checkRun for every run, a few at a time (moto answers tag-filtered describes slowly once it holds many runs). */
export async function checkRuns(
  clients: { ec2: EC2Client; ssm: SSMClient },
  runs: Run[],
  tally: Tally,
  concurrency = 8,
): Promise<void> {
  const queue = [...runs];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) await checkRun(clients, r, tally);
    }),
  );
}

export async function vpcGroups(ec2: EC2Client, vpcId: string, name: string) {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

/** At most one quarantine and one untracked group per VPC, however many runs raced to create them. */
export async function checkVpcs(ec2: EC2Client, runs: Run[], tally: Tally): Promise<void> {
  const vpcs = new Map<string, Run[]>();
  for (const r of runs) vpcs.set(r.vpcId, [...(vpcs.get(r.vpcId) ?? []), r]);
  for (const [vpcId, inVpc] of vpcs) {
    for (const name of ['firebreak-quarantine', 'firebreak-untracked']) {
      const n = (await vpcGroups(ec2, vpcId, name)).length;
      if (n > 1) tally.double(`${vpcId}: ${n} groups named ${name}`);
      if (n === 0 && inVpc.some((r) => r.fate !== 'reject')) tally.lose(`${vpcId}: no ${name} group`);
    }
  }
}

/** Ends the runs still open (a succeeded run waits out its rollback window), so nothing outlives the test. */
export async function closeRuns(client: Client, runs: Run[]): Promise<void> {
  await Promise.all(
    runs.map((r) =>
      client.workflow
        .getHandle(r.executionId)
        .terminate('chaos test done')
        .catch(() => undefined),
    ),
  );
}
