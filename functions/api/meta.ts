import { z } from 'zod';
import { DNS1123_SUBDOMAIN, QUALIFIED_NAME_PART, dnsLabel } from './common.js';

/** Checks a label or annotation key: an optional DNS subdomain prefix (<= 253) and '/', then a name (<= 63). */
export function qualifiedNameError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253) return 'prefix part must be no more than 253 characters';
    if (!DNS1123_SUBDOMAIN.test(prefix)) return 'prefix part must be a lowercase RFC 1123 subdomain';
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(value))
    return "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** Total size Kubernetes allows for all annotations of one object. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const labels = z.record(z.string(), z.string()).superRefine((rec, ctx) => {
  for (const [k, v] of Object.entries(rec)) {
    const ke = qualifiedNameError(k);
    if (ke) ctx.addIssue({ code: 'custom', path: [k], message: `invalid label key "${k}": ${ke}` });
    const ve = labelValueError(v);
    if (ve) ctx.addIssue({ code: 'custom', path: [k], message: `invalid label value "${v.slice(0, 80)}": ${ve}` });
  }
});

export const annotations = z.record(z.string(), z.string()).superRefine((rec, ctx) => {
  let size = 0;
  for (const [k, v] of Object.entries(rec)) {
    const ke = qualifiedNameError(k);
    if (ke) ctx.addIssue({ code: 'custom', path: [k], message: `invalid annotation key "${k.slice(0, 80)}": ${ke}` });
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_ANNOTATIONS_BYTES)
    ctx.addIssue({ code: 'custom', path: [], message: `annotations are too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
});

export const ownerReference = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  uid: z.string().min(1),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof ownerReference>;

/** Finalizers are qualified names, as in Kubernetes. */
const finalizer = z.string().superRefine((f, ctx) => {
  const e = qualifiedNameError(f);
  if (e) ctx.addIssue({ code: 'custom', message: `invalid finalizer "${f.slice(0, 80)}": ${e}` });
});

/**
 * ObjectMeta. Server-managed fields (uid, resourceVersion, generation, timestamps) are accepted so that an
 * object read back can be sent again, and are then overwritten by the server.
 */
export const objectMeta = z.strictObject({
  name: dnsLabel('metadata.name'),
  namespace: dnsLabel('metadata.namespace').default('default'),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().min(0).optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: labels.optional(),
  annotations: annotations.optional(),
  finalizers: z.array(finalizer).optional(),
  ownerReferences: z.array(ownerReference).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** Metadata a template carries for the objects made from it (labels and annotations only). */
export const templateMeta = z.strictObject({
  labels: labels.optional(),
  annotations: annotations.optional(),
});
