/**
 * `npm run drill -- <command>`: drills against a throw-away emulated account (moto at FIREBREAK_DRILL_AWS_ENDPOINT,
 * never real AWS), with a scorecard, and scheduled drills as Temporal Schedules.
 *
 *   run <scenario> [--approvals auto|manual] [--json]   one drill now (scenario: drills/<name>.json, or a path)
 *   schedule create <scenario> --cron "<expr>"          a Temporal Schedule starting it (run by `worker`)
 *   schedule list [--json] | pause <id> [--note] | unpause <id> | trigger <id> | delete <id>
 *   worker                                               the drill runner serving scheduled drills
 *
 * Exit codes: 0 passed (or done), 1 the drill failed, 2 refused or invalid (one line on stderr).
 */
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { runbooks } from '../runbooks';
import { RunbookRegistry } from '../runbooks/registry';
import { createLogger } from '../telemetry/logger';
import { runtimeOptions } from '../worker/runtime';
import { formatScorecard, runDrill } from '../drills/run';
import { createDrillRunner } from '../drills/runner';
import { loadScenario } from '../drills/scenario';
import {
  createDrillSchedule,
  deleteDrillSchedule,
  listDrillSchedules,
  pauseDrillSchedule,
  unpauseDrillSchedule,
} from '../drills/schedules';

class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'DRILL_USAGE';
}

function drillConfig(): Config & { drillEndpoint: string } {
  const config = loadConfig();
  if (!config.drillEndpoint) {
    throw new UsageError(
      'FIREBREAK_DRILL_AWS_ENDPOINT must name the AWS emulator (moto) drills run in, e.g. http://127.0.0.1:5055',
    );
  }
  return config as Config & { drillEndpoint: string };
}

async function withClient<T>(config: Config, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    return await fn(new Client({ connection, namespace: config.temporalNamespace }));
  } finally {
    await connection.close();
  }
}

const program = new Command('drill').description('firebreak drills in a throw-away emulated account');

program
  .command('run <scenario>')
  .option('--approvals <who>', 'auto (the drill approver) or manual (a person, through the API or console)', 'auto')
  .option('--json', 'print the scorecard as JSON')
  .action(async (name: string, opts: { approvals: string; json?: boolean }) => {
    if (opts.approvals !== 'auto' && opts.approvals !== 'manual') throw new UsageError('--approvals: auto or manual');
    const config = drillConfig();
    const scenario = loadScenario(name);
    const runbook = new RunbookRegistry(runbooks).get(scenario.runbook);
    if (!runbook) throw new UsageError(`scenario ${name} names unknown runbook ${scenario.runbook}`);
    const log = createLogger('firebreak-drill', config.logLevel);
    Runtime.install(runtimeOptions({ logLevel: 'warn' }, log));
    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    try {
      const card = await withClient(config, (client) =>
        runDrill({
          client,
          connection,
          runbook,
          scenario,
          endpoint: config.drillEndpoint,
          region: config.awsRegion,
          namespace: config.temporalNamespace,
          approvals: opts.approvals as 'auto' | 'manual',
          log: (line) => process.stderr.write(`${line}\n`),
        }),
      );
      process.stdout.write(`${opts.json ? JSON.stringify(card, null, 2) : formatScorecard(card)}\n`);
      process.exitCode = card.passed ? 0 : 1;
    } finally {
      await connection.close();
    }
  });

const schedule = program.command('schedule').description('scheduled drills (Temporal Schedules)');
schedule
  .command('create <scenario>')
  .requiredOption('--cron <expr>', 'when, as a cron expression (UTC), e.g. "0 10 * * 1"')
  .action(async (name: string, opts: { cron: string }) => {
    const config = loadConfig();
    const id = await withClient(config, (client) => createDrillSchedule(client, { scenario: name, cron: opts.cron }));
    process.stdout.write(`${id}\n`);
  });
schedule
  .command('list')
  .option('--json', 'as JSON')
  .action(async (opts: { json?: boolean }) => {
    const list = await withClient(loadConfig(), listDrillSchedules);
    if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    for (const s of list) {
      process.stdout.write(
        `${s.scheduleId}  ${s.scenario ?? '?'}  ${s.paused ? `PAUSED (${s.note ?? ''})` : 'active'}  next ${s.nextRuns[0] ?? '-'}\n`,
      );
    }
  });
schedule
  .command('pause <id>')
  .option('--note <text>', 'why', 'paused from the drill CLI')
  .action((id: string, opts: { note: string }) =>
    withClient(loadConfig(), (client) => pauseDrillSchedule(client, id, opts.note)),
  );
schedule
  .command('unpause <id>')
  .action((id: string) => withClient(loadConfig(), (client) => unpauseDrillSchedule(client, id)));
schedule
  .command('trigger <id>')
  .action((id: string) => withClient(loadConfig(), (client) => client.schedule.getHandle(id).trigger()));
schedule
  .command('delete <id>')
  .action((id: string) => withClient(loadConfig(), (client) => deleteDrillSchedule(client, id)));

program.command('worker').action(async () => {
  const config = drillConfig();
  const log = createLogger('firebreak-drill-runner', config.logLevel);
  Runtime.install(runtimeOptions(config, log));
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const runner = await createDrillRunner({
    client: new Client({ connection: clientConnection, namespace: config.temporalNamespace }),
    connection,
    registry: new RunbookRegistry(runbooks),
    endpoint: config.drillEndpoint,
    region: config.awsRegion,
    namespace: config.temporalNamespace,
  });
  log.info({ endpoint: config.drillEndpoint }, 'drill runner started');
  await runner.run();
  await clientConnection.close();
  await connection.close();
});

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as Error;
  const known = e instanceof UsageError || e instanceof ConfigError || e.name === 'ScenarioError';
  process.stderr.write(`drill: ${e.message}\n`);
  if (!known && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${e.stack}\n`);
  process.exit(known ? 2 : 1);
});
