/**
 * Replay split between processes, for batches large enough to win back a child's start-up (about a second: the SDK
 * and the bundle loaded). The SDK's replayer runs workflows on its process's main thread, one history at a time, so
 * more processes are the only way to use more cores. This process replays too; each child (forensics/
 * replay-process.ts) pulls histories from one shared queue, largest first, so a slow history or a slow start never
 * leaves the others idle. The workflow code is bundled once, here. Verdicts come back in the caller's order; a child
 * that dies takes what it held with it, and those histories are reported as replay errors, never as identical.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode, type ReplayWorkerOptions } from '@temporalio/worker';
import { BUNDLE_LOGGER } from '../worker/bundle';
import { plainHistory, replayFrom, type HistorySource, type ReplayVerdict } from './replay';

export interface QueuedHistory {
  id: number;
  source: HistorySource;
}

/** Parent → child. */
export type ToChild = { kind: 'start'; options: ReplayWorkerOptions } | { kind: 'items'; items: QueuedHistory[] };
/** Child → parent. */
export type FromChild =
  | { kind: 'take' }
  | { kind: 'verdict'; id: number; verdict: ReplayVerdict }
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

const CHILD = path.join(__dirname, `replay-process${path.extname(__filename)}`);

export async function replayInProcesses(
  sources: readonly HistorySource[],
  options: ReplayWorkerOptions,
  processes: number,
): Promise<ReplayVerdict[]> {
  const shared = await bundledOnce(options);
  // Plain JSON crosses the process boundary; a History object from the client (protobuf, Longs) is converted first.
  const queue: QueuedHistory[] = sources
    .map((s, id) => ({ id, source: { ...s, history: plainHistory(s.history) } }))
    .sort((a, b) => eventCount(b.source.history) - eventCount(a.source.history));
  const lanes = processes;
  const verdicts = new Array<ReplayVerdict | undefined>(sources.length);
  const batch = () => queue.splice(0, Math.min(4, Math.max(1, Math.floor(queue.length / (lanes * 4)))));

  const children = Array.from({ length: processes - 1 }, () => runChild(shared, batch, verdicts));
  const here = replayFrom(
    async () => queue.shift(),
    shared,
    (id, v) => (verdicts[id] = v),
  );
  await Promise.all([here, ...children]);
  // Every history has its verdict: from a lane, or from the child that died holding it.
  return verdicts as ReplayVerdict[];
}

/** The options with the workflow code as one bundle, so the children do not each bundle it again. */
async function bundledOnce(options: ReplayWorkerOptions): Promise<ReplayWorkerOptions> {
  if (options.workflowBundle) return options;
  if (!options.workflowsPath) throw new Error('replay needs workflowsPath or workflowBundle');
  const { workflowsPath, bundlerOptions, ...rest } = options;
  const { code } = await bundleWorkflowCode({ workflowsPath, ...bundlerOptions, logger: BUNDLE_LOGGER });
  return { ...rest, workflowBundle: { code } };
}

function eventCount(history: unknown): number {
  const events = (history as { events?: unknown[] } | undefined)?.events;
  return Array.isArray(events) ? events.length : 0;
}

/** One child: serves its requests from the queue until it exits; resolves then (never rejects). */
function runChild(
  options: ReplayWorkerOptions,
  batch: () => QueuedHistory[],
  verdicts: (ReplayVerdict | undefined)[],
): Promise<void> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = fork(CHILD, [], {
        // A TypeScript source tree (tests, tsx) loads the child through tsx; compiled code needs nothing.
        // By absolute path: the caller's working directory (the CLI's user's) need not see this checkout's tsx.
        execArgv: CHILD.endsWith('.ts') ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
    } catch {
      resolve(); // it took nothing: the queue is served by the others
      return;
    }
    const held = new Map<number, QueuedHistory>();
    let failure: string | undefined;
    const send = (m: ToChild) => child.connected && child.send(m);
    child.on('message', (m: FromChild) => {
      if (m.kind === 'take') {
        const items = batch();
        for (const item of items) held.set(item.id, item);
        send({ kind: 'items', items });
      } else if (m.kind === 'verdict') {
        verdicts[m.id] = m.verdict;
        held.delete(m.id);
      } else if (m.kind === 'failed') failure = m.message;
    });
    // 'close', not 'exit': by then every message the child sent has arrived. What it still held is lost with it.
    let finished = false;
    const finish = (why: string) => {
      if (finished) return;
      finished = true;
      const reason = `its replay process failed: ${failure ?? why}`;
      for (const { id, source } of held.values())
        verdicts[id] = {
          name: source.name,
          workflowId: source.workflowId,
          eventCount: eventCount(source.history),
          identical: false,
          divergence: { kind: 'error', reason },
        };
      resolve();
    };
    child.on('close', (code, signal) => finish(`exited (${signal ?? code})`));
    child.on('error', (err) => finish(err.message));
    send({ kind: 'start', options });
  });
}
