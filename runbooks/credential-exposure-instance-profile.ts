import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';

/**
 * An instance's role credentials exposed (IMDS abused, credentials used from outside AWS): detach the instance profile
 * at once so no new credentials are handed out, snapshot the volumes for the investigation, tag the instance and tell
 * security. No approval: every minute the profile stays, fresh credentials can be taken. Credentials already issued
 * stay valid until they expire; revoking the role's older sessions is security's next step (the notification says so).
 * Releasing (security leads) puts the profile back.
 */
export const credentialExposureInstanceProfile = defineRunbook({
  id: 'credential-exposure-instance-profile',
  version: '1.0.0',
  title: "Cut off an instance's exposed role credentials",
  description:
    'Detach the instance profile, snapshot the volumes, tag the instance and notify security; release restores the ' +
    'profile.',
  incidentType: 'credential-exposure',
  severity: 'SEV1',
  rollbackWindow: '7d',
  release: { approvers: { roles: ['security-lead'] } },
  resource: { type: 'ec2:instance', param: 'instanceId' },
  triggers: [
    {
      sources: ['guardduty'],
      findingTypes: ['UnauthorizedAccess:EC2/MetadataDNSRebind', 'CredentialAccess:EC2/*'],
      resourceTypes: ['ec2:instance'],
      params: {
        instanceId: expr('alert.resource.id'),
        securityTopicArn: expr('notify.topicArn'),
      },
    },
    {
      sources: ['generic', 'alertmanager'],
      alarmNames: ['*credential-exposure*', '*instance-credentials*'],
      resourceTypes: ['ec2:instance'],
      params: { instanceId: expr('alert.resource.id'), securityTopicArn: expr('notify.topicArn') },
    },
  ],
  params: Type.Object(
    {
      instanceId: Type.String({ pattern: '^i-[0-9a-f]{8,17}$' }),
      securityTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:', description: "Security team's topic" }),
      replacementProfileArn: Type.Optional(
        Type.String({
          pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/',
          description: 'A deny-all profile to put in place instead of none',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  steps: [
    {
      id: 'capture',
      kind: 'action',
      title: 'Capture the instance state',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.instanceId') },
    },
    {
      id: 'detach-profile',
      kind: 'action',
      title: 'Detach the instance profile',
      action: 'ec2.detachInstanceProfile',
      with: { instanceId: expr('params.instanceId'), replacementProfileArn: expr('params.replacementProfileArn') },
      rollback: {
        action: 'ec2.restoreInstanceProfile',
        with: {
          instanceId: expr('params.instanceId'),
          instanceProfileArn: expr('steps.`detach-profile`.output.previousProfileArn'),
        },
      },
    },
    {
      id: 'snapshot-volumes',
      kind: 'action',
      title: 'Snapshot every attached volume as evidence',
      action: 'ec2.snapshotVolumes',
      with: { instanceId: expr('params.instanceId') },
      timeout: '10m',
    },
    {
      id: 'tag-exposed',
      kind: 'action',
      title: 'Tag the instance',
      action: 'ec2.tagInstance',
      with: {
        instanceId: expr('params.instanceId'),
        tags: { 'firebreak:status': 'credentials-revoked', 'firebreak:execution-id': expr('execution.id') },
      },
      rollback: {
        action: 'ec2.tagInstance',
        with: {
          instanceId: expr('params.instanceId'),
          tags: { 'firebreak:status': 'released', 'firebreak:execution-id': expr('execution.id') },
        },
      },
    },
    {
      id: 'notify-security',
      kind: 'action',
      title: 'Notify security',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.securityTopicArn'),
        subject: expr('"firebreak: instance profile detached from " & params.instanceId'),
        message: {
          event: 'instance-profile-detached',
          instanceId: expr('params.instanceId'),
          previousProfileArn: expr('steps.`detach-profile`.output.previousProfileArn'),
          snapshots: expr('steps.`snapshot-volumes`.output.snapshots.snapshotId'),
          next:
            'Credentials already issued stay valid until they expire: revoke the role sessions issued before now ' +
            '(IAM "Revoke active sessions") and review CloudTrail for their use.',
        },
      },
    },
  ],
});
