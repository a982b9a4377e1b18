/** historyPhases: where a history's time went, from event times alone (a hand-made history: ids and times). */
import { temporal } from '@temporalio/proto';
import { historyPhases, meanPhases } from '../../bench/breakdown';

const { EventType: T } = temporal.api.enums.v1;
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

test('workflow tasks and activities: waiting and running, summed, with the activity waits by type', () => {
  const events = [
    { eventId: 1, eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, eventTime: at(1000) },
    { eventId: 2, eventType: T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(1000) },
    {
      eventId: 3,
      eventType: T.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      eventTime: at(1030),
      workflowTaskStartedEventAttributes: { scheduledEventId: 2 },
    },
    {
      eventId: 4,
      eventType: T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      eventTime: at(1040),
      workflowTaskCompletedEventAttributes: { startedEventId: 3 },
    },
    {
      eventId: 5,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
      eventTime: at(1040),
      activityTaskScheduledEventAttributes: { activityType: { name: 'ec2.snapshotVolumes' } },
    },
    {
      eventId: 6,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_STARTED,
      eventTime: at(1075),
      activityTaskStartedEventAttributes: { scheduledEventId: 5 },
    },
    {
      eventId: 7,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_FAILED,
      eventTime: at(1080),
      activityTaskFailedEventAttributes: { startedEventId: 6 },
    },
    {
      eventId: 8,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
      eventTime: at(1100),
      activityTaskScheduledEventAttributes: { activityType: { name: 'ec2.snapshotVolumes' } },
    },
    {
      eventId: 9,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_STARTED,
      eventTime: at(1105),
      activityTaskStartedEventAttributes: { scheduledEventId: 8 },
    },
    {
      eventId: 10,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
      eventTime: at(1125),
      activityTaskCompletedEventAttributes: { startedEventId: 9 },
    },
    { eventId: 11, eventType: T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(1125) },
    {
      eventId: 12,
      eventType: T.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      eventTime: at(1145),
      workflowTaskStartedEventAttributes: { scheduledEventId: 11 },
    },
    {
      eventId: 13,
      eventType: T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      eventTime: at(1150),
      workflowTaskCompletedEventAttributes: { startedEventId: 12 },
    },
    { eventId: 14, eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, eventTime: at(1150) },
  ];
  const phases = historyPhases(events as never);
  expect(phases).toEqual({
    workflowTasks: 2,
    workflowTaskWaitMs: 30 + 20,
    workflowTaskRunMs: 10 + 5,
    activities: 2,
    activityWaitMs: 35 + 5,
    activityRunMs: 5 + 20,
    activityWaitByType: { 'ec2.snapshotVolumes': 40 },
    totalMs: 150,
  });
  // The mean over runs, a type missing from one run counting as 0 there.
  expect(meanPhases([phases, { ...phases, activityWaitMs: 0, activityWaitByType: {} }])).toMatchObject({
    activityWaitMs: 20,
    activityWaitByType: { 'ec2.snapshotVolumes': 20 },
    totalMs: 150,
  });
  expect(meanPhases([])).toBeUndefined();
});
