import type { z } from 'zod';
import { API_VERSION } from './common.js';
import type { ApiObject, FieldCause, KindDef } from './kind.js';
import { kindByName } from './kinds.js';

export type Validated<T> = { ok: true; object: T; kind: KindDef<ApiObject> } | { ok: false; causes: FieldCause[] };

/** Kubernetes field path: spec.template.spec.version, spec.subnets[0].id, metadata.labels[app]. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${String(p)}]`;
  }
  return out;
}

/** Turns zod issues into Kubernetes causes, one per field, with the field at fault. */
export function issuesToCauses(issues: readonly z.core.$ZodIssue[]): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        causes.push({ field: fieldPath([...issue.path, key]), reason: 'FieldValueNotSupported', message: `unknown field "${key}"` });
      continue;
    }
    if (issue.code === 'invalid_union') {
      // Report the branch that got furthest, rather than "invalid input".
      const branches = issue.errors.filter((e) => e.length > 0);
      const best = branches.sort((a, b) => a.length - b.length)[0];
      if (best && best.length > 0) {
        for (const inner of issuesToCauses(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))))
          causes.push(inner);
        continue;
      }
    }
    const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
    causes.push({
      field: fieldPath(issue.path),
      reason: missing ? 'FieldValueRequired' : issue.code === 'invalid_value' ? 'FieldValueNotSupported' : issue.code === 'too_big' ? 'FieldValueTooLong' : 'FieldValueInvalid',
      message: missing ? 'Required value' : issue.message,
    });
  }
  return causes;
}

function kindOf(body: unknown): Validated<KindDef<ApiObject>> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, causes: [{ field: '', reason: 'FieldValueInvalid', message: 'the body must be an object' }] };
  const { apiVersion, kind } = body as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== API_VERSION)
    return {
      ok: false,
      causes: [{ field: 'apiVersion', reason: apiVersion === undefined ? 'FieldValueRequired' : 'FieldValueNotSupported', message: `must be ${API_VERSION}` }],
    };
  const def = typeof kind === 'string' ? kindByName(kind) : undefined;
  if (!def) return { ok: false, causes: [{ field: 'kind', reason: kind === undefined ? 'FieldValueRequired' : 'FieldValueNotSupported', message: `unknown kind ${JSON.stringify(kind)}` }] };
  return { ok: true, object: def, kind: def };
}

/** Parses a new object: fills defaults, refuses unknown fields and invalid values. */
export function validateCreate(body: unknown): Validated<ApiObject> {
  const k = kindOf(body);
  if (!k.ok) return k;
  const r = k.kind.schema.safeParse(body);
  if (!r.success) return { ok: false, causes: issuesToCauses(r.error.issues) };
  return { ok: true, object: r.data, kind: k.kind };
}

/** Parses a replacement of `old` and applies the rules that compare the two (immutability, version skew). */
export function validateUpdate(old: ApiObject, body: unknown): Validated<ApiObject> {
  const r = validateCreate(body);
  if (!r.ok) return r;
  const causes: FieldCause[] = [];
  if (r.object.kind !== old.kind) causes.push({ field: 'kind', reason: 'FieldValueInvalid', message: 'field is immutable' });
  if (r.object.metadata.name !== old.metadata.name || r.object.metadata.namespace !== old.metadata.namespace)
    causes.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: 'field is immutable' });
  if (causes.length === 0) causes.push(...(r.kind.validateUpdate?.(old, r.object) ?? []));
  return causes.length ? { ok: false, causes } : r;
}
