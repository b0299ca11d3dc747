import type { z } from 'zod';
import { API_VERSION, type IssueParams } from './common.js';
import { cause, type ApiObject, type FieldCause, type KindDef } from './kind.js';
import { KINDS, kindByName } from './kinds.js';

export type Validated<T> = { ok: true; object: T; kind: KindDef<ApiObject> } | { ok: false; causes: FieldCause[] };

export interface ValidateOptions {
  /**
   * The namespace of the request path. A body without metadata.namespace gets it; a body with another one
   * is refused (cause on metadata.namespace), as the Kubernetes API server does.
   */
  namespace?: string;
}

export interface ValidateUpdateOptions extends ValidateOptions {
  /**
   * Lets the version go down (a MachineDeployment rollback to a revision with an older version). Skipping
   * minor versions upwards stays refused.
   */
  allowVersionDowngrade?: boolean;
}

/**
 * Kubernetes field path: spec.template.spec.version, spec.subnets[0].id, metadata.labels[app]. `isMapKey(i)`
 * says whether path[i] is a key of a map (labels, annotations, tags), written in brackets like Kubernetes'
 * field.Path.Key; without it, keys that are not identifiers are bracketed.
 */
export function fieldPath(path: readonly PropertyKey[], isMapKey?: (index: number) => boolean): string {
  let out = '';
  path.forEach((p, i) => {
    if (typeof p === 'number') out += `[${p}]`;
    else if (!isMapKey?.(i) && /^[A-Za-z_$][\w$]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${String(p)}]`;
  });
  return out;
}

type ZodDef = { type: string; shape?: Record<string, { _zod: { def: ZodDef } }>; [k: string]: unknown };
const defOf = (s: unknown): ZodDef | undefined => (s as { _zod?: { def: ZodDef } } | undefined)?._zod?.def;

/** Which segments of `path` are map keys, found by walking the schema along the path. */
function mapKeysOf(schema: z.ZodType, path: readonly PropertyKey[]): Set<number> {
  const keys = new Set<number>();
  let def = defOf(schema);
  for (let i = 0; i < path.length && def; ) {
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        def = defOf(def['innerType']);
        continue;
      case 'pipe':
        def = defOf(def['in']);
        continue;
      case 'object':
        def = defOf(def.shape?.[String(path[i])]);
        break;
      case 'record':
        keys.add(i);
        def = defOf(def['valueType']);
        break;
      case 'array':
        def = defOf(def['element']);
        break;
      default:
        def = undefined;
    }
    i++;
  }
  return keys;
}

/**
 * A copy of a JSON/YAML document without the object members whose value is null. Kubernetes treats
 * `field: null` as an unset field, and YAML writes one for a key with nothing after it (`labels:`).
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a "__proto__" key must stay data (and be refused), never become the prototype.
    for (const [k, v] of Object.entries(value))
      if (v !== null) Object.defineProperty(out, k, { value: withoutNulls(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

const typeNames: Record<string, string> = { int: 'integer', number: 'number', string: 'string', boolean: 'boolean', object: 'object', array: 'array' };

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Details for zod's built-in issues, phrased as Kubernetes phrases them. Passed per parse, so it applies only
 * where a schema did not set its own message (zod: schema messages win over the per-parse map).
 */
const kubernetesDetails: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return `must be of type ${typeNames[iss.expected] ?? iss.expected}, not ${typeOf(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) === 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array') return `must have at least ${iss.minimum} item${Number(iss.minimum) === 1 ? '' : 's'}`;
      return iss.inclusive ? `must be greater than or equal to ${iss.minimum}` : `must be greater than ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be no more than ${iss.maximum} characters`;
      if (iss.origin === 'array') return `must have at most ${iss.maximum} item${Number(iss.maximum) === 1 ? '' : 's'}`;
      return iss.inclusive ? `must be less than or equal to ${iss.maximum}` : `must be less than ${iss.maximum}`;
    case 'invalid_format':
      if (iss.format === 'regex' && 'pattern' in iss) return `must match the regular expression ${String(iss.pattern)}`;
      if (iss.format === 'starts_with' && 'prefix' in iss) return `must start with "${String(iss.prefix)}"`;
      return `must be a valid ${iss.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}`;
    case 'invalid_value':
      return `supported values: ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    case 'invalid_key':
      return 'invalid key';
    default:
      return undefined;
  }
};

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * Turns zod issues into Kubernetes causes, with the field at fault. `input` is the parsed document: it
 * tells a missing field (Required value) from a wrong one, and gives the value to show; `schema` tells map
 * keys from field names in paths.
 */
export function issuesToCauses(issues: readonly z.core.$ZodIssue[], input?: unknown, schema?: z.ZodType): FieldCause[] {
  const causes: FieldCause[] = [];
  const pathOf = (path: readonly PropertyKey[]) => {
    const keys = schema ? mapKeysOf(schema, path) : undefined;
    return fieldPath(path, keys && ((i) => keys.has(i)));
  };
  for (const issue of issues) {
    const field = pathOf(issue.path);
    const params = (issue.code === 'custom' ? issue.params : undefined) as IssueParams | undefined;
    const value = params && 'value' in params ? params.value : 'input' in issue ? issue.input : valueAt(input, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) causes.push(cause.unknownField(pathOf([...issue.path, key])));
        break;
      case 'invalid_type':
        if (value === undefined && valueAt(input, issue.path) === undefined) causes.push(cause.required(field));
        else causes.push(cause.invalid(field, value, issue.message));
        break;
      case 'invalid_value':
        causes.push(cause.notSupported(field, value, issue.values));
        break;
      case 'invalid_key': {
        const inner = issue.issues.map((i) => i.message).join('; ');
        causes.push(cause.invalid(field, issue.path.at(-1), `invalid key: ${inner}`));
        break;
      }
      case 'too_big':
        if (issue.origin === 'string') causes.push(cause.tooLong(field, issue.message));
        else causes.push(cause.invalid(field, value, issue.message));
        break;
      case 'custom':
        switch (params?.reason) {
          case 'FieldValueRequired':
            causes.push(cause.required(field, issue.message));
            break;
          case 'FieldValueForbidden':
            causes.push(cause.forbidden(field, issue.message));
            break;
          case 'FieldValueDuplicate':
            causes.push(cause.duplicate(field, value, issue.message));
            break;
          case 'FieldValueTooLong':
            causes.push(cause.tooLong(field, issue.message));
            break;
          default:
            causes.push(cause.invalid(field, value, issue.message));
        }
        break;
      default:
        causes.push(cause.invalid(field, value, issue.message));
    }
  }
  // One cause per field and message: a value can break a rule through two paths of a schema.
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.field}\n${c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function kindOf(body: unknown): Validated<KindDef<ApiObject>> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, causes: [cause.invalid('', undefined, 'the body must be a JSON or YAML object')] };
  const { apiVersion, kind } = body as { apiVersion?: unknown; kind?: unknown };
  const causes: FieldCause[] = [];
  if (apiVersion === undefined) causes.push(cause.required('apiVersion', `must be ${API_VERSION}`));
  else if (apiVersion !== API_VERSION) causes.push(cause.notSupported('apiVersion', apiVersion, [API_VERSION]));
  const def = typeof kind === 'string' ? kindByName(kind) : undefined;
  if (kind === undefined) causes.push(cause.required('kind'));
  else if (!def)
    causes.push(
      cause.notSupported(
        'kind',
        kind,
        KINDS.map((k) => k.kind),
      ),
    );
  if (causes.length || !def) return { ok: false, causes };
  return { ok: true, object: def, kind: def };
}

/**
 * The body without nulls. A body without metadata.namespace gets the request's namespace, else `fallback`;
 * one with a namespace other than the request's is refused.
 */
function prepare(body: unknown, request: string | undefined, fallback?: string): { doc: unknown; causes: FieldCause[] } {
  const doc = withoutNulls(body);
  const meta = (doc as { metadata?: unknown } | undefined)?.metadata;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return { doc, causes: [] };
  const m = meta as { namespace?: unknown };
  if (m.namespace === undefined) {
    const ns = request ?? fallback;
    if (ns !== undefined) m.namespace = ns;
  } else if (request !== undefined && m.namespace !== request)
    return {
      doc,
      causes: [cause.invalid('metadata.namespace', m.namespace, `does not match the namespace of the request (${request})`)],
    };
  return { doc, causes: [] };
}

function parse(def: KindDef<ApiObject>, doc: unknown): Validated<ApiObject> {
  const r = def.schema.safeParse(doc, { error: kubernetesDetails, reportInput: true });
  if (!r.success) return { ok: false, causes: issuesToCauses(r.error.issues, doc, def.schema) };
  return { ok: true, object: r.data, kind: def };
}

/** Parses a new object: fills defaults, refuses unknown fields and invalid values. Never changes `body`. */
export function validateCreate(body: unknown, options: ValidateOptions = {}): Validated<ApiObject> {
  const k = kindOf(body);
  if (!k.ok) return k;
  const { doc, causes } = prepare(body, options.namespace);
  const r = parse(k.kind, doc);
  if (causes.length) return { ok: false, causes: [...causes, ...(r.ok ? [] : r.causes)] };
  return r;
}

/**
 * Parses a replacement of `old` (a stored, defaulted object) and applies the rules that compare the two:
 * kind, name and namespace never change, plus the kind's immutable fields and version skew. A body without
 * metadata.namespace keeps the old object's namespace.
 */
export function validateUpdate(old: ApiObject, body: unknown, options: ValidateUpdateOptions = {}): Validated<ApiObject> {
  const k = kindOf(body);
  if (!k.ok) return k;
  const { doc, causes } = prepare(body, options.namespace, old.metadata.namespace);
  const r = parse(k.kind, doc);
  if (!r.ok) return { ok: false, causes: [...causes, ...r.causes] };
  const obj = r.object;
  if (obj.kind !== old.kind) causes.push(cause.invalid('kind', obj.kind, `field is immutable (the object is a ${old.kind})`));
  else {
    if (obj.metadata.name !== old.metadata.name)
      causes.push(cause.invalid('metadata.name', obj.metadata.name, `field is immutable (the object is ${old.metadata.name})`));
    if (obj.metadata.namespace !== old.metadata.namespace && !causes.some((c) => c.field === 'metadata.namespace'))
      causes.push(cause.invalid('metadata.namespace', obj.metadata.namespace, `field is immutable (the object is in ${old.metadata.namespace})`));
    causes.push(...(r.kind.validateUpdate?.(old, obj, { allowVersionDowngrade: options.allowVersionDowngrade === true }) ?? []));
  }
  return causes.length ? { ok: false, causes } : r;
}
