/**
 * One drill: a runbook run end to end in a throw-away emulated account, scored.
 *
 * A fresh 12-digit account in moto (AssumeRole into any account gives credentials acting there), seeded from the
 * scenario; a worker of its own on its own task queue with that account's clients, so the drill's actions can reach
 * nothing else. The drill opens an incident of its own, marked as a drill (its state's `drill` and FirebreakDrill on it
 * and its runbook execution: lists leave it out unless asked, metrics always), which runs the runbook as a real one
 * would; once the drill is over the incident is resolved and closes. Gates are answered by the drill
 * approver (`drill:approver`, not the starter: four-eyes holds) or, with `approvals: 'manual'`, by a person through the
 * API or the console. Once it succeeded the drill releases it, so the rollback is exercised too. The scorecard is
 * read from the execution's own state.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { durationMs } from '../runbooks/dsl/duration';
import type { Duration } from '@temporalio/common';
import { createAwsClients, destroyAwsClients } from '../activities/clients';
import type { LoadedRunbook } from '../runbooks/dsl/types';
import { seedEnvironment } from '../scripts/seed';
import { createWorker } from '../worker/worker';
import { fingerprint } from '../alerts/fingerprint';
import type { NormalisedAlert } from '../alerts/alert';
import { alertUpdate, INCIDENT_WORKFLOW, resolveUpdate, type IncidentInput } from '../workflows/incident-messages';
import {
  approvalUpdate,
  rollbackUpdate,
  stateQuery,
  TERMINAL_STATUSES,
  type ExecutionState,
  type ExecutionStatus,
  type Principal,
} from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { resolveParams, type Scenario } from './scenario';

export const DRILL_STARTER: Principal = { id: 'system:drill', roles: ['responder'] };
/** `admin` stands for every role a gate or a release may name (workflows/approval-policy.ts). */
const approver = (n: number): Principal => ({
  id: n === 0 ? 'drill:approver' : `drill:approver-${n + 1}`,
  roles: ['admin'],
});
const RELEASER: Principal = { id: 'drill:releaser', roles: ['admin'] };

export interface DrillOptions {
  client: Client;
  connection: NativeConnection;
  runbook: LoadedRunbook;
  scenario: Scenario;
  /** The AWS emulator (moto): drills never run against anything else. */
  endpoint: string;
  region: string;
  approvals?: 'auto' | 'manual';
  namespace?: string;
  /** A prebuilt workflow bundle (tests); else the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  drillId?: string;
  /** Progress lines for a person watching (the gate to decide, in manual mode). */
  log?: (line: string) => void;
  /** Called on every state read while the drill runs (scheduled drills heartbeat here). */
  onProgress?: (state: ExecutionState) => void;
  pollMs?: number;
}

export interface StepScore {
  id: string;
  kind: 'action' | 'approval' | 'wait';
  status: string;
  attempts: number;
  /** From the execution's start. */
  startedAfterMs?: number;
  durationMs?: number;
}

export interface Scorecard {
  drillId: string;
  /** The incident the drill went through (marked as a drill); its runbook execution is `executionId`. */
  incidentId?: string;
  runbookId: string;
  executionId: string;
  account: string;
  region: string;
  approvals: 'auto' | 'manual';
  status: ExecutionStatus | 'timed-out';
  /** The expected end (rolled back when the drill releases, else succeeded) with a complete rollback. */
  passed: boolean;
  startedAt: string;
  endedAt: string;
  totalMs: number;
  steps: StepScore[];
  /** Time the execution waited at approval gates for a decision. */
  humanWaitMs: number;
  failures: { stepId: string; message: string; type?: string; rollback?: boolean }[];
  rollback: {
    requested: boolean;
    trigger?: string;
    /** False when a compensation failed. */
    complete?: boolean;
    steps: { stepId: string; action: string; status: string; durationMs?: number }[];
  };
}

export class DrillError extends Error {
  override readonly name = 'DrillError';
  readonly code = 'DRILL_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const ms = (from?: string, to?: string) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);

export async function runDrill(opts: DrillOptions): Promise<Scorecard> {
  const { client, runbook, scenario } = opts;
  const log = opts.log ?? (() => undefined);
  const approvals = opts.approvals ?? 'auto';
  const drillId =
    opts.drillId ?? `drill-${runbook.definition.id}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  // 9xx…: outside the range of real account IDs firebreak is configured with in tests and the demo.
  const account = `9${String(randomInt(0, 1e11)).padStart(11, '0')}`;
  const base = { region: opts.region, endpoint: opts.endpoint };
  const credentials = await assumeInto(account, base);
  const aws = { ...base, credentials };
  const clients = createAwsClients(aws);
  const sqs = new SQSClient(aws);
  try {
    const seed = await seedEnvironment({
      ec2: clients.ec2 as EC2Client,
      sns: clients.sns as SNSClient,
      sqs,
      name: drillId.slice(-24),
      instances: scenario.seed.instances,
    });
    const params = await resolveParams(scenario, seed);
    log(`drill ${drillId}: account ${account} seeded (${seed.instances.map((i) => i.instanceId).join(', ')})`);
    const worker = await createWorker({
      config: {
        temporalAddress: '',
        temporalNamespace: opts.namespace ?? 'default',
        taskQueue: drillId,
        awsRegion: opts.region,
        awsEndpoint: opts.endpoint,
      },
      connection: opts.connection,
      clients,
      ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : {}),
    });
    return await worker.runUntil(async () => {
      // The drill goes through an incident, as a real alert would: opened, its runbook run as the incident's child.
      const { incidentId, executionId } = await openDrillIncident(client, {
        drillId,
        taskQueue: drillId,
        runbook,
        params,
        account,
        region: opts.region,
        topicArn: seed.topicArn,
      });
      log(`drill ${drillId}: incident ${incidentId}, execution ${executionId}`);
      const handle = client.workflow.getHandle(executionId);
      await waitUntilStarted(handle);
      const { state, timedOut } = await drive(handle, opts, approvals, log);
      // The drill is over: the incident is resolved and closes once its runbook has settled.
      const incident = client.workflow.getHandle(incidentId);
      await incident.executeUpdate(resolveUpdate, { args: [{ reason: 'drill over', by: DRILL_STARTER }] });
      await incident.result();
      return {
        ...score(state, { drillId, account, region: opts.region, approvals, scenario, timedOut }),
        incidentId,
      };
    });
  } finally {
    destroyAwsClients(clients);
    sqs.destroy();
  }
}

/**
 * Opens the drill's incident: routed to the drill's runbook with the scenario's params (no trigger matching), on the
 * drill's task queue, marked as a drill in its state and with FirebreakDrill from its start.
 */
async function openDrillIncident(
  client: Client,
  d: {
    drillId: string;
    taskQueue: string;
    runbook: LoadedRunbook;
    params: Record<string, unknown>;
    account: string;
    region: string;
    topicArn: string;
  },
): Promise<{ incidentId: string; executionId: string }> {
  const def = d.runbook.definition;
  const resourceId = def.resource ? d.params[def.resource.param] : undefined;
  const alert: NormalisedAlert = {
    source: 'generic',
    via: 'webhook',
    deliveryId: `${d.drillId}-alert`,
    name: `drill-${def.id}`,
    title: `drill: ${def.title}`,
    state: 'firing',
    account: d.account,
    region: d.region,
    resource: def.resource && typeof resourceId === 'string' ? { type: def.resource.type, id: resourceId } : undefined,
    labels: { drill: d.drillId },
    occurredAt: new Date().toISOString(),
    raw: { drill: d.drillId },
  };
  const incidentId = `incident-${d.drillId}`;
  const input: IncidentInput = {
    incidentId,
    fingerprint: fingerprint(alert),
    severity: def.severity,
    severityReason: `drill of ${def.id}: the runbook's severity`,
    route: { kind: 'runbook', runbook: def, digest: d.runbook.digest, params: d.params, triggerIndex: -1 },
    notify: { topics: { default: d.topicArn }, publicUrl: 'http://firebreak.drill' },
    drill: d.drillId,
  };
  const [ack] = await client.workflow.executeUpdateWithStart(alertUpdate, {
    args: [[alert]],
    startWorkflowOperation: new WithStartWorkflowOperation(INCIDENT_WORKFLOW, {
      workflowId: incidentId,
      taskQueue: d.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: SA.kind, value: 'incident' },
        { key: SA.status, value: 'opened' },
        { key: SA.severity, value: def.severity },
        { key: SA.drill, value: d.drillId },
      ],
    }),
  });
  if (!ack.automation.executionId) throw new DrillError(`drill incident ${incidentId} started no runbook`);
  return { incidentId, executionId: ack.automation.executionId };
}

/** The incident starts its runbook child a moment after it opened. */
async function waitUntilStarted(handle: WorkflowHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await handle.describe();
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function assumeInto(account: string, base: { region: string; endpoint: string }) {
  const sts = new STSClient({ ...base, credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' } });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/firebreak-drill`, RoleSessionName: 'drill' }),
    );
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
  } finally {
    sts.destroy();
  }
}

/** Follows the execution to its end, answering gates (auto) and releasing it once it succeeded. */
async function drive(
  handle: WorkflowHandle,
  opts: DrillOptions,
  approvals: 'auto' | 'manual',
  log: (line: string) => void,
): Promise<{ state: ExecutionState; timedOut: boolean }> {
  const deadline = Date.now() + durationMs((opts.scenario.timeout ?? '10m') as Duration);
  const release = opts.scenario.rollback ?? true;
  let released = false;
  let announced: string | undefined;
  for (;;) {
    const state = await handle.query(stateQuery);
    opts.onProgress?.(state);
    // A succeeded execution stays open for its rollback window: the drill releases it (exercising the rollback), or,
    // when the scenario says not to, ends the window now rather than leave the drill open for days.
    if (state.status === 'succeeded' && state.rollbackWindowUntil !== undefined) {
      if (!release) {
        await handle.terminate('drill over (no release in this scenario)');
        return { state, timedOut: false };
      }
      if (!released) {
        log(`drill: releasing ${state.executionId}`);
        await handle.executeUpdate(rollbackUpdate, {
          args: [{ reason: 'drill: exercise the rollback', requestedBy: RELEASER }],
        });
        released = true;
      }
    } else if (TERMINAL_STATUSES.includes(state.status)) {
      return { state, timedOut: false };
    }
    const gate = state.pendingApproval;
    if (state.status === 'waiting-approval' && gate && announced !== `${gate.stepId}/${gate.approvedBy?.length ?? 0}`) {
      announced = `${gate.stepId}/${gate.approvedBy?.length ?? 0}`;
      if (approvals === 'manual') {
        log(
          `drill: gate ${gate.stepId} ("${gate.title}") waits for a person: POST /v1/executions/${state.executionId}/approvals/${gate.stepId}`,
        );
      } else {
        const decision = opts.scenario.decisions?.[gate.stepId] ?? 'approve';
        const n = gate.approvedBy?.length ?? 0;
        try {
          await handle.executeUpdate(approvalUpdate, {
            args: [{ stepId: gate.stepId, decision, comment: 'drill', decidedBy: approver(n) }],
          });
          log(`drill: ${decision} ${gate.stepId} as ${approver(n).id}`);
        } catch (err) {
          // The gate may have closed meanwhile (its deadline); anything else is the drill's own fault.
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
          log(`drill: decision on ${gate.stepId} refused: ${err.cause?.message ?? err.message}`);
        }
      }
    }
    if (Date.now() > deadline) {
      await handle.terminate('drill timed out');
      return { state: await handle.query(stateQuery).catch(() => state), timedOut: true };
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
}

function score(
  state: ExecutionState,
  d: {
    drillId: string;
    account: string;
    region: string;
    approvals: 'auto' | 'manual';
    scenario: Scenario;
    timedOut: boolean;
  },
): Scorecard {
  const endedAt = state.endedAt ?? state.rollback?.endedAt ?? new Date().toISOString();
  const steps: StepScore[] = state.steps.map((s) => ({
    id: s.id,
    kind: s.kind,
    status: s.status,
    attempts: s.attempts,
    startedAfterMs: ms(state.startedAt, s.startedAt),
    durationMs: ms(s.startedAt, s.endedAt),
  }));
  const humanWaitMs = state.steps
    .filter((s) => s.kind === 'approval' && s.startedAt)
    .reduce((sum, s) => sum + (ms(s.startedAt, s.endedAt ?? s.approval?.decidedAt ?? endedAt) ?? 0), 0);
  const failures = state.steps.flatMap((s) => [
    ...(s.error ? [{ stepId: s.id, message: s.error.message, type: s.error.type }] : []),
    ...(s.rollback?.error
      ? [{ stepId: s.id, message: s.rollback.error.message, type: s.rollback.error.type, rollback: true }]
      : []),
  ]);
  const release = d.scenario.rollback ?? true;
  const status = d.timedOut ? 'timed-out' : state.status;
  const expected: ExecutionStatus = release ? 'rolled-back' : 'succeeded';
  return {
    drillId: d.drillId,
    runbookId: state.runbookId,
    executionId: state.executionId,
    account: d.account,
    region: d.region,
    approvals: d.approvals,
    status,
    passed: status === expected && state.rollback?.complete !== false,
    startedAt: state.startedAt,
    endedAt,
    totalMs: ms(state.startedAt, endedAt) ?? 0,
    steps,
    humanWaitMs,
    failures,
    rollback: {
      requested: state.rollback !== undefined,
      trigger: state.rollback?.trigger,
      complete: state.rollback?.complete,
      // In the order they ran (the reverse of the steps').
      steps: state.steps
        .flatMap((s) =>
          s.rollback
            ? [
                {
                  stepId: s.id,
                  action: s.rollback.action,
                  status: s.rollback.status,
                  startedAt: s.rollback.startedAt,
                  durationMs: ms(s.rollback.startedAt, s.rollback.endedAt),
                },
              ]
            : [],
        )
        .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
        .map(({ startedAt: _startedAt, ...r }) => r),
    },
  };
}

/** The scorecard as a person reads it. */
export function formatScorecard(c: Scorecard): string {
  const s = (n?: number) => (n === undefined ? '-' : `${(n / 1000).toFixed(1)}s`);
  const lines = [
    `Drill ${c.drillId}: ${c.passed ? 'PASSED' : 'FAILED'} (${c.status})`,
    `  runbook ${c.runbookId},${c.incidentId ? ` incident ${c.incidentId},` : ''} execution ${c.executionId}`,
    `  account ${c.account} (${c.region}), approvals ${c.approvals}`,
    `  total ${s(c.totalMs)}, waiting for humans ${s(c.humanWaitMs)}`,
    '  steps:',
    ...c.steps.map(
      (st) =>
        `    ${st.id.padEnd(24)} ${st.status.padEnd(12)} at +${s(st.startedAfterMs).padEnd(7)} took ${s(st.durationMs).padEnd(7)}` +
        (st.attempts > 1 ? ` (${st.attempts} attempts)` : ''),
    ),
    `  failures: ${c.failures.length === 0 ? 'none' : ''}`,
    ...c.failures.map((f) => `    ${f.stepId}${f.rollback ? ' (rollback)' : ''}: ${f.message}`),
    `  rollback: ${c.rollback.requested ? `${c.rollback.trigger}, ${c.rollback.complete ? 'complete' : 'INCOMPLETE'}` : 'not requested'}`,
    ...c.rollback.steps.map((r) => `    ${r.stepId.padEnd(24)} ${r.action} ${r.status} took ${s(r.durationMs)}`),
  ];
  return lines.join('\n');
}
