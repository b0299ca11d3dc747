import * as z from 'zod';
import { dnsLabel, labelMap, qualifiedNameError } from './common.js';
import { lazySchema } from './lazy-schema.js';

// Kept importable from here, where they used to live.
export { labelValueError, qualifiedNameError } from './common.js';

/** Total size Kubernetes allows for all annotations of one object. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const labels = lazySchema(() => labelMap);

/** Annotation keys are qualified names, as label keys; values are free text, 256 KiB in all. */
export const annotations = lazySchema(() =>
  z.record(z.string(), z.string()).check((ctx) => {
    let size = 0;
    for (const [k, v] of Object.entries(ctx.value)) {
      const ke = qualifiedNameError(k);
      if (ke) ctx.issues.push({ code: 'custom', input: k, path: [k], message: `invalid annotation key "${k.slice(0, 80)}": ${ke}`, params: { value: k } });
      size += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (size > MAX_ANNOTATIONS_BYTES)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `annotations are too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes in all, have ${size}`,
        params: { reason: 'FieldValueTooLong' },
      });
  }),
);

export const ownerReference = lazySchema(() =>
  z.strictObject({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    name: z.string().min(1),
    uid: z.string().min(1),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  }),
);
export type OwnerReference = z.infer<typeof ownerReference>;

/** Finalizers are qualified names, as in Kubernetes. */
const finalizer = lazySchema(() =>
  z.string().check((ctx) => {
    const e = qualifiedNameError(ctx.value);
    if (e) ctx.issues.push({ code: 'custom', input: ctx.value, message: e });
  }),
);

export const DEFAULT_NAMESPACE = 'default';

/**
 * ObjectMeta. Server-managed fields (uid, resourceVersion, generation, timestamps) are accepted so that an
 * object read back can be sent again, and are then overwritten by the server.
 */
export const objectMeta = lazySchema(() =>
  z.strictObject({
    name: dnsLabel('Name of the object: an RFC 1123 label, unique per kind and namespace.'),
    namespace: dnsLabel('Namespace of the object; default when not given.').default(DEFAULT_NAMESPACE),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().int().min(0).optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: labels.optional(),
    annotations: annotations.optional(),
    finalizers: z.array(finalizer).optional(),
    ownerReferences: z.array(ownerReference).optional(),
  }),
);
export type ObjectMeta = z.infer<typeof objectMeta>;

/** Metadata a template carries for the objects made from it (labels and annotations only). */
export const templateMeta = lazySchema(() =>
  z.strictObject({
    labels: labels.optional(),
    annotations: annotations.optional(),
  }),
);
