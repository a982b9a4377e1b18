/** The shape of one bench: what it measures against a running stack. */
import type { Figure } from './report';
import type { BenchStack } from './stack';

export interface BenchOptions {
  quick: boolean;
  /** Runs instead of the bench's quick or full count, where it has one (the smoke test keeps it tiny). */
  size?: number;
}

export interface BenchOutcome {
  figures: Figure[];
  details: Record<string, unknown>;
  /** Set when an invariant the bench asserts did not hold (the run exits non-zero); a missed target is not this. */
  failed?: string;
}

export interface Bench {
  name: string;
  /** One line for `npm run bench -- --help`. */
  summary: string;
  /** Also runs against moto (`--aws moto`, realism figures): it names only instances from `stack.instances()`. */
  moto?: boolean;
  run(stack: BenchStack, opts: BenchOptions): Promise<BenchOutcome>;
}

/** The account of the alert fixtures, which the fake answers as and moto is started as. */
export const BENCH_ACCOUNT = '111122223333';
/** The region every bench alert names (the SNS alarm fixture's), where moto's instances are launched. */
export const BENCH_REGION = 'us-east-1';
/** The SNS topic the API's incidents notify, and the EventBridge shared secret, in the benches' API process. */
export const BENCH_TOPIC = `arn:aws:sns:${BENCH_REGION}:${BENCH_ACCOUNT}:firebreak-bench`;
export const BENCH_SECRET = 'bench-eventbridge-shared-secret-0123456789';

/**
 * The runbook execution an incident started: admission answers before the incident runs (signal-with-start), so the
 * execution is read from the incident once it names one; undefined when it has none within `timeoutMs`.
 */
export async function executionOfIncident(
  apiUrl: string,
  incidentId: string,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${apiUrl}/v1/incidents/${encodeURIComponent(incidentId)}`);
    const body = (await res.json().catch(() => undefined)) as { automation?: { executionId?: string } } | undefined;
    if (res.status === 200 && body?.automation?.executionId) return body.automation.executionId;
    await new Promise((r) => setTimeout(r, 200)); // polling the incident, not waiting for a time
  }
  return undefined;
}
