import { fromEventBridge, fromSnsNotification } from '../../alerts/dispatch';
import { parseSnsBody, type SnsNotification } from '../../alerts/sns';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { AlertRouter, globMatch } from '../../alerts/router';
import { fixture } from './helpers';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:sev2-pager';
const registry = new RunbookRegistry([ec2Compromise]);
const router = new AlertRouter(registry, {
  topics: { SEV2: TOPIC, default: 'arn:aws:sns:eu-west-1:111122223333:ops' },
});

function finding(severity = 8, type = 'CryptoCurrency:EC2/BitcoinTool.B!DNS') {
  const event = fixture('eventbridge-guardduty-finding.json');
  event.detail.severity = severity;
  event.detail.type = type;
  return fromEventBridge(event);
}

test('a GuardDuty finding on an instance routes to ec2-compromise with the instance and the SEV2 topic', async () => {
  const decision = await router.route(finding(), 'incident-x');
  expect(decision).toMatchObject({
    kind: 'runbook',
    runbook: { definition: { id: 'ec2-compromise' } },
    triggerIndex: 0,
    severity: 'SEV2',
    params: { instanceId: 'i-0a1b2c3d4e5f60718', notifyTopicArn: TOPIC, quarantineGroupName: 'firebreak-quarantine' },
  });
});

test('minSeverity: a low-severity finding of the same type starts nothing', async () => {
  const decision = await router.route(finding(2), 'incident-x');
  expect(decision).toMatchObject({ kind: 'none', severity: 'SEV4', reason: 'no runbook trigger matches this alert' });
});

test('finding types outside the trigger patterns start nothing', async () => {
  expect((await router.route(finding(8, 'Recon:EC2/PortProbeUnprotectedPort'), 'x')).kind).toBe('none');
});

test('a CloudWatch egress-spike alarm on an instance routes; an ALB 5xx alarm does not', async () => {
  const sns = parseSnsBody(fixture('sns-notification-cloudwatch-alarm.json')) as SnsNotification;
  const decision = await router.route(fromSnsNotification(sns), 'x');
  expect(decision).toMatchObject({ kind: 'runbook', triggerIndex: 1, params: { instanceId: 'i-0a1b2c3d4e5f60718' } });
  const alb = fromEventBridge(fixture('eventbridge-cloudwatch-alarm-state-change.json'));
  expect((await router.route(alb, 'x')).kind).toBe('none');
});

test('a match whose params are invalid (no notification topic) is an incident without automation, with the errors', async () => {
  const bare = new AlertRouter(registry, { topics: {} });
  const decision = await bare.route(finding(), 'x');
  expect(decision).toMatchObject({
    kind: 'none',
    runbookId: 'ec2-compromise',
    fieldErrors: [{ path: '/notifyTopicArn', message: 'is required' }],
  });
});

test('glob patterns are anchored, escape regex characters and support * and ?', () => {
  expect(globMatch('UnauthorizedAccess:EC2/*', 'UnauthorizedAccess:EC2/SSHBruteForce')).toBe(true);
  expect(globMatch('UnauthorizedAccess:EC2/*', 'X-UnauthorizedAccess:EC2/SSHBruteForce')).toBe(false);
  expect(globMatch('*egress-spike*', 'web-egress-spike')).toBe(true);
  expect(globMatch('a.b', 'axb')).toBe(false);
  expect(globMatch('db-?', 'db-1')).toBe(true);
  expect(globMatch('db-?', 'db-12')).toBe(false);
  expect(globMatch('*', undefined)).toBe(false);
});
