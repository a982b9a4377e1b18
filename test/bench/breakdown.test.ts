/** historyPhases: where a history's time went, from event times alone (a hand-made history: ids and times). */
import { temporal } from '@temporalio/proto';
import { historyPhases, meanPhases } from '../../bench/breakdown';

const { EventType: T } = temporal.api.enums.v1;

/** Builds a history: each helper appends its events (IDs in order) at the given milliseconds. */
function history() {
  const events: object[] = [];
  const add = (eventType: number, ms: number, attrs: object = {}) => {
    events.push({ eventId: events.length + 1, eventType, eventTime: { seconds: 0, nanos: ms * 1e6 }, ...attrs });
    return events.length;
  };
  return {
    events,
    add,
    workflowTask(scheduled: number, started: number, completed: number) {
      const s = add(T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, scheduled);
      const st = add(T.EVENT_TYPE_WORKFLOW_TASK_STARTED, started, {
        workflowTaskStartedEventAttributes: { scheduledEventId: s },
      });
      add(T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, completed, {
        workflowTaskCompletedEventAttributes: { startedEventId: st },
      });
    },
    activity(name: string, scheduled: number, started: number, ended: number, failed = false) {
      const s = add(T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, scheduled, {
        activityTaskScheduledEventAttributes: { activityType: { name } },
      });
      const st = add(T.EVENT_TYPE_ACTIVITY_TASK_STARTED, started, {
        activityTaskStartedEventAttributes: { scheduledEventId: s },
      });
      if (failed)
        add(T.EVENT_TYPE_ACTIVITY_TASK_FAILED, ended, { activityTaskFailedEventAttributes: { startedEventId: st } });
      else
        add(T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ended, {
          activityTaskCompletedEventAttributes: { startedEventId: st },
        });
    },
  };
}

test('workflow tasks and activities: waiting and running, summed, with the activity waits by type', () => {
  const h = history();
  h.add(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 0);
  h.workflowTask(0, 30, 40);
  h.activity('ec2.snapshotVolumes', 40, 75, 80, true); // failed, retried
  h.activity('ec2.snapshotVolumes', 100, 105, 125);
  h.activity('sns.publish', 125, 125, 130);
  h.workflowTask(130, 145, 150);
  h.add(T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 150);
  const phases = historyPhases(h.events as never);
  expect(phases).toEqual({
    workflowTasks: 2,
    workflowTaskWaitMs: 30 + 15,
    workflowTaskRunMs: 10 + 5,
    activities: 3,
    activityWaitMs: 35 + 5 + 0,
    activityRunMs: 5 + 20 + 5,
    activityWaitByType: { 'ec2.snapshotVolumes': 40, 'sns.publish': 0 },
    totalMs: 150,
  });
  // The mean over runs, a type missing from one run counting as 0 there.
  expect(meanPhases([phases, { ...phases, activityWaitMs: 0, activityWaitByType: {} }])).toMatchObject({
    activityWaitMs: 20,
    activityWaitByType: { 'ec2.snapshotVolumes': 20, 'sns.publish': 0 },
    totalMs: 150,
  });
  expect(meanPhases([])).toBeUndefined();
});
