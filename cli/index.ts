/**
 * `firebreak`: the command-line client of the firebreak API. One file per command group under cli/commands/, each
 * registering its commands on the program with the shared API client (cli/client.ts); a new group (run, approve,
 * watch ...) adds a file and one line below.
 */
import { Command, CommanderError } from 'commander';
import { ApiClient } from './client';
import { CliError, EXIT } from './errors';
import { resolveTarget } from './config';
import { registerApprovals } from './commands/approvals';
import { registerDrill } from './commands/drill';
import { registerExecutions } from './commands/executions';
import { registerForensics } from './commands/forensics';
import { registerIncidents } from './commands/incidents';
import { registerPlan } from './commands/plan';
import { registerRunbooks } from './commands/runbooks';

export interface GlobalOptions {
  url?: string;
  token?: string;
}

/** What every command group receives: the API client, built when a command first needs it. */
export interface CommandContext {
  api(): ApiClient;
}

export function buildProgram(): Command {
  const program = new Command('firebreak')
    .description('firebreak: runbook-as-code incident response for AWS')
    .option('--url <url>', 'API base URL (else FIREBREAK_URL, else the config file)')
    .option('--token <token>', 'API bearer token (else FIREBREAK_TOKEN, else the config file)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const context: CommandContext = {
    api: () => new ApiClient(resolveTarget(program.opts<GlobalOptions>())),
  };
  registerRunbooks(program, context);
  registerPlan(program, context);
  registerExecutions(program, context);
  registerApprovals(program, context);
  registerIncidents(program, context);
  registerForensics(program, context);
  registerDrill(program);
  // Every command and sub-command reports usage errors to main() instead of exiting on its own.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is a usage error (it printed why).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`firebreak: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`firebreak: ${(err as Error)?.message ?? String(err)}\n`);
    return EXIT.failed;
  }
}
