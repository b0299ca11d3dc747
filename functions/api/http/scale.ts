/**
 * The scale subresource (`.../{name}/scale`, autoscaling/v1 Scale) of the kinds that declare one (KindDef.scale,
 * the same paths the CRDs declare): what `kubectl scale` and the HorizontalPodAutoscaler-style clients read and
 * write. spec.replicas is the object's; status.replicas and status.selector (the label selector as a string) come
 * from its status. A write changes spec.replicas only, through the service, so it is validated, limited and
 * dry-run like any update of the object.
 * Learnt from kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/etcd.go (ScaleREST,
 * scaleFromCustomResource, scaleUpdatedObjectInfo) and staging/src/k8s.io/api/autoscaling/v1/types.go (Scale).
 */
import { INT32_MAX } from '../common.js';
import type { ApiObject, KindDef } from '../kind.js';
import { KINDS, kindByName } from '../kinds.js';
import { UNGUARDED_ATTEMPTS, type ObjectKey, type ObjectService } from '../service/object-service.js';
import { applyJsonPatch, type JsonPatchOperation } from './json-patch.js';
import { isPlainObject, mergePatch } from './merge-patch.js';
import { ApiError, badRequest } from './status.js';
import { valueAt } from './table.js';

export const SCALE_API_VERSION = 'autoscaling/v1';

/** The kinds with a scale subresource (MachineDeployment, MachineSet, ControlPlane). */
export const SCALABLE_KINDS: ReadonlySet<string> = new Set(KINDS.filter((d) => d.scale).map((d) => d.kind));

/** autoscaling/v1 Scale, as kube-apiserver writes it (spec.replicas omitted when 0, as Go's omitempty does). */
export interface Scale {
  apiVersion: typeof SCALE_API_VERSION;
  kind: 'Scale';
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

/** The Scale of an object of a scalable kind. */
export function scaleOf(obj: ApiObject, def: KindDef = kindByName(obj.kind)!): Scale {
  const paths = def.scale!;
  const replicas = valueAt(obj, paths.specReplicasPath);
  const statusReplicas = valueAt(obj, paths.statusReplicasPath);
  const selector = paths.labelSelectorPath ? valueAt(obj, paths.labelSelectorPath) : undefined;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    apiVersion: SCALE_API_VERSION,
    kind: 'Scale',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(creationTimestamp ? { creationTimestamp } : {}),
    },
    spec: typeof replicas === 'number' && replicas !== 0 ? { replicas } : {},
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, ...(typeof selector === 'string' && selector ? { selector } : {}) },
  };
}

const INT32_MIN = -INT32_MAX - 1;

/**
 * What a Scale sent by a client asks for: the replicas (absent is 0, as Go decodes autoscaling/v1's omitempty
 * int32) and its resourceVersion precondition. A body of another kind, with unknown fields, or a replica count that
 * is no int32 is refused with 400, as kube-apiserver's decoder refuses it; range rules are the object's (422).
 */
function requested(body: unknown, name: string): { replicas: number; resourceVersion: string | undefined } {
  if (!isPlainObject(body)) throw badRequest('the body must be a Scale object');
  const { apiVersion, kind, metadata, spec } = body;
  if ((apiVersion !== undefined && apiVersion !== SCALE_API_VERSION) || (kind !== undefined && kind !== 'Scale'))
    throw badRequest(`the body is a ${JSON.stringify(kind)} of ${JSON.stringify(apiVersion)}, but the URL is for a Scale of ${SCALE_API_VERSION}`);
  const unknown = [
    ...Object.keys(body).filter((k) => !['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)),
    ...(isPlainObject(spec)
      ? Object.keys(spec)
          .filter((k) => k !== 'replicas')
          .map((k) => `spec.${k}`)
      : []),
  ];
  if (unknown.length) throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  if (metadata !== undefined && !isPlainObject(metadata)) throw badRequest('Scale.metadata must be an object');
  if (spec !== undefined && spec !== null && !isPlainObject(spec)) throw badRequest('Scale.spec must be an object');
  if (metadata?.['name'] !== undefined && metadata['name'] !== name)
    throw badRequest(`the name of the object (${JSON.stringify(metadata['name'])}) does not match the name on the URL (${name})`);
  const replicas = isPlainObject(spec) ? (spec['replicas'] ?? 0) : 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < INT32_MIN || replicas > INT32_MAX)
    throw new ApiError('BadRequest', `Scale.spec.replicas must be a 32-bit integer, not ${JSON.stringify(replicas)}`, {
      causes: [{ reason: 'FieldValueInvalid', message: 'must be a 32-bit integer', field: 'spec.replicas' }],
    });
  const rv = metadata?.['resourceVersion'];
  return { replicas, resourceVersion: typeof rv === 'string' && rv !== '' ? rv : undefined };
}

/** A PATCH of a Scale, as the router reads it. */
export type ScalePatch = { type: 'merge'; patch: Record<string, unknown> } | { type: 'json'; operations: JsonPatchOperation[] };

/**
 * GET, PUT or PATCH of `key`'s scale. A write becomes a merge patch of the object's spec.replicas guarded by a
 * resourceVersion: the Scale's own when it has one (a stale one is the client's 409), otherwise the one the Scale
 * was computed from (a lost race starts again from a fresh read, as kube-apiserver's unconditional update does).
 */
export async function scale(service: ObjectService, key: ObjectKey, method: string, patchOf: () => ScalePatch, bodyOf: () => unknown): Promise<Scale> {
  const def = kindByName(key.kind)!;
  if (method === 'GET') return scaleOf(await service.get(key), def);
  const change = method === 'PUT' ? bodyOf() : patchOf();
  for (let attempt = 1; ; attempt++) {
    const current = scaleOf(await service.get(key), def);
    const next =
      method === 'PUT'
        ? change
        : (change as ScalePatch).type === 'json'
          ? applyJsonPatch(current, (change as { operations: JsonPatchOperation[] }).operations)
          : mergePatch(current, (change as { patch: Record<string, unknown> }).patch);
    const sent = requested(next, key.name);
    const { replicas } = sent;
    // A patched Scale holds the resourceVersion it was computed from: only one the patch changed is the client's.
    const resourceVersion = method === 'PUT' || sent.resourceVersion !== current.metadata.resourceVersion ? sent.resourceVersion : undefined;
    const guard = resourceVersion ?? current.metadata.resourceVersion;
    try {
      const updated = await service.mergePatch(key, { metadata: { resourceVersion: guard }, spec: { replicas } });
      return scaleOf(updated, def);
    } catch (err) {
      const lostRace = err instanceof ApiError && err.status.reason === 'Conflict' && resourceVersion === undefined;
      if (!lostRace || attempt >= UNGUARDED_ATTEMPTS) throw err;
    }
  }
}
