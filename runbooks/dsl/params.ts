/**
 * Validation of runbook parameters against the runbook's JSON schema (TypeBox at definition time, plain JSON once
 * pinned). Ajv, with defaults applied; deterministic, so both the API and the workflow use it.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
const cache = new Map<string, ValidateFunction>();

export interface FieldError {
  /** JSON pointer of the field, e.g. `/instanceId`. */
  path: string;
  message: string;
}

export type ParamsResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: FieldError[] };

/** Compiles a schema (checks it is a valid JSON schema); throws Ajv's error when it is not. */
export function compileParamsSchema(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = cache.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(key, fn);
  }
  return fn;
}

/** Validates params against the schema, applying defaults to a copy. */
export function validateParams(schema: object, params: unknown): ParamsResult {
  const validate = compileParamsSchema(schema);
  const value = params === undefined ? {} : JSON.parse(JSON.stringify(params));
  if (validate(value)) return { ok: true, value: value as Record<string, unknown> };
  return { ok: false, errors: (validate.errors ?? []).map(toFieldError) };
}

function toFieldError(e: ErrorObject): FieldError {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { path: `${e.instancePath}/${missing}`, message: 'is required' };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: `${e.instancePath}/${extra}`, message: 'is not an allowed parameter' };
  }
  return { path: e.instancePath || '/', message: e.message ?? e.keyword };
}
