/**
 * Where the CLI finds the API: `--url`/`--token`, else FIREBREAK_URL/FIREBREAK_TOKEN, else the config file
 * (`$FIREBREAK_CONFIG`, or `$XDG_CONFIG_HOME/firebreak/config.json`, default `~/.config/firebreak/config.json`)
 * holding `{ "url": "...", "token": "..." }`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from './errors';

export interface ApiTarget {
  url: string;
  token?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FIREBREAK_CONFIG) return env.FIREBREAK_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'firebreak', 'config.json');
}

export function resolveTarget(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): ApiTarget {
  const file = configPath(env);
  let stored: { url?: unknown; token?: unknown } = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const url = flags.url ?? env.FIREBREAK_URL ?? (typeof stored.url === 'string' ? stored.url : undefined);
  const token = flags.token ?? env.FIREBREAK_TOKEN ?? (typeof stored.token === 'string' ? stored.token : undefined);
  if (!url) throw new UsageError(`no API URL: pass --url, set FIREBREAK_URL, or write "url" in ${file}`);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  return { url: url.replace(/\/$/, ''), token };
}
