/**
 * What an instance belongs to besides its network: its Auto Scaling group (lifecycle state, scale-in protection), the
 * target groups it is registered in (each port) and its IAM instance profile association. Read by the capture step
 * (ec2.captureInstance), so the investigator sees them in the evidence and a release can be checked against them:
 * the containment's own steps record and restore them (autoscaling.ts, elbv2.ts, ec2-instance.ts).
 */
import { DescribeIamInstanceProfileAssociationsCommand, type Instance } from '@aws-sdk/client-ec2';
import type { Static } from '@sinclair/typebox';
import { asgMembership } from './autoscaling';
import type { AwsClients } from './clients';
import { targetRegistrations } from './elbv2';
import { awsCall } from './errors';
import type { CaptureInstanceOutput } from './schemas';

type Captured = Static<typeof CaptureInstanceOutput>;
export type Memberships = Pick<Captured, 'autoScaling' | 'targetGroups' | 'instanceProfile'>;

/**
 * @param clients `autoScaling` and `elbv2` when the module was given them (the worker always is); without one, that
 *   membership is not captured (left out, not reported empty)
 */
export async function membershipsOf(
  clients: Pick<AwsClients, 'ec2'> & Partial<Pick<AwsClients, 'autoScaling' | 'elbv2'>>,
  what: string,
  instance: Instance,
): Promise<Memberships> {
  const instanceId = instance.InstanceId!;
  const out: Memberships = {};
  const assoc = await awsCall(
    what,
    () =>
      clients.ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [
            { Name: 'instance-id', Values: [instanceId] },
            { Name: 'state', Values: ['associating', 'associated', 'disassociating'] },
          ],
        }),
      ),
    `instance profile association of ${instanceId}`,
  );
  const a = assoc.IamInstanceProfileAssociations?.find((x) => x.InstanceId === instanceId);
  const arn = a?.IamInstanceProfile?.Arn ?? instance.IamInstanceProfile?.Arn;
  if (arn) {
    out.instanceProfile = {
      arn,
      ...(a?.AssociationId ? { associationId: a.AssociationId } : {}),
      ...(a?.State ? { state: a.State } : {}),
    };
  }
  if (clients.autoScaling) {
    const m = await asgMembership(clients.autoScaling, what, instanceId);
    if (m?.AutoScalingGroupName) {
      out.autoScaling = {
        autoScalingGroupName: m.AutoScalingGroupName,
        ...(m.LifecycleState ? { lifecycleState: m.LifecycleState } : {}),
        ...(m.HealthStatus ? { healthStatus: m.HealthStatus } : {}),
        protectedFromScaleIn: m.ProtectedFromScaleIn ?? false,
      };
    }
  }
  if (clients.elbv2 && instance.VpcId) {
    out.targetGroups = (await targetRegistrations(clients.elbv2, what, instanceId, instance.VpcId)).map((r) => ({
      targetGroupArn: r.targetGroupArn,
      ...(r.port !== undefined ? { port: r.port } : {}),
      ...(r.availabilityZone ? { availabilityZone: r.availabilityZone } : {}),
      ...(r.state ? { state: r.state } : {}),
    }));
  }
  return out;
}
