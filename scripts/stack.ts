/**
 * Starting and stopping the local stack's processes: the Temporal dev server and the moto AWS emulator.
 * Shared by `npm start` (scripts/start.ts) and the jest global setup, so both run the same real parts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { searchAttributeFlags } from '../workflows/search-attributes';

export const ROOT = path.resolve(__dirname, '..');
const TOOLS_BIN = path.join(ROOT, '.tools', 'venv', 'bin');

/** A binary from .tools/ (installed by scripts/tools.sh), else from PATH. */
export function toolPath(name: string): string {
  const local = path.join(TOOLS_BIN, name);
  return existsSync(local) ? local : name;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function waitForPort(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 60_000,
  proc?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.exitCode !== null)
      throw new Error(`${proc.spawnfile} exited with code ${proc.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export interface Started {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function spawnLogged(cmd: string, args: string[], logFile?: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const proc = spawn(cmd, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env }, detached: false });
  // The child holds its own copy of the log descriptor.
  if (typeof out === 'number') closeSync(out);
  // A missing binary surfaces as an exit, which waitForPort reports with the command's name.
  proc.on('error', (err) => {
    console.error(`${cmd}: ${err.message}`);
  });
  return proc;
}

/** Stops a child with SIGTERM, then SIGKILL after a grace period. */
export function stopProcess(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export interface TemporalOptions {
  port: number;
  /** Web UI port; omitted means headless. */
  uiPort?: number;
  /** SQLite file; omitted means in memory. */
  dbFile?: string;
  logFile?: string;
}

export async function startTemporal(opts: TemporalOptions): Promise<Started> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  args.push(...searchAttributeFlags());
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  const proc = spawnLogged(toolPath('temporal'), args, opts.logFile);
  await waitForPort(opts.port, '127.0.0.1', 60_000, proc);
  return { proc, stop: () => stopProcess(proc) };
}

export interface MotoOptions {
  port: number;
  logFile?: string;
  /** The account moto acts as for unscoped credentials (moto's `MOTO_ACCOUNT_ID`; its default is 123456789012). */
  accountId?: string;
}

export async function startMoto(opts: MotoOptions): Promise<Started> {
  const proc = spawnLogged(
    toolPath('moto_server'),
    ['-H', '127.0.0.1', '-p', String(opts.port)],
    opts.logFile,
    opts.accountId ? { MOTO_ACCOUNT_ID: opts.accountId } : undefined,
  );
  await waitForPort(opts.port, '127.0.0.1', 60_000, proc);
  return { proc, stop: () => stopProcess(proc) };
}

/** Credentials moto accepts; real AWS never sees them (the emulator switch sets them only for the emulator). */
export const EMULATOR_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
