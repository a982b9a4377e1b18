/**
 * Which task queue a catalogue action runs on. Slow actions (they poll or wait on AWS: snapshots, SSM commands and
 * automations, alarm waits) run on `<taskQueue>-slow`, served by a worker of their own with its own slots, so that they
 * cannot hold every activity slot while a containment step or a notification waits to start (worker/worker.ts).
 *
 * Workflow-safe (no runtime imports): the interpreter derives the slow queue from its own task queue, because workflow
 * code cannot read the worker's configuration. activities/catalogue.ts declares `slow: true` on exactly these actions
 * (its type refuses a catalogue that disagrees).
 */
import type { ActionName } from '../activities/schemas';

export const SLOW_ACTIONS = [
  'ec2.snapshotVolumes',
  'ssm.runCommand',
  'ssm.startAutomation',
  'ssm.collectVolatileData',
  'cloudwatch.waitForAlarmState',
] as const satisfies readonly ActionName[];
export type SlowAction = (typeof SLOW_ACTIONS)[number];

export const SLOW_TASK_QUEUE_SUFFIX = '-slow';

export function slowTaskQueue(taskQueue: string): string {
  return `${taskQueue}${SLOW_TASK_QUEUE_SUFFIX}`;
}

export function isSlowAction(name: string): name is SlowAction {
  return (SLOW_ACTIONS as readonly string[]).includes(name);
}
