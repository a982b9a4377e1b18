/**
 * Request validation: two Ajv instances with Fastify's own defaults, one per kind of input. Query strings and path
 * parameters arrive as text, so they are coerced to the schema's types (`pageSize=50`); JSON bodies are not coerced
 * at all: `{"reason": false}` is a 400, not the reason "false" (schemathesis found that one).
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isRfc3339Time } from './time';

function ajv(coerceTypes: false | 'array'): Ajv {
  const instance = new Ajv({
    coerceTypes,
    useDefaults: true,
    // Unknown properties are refused by the schemas (additionalProperties: false), never silently dropped.
    removeAdditional: false,
    // Every problem at once, so a caller fixes a request in one go (the inputs are small and their patterns simple).
    allErrors: true,
    addUsedSchema: false,
  });
  addFormats(instance);
  // `date-time` as isRfc3339Time checks it: a time that exists, with a `T` and a zone.
  instance.addFormat('date-time', { type: 'string', validate: isRfc3339Time });
  return instance;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = ajv(false);
  const text = ajv('array');
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}
