/**
 * The duration settings of config/env.ts: the `ms` format or plain milliseconds, defaults, and refusals that name the
 * variable and the value as written.
 */
import { ConfigError, loadConfig } from '../../config/env';

test('shutdown grace and re-open grace: defaults, ms strings and plain milliseconds', () => {
  expect(loadConfig({})).toMatchObject({ workerShutdownGraceMs: 600_000, incidentReopenGraceMs: 120_000 });
  expect(loadConfig({ FIREBREAK_WORKER_SHUTDOWN_GRACE: '90s', FIREBREAK_INCIDENT_REOPEN_GRACE: '0' })).toMatchObject({
    workerShutdownGraceMs: 90_000,
    incidentReopenGraceMs: 0,
  });
});

test('an unreadable or negative duration is refused with the variable and the value', () => {
  let error: unknown;
  try {
    loadConfig({ FIREBREAK_WORKER_SHUTDOWN_GRACE: 'soon', FIREBREAK_INCIDENT_REOPEN_GRACE: '-1m' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).details).toEqual([
    'FIREBREAK_WORKER_SHUTDOWN_GRACE: expected a duration such as 90s or 10m (got "soon")',
    'FIREBREAK_INCIDENT_REOPEN_GRACE: Expected integer to be greater or equal to 0 (got "-1m")',
  ]);
});
