import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';
import { verifyAlarmOk } from './steps';

/** `find <paths> -xdev -type f -mtime +N -size +10M`: what the listing shows and the cleanup deletes, the same. */
const FIND = expr(
  "'find ' & $join(params.paths, ' ') & ' -xdev -type f -mtime +' & $string(params.olderThanDays) & ' -size +10M'",
);

/**
 * A disk filling up: list what a cleanup would delete (old, large files under the given paths) with `df` before and
 * after, let on-call review that listing, then delete exactly those files and verify by the alarm's state. A deletion
 * cannot be undone, so there is no rollback: the dry listing and the approval are the safeguard.
 */
export const diskFull = defineRunbook({
  id: 'disk-full',
  version: '1.0.0',
  title: 'Free a full disk',
  description:
    'List old large files (dry run), and after approval delete them through SSM Run Command; verify by the alarm.',
  incidentType: 'disk-full',
  severity: 'SEV3',
  resource: { type: 'ec2:instance', param: 'instanceId' },
  triggers: [
    {
      sources: ['cloudwatch'],
      alarmNames: ['*disk-full*', '*disk-space*', '*disk_used*'],
      resourceTypes: ['ec2:instance'],
      params: {
        instanceId: expr('alert.resource.id'),
        alarmName: expr('alert.name'),
        notifyTopicArn: expr('notify.topicArn'),
      },
    },
  ],
  params: Type.Object(
    {
      instanceId: Type.String({ pattern: '^i-[0-9a-f]{8,17}$' }),
      alarmName: Type.String({ minLength: 1, maxLength: 255 }),
      // Plain absolute paths only: they are put into a shell command.
      paths: Type.Array(Type.String({ pattern: '^/[A-Za-z0-9._/-]*$' }), {
        default: ['/var/log', '/tmp'],
        minItems: 1,
        maxItems: 10,
      }),
      olderThanDays: Type.Integer({ default: 7, minimum: 1, maximum: 3650 }),
      verifyTimeoutSeconds: Type.Integer({ default: 600, minimum: 1, maximum: 3600 }),
      notifyTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
    },
    { additionalProperties: false },
  ),
  steps: [
    {
      id: 'list-candidates',
      kind: 'action',
      title: 'List what a cleanup would delete (nothing is deleted)',
      action: 'ssm.runCommand',
      with: {
        instanceId: expr('params.instanceId'),
        documentName: 'AWS-RunShellScript',
        parameters: { commands: ['df -h', expr(FIND.$expr + ' & " -printf \'%s %p\\\\n\' | sort -rn | head -500"')] },
        comment: 'firebreak: disk-full dry listing',
      },
      timeout: '10m',
      heartbeatTimeout: '1m',
    },
    {
      id: 'approve-cleanup',
      kind: 'approval',
      title: 'Delete the listed files?',
      instructions: 'Review the listing (step list-candidates, its stdout): approving deletes exactly those files.',
      approvers: { roles: ['on-call'], min: 1 },
      allowSelfApproval: true,
      timeout: '30m',
      onTimeout: 'reject',
    },
    {
      id: 'cleanup',
      kind: 'action',
      title: 'Delete the listed files',
      action: 'ssm.runCommand',
      with: {
        instanceId: expr('params.instanceId'),
        documentName: 'AWS-RunShellScript',
        parameters: { commands: [expr(FIND.$expr + " & ' -print -delete'"), 'df -h'] },
        comment: 'firebreak: disk-full cleanup',
      },
      timeout: '30m',
      heartbeatTimeout: '1m',
      // Deleting again what is already gone is harmless, but a half-run find is not worth a blind retry.
      retry: { maximumAttempts: 2 },
    },
    verifyAlarmOk('Wait for the disk alarm to return to OK'),
    {
      id: 'notify',
      kind: 'action',
      title: 'Notify the outcome',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr(
          "(steps.verify.status = 'succeeded' ? 'firebreak: disk freed on ' : 'firebreak: disk still full on ') & params.instanceId",
        ),
        message: {
          event: expr("steps.verify.status = 'succeeded' ? 'disk-freed' : 'disk-still-full'"),
          instanceId: expr('params.instanceId'),
          alarmName: expr('params.alarmName'),
        },
      },
    },
  ],
});
