/**
 * A drill scenario (drills/<name>.json): which runbook, what to seed in the throw-away account, the params (literal
 * values, or `{ "expr": "<JSONata>" }` over the seeded environment as `seed`), the drill approver's decision per gate,
 * whether to release (roll back) the execution once it succeeded, and how long the drill may take.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import jsonata from 'jsonata';
import type { SeedResult } from '../scripts/seed';

export const DRILLS_DIR = __dirname;

export const ScenarioSchema = Type.Object(
  {
    runbook: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    seed: Type.Object({ instances: Type.Integer({ minimum: 1, maximum: 10 }) }, { additionalProperties: false }),
    params: Type.Record(Type.String(), Type.Unknown()),
    /** The drill approver's decision per approval gate; a gate not named is approved. */
    decisions: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('approve'), Type.Literal('reject')]))),
    /** Release the execution once it succeeded (the rollback is part of the drill); default true. */
    rollback: Type.Optional(Type.Boolean()),
    /** The longest the drill may take, in the `ms` format (`10m`); default 10 minutes. */
    timeout: Type.Optional(Type.String({ pattern: '^\\d+(ms|s|m|h)?$' })),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly code = 'DRILL_SCENARIO_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A scenario by name (drills/<name>.json) or by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : path.join(DRILLS_DIR, `${nameOrPath}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`cannot read drill scenario ${file}: ${(err as Error).message}`, { cause: err });
  }
  const errors = [...Value.Errors(ScenarioSchema, raw)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (errors.length > 0) throw new ScenarioError(`drill scenario ${file}: ${errors.join('; ')}`);
  return raw as Scenario;
}

/** The scenarios shipped in drills/, by name. */
export function scenarioNames(): string[] {
  return readdirSync(DRILLS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The params with every `{ expr }` evaluated over the seeded environment. */
export async function resolveParams(scenario: Scenario, seed: SeedResult): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(scenario.params)) {
    if (value && typeof value === 'object' && 'expr' in value && typeof value.expr === 'string') {
      const result = await jsonata(value.expr).evaluate({ seed });
      if (result === undefined) throw new ScenarioError(`param ${key}: ${value.expr} is undefined for this seed`);
      out[key] = result;
    } else {
      out[key] = value;
    }
  }
  return out;
}
