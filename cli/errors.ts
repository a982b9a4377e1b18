/**
 * CLI failures and their exit codes: 0 ok, 1 refused or failed (the API said no, a check failed), 2 usage.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Something the API refused or a check that failed: one line, exit 1. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number = EXIT.failed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The command was called wrongly: exit 2. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  override readonly exitCode = EXIT.usage;
}
