/**
 * The variables of a ClusterClass: the subset of OpenAPI v3 their schemas may use, the check of a schema, and the
 * check of a value against one. Learnt from cluster-api internal/topology/variables (clusterclass_variable_validation.go:
 * what a variable's schema may say; cluster_variable_validation.go: a Cluster's values checked against the class's
 * schemas; cluster_variable_defaulting.go: defaults filled from the schema) and api/core/v1beta1/clusterclass_types.go
 * (JSONSchemaProps). Cluster API converts the schema to apiextensions and runs the API server's validator; this is a
 * small validator of its own over the documented subset:
 *
 *   type (string, integer, number, boolean, object, array), enum, default, minimum, maximum, minLength, maxLength,
 *   pattern, required, properties, items, description.
 *
 * Anything else in a schema is refused, so a class never relies on a rule that would not be enforced.
 */
import { jsonEqual } from './kind.js';
import { isPlainObject } from './common.js';

export const VARIABLE_TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** A variable's schema, as the subset above allows. */
export interface VariableSchema {
  type: VariableType;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  required?: string[];
  properties?: Record<string, VariableSchema>;
  items?: VariableSchema;
}

/** The OpenAPI v3 keywords a variable schema may use: the documented subset. */
export const SCHEMA_KEYS: ReadonlySet<string> = new Set([
  'type',
  'description',
  'enum',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'required',
  'properties',
  'items',
]);
/** Deep enough for any configuration a class offers; a bound so a hostile schema cannot recurse without end. */
export const MAX_SCHEMA_DEPTH = 8;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** One thing wrong with a schema: where (relative to the schema), what, and Kubernetes' cause type. */
export interface SchemaProblem {
  path: PropertyKey[];
  message: string;
  reason?: 'FieldValueRequired' | 'FieldValueForbidden';
  value?: unknown;
}

/** What is wrong with a schema outside the subset (empty when it is sound), each with its path under the schema. */
export function variableSchemaProblems(schema: unknown, path: PropertyKey[] = [], depth = 0): SchemaProblem[] {
  if (!isPlainObject(schema)) return [{ path, message: 'must be an object (an OpenAPI v3 schema)' }];
  if (depth > MAX_SCHEMA_DEPTH) return [{ path, reason: 'FieldValueForbidden', message: `schemas may nest at most ${MAX_SCHEMA_DEPTH} levels deep` }];
  const out: SchemaProblem[] = [];
  const at = (key: PropertyKey, ...rest: PropertyKey[]) => [...path, key, ...rest];
  for (const k of Object.keys(schema).sort())
    if (!SCHEMA_KEYS.has(k))
      out.push({ path: at(k), reason: 'FieldValueForbidden', message: `not in the supported subset of OpenAPI v3 (${[...SCHEMA_KEYS].join(', ')})` });
  const type = schema['type'];
  if (type === undefined) return [...out, { path: at('type'), reason: 'FieldValueRequired', message: `one of ${VARIABLE_TYPES.join(', ')}` }];
  if (!VARIABLE_TYPES.includes(type as VariableType))
    return [...out, { path: at('type'), value: type, message: `supported values: ${VARIABLE_TYPES.join(', ')}` }];
  const numeric = type === 'integer' || type === 'number';
  const only = (key: string, allowed: boolean, what: string) => {
    if (schema[key] !== undefined && !allowed) out.push({ path: at(key), reason: 'FieldValueForbidden', message: `applies to ${what} only` });
  };
  only('minimum', numeric, 'integer and number');
  only('maximum', numeric, 'integer and number');
  only('minLength', type === 'string', 'string');
  only('maxLength', type === 'string', 'string');
  only('pattern', type === 'string', 'string');
  only('properties', type === 'object', 'object');
  only('required', type === 'object', 'object');
  only('items', type === 'array', 'array');
  for (const key of ['minimum', 'maximum'])
    if (numeric && schema[key] !== undefined && typeof schema[key] !== 'number') out.push({ path: at(key), value: schema[key], message: 'must be a number' });
  for (const key of ['minLength', 'maxLength'])
    if (schema[key] !== undefined && !isCount(schema[key])) out.push({ path: at(key), value: schema[key], message: 'must be an integer >= 0' });
  if (schema['description'] !== undefined && typeof schema['description'] !== 'string') out.push({ path: at('description'), message: 'must be a string' });
  if (type === 'string' && schema['pattern'] !== undefined) {
    if (typeof schema['pattern'] !== 'string') out.push({ path: at('pattern'), message: 'must be a string' });
    else
      try {
        new RegExp(schema['pattern'], 'u');
      } catch {
        out.push({ path: at('pattern'), value: schema['pattern'], message: 'must be a valid regular expression' });
      }
  }
  if (type === 'array') {
    if (schema['items'] === undefined) out.push({ path: at('items'), reason: 'FieldValueRequired', message: 'an array variable needs a schema for its items' });
    else out.push(...variableSchemaProblems(schema['items'], at('items'), depth + 1));
  }
  if (type === 'object') {
    const props = schema['properties'];
    if (props === undefined) out.push({ path: at('properties'), reason: 'FieldValueRequired', message: 'an object variable lists its properties' });
    else if (!isPlainObject(props)) out.push({ path: at('properties'), message: 'must be a map of schemas' });
    else for (const [name, sub] of Object.entries(props)) out.push(...variableSchemaProblems(sub, at('properties', name), depth + 1));
    const req = schema['required'];
    if (req !== undefined) {
      if (!Array.isArray(req) || !req.every((r) => typeof r === 'string')) out.push({ path: at('required'), message: 'must be a list of property names' });
      else
        req.forEach((r, i) => {
          if (isPlainObject(props) && !(r in props)) out.push({ path: at('required', i), value: r, message: 'must name one of properties' });
        });
    }
  }
  if (out.length) return out;
  // The schema is sound: its enum values and default must satisfy it (as Cluster API checks the default).
  const s = schema as unknown as VariableSchema;
  if (schema['enum'] !== undefined) {
    if (!Array.isArray(schema['enum']) || schema['enum'].length === 0) out.push({ path: at('enum'), message: 'must be a non-empty list' });
    else {
      const { enum: _e, ...rest } = s;
      schema['enum'].forEach((v, i) => {
        for (const m of valueErrors(rest as VariableSchema, v)) out.push({ path: at('enum', i), value: v, message: m });
      });
    }
  }
  if (schema['default'] !== undefined)
    for (const m of valueErrors(s, schema['default'])) out.push({ path: at('default'), value: schema['default'], message: m });
  return out;
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Why `value` does not satisfy `schema` (an empty list when it does), each message led by the JSON pointer of
 * the part at fault when it is not the value itself. `schema` is one `variableSchemaCauses` found sound.
 */
export function valueErrors(schema: VariableSchema, value: unknown, at = ''): string[] {
  const where = (m: string) => (at ? `${at}: ${m}` : m);
  const type = schema.type;
  const ok =
    type === 'integer'
      ? typeof value === 'number' && Number.isInteger(value)
      : type === 'number'
        ? typeof value === 'number'
        : type === 'object'
          ? isPlainObject(value)
          : type === 'array'
            ? Array.isArray(value)
            : typeof value === type;
  if (!ok) return [where(`must be of type ${type}, not ${typeName(value)}`)];
  const out: string[] = [];
  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, value))) out.push(where(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`));
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(where(`must be greater than or equal to ${schema.minimum}`));
    if (schema.maximum !== undefined && value > schema.maximum) out.push(where(`must be less than or equal to ${schema.maximum}`));
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) out.push(where(`must be at least ${schema.minLength} characters long`));
    if (schema.maxLength !== undefined && length > schema.maxLength) out.push(where(`must be at most ${schema.maxLength} characters long`));
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      out.push(where(`must match the pattern ${JSON.stringify(schema.pattern)}`));
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => {
      out.push(...valueErrors(schema.items!, item, `${at}/${i}`));
    });
  if (isPlainObject(value)) {
    const props = schema.properties ?? {};
    for (const r of schema.required ?? []) if (value[r] === undefined) out.push(`${at}/${r}: Required value`);
    for (const [k, v] of Object.entries(value)) {
      const sub = props[k];
      if (!sub) out.push(`${at}/${k}: unknown field`);
      else out.push(...valueErrors(sub, v, `${at}/${k}`));
    }
  }
  return out;
}

/**
 * The value with the schema's defaults filled in where it leaves properties out (as Cluster API defaults
 * variables); `undefined` stays undefined unless the schema has a default.
 */
export function withDefaults(schema: VariableSchema, value: unknown): unknown {
  const v = value === undefined ? structuredClone(schema.default) : value;
  if (isPlainObject(v) && schema.properties) {
    const out: Record<string, unknown> = { ...v };
    for (const [k, sub] of Object.entries(schema.properties)) {
      const d = withDefaults(sub, out[k]);
      if (d !== undefined) out[k] = d;
    }
    return out;
  }
  if (Array.isArray(v) && schema.items) return v.map((item) => withDefaults(schema.items!, item));
  return v;
}
