/**
 * JSONata expressions: parsing for load-time checks and evaluation for the workflow. Pure and deterministic (no eval,
 * no I/O), so the workflow sandbox can use it.
 */
import jsonata from 'jsonata';
import type { Expr } from './types';

export function isExpr(v: unknown): v is Expr {
  return typeof v === 'object' && v !== null && typeof (v as Expr).$expr === 'string' && Object.keys(v).length === 1;
}

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  readonly code = 'EXPRESSION_INVALID';
  constructor(
    message: string,
    readonly expression: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Compiled expressions by source. Compiling is pure and evaluation takes its input per call, so one compiled
 * expression serves every evaluation (in the workflow sandbox too: the cache holds no execution state).
 */
const compiled = new Map<string, jsonata.Expression>();
const MAX_COMPILED = 1000;

/** Parses an expression; throws ExpressionError with JSONata's reason. */
export function parseExpression(source: string): jsonata.Expression {
  const cached = compiled.get(source);
  if (cached) return cached;
  try {
    const expression = jsonata(source);
    // Bounded: sources come from runbook definitions, a small set; pinned old versions add a few more.
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(source, expression);
    return expression;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new ExpressionError(
      `${e.message ?? String(err)}${e.position !== undefined ? ` at ${e.position}` : ''}`,
      source,
      {
        cause: err,
      },
    );
  }
}

/** The names an expression reads under a root: `steps.<id>` paths for 'steps', `params.<name>` for 'params'. */
export function referencedNames(source: string, root: 'steps' | 'params'): string[] {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; steps?: { type?: string; value?: unknown }[] };
    if (n.type === 'path' && Array.isArray(n.steps) && n.steps.length >= 2) {
      const [head, second] = n.steps;
      if (head.type === 'name' && head.value === root && second.type === 'name' && typeof second.value === 'string') {
        found.add(second.value);
      }
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  walk(parseExpression(source).ast());
  return [...found];
}

/** Every expression source inside a `with` block, with its JSON path. */
export function collectExpressions(value: unknown, path = ''): { path: string; source: string }[] {
  if (isExpr(value)) return [{ path: path || '.', source: value.$expr }];
  if (Array.isArray(value)) return value.flatMap((v, i) => collectExpressions(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => collectExpressions(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/** Evaluates one expression; `undefined` results (no match) stay undefined. */
export async function evaluate(source: string, context: object): Promise<unknown> {
  const fast = evaluatePlainPath(source, context);
  if (fast !== NOT_PLAIN) return fast;
  const expression = parseExpression(source);
  let result: unknown;
  try {
    result = await expression.evaluate(context);
  } catch (err) {
    // JSONata throws plain objects; an Error naming the expression is what a failed execution should show.
    const reason = (err as { message?: string })?.message ?? String(err);
    throw new ExpressionError(`expression "${source}" failed: ${reason}`, source, { cause: err });
  }
  return normalise(result);
}

/** Evaluates every expression inside a `with` block, leaving literals as they are. */
export async function resolveValue(value: unknown, context: object): Promise<unknown> {
  const fast = resolvePlain(value, context);
  if (fast !== NOT_PLAIN) return fast;
  if (isExpr(value)) return evaluate(value.$expr, context);
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveValue(v, context)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await resolveValue(v, context);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

/**
 * Most inputs are plain paths (`params.instanceId`, ``steps.`capture`.output.vpcId``). JSONata evaluates every node
 * of an expression through async functions, and in a workflow each promise costs a captured stack trace (the SDK's
 * promise hook, for its stack-trace query): a profile of the throughput bench put JSONata at a tenth of the workflow
 * thread's CPU. A plain path over plain objects is looked up directly, giving what JSONata gives
 * (test/runbooks/expressions.test.ts compares the two); anything else, or a path that meets an array or a non-object
 * before its last name, is left to JSONata.
 */
const NOT_PLAIN: unique symbol = Symbol('not a plain path');
const plainPaths = new Map<string, readonly string[] | null>();

/** The names of a path made only of plain names, or null. Cached by source, like compiled expressions. */
export function plainPathOf(source: string): readonly string[] | null {
  let names = plainPaths.get(source);
  if (names !== undefined) return names;
  names = null;
  try {
    const ast = parseExpression(source).ast() as { type: string; steps?: Record<string, unknown>[] };
    const plainStep = (s: Record<string, unknown>) =>
      s.type === 'name' && typeof s.value === 'string' && Object.keys(s).every((k) => PLAIN_STEP_KEYS.has(k));
    if (
      ast.type === 'path' &&
      Object.keys(ast).every((k) => k === 'type' || k === 'steps') &&
      Array.isArray(ast.steps) &&
      ast.steps.length > 0 &&
      ast.steps.every(plainStep)
    ) {
      names = ast.steps.map((s) => s.value as string);
    }
  } catch {
    // Not parseable: JSONata reports it when evaluated.
  }
  if (plainPaths.size >= MAX_COMPILED) plainPaths.delete(plainPaths.keys().next().value as string);
  plainPaths.set(source, names);
  return names;
}
const PLAIN_STEP_KEYS = new Set(['type', 'value', 'position']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function evaluatePlainPath(source: string, context: object): unknown {
  const names = plainPathOf(source);
  if (!names || !isPlainObject(context)) return NOT_PLAIN;
  let current: unknown = context;
  for (const name of names) {
    if (!isPlainObject(current)) return NOT_PLAIN;
    // An inherited name (`constructor`) is whatever JSONata makes of it: not a plain lookup.
    if (!Object.prototype.hasOwnProperty.call(current, name)) return name in current ? NOT_PLAIN : undefined;
    current = current[name];
    if (current === undefined) return undefined;
  }
  return normalise(current);
}

/** `resolveValue` without a promise per node when every expression in it is a plain path; else NOT_PLAIN. */
function resolvePlain(value: unknown, context: object): unknown {
  if (isExpr(value)) return evaluatePlainPath(value.$expr, context);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const r = resolvePlain(v, context);
      if (r === NOT_PLAIN) return NOT_PLAIN;
      out.push(r);
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolvePlain(v, context);
      if (r === NOT_PLAIN) return NOT_PLAIN;
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

// JSONata marks result sequences with extra properties; make them plain JSON so they serialise cleanly.
function normalise(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  return JSON.parse(JSON.stringify(v));
}
