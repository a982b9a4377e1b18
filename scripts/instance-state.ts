/**
 * `npm run -s instance-state -- <instanceId>`: what AWS says about an instance, as firebreak's runbooks change it:
 * security groups per ENI, termination protection, firebreak tags and evidence snapshots. Uses the same endpoint and
 * credentials as the worker (FIREBREAK_AWS_ENDPOINT for the emulator, else the SDK's default chain).
 */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { createAwsClients, destroyAwsClients } from '../activities/clients';
import { loadConfig } from '../config/env';
import { EMULATOR_CREDENTIALS } from './stack';

// A one-shot CLI: the SDK's Node 22 notice (see README, Known limits) would only bury the answer.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(instanceId: string | undefined): Promise<void> {
  if (!instanceId) throw new Error('usage: npm run -s instance-state -- <instanceId>');
  const config = loadConfig();
  const emulator = config.awsEndpoint
    ? {
        accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      }
    : undefined;
  const clients = createAwsClients({ region: config.awsRegion, endpoint: config.awsEndpoint, credentials: emulator });
  const { ec2 } = clients;
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0];
  if (!instance) throw new Error(`no instance ${instanceId}`);
  const groupIds = [
    ...new Set((instance.NetworkInterfaces ?? []).flatMap((e) => (e.Groups ?? []).map((g) => g.GroupId!))),
  ];
  const groups = groupIds.length
    ? ((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }))).SecurityGroups ?? [])
    : [];
  const protection = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  const snapshots = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:firebreak:source-instance', Values: [instanceId] }],
    }),
  );
  const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key, t.Value]));
  console.log(
    JSON.stringify(
      {
        instanceId,
        state: instance.State?.Name,
        terminationProtection: protection.DisableApiTermination?.Value ?? false,
        networkInterfaces: (instance.NetworkInterfaces ?? []).map((e) => ({
          networkInterfaceId: e.NetworkInterfaceId,
          groups: (e.Groups ?? []).map((g) => {
            const sg = groups.find((x) => x.GroupId === g.GroupId);
            return {
              id: g.GroupId,
              name: g.GroupName,
              ingressRules: sg?.IpPermissions?.length ?? 0,
              egressRules: sg?.IpPermissionsEgress?.length ?? 0,
            };
          }),
        })),
        firebreakTags: Object.fromEntries(Object.entries(tags).filter(([k]) => k?.startsWith('firebreak:'))),
        evidenceSnapshots: (snapshots.Snapshots ?? []).map((s) => ({
          snapshotId: s.SnapshotId,
          volumeId: s.VolumeId,
          executionId: s.Tags?.find((t) => t.Key === 'firebreak:execution-id')?.Value,
        })),
      },
      null,
      2,
    ),
  );
  destroyAwsClients(clients);
}

main(process.argv[2]).catch((err) => {
  console.error(`instance-state: ${(err as Error).message}`);
  process.exit(1);
});
