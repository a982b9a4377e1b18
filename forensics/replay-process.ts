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
let waiting: ((items: QueuedHistory[]) => void) | undefined;

async function take(): Promise<QueuedHistory | undefined> {
  if (held.length === 0) {
    const items = await new Promise<QueuedHistory[]>((resolve) => {
      waiting = resolve;
      send({ kind: 'take' });
    });
    held.push(...items);
  }
  return held.shift();
}

process.on('message', (m: ToChild) => {
  if (m.kind === 'items') waiting?.(m.items);
  else if (m.kind === 'start')
    // The SDK's runtime keeps the process alive: it exits once its last message is written.
    replayFrom(take, m.options, (id, verdict) => send({ kind: 'verdict', id, verdict })).then(
      () => send({ kind: 'done' }, () => process.exit(0)),
      (err: Error) => send({ kind: 'failed', message: err.message }, () => process.exit(1)),
    );
});
// The parent went away: nothing to answer to.
process.on('disconnect', () => process.exit(0));
