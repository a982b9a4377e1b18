/**
 * Step shapes several runbooks share, so they stay the same everywhere (same timeouts, same params).
 */
import { expr, type ActionStepOf } from './dsl/types';

/**
 * Verification: waits for the runbook's `alarmName` alarm to be back in OK for up to `params.verifyTimeoutSeconds`
 * (the runbook declares both params). A timeout is recorded and the runbook goes on, so the notification that follows
 * can say whether it held.
 */
export function verifyAlarmOk(title: string): ActionStepOf<'cloudwatch.waitForAlarmState'> {
  return {
    id: 'verify',
    kind: 'action',
    title,
    action: 'cloudwatch.waitForAlarmState',
    with: {
      alarmName: expr('params.alarmName'),
      state: 'OK',
      timeoutSeconds: expr('params.verifyTimeoutSeconds'),
      pollIntervalMs: 2000,
    },
    timeout: '70m',
    heartbeatTimeout: '1m',
    retry: { maximumAttempts: 1 },
    continueOnError: true,
  };
}
