import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';
import { verifyAlarmOk } from './steps';

const VERSION = expr('steps.`previous-version`.output.value');

/**
 * A deploy gone bad (5xx or latency alarm): roll the fleet back to the previous release, whose version the deploy
 * pipeline records in an SSM parameter, by an SSM Automation document or a Run Command on the fleet's tag. On-call may
 * stop it within 10 minutes; nobody objecting rolls back. Verification: the alarm must be OK again before the
 * deadline, else the escalation topic hears of it. There is no rollback of a rollback: rolling forward to the bad
 * release again is a deploy, not an undo.
 */
export const badDeployRollback = defineRunbook({
  id: 'bad-deploy-rollback',
  version: '1.0.0',
  title: 'Roll back a bad deploy',
  description:
    'Read the previous release from an SSM parameter and roll the fleet back to it (SSM Automation or Run Command), ' +
    'then verify that the alarm returns to OK within a deadline, else escalate.',
  incidentType: 'bad-deploy',
  severity: 'SEV2',
  triggers: [
    {
      sources: ['cloudwatch'],
      alarmNames: ['*-5xx*', '*-latency*', '*deploy-health*'],
      params: { alarmName: expr('alert.name'), notifyTopicArn: expr('notify.topicArn') },
    },
  ],
  params: Type.Object(
    {
      alarmName: Type.String({ minLength: 1, maxLength: 255, description: 'The 5xx / latency alarm' }),
      versionParameter: Type.String({
        default: '/app/previous-version',
        minLength: 1,
        description: 'SSM parameter holding the release to go back to',
      }),
      mode: Type.Union([Type.Literal('command'), Type.Literal('automation')], { default: 'command' }),
      automationDocument: Type.String({ default: 'AppRollback', minLength: 1 }),
      /** The automation document's parameter that takes the version. */
      automationVersionParameter: Type.String({ default: 'Version', minLength: 1 }),
      targetTagKey: Type.String({ default: 'app', minLength: 1, description: "The fleet's tag (command mode)" }),
      targetTagValue: Type.String({ default: 'web', minLength: 1 }),
      rollbackCommand: Type.String({
        default: '/opt/app/bin/deploy --version {{version}}',
        minLength: 1,
        description: 'Shell command run on every target; {{version}} becomes the previous release',
      }),
      verifyTimeoutSeconds: Type.Integer({ default: 900, minimum: 1, maximum: 3600 }),
      notifyTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
      escalationTopicArn: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:sns:' })),
    },
    { additionalProperties: false },
  ),
  steps: [
    {
      id: 'check-alarm',
      kind: 'action',
      title: 'Read the alarm',
      action: 'cloudwatch.describeAlarm',
      with: { alarmName: expr('params.alarmName') },
    },
    {
      id: 'previous-version',
      kind: 'action',
      title: 'Read the previous release',
      action: 'ssm.getParameter',
      with: { name: expr('params.versionParameter') },
    },
    {
      id: 'approve-rollback',
      kind: 'approval',
      title: 'Roll the fleet back to the previous release?',
      instructions: 'Rejecting stops here; no decision in 10 minutes rolls back.',
      approvers: { roles: ['on-call', 'release-manager'], min: 1 },
      allowSelfApproval: true,
      timeout: '10m',
      onTimeout: 'approve',
    },
    {
      id: 'rollback-automation',
      kind: 'action',
      title: 'Run the rollback Automation document',
      when: "params.mode = 'automation'",
      action: 'ssm.startAutomation',
      with: {
        documentName: expr('params.automationDocument'),
        parameters: expr('{ params.automationVersionParameter: [steps.`previous-version`.output.value] }'),
      },
      timeout: '1h',
      heartbeatTimeout: '1m',
    },
    {
      id: 'rollback-command',
      kind: 'action',
      title: 'Run the rollback command on every instance of the fleet',
      when: "params.mode = 'command'",
      action: 'ssm.runCommand',
      with: {
        targets: [{ key: expr("'tag:' & params.targetTagKey"), values: [expr('params.targetTagValue')] }],
        documentName: 'AWS-RunShellScript',
        parameters: { commands: [expr("$replace(params.rollbackCommand, '{{version}}', " + VERSION.$expr + ')')] },
        comment: 'firebreak: roll back a bad deploy',
      },
      timeout: '1h',
      heartbeatTimeout: '1m',
    },
    verifyAlarmOk('Wait for the alarm to return to OK'),
    {
      id: 'escalate',
      kind: 'action',
      title: 'Escalate: the alarm did not recover',
      when: "steps.verify.status = 'failed'",
      action: 'sns.publish',
      with: {
        topicArn: expr('$exists(params.escalationTopicArn) ? params.escalationTopicArn : params.notifyTopicArn'),
        subject: expr('"firebreak: rollback did not recover " & params.alarmName'),
        message: {
          event: 'rollback-not-recovered',
          alarmName: expr('params.alarmName'),
          version: VERSION,
          text: 'The fleet was rolled back but the alarm is still not OK: a human must look.',
        },
      },
    },
    {
      id: 'notify-recovered',
      kind: 'action',
      title: 'Notify: rolled back and recovered',
      when: "steps.verify.status = 'succeeded'",
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"firebreak: rolled back, " & params.alarmName & " OK"'),
        message: { event: 'rollback-recovered', alarmName: expr('params.alarmName'), version: VERSION },
      },
      continueOnError: true,
    },
  ],
});
