/**
 * ssm.collectVolatileData against moto: one command per artefact reaches the instance (read back through
 * ListCommands), each artefact carries the digest of what was collected, and a retry collects nothing new. moto answers
 * every invocation Success with empty output, so the content is empty here; the digest is still checked against it.
 */
import { createHash } from 'node:crypto';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { createSsmActivities } from '../../activities/ssm';
import { VOLATILE_COMMANDS } from '../../activities/ssm-volatile';
import { stepContext, testAws, type TestAws } from '../stack/aws';

let aws: TestAws;
beforeAll(() => {
  aws = testAws();
});
afterAll(() => aws.close());

test('collects processes, connections and users, one marked command each; a retry reuses them', async () => {
  const env = await aws.seed('volatile', { instances: 1 });
  const { instanceId } = env.instances[0];
  const collect = createSsmActivities(aws.clients)['ssm.collectVolatileData'];
  const ctx = stepContext('volatile-data');

  const out = await collect({ instanceId, pollIntervalMs: 100, ctx });

  expect(out.platform).toBe('linux');
  expect(out.artefacts.map((a) => a.name)).toEqual(['processes', 'network-connections', 'logged-in-users']);
  for (const a of out.artefacts) {
    expect(a).toMatchObject({ status: 'Success', truncated: false });
    expect(a.sha256).toBe(`sha256:${createHash('sha256').update(a.content).digest('hex')}`);
  }
  const sent = (await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands ?? [];
  const byId = new Map(sent.map((c) => [c.CommandId, c]));
  expect(out.artefacts.map((a) => byId.get(a.commandId)?.Parameters?.commands)).toEqual(
    VOLATILE_COMMANDS.linux.map((c) => c.commands),
  );

  const retry = await collect({ instanceId, pollIntervalMs: 100, ctx });
  expect(retry.artefacts.map((a) => a.commandId)).toEqual(out.artefacts.map((a) => a.commandId));
  expect((await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands).toHaveLength(
    sent.length,
  );
});

test('dry run: sends no command and lists the three it would send', async () => {
  const env = await aws.seed('volatile-dry', { instances: 1 });
  const { instanceId } = env.instances[0];
  const out = await createSsmActivities(aws.clients)['ssm.collectVolatileData']({
    instanceId,
    platform: 'windows',
    dryRun: true,
  });
  expect(out.calls!.map((c) => (c.input as { DocumentName: string }).DocumentName)).toEqual([
    'AWS-RunPowerShellScript',
    'AWS-RunPowerShellScript',
    'AWS-RunPowerShellScript',
  ]);
  const sent = (await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands ?? [];
  expect(sent).toEqual([]);
});
