/**
 * What the history-corpus scenarios (scripts/record-histories.ts) share: the stack they drive, the seeded instances,
 * and small helpers to wait for a workflow to reach a state without sleeping.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { fromEventBridge } from '../../alerts/dispatch';
import { IncidentService } from '../../api/incidents';
import type { NormalisedAlert } from '../../alerts/alert';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import { AlertRouter } from '../../alerts/router';
import { stateQuery, type ExecutionState, type Principal } from '../../workflows/messages';
import type { IncidentHistoryLimits } from '../../workflows/incident-messages';
import type { SeedResult } from '../seed';

export interface ScenarioContext {
  client: Client;
  taskQueue: string;
  env: SeedResult;
  /** A seeded instance no other scenario touches. */
  nextInstance(): string;
}

/** One closed workflow to write into the corpus. */
export interface Recorded {
  /** File name without `.json`. */
  scenario: string;
  workflowId: string;
  description: string;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<Recorded[]>;
}

export const commander: Principal = { id: 'user:corpus-commander', roles: ['incident-commander'] };
/** Starts the executions: four-eyes keeps the starter from approving, so the commander decides. */
export const responder: Principal = { id: 'user:corpus-responder', roles: ['responder'] };
export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

/** Polls `probe` until it returns a value (not undefined) or the time is up; errors count as "not yet". */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until the runbook execution's queried state matches. */
export function executionState(
  handle: WorkflowHandle,
  predicate: (s: ExecutionState) => boolean,
  what: string,
): Promise<ExecutionState> {
  return until(what, async () => {
    const s = await handle.query(stateQuery);
    if (!predicate(s)) throw new Error(`last seen: status ${s.status}`);
    return s;
  });
}

/** Waits until the workflow is closed (completed, failed, cancelled...). */
export function closed(handle: WorkflowHandle, timeoutMs = 60_000): Promise<string> {
  return until(
    `${handle.workflowId} to close`,
    async () => {
      const status = (await handle.describe()).status.name;
      return status === 'RUNNING' ? undefined : status;
    },
    timeoutMs,
  );
}

/** An incident service as the API builds it, routing with the given runbooks only (and, given, low history limits). */
export function incidentService(
  ctx: ScenarioContext,
  runbooks: RunbookDefinition[],
  history?: Partial<IncidentHistoryLimits>,
): IncidentService {
  const notify = { topics: { default: ctx.env.topicArn } };
  return new IncidentService({
    client: ctx.client,
    taskQueue: ctx.taskQueue,
    router: new AlertRouter(new RunbookRegistry(runbooks), notify),
    notify,
    publicUrl: 'http://firebreak.corpus',
    history,
  });
}

/** A CloudWatch alarm state change as EventBridge delivers it, normalised by the same parser the API uses. */
export function alarm(opts: {
  deliveryId: string;
  alarmName: string;
  state: 'ALARM' | 'OK';
  dimensions: Record<string, string>;
  namespace?: string;
  metric?: string;
}): NormalisedAlert {
  const at = new Date().toISOString();
  return fromEventBridge({
    version: '0',
    id: opts.deliveryId,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: at,
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${opts.alarmName}`],
    detail: {
      alarmName: opts.alarmName,
      state: { value: opts.state, reason: `corpus recording: ${opts.state}`, timestamp: at },
      previousState: { value: opts.state === 'OK' ? 'ALARM' : 'OK', timestamp: at },
      configuration: {
        description: `corpus alarm ${opts.alarmName}`,
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: opts.namespace ?? 'AWS/EC2',
                name: opts.metric ?? 'NetworkOut',
                dimensions: opts.dimensions,
              },
              period: 60,
              stat: 'Average',
            },
            returnData: true,
          },
        ],
      },
    },
  });
}
