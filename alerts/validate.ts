/**
 * Shared helpers of the alert parsers: schema checks that turn Ajv errors into {@link AlertIssue}s, JSON reading,
 * time normalisation and ARN parsing. Internal to alerts/ (index.ts re-exports only what callers need).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { AlertParseError, type AlertIssue } from './errors';

// No defaults, no coercion: a parser must see the payload as sent, and must not mutate the caller's object.
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
addFormats(ajv, ['date-time']);

/** At most this many issues are reported: enough to fix a payload, not a wall of text. */
const MAX_ISSUES = 20;

/** A string enum as a plain JSON-schema `enum` (clearer errors and OpenAPI than TypeBox's union of literals). */
export function StringEnum<const T extends readonly string[]>(values: T, options: object = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** The schema, or JSON null: AWS sends `null` for many optional fields. */
export function Nullable<T extends TSchema>(schema: T) {
  const type = (schema as { type?: string }).type;
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
}

/** A compiled checker: returns the value typed, or throws an {@link AlertParseError} listing every issue. */
export interface Checker<T> {
  (value: unknown, what: string, pathPrefix?: string): T;
  schema: TSchema;
}

/** Compiles a schema once into a {@link Checker}. */
export function checker<T extends TSchema>(schema: T): Checker<Static<T>> {
  const validate: ValidateFunction = ajv.compile(schema);
  const check = (value: unknown, what: string, pathPrefix = ''): Static<T> => {
    if (validate(value)) return value as Static<T>;
    const issues = toIssues(validate.errors ?? [], pathPrefix);
    throw new AlertParseError(`${what}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  };
  return Object.assign(check, { schema });
}

function toIssues(errors: ErrorObject[], prefix: string): AlertIssue[] {
  const seen = new Set<string>();
  const out: AlertIssue[] = [];
  for (const e of errors) {
    const issue = toIssue(e, prefix);
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
    if (out.length >= MAX_ISSUES) break;
  }
  return out;
}

function toIssue(e: ErrorObject, prefix: string): AlertIssue {
  const at = (p: string) => prefix + p || '/';
  switch (e.keyword) {
    case 'required':
      return {
        path: at(`${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`),
        message: 'is required',
      };
    case 'additionalProperties':
      return {
        path: at(`${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`),
        message: 'is not an allowed property',
      };
    case 'enum':
      return {
        path: at(e.instancePath),
        message: `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')}`,
      };
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      return {
        path: at(e.instancePath),
        message: `must be ${Array.isArray(t) ? t.join(' or ') : String(t).replace(',', ' or ')}`,
      };
    }
    default:
      return { path: at(e.instancePath), message: e.message ?? e.keyword };
  }
}

/** Throws an {@link AlertParseError} with a single issue. */
export function malformed(what: string, path: string, message: string, cause?: unknown): never {
  throw new AlertParseError(`${what}: ${path} ${message}`, [{ path, message }], { cause });
}

/**
 * Reads a JSON object from a request body: a string (SNS posts text/plain), a Buffer, or an already parsed value.
 * Arrays, scalars, empty and unreadable bodies are a parse error.
 */
export function readJsonObject(body: unknown, what: string, path = '/'): Record<string, unknown> {
  let value = body;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) value = Buffer.from(body).toString('utf8');
  if (typeof value === 'string') {
    if (value.trim() === '') malformed(what, path, 'is empty');
    try {
      value = JSON.parse(value);
    } catch (err) {
      malformed(what, path, `is not valid JSON (${(err as Error).message})`, err);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    malformed(
      what,
      path,
      `must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

const TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Normalises a provider timestamp to ISO 8601 UTC with milliseconds. CloudWatch writes `2026-11-27T09:00:12.555+0000`
 * (no colon in the offset, which `Date` does not reliably parse); Alertmanager writes nanoseconds. A time without
 * a zone is taken as UTC. Returns undefined when the text is not such a time.
 */
export function toIsoTime(text: string): string | undefined {
  const m = TIME.exec(text.trim());
  if (!m) return undefined;
  const [, date, time, fraction = '0', zone = 'Z'] = m;
  const ms = (fraction + '00').slice(0, 3);
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const d = new Date(`${date}T${time}.${ms}${offset}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** {@link toIsoTime}, or a parse error naming the field. */
export function requireIsoTime(text: string, what: string, path: string): string {
  const iso = toIsoTime(text);
  if (iso === undefined) malformed(what, path, `is not a timestamp: ${JSON.stringify(text.slice(0, 64))}`);
  return iso;
}

/** The parts of an ARN (`arn:partition:service:region:account:resource`). */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN; undefined when the text is not one. The resource part may itself contain colons. */
export function parseArn(arn: unknown): ArnParts | undefined {
  if (typeof arn !== 'string') return undefined;
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || !parts[1] || !parts[2]) return undefined;
  return {
    partition: parts[1],
    service: parts[2],
    region: parts[3],
    account: parts[4],
    resource: parts.slice(5).join(':'),
  };
}

/** A non-empty string, or undefined: AWS fields may be absent, null or empty. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Drops undefined values so that labels stay `Record<string, string>`. */
export function compactLabels(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}
