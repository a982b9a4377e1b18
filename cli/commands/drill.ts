/**
 * `firebreak drill ...`: drills run next to Temporal and the emulator, not through the API (they need a worker and a
 * throw-away account), so this command hands its arguments to the drill runner (scripts/drill.ts) and returns its exit
 * code: `firebreak drill run ec2-compromise`, `firebreak drill schedule list`, ... (see `firebreak drill --help`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'drill.ts');

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('run or schedule drills in a throw-away emulated account (see `firebreak drill --help`)')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]', 'run <scenario> | schedule create|list|pause|unpause|trigger|delete | worker | --help')
    .action(async (args: string[]) => {
      process.exitCode = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      });
    });
}
