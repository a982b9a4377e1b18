/**
 * `--param k=v` pairs and the target flags, read against the runbook's params schema: a value is a string, unless
 * the schema types that parameter as a number, integer, boolean, array or object (then it is parsed as JSON), so
 * `--param accountId=012345678901` stays a string while `--param max=3` becomes a number.
 */
import { UsageError } from './errors';

interface ParamsSchema {
  properties?: Record<string, { type?: string | string[] }>;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseParams(pairs: string[], schema: unknown): Record<string, unknown> {
  const properties = (schema as ParamsSchema | undefined)?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--param takes key=value (got "${pair}")`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (key in out) throw new UsageError(`--param ${key} given twice`);
    const types = ([] as (string | undefined)[]).concat(properties[key]?.type);
    if (types.length > 0 && types.every((t) => t !== undefined && t !== 'string')) {
      try {
        out[key] = JSON.parse(raw);
      } catch {
        throw new UsageError(`--param ${key}: expected ${types.join(' or ')} as JSON, got ${raw}`);
      }
    } else {
      out[key] = raw;
    }
  }
  return out;
}

/** `--target-account`/`--target-region` as the API's `target`, or undefined when neither is given. */
export function targetOf(opts: { targetAccount?: string; targetRegion?: string }) {
  if (!opts.targetAccount && !opts.targetRegion) return undefined;
  return {
    ...(opts.targetAccount ? { account: opts.targetAccount } : {}),
    ...(opts.targetRegion ? { region: opts.targetRegion } : {}),
  };
}
