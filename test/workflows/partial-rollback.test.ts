/**
 * Partial effects and rollback-failed: an isolation that fails after moving some ENIs has those ENIs restored; a
 * compensation that keeps failing leaves the execution `rollback-failed`, and a retry request through the API
 * (POST /v1/executions/:id/rollback) runs the remaining compensations. Faults come from an SDK middleware on the
 * worker's EC2 client (moto cannot fail one ENI's call); every result is checked through the EC2 API.
 */
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../activities/clients';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import type { RunbookWorkflowInput } from '../../workflows/messages';
import type { SeedResult } from '../../scripts/seed';
import { emulatorConfig, testAws, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';
import { awsError, failWhen } from './fixtures/aws-faults';

let aws: TestAws;
let temporal: TestTemporal;
let faulty: AwsClients;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});
beforeEach(() => {
  // The worker's own clients, so that a fault never reaches the test's view of moto.
  faulty = createAwsClients(emulatorConfig());
});
afterEach(() => destroyAwsClients(faulty));

/** ec2-compromise with a gate that approves itself after a second and no escalation. */
function autoApproved(extra: Partial<RunbookDefinition> = {}): RunbookDefinition {
  return {
    ...ec2Compromise,
    ...extra,
    steps: ec2Compromise.steps.map((s) =>
      s.kind === 'approval' ? { ...s, timeout: '1s', onTimeout: 'approve' as const, escalation: undefined } : s,
    ),
  };
}

function input(env: SeedResult, def: RunbookDefinition): RunbookWorkflowInput {
  const rb = new RunbookRegistry([def]).get(def.id)!;
  return {
    runbook: rb.definition,
    digest: rb.digest,
    params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
    startedBy: { id: 'user:test' },
  };
}

/** Each ENI's groups, sorted, by ENI ID. */
async function eniGroups(eniIds: string[]): Promise<Record<string, string[]>> {
  const out = await aws.clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds }));
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId!, (n.Groups ?? []).map((g) => g.GroupId!).sort()]),
  );
}

test('isolate failing on the second of three ENIs: the first ENI is restored, the rollback is complete', async () => {
  const env = await aws.seed('partial', { instances: 1, extraNetworkInterfaces: 2 });
  const enis = env.instances[0].networkInterfaceIds;
  expect(enis).toHaveLength(3);
  const before = await eniGroups(enis);
  // Moving the second ENI is refused (a permission missing for it): a client error, not retried.
  failWhen(faulty.ec2, 'ModifyNetworkInterfaceAttributeCommand', (i) =>
    i.NetworkInterfaceId === enis[1] ? awsError('UnauthorizedOperation', 'client') : undefined,
  );
  await withWorker(temporal, { clients: faulty }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, autoApproved({ rollbackWindow: undefined })));
    const err = (await handle.result().catch((e) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as ApplicationFailure).type).toBe('UnauthorizedOperation');
    const state = await waitForState(handle, (s) => s.status === 'failed');
    const isolate = state.steps.find((s) => s.id === 'isolate')!;
    // The step reported the ENI it moved before it failed (and the one it was moving when it failed, whose restore
    // changes nothing; the third was never reached), and its compensation ran on exactly those.
    expect(isolate).toMatchObject({ status: 'rolled-back', rollback: { status: 'succeeded' } });
    const reported = (isolate.partial as { networkInterfaces: { networkInterfaceId: string; groupIds: string[] }[] })
      .networkInterfaces;
    expect(reported.map((n) => [n.networkInterfaceId, [...n.groupIds].sort()])).toEqual([
      [enis[0], before[enis[0]]],
      [enis[1], before[enis[1]]],
    ]);
    const restored = (isolate.rollback!.output as { restored: { networkInterfaceId: string }[] }).restored;
    expect(restored.map((r) => r.networkInterfaceId)).toContain(enis[0]);
    expect(restored.map((r) => r.networkInterfaceId)).not.toContain(enis[2]);
    expect(state.rollback).toMatchObject({ trigger: 'step-failed', complete: true });
    // Checked in EC2: every ENI has its own groups again (the first restored, the others never moved).
    expect(await eniGroups(enis)).toEqual(before);
  });
});

test('a rollback that fails is left rollback-failed with what remains; a retry through the API completes it', async () => {
  const env = await aws.seed('rbretry', { instances: 1 });
  const enis = env.instances[0].networkInterfaceIds;
  const before = await eniGroups(enis);
  let throttled = false;
  // While `throttled`, restoring security groups fails with a retryable error (the API is throttled).
  failWhen(faulty.ec2, 'ModifyNetworkInterfaceAttributeCommand', () =>
    throttled ? awsError('InternalError', 'server') : undefined,
  );
  // Two quick attempts per compensation: the rollback gives up in seconds.
  const def = autoApproved({ rollbackRetry: { retry: { maximumAttempts: 2, initialInterval: '200ms' } } });
  await withWorker(temporal, { clients: faulty }, async ({ taskQueue }) => {
    const api = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([ec2Compromise]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: {
        mode: 'token',
        tokens: TokenStore.fromPlain({
          'commander-token-0123456789': { id: 'user:alice', roles: ['incident-commander'] },
        }),
      },
    });
    const rollback = (reason: string) =>
      api.inject({
        method: 'POST',
        url: `/v1/executions/${handle.workflowId}/rollback`,
        headers: { authorization: 'Bearer commander-token-0123456789' },
        payload: { reason },
      });

    const handle = await startRunbook(temporal, taskQueue, input(env, def));
    const contained = await waitForState(handle, (s) => s.status === 'succeeded');
    const quarantineId = (contained.steps.find((s) => s.id === 'isolate')!.output as { quarantineGroupId: string })
      .quarantineGroupId;
    expect(await eniGroups(enis)).toEqual({ [enis[0]]: [quarantineId] });

    throttled = true;
    expect((await rollback('false positive')).statusCode).toBe(202);
    const stuck = await waitForState(handle, (s) => s.status === 'rollback-failed');
    expect(stuck.rollback).toMatchObject({
      trigger: 'requested',
      remaining: ['isolate'],
      retryUntil: expect.any(String),
    });
    expect(stuck.steps.find((s) => s.id === 'isolate')).toMatchObject({
      status: 'rollback-failed',
      rollback: { status: 'failed', attempts: 2, error: { type: 'InternalError' } },
    });
    // The compensations that could run did.
    expect(stuck.steps.find((s) => s.id === 'protect-termination')!.status).toBe('rolled-back');
    expect(await eniGroups(enis)).toEqual({ [enis[0]]: [quarantineId] });
    // Its containment stays on the resource's record while the rollback is unfinished.
    expect(stuck.resourceLock).toMatchObject({ status: 'released', outcome: 'contained' });

    throttled = false;
    const retry = await rollback('throttling is over');
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ accepted: true, status: 'rollback-failed' });
    const done = await waitForState(handle, (s) => s.status === 'rolled-back');
    expect(done.rollback).toMatchObject({ complete: true, retries: [{ requestedBy: { id: 'user:alice' } }] });
    expect(done.rollback?.remaining).toBeUndefined();
    expect(done.steps.find((s) => s.id === 'isolate')!.status).toBe('rolled-back');
    expect(await eniGroups(enis)).toEqual(before);
    // Closed now: a further request is refused.
    await handle.result();
    expect((await rollback('again')).statusCode).toBe(409);
    await api.close();
  });
});
