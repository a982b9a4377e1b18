/**
 * Child processes the chaos scenarios kill with SIGKILL: a firebreak worker (the worker-resilience tests' own
 * test/workflows/fixtures/worker-process.ts) and the API (api/server.ts), each run with tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT, waitForPort } from '../../scripts/stack';

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first output line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL, and resolves once the process is gone. */
  kill9(): Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();

/** Kills whatever is still running (afterAll): a failing scenario must not leave processes behind. */
export function killAll(): void {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  live.clear();
}

export function spawnTs(script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.pattern.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      live.delete(proc);
      resolve();
    }),
  );
  return {
    proc,
    output: () => out,
    line: (pattern, timeoutMs = 90_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${script}: no line ${pattern} within ${timeoutMs} ms; output: ${out.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        onData(Buffer.alloc(0));
      }),
    kill9: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A worker process on `taskQueue` (addresses from the environment unless `env` says otherwise), once it polls. */
export async function startWorkerProcess(taskQueue: string, env: Record<string, string> = {}): Promise<Child> {
  const child = spawnTs('test/workflows/fixtures/worker-process.ts', { FIREBREAK_TASK_QUEUE: taskQueue, ...env });
  await child.line(/worker running/);
  return child;
}

/** The API (api/server.ts) on `port`, once it listens. */
export async function startApiProcess(port: number, env: Record<string, string>): Promise<Child> {
  const child = spawnTs('api/server.ts', { FIREBREAK_API_PORT: String(port), ...env });
  await waitForPort(port, '127.0.0.1', 90_000, child.proc);
  return child;
}
