import type { ApiObject, KindDef } from '../kind.js';
import { kindJsonSchema, type JsonSchema } from '../openapi.js';
import type { LabelSelector } from '../common.js';
import { labelValueError, qualifiedNameError } from '../meta.js';
import { badRequest } from './status.js';

type Expression = NonNullable<LabelSelector['matchExpressions']>[number];

/** Splits on the commas that separate requirements, not those inside `in (a,b)`. */
function requirements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((r) => r.trim());
}

function checkKey(key: string, selector: string): string {
  const e = qualifiedNameError(key);
  if (e) throw badRequest(`unable to parse label selector "${selector}": invalid label key "${key}": ${e}`);
  return key;
}

function checkValue(value: string, selector: string): string {
  const e = labelValueError(value);
  if (e) throw badRequest(`unable to parse label selector "${selector}": invalid label value "${value}": ${e}`);
  return value;
}

/**
 * Parses a `labelSelector=` query as Kubernetes writes it: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x,y)`, joined by commas (all must hold).
 */
export function parseLabelSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: Expression[] = [];
  if (text.trim() === '') return {};
  for (const req of requirements(text)) {
    const doesNotExist = /^!\s*([^\s=!(),]+)$/.exec(req);
    const equality = /^([^\s=!(),]+)\s*(==|!=|=)\s*([^\s=!(),]*)$/.exec(req);
    const set = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(req);
    const exists = /^([^\s=!(),]+)$/.exec(req);
    if (doesNotExist) {
      matchExpressions.push({ key: checkKey(doesNotExist[1]!, text), operator: 'DoesNotExist' });
    } else if (equality) {
      const key = checkKey(equality[1]!, text);
      const value = checkValue(equality[3]!, text);
      if (equality[2] === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
      else if (key in matchLabels && matchLabels[key] !== value) matchExpressions.push({ key, operator: 'In', values: [value] });
      else matchLabels[key] = value;
    } else if (set) {
      const values = set[3]!.split(',').map((v) => checkValue(v.trim(), text));
      matchExpressions.push({ key: checkKey(set[1]!, text), operator: set[2] === 'in' ? 'In' : 'NotIn', values });
    } else if (exists) {
      matchExpressions.push({ key: checkKey(exists[1]!, text), operator: 'Exists' });
    } else {
      throw badRequest(`unable to parse label selector "${text}": unsupported requirement "${req}"`);
    }
  }
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}

/** Fields every object can be selected by, as kube-apiserver allows for every custom resource. */
const META_FIELDS: Record<string, (o: ApiObject) => unknown> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
};

/**
 * Fields of the kind's own that a selector may name, where the kind has them: the cluster an object belongs to and
 * its phase. The CRDs declare the same as selectableFields (Kubernetes 1.32+), so kube-apiserver answers alike.
 */
const KIND_FIELDS = [
  { path: 'spec.clusterName', get: (o: ApiObject) => (o.spec as Record<string, unknown> | undefined)?.['clusterName'] },
  { path: 'status.phase', get: (o: ApiObject) => o.status?.['phase'] },
] as const;

function hasField(def: KindDef<ApiObject>, path: string): boolean {
  let s: JsonSchema | undefined = kindJsonSchema(def);
  for (const part of path.split('.')) s = (s?.['properties'] as Record<string, JsonSchema> | undefined)?.[part];
  return s !== undefined;
}

const selectable = new Map<string, readonly string[]>();

/** The fields of a kind that a field selector may name besides metadata.name and metadata.namespace. */
export function selectableFields(def: KindDef<ApiObject>): readonly string[] {
  let fields = selectable.get(def.kind);
  if (!fields) {
    fields = KIND_FIELDS.filter((f) => hasField(def, f.path)).map((f) => f.path);
    selectable.set(def.kind, fields);
  }
  return fields;
}

function fieldsOf(def: KindDef<ApiObject> | undefined): Record<string, (o: ApiObject) => unknown> {
  const own = def ? selectableFields(def) : [];
  return { ...META_FIELDS, ...Object.fromEntries(KIND_FIELDS.filter((f) => own.includes(f.path)).map((f) => [f.path, f.get])) };
}

/**
 * Parses a `fieldSelector=` query: metadata.name and metadata.namespace, and where the kind has them
 * spec.clusterName and status.phase, with =, == or !=. A field the object lacks reads as "", as for a CRD's
 * selectable field (apiextensions-apiserver pkg/registry/customresource/strategy.go).
 */
export function parseFieldSelector(text: string, def?: KindDef<ApiObject>): (o: ApiObject) => boolean {
  return parseFieldSelectorOf(text, fieldsOf(def));
}

/** A `fieldSelector=` over the fields given (name -> how an object's value is read), with =, == or !=. */
export function parseFieldSelectorOf<T>(text: string, fields: Readonly<Record<string, (o: T) => unknown>>): (o: T) => boolean {
  const tests: ((o: T) => boolean)[] = [];
  for (const req of text
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)) {
    const m = /^([^=!\s]+)\s*(==|!=|=)\s*(.*)$/.exec(req);
    const get = m ? fields[m[1]!] : undefined;
    if (!m || !get) throw badRequest(`unable to parse field selector "${text}": supported fields are ${Object.keys(fields).join(', ')} with =, == or !=`);
    const [, , op, value] = m;
    const read = (o: T) => {
      const v = get(o);
      return v === undefined || v === null ? '' : String(v);
    };
    tests.push(op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value);
  }
  return (o) => tests.every((t) => t(o));
}
