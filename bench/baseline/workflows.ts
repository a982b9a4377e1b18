/**
 * The baseline: bare Temporal workflows of the same shape as firebreak's, bundled from bench/ and run by their own
 * worker on the same dev server in the same sitting. A parent admitted by update-with-start (or signal-with-start)
 * starts a child that runs one no-op activity (which only marks its arrival at the fake AWS endpoint, as firebreak's
 * first AWS call does); and a hand-written workflow running the interpreter bench's eight steps directly.
 */
import {
  condition,
  defineSignal,
  defineUpdate,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

export const BASELINE_PARENT = 'baselineParent';
export const BASELINE_CHILD = 'baselineChild';
export const HANDWRITTEN = 'handwrittenEightSteps';

export const baselineAlertUpdate = defineUpdate<string, [string]>('alert');
export const baselineAlertSignal = defineSignal<[string]>('alert');

const { 'bench.mark': mark } = proxyActivities<{ 'bench.mark': (input: { key: string }) => Promise<unknown> }>({
  startToCloseTimeout: '1m',
});

/** Admits one alert (update or signal), starts its child, and ends when the child has run its activity. */
export async function baselineParent(key: string): Promise<void> {
  let admitted = 0;
  setHandler(baselineAlertUpdate, (k) => {
    admitted++;
    return k;
  });
  setHandler(baselineAlertSignal, () => {
    admitted++;
  });
  await condition(() => admitted > 0);
  await executeChild(baselineChild, { args: [key], workflowId: `${workflowInfo().workflowId}-child` });
}

export async function baselineChild(key: string): Promise<void> {
  await mark({ key });
}

type Action = (input: Record<string, unknown>) => Promise<{ output: any }>;
const actions = proxyActivities<Record<string, Action>>({
  // The interpreter's defaults for a step (workflows/runbook.ts), so only the interpretation differs.
  startToCloseTimeout: '2m',
  heartbeatTimeout: '15s',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The same eight actions as bench/runbooks.ts `bench-eight-steps`, with the same inputs, written by hand. */
export async function handwrittenEightSteps(params: { instanceId: string; topicArn: string }): Promise<unknown> {
  const { instanceId, topicArn } = params;
  const ctx = (stepId: string) => ({ executionId: workflowInfo().workflowId, runbookId: 'handwritten', stepId });
  const out: Record<string, unknown> = {};
  const capture = await actions['ec2.captureInstance']({ instanceId, ctx: ctx('capture') });
  out.capture = capture.output;
  out.notify = (
    await actions['sns.publish']({
      topicArn,
      subject: `bench: ${instanceId}`,
      message: { event: 'started', instanceId, state: capture.output.state },
      ctx: ctx('notify'),
    })
  ).output;
  out.snapshots = (await actions['ec2.snapshotVolumes']({ instanceId, ctx: ctx('snapshot') })).output;
  out.console = (await actions['ec2.getConsoleOutput']({ instanceId, ctx: ctx('console') })).output;
  out.protect = (
    await actions['ec2.setTerminationProtection']({ instanceId, enabled: true, ctx: ctx('protect') })
  ).output;
  out.preserve = (await actions['ec2.preserveInstance']({ instanceId, ctx: ctx('preserve') })).output;
  out.tag = (
    await actions['ec2.tagInstance']({ instanceId, tags: { 'firebreak:bench': 'tagged' }, ctx: ctx('tag') })
  ).output;
  out.notifyDone = (
    await actions['sns.publish']({
      topicArn,
      subject: `bench: done ${instanceId}`,
      message: { event: 'done', instanceId },
      ctx: ctx('notify-done'),
    })
  ).output;
  return out;
}
