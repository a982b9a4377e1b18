/**
 * How a run that continued as new learns its runbook's end (`incident.runbookOutcome`): nothing while the execution
 * runs, the outcome its result reports once it completed, a failure for one terminated or gone.
 */
import { Type } from '@sinclair/typebox';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createIncidentActivities } from '../../activities/incident';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import { approvalUpdate, type RunbookProgress } from '../../workflows/messages';
import { testAws, type TestAws } from '../stack/aws';
import { commander, startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const asking: RunbookDefinition = {
  id: 'asking',
  version: '1.0.0',
  title: 'asks',
  description: 'one approval',
  incidentType: 'test',
  severity: 'SEV3',
  params: Type.Object({}),
  steps: [{ id: 'approve', kind: 'approval', title: 'Go on?', timeout: '1h', onTimeout: 'reject' }],
};

const outcomeOf = (executionId: string) =>
  new MockActivityEnvironment({}, { client: temporal.client }).run(() =>
    createIncidentActivities()['incident.runbookOutcome']({ executionId }),
  ) as Promise<RunbookProgress | null>;

test('null while the execution runs; its result once it completed; a failure once terminated or gone', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const input = { runbook: asking, digest: 'sha256:test', params: {}, startedBy: commander };
    const rejected = await startRunbook(temporal, taskQueue, input);
    const terminated = await startRunbook(temporal, taskQueue, input);
    for (const h of [rejected, terminated]) await waitForState(h, (s) => s.status === 'waiting-approval');
    expect(await outcomeOf(rejected.workflowId)).toBeNull();

    await rejected.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve', decision: 'reject', decidedBy: commander }],
    });
    const final = await rejected.result();
    expect(await outcomeOf(rejected.workflowId)).toEqual({
      executionId: rejected.workflowId,
      status: 'rolled-back',
      failure: final.failure,
      rollback: final.rollback,
    });
    expect(final.status).toBe('rolled-back');

    await terminated.terminate('operator gave up');
    expect(await outcomeOf(terminated.workflowId)).toMatchObject({
      executionId: terminated.workflowId,
      status: 'failed',
      failure: { message: 'operator gave up', type: 'TerminatedFailure' },
    });

    expect(await outcomeOf('no-such-execution')).toMatchObject({
      status: 'failed',
      failure: { type: 'ExecutionNotFound' },
    });
  });
});
