/**
 * One child of a parallel replay (forensics/replay-parallel.ts): replays the histories it pulls from its parent's
 * queue and sends each verdict back as it is known; exits when the queue is empty.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { replayFrom } from './replay';
import type { FromChild, QueuedHistory, ToChild } from './replay-parallel';

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const send = (m: FromChild, then: () => void = () => undefined) => process.send!(m, then);
const held: QueuedHistory[] = [];
let asked: Promise<void> | undefined;
let empty = false;
let arrived: (() => void) | undefined;

/** Asks the parent for more while this process still has one to replay, so the answer's wait is hidden. */
function askAhead(): void {
  if (asked || empty || held.length > 1) return;
  asked = new Promise<void>((resolve) => {
    arrived = resolve;
    send({ kind: 'take' });
  });
}

async function take(): Promise<QueuedHistory | undefined> {
  askAhead();
  while (held.length === 0 && asked) {
    await asked;
    askAhead();
  }
  const next = held.shift();
  askAhead();
  return next;
}

process.on('message', (m: ToChild) => {
  if (m.kind === 'items') {
    held.push(...m.items);
    empty = m.items.length === 0;
    asked = undefined;
    arrived?.();
  } else if (m.kind === 'start')
    // The SDK's runtime keeps the process alive: it exits once its last message is written.
    replayFrom(take, m.options, (id, verdict) => send({ kind: 'verdict', id, verdict })).then(
      () => send({ kind: 'done' }, () => process.exit(0)),
      (err: Error) => send({ kind: 'failed', message: err.message }, () => process.exit(1)),
    );
});
// The parent went away: nothing to answer to.
process.on('disconnect', () => process.exit(0));
