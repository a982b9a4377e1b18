import { createHash } from 'node:crypto';

/** The definition as plain JSON: what the workflow receives and the digest covers (TypeBox's symbols dropped). */
export function toPlain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** JSON with object keys sorted, so that equal definitions hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON of a definition. */
export function digestOf(definition: unknown): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(toPlain(definition)))
    .digest('hex')}`;
}
