/**
 * Times as the API accepts them: RFC 3339 with a `T` and a zone, a date that exists (no February 30), and a time
 * Date can represent (no leap second `23:59:60`, which ajv-formats allows and `new Date` turns into a RangeError).
 */
import { fullFormats } from 'ajv-formats/dist/formats';

const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean };
const SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

export function isRfc3339Time(value: unknown): value is string {
  return typeof value === 'string' && SHAPE.test(value) && rfc3339.validate(value) && !Number.isNaN(Date.parse(value));
}
