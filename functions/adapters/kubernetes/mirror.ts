/**
 * The mirror of DESIGN section 7: clusterless objects written into a Kubernetes cluster (the "target") as
 * custom resources, by server-side apply, and spec edits made there with kubectl imported back into the
 * store, validated like API writes and guarded by resourceVersion.
 *
 * What a mirrored object carries, and why:
 * - apiVersion, kind, name, namespace, labels, annotations, spec; then status through the status subresource.
 * - not uid, resourceVersion, generation, creationTimestamp, deletionTimestamp, managedFields: the target
 *   sets its own. The store's uid and resourceVersion go into annotations instead (the import guard).
 * - not finalizers: they belong to clusterless' teardown, and in the target nothing would ever remove them,
 *   so `kubectl delete` there would hang.
 * - not ownerReferences: their uids are the store's, and the target's garbage collector would delete every
 *   child whose owner uid it cannot find. The owner is still named by the Cluster API style labels.
 * - one finalizer of its own, MIRROR_FINALIZER: `kubectl delete` in the target then leaves the object
 *   terminating until the mirror has seen it, by a watch event or by a plain list (the AWS import is stateless),
 *   so no delete is missed. The mirror imports it as a DELETE on the API with the uid precondition (importDeletion)
 *   and lets the object go once clusterless has removed it: `kubectl delete --wait` waits for the teardown.
 * The store is the source of truth: a mirrored object changed in the target is applied again by the next
 * resync unless the change was imported.
 */
import { createHash } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/common.js';
import type { Condition } from '../../api/common.js';
import { canonicalJson, type ApiObject, type FieldCause, type KindDef } from '../../api/kind.js';
import { KINDS, kindByName, type KindName } from '../../api/kinds.js';
import { validateCreate, validateUpdate } from '../../api/validate.js';
import { replicaLimitCauses, type ApiLimits } from '../../api/http/limits.js';
import { ApiError, ObjectService } from '../../api/service/index.js';
import { ConflictError, AlreadyExistsError, systemClock, type Clock, type Store } from '../../ports.js';
import { httpStatusOf, loadKubeConfig, serverOf, type KubeconfigSource } from '../kubernetes-client/client.js';

/** Annotations the mirror puts on the objects it writes; never imported into the store. */
export const MirrorAnnotations = {
  /** The uid of the object in clusterless: marks the object as the mirror's, and tells incarnations apart. */
  sourceUid: 'mirror.clusterless.dev/source-uid',
  /** The store's resourceVersion the object was mirrored at: an edit is imported only on top of it. */
  sourceResourceVersion: 'mirror.clusterless.dev/source-resource-version',
  sourceGeneration: 'mirror.clusterless.dev/source-generation',
  /** A hash of the labels, annotations and spec as mirrored: when the object's differ, someone edited it. */
  sourceHash: 'mirror.clusterless.dev/source-hash',
  /** Set while the object is being torn down in clusterless (the target's own deletionTimestamp cannot be). */
  deletionTimestamp: 'mirror.clusterless.dev/deletion-timestamp',
} as const;

/**
 * The mirror's finalizer on every object it writes: a `kubectl delete` there waits for the mirror to import it
 * (the same role as a controller's finalizer in Cluster API, e.g. cluster.x-k8s.io in
 * internal/controllers/cluster/cluster_controller.go: the object stays until its owner has seen the delete).
 */
export const MIRROR_FINALIZER = 'mirror.clusterless.dev/import';

/**
 * The kinds whose delete in the target becomes a delete in clusterless: those the API deletes by a plain DELETE
 * on the object route (router.ts ALLOWED.object). Today that is every served kind; a kind left out here is put
 * back in the target instead, as before.
 */
export const MIRROR_DELETED_KINDS: ReadonlySet<KindName> = new Set(KINDS.map((k) => k.kind as KindName));

/** Annotations that other tools put on objects in the target and that are not the user's intent. */
const FOREIGN_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);
const isMirrorAnnotation = (key: string) => key.startsWith('mirror.clusterless.dev/') || FOREIGN_ANNOTATIONS.has(key);

/** The condition the mirror sets on an object in the target when it refused an edit made there. */
export const MIRROR_CONDITION = 'MirrorSynced';
export type MirrorRefusalReason = 'Invalid' | 'Conflict';

export interface KubernetesMirrorOptions {
  kubeconfig: KubeconfigSource;
  /** @default 'clusterless' */
  fieldManager?: string;
  clock?: Clock;
  /** The installation's limits, held to imported edits as the API holds writes to them. @default - the API's defaults */
  limits?: ApiLimits;
}

/**
 * The pages of a list of one kind across the target's namespaces (500 at a time), each object with its apiVersion
 * and kind (a list's items may lack them), and each page's resourceVersion: what the resync and the watch's list read.
 */
export async function* targetPages(custom: CustomObjectsApi, def: KindDef<ApiObject>): AsyncGenerator<{ items: TargetObject[]; resourceVersion?: string }> {
  let _continue: string | undefined;
  do {
    const page = (await custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: def.plural,
      limit: 500,
      ...(_continue ? { _continue } : {}),
    })) as { items?: TargetObject[]; metadata?: { continue?: string; resourceVersion?: string } };
    const items = (page.items ?? []).map((item) => ({ ...item, apiVersion: item.apiVersion ?? `${GROUP}/${VERSION}`, kind: item.kind ?? def.kind }));
    yield { items, ...(page.metadata?.resourceVersion ? { resourceVersion: page.metadata.resourceVersion } : {}) };
    _continue = page.metadata?.continue || undefined;
  } while (_continue);
}

/** A custom resource as the target returns it. */
export interface TargetObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
    [k: string]: unknown;
  };
  spec?: unknown;
  status?: { conditions?: Condition[] } & Record<string, unknown>;
}

/** What importing one object of the target did. */
export type ImportOutcome =
  | { type: 'unchanged' }
  /** The edit is in the store; `generation` is the store's generation after it. */
  | { type: 'imported'; generation: number | undefined }
  /** An object created in the target with kubectl is now in the store. */
  | { type: 'created' }
  /** Deleted in the target: deleted in the store (removed, or marked for its teardown when it has finalizers). */
  | { type: 'deleted'; removed: boolean }
  /** Refused: reported on the object in the target, nothing changed in the store. */
  | { type: 'refused'; reason: MirrorRefusalReason; causes: FieldCause[] };

export interface ImportResult {
  kind: KindName;
  namespace: string;
  name: string;
  outcome: ImportOutcome;
}

export interface SyncResult {
  imports: ImportResult[];
  /** Objects written to the target (new or changed in the store, or edited there and refused). */
  applied: number;
  /** Mirrored objects removed from the target because the store no longer has them. */
  deleted: number;
  /** Objects of the store, all mirrored now. */
  objects: number;
}

const keyOf = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** labels, annotations (the user's) and spec: what a kubectl user edits and the import reads. */
function userView(obj: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown }) {
  const annotations = Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => !isMirrorAnnotation(k)));
  return { labels: obj.metadata.labels ?? {}, annotations, spec: obj.spec ?? null };
}

function viewHash(obj: Parameters<typeof userView>[0]): string {
  return createHash('sha256')
    .update(canonicalJson(userView(obj)))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Whether an object of the target may hold something to import: created there, edited there (its labels,
 * annotations or spec differ from what was mirrored) or deleted there. The mirror's own writes do not.
 */
export function changedInTarget(obj: TargetObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return !a[MirrorAnnotations.sourceUid] || !!obj.metadata.deletionTimestamp || a[MirrorAnnotations.sourceHash] !== viewHash(obj);
}

/** The object as it is applied to the target (see the file comment for what is left out). */
export function targetObject(obj: ApiObject): TargetObject {
  const m = obj.metadata;
  const annotations: Record<string, string> = { ...(m.annotations ?? {}) };
  if (m.uid) annotations[MirrorAnnotations.sourceUid] = m.uid;
  if (m.resourceVersion) annotations[MirrorAnnotations.sourceResourceVersion] = m.resourceVersion;
  if (m.generation !== undefined) annotations[MirrorAnnotations.sourceGeneration] = String(m.generation);
  if (m.deletionTimestamp) annotations[MirrorAnnotations.deletionTimestamp] = m.deletionTimestamp;
  annotations[MirrorAnnotations.sourceHash] = viewHash(obj);
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: { ...m.labels } } : {}), annotations, finalizers: [MIRROR_FINALIZER] },
    ...(obj.spec !== undefined ? { spec: obj.spec } : {}),
  };
}

function refusalCondition(reason: MirrorRefusalReason, causes: FieldCause[], now: Date): Condition {
  const what = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
  const message =
    reason === 'Invalid'
      ? `the edit was not imported into clusterless: ${what}`
      : `the edit was not imported into clusterless: ${what}; apply it again to the current object`;
  return { type: MIRROR_CONDITION, status: 'False', reason, message: message.slice(0, 32768), lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

function defOf(kind: string): KindDef<ApiObject> {
  const def = kindByName(kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  return def;
}

const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** One target cluster. Stateless but for the refusals it reports, so a new one per target is cheap. */
export class KubernetesMirror {
  readonly kubeConfig: KubeConfig;
  /** The server URL of the target. */
  readonly target: string;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly fieldManager: string;
  private readonly clock: Clock;
  private readonly limits: ApiLimits | undefined;
  /**
   * Refusals to keep showing on the object's status, by kind/namespace/name, until an edit is imported;
   * null once one was: the next status apply must still run, to take the condition away.
   */
  private readonly refusals = new Map<string, Condition | null>();

  constructor(options: KubernetesMirrorOptions) {
    this.kubeConfig = loadKubeConfig(options.kubeconfig);
    this.target = serverOf(this.kubeConfig);
    this.custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.fieldManager = options.fieldManager ?? 'clusterless';
    this.clock = options.clock ?? systemClock;
    this.limits = options.limits;
  }

  /** Server-side apply of the object, then of its status (plus any refusal to report). */
  async apply(obj: ApiObject): Promise<void> {
    const def = defOf(obj.kind);
    const body = targetObject(obj);
    const params = { group: GROUP, version: VERSION, namespace: obj.metadata.namespace, plural: def.plural, name: obj.metadata.name };
    try {
      await this.custom.patchNamespacedCustomObject({ ...params, body, fieldManager: this.fieldManager, force: true }, ssa);
    } catch (err) {
      // An apply creates a missing object, so a 404 is its namespace: the target lacks it.
      if (httpStatusOf(err) !== 404) throw err;
      await this.ensureNamespace(obj.metadata.namespace);
      await this.custom.patchNamespacedCustomObject({ ...params, body, fieldManager: this.fieldManager, force: true }, ssa);
    }
    const key = keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name);
    const refusal = this.refusals.get(key);
    if (obj.status === undefined && refusal === undefined) return;
    const status = { ...(obj.status ?? {}) };
    if (refusal) status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== MIRROR_CONDITION), refusal];
    await this.applyStatus(def, obj.metadata.namespace, obj.metadata.name, status);
    if (refusal === null) this.refusals.delete(key);
  }

  /** Forgets a refusal; the next apply of the object takes its condition away. */
  private clearRefusal(key: string): void {
    if (this.refusals.has(key)) this.refusals.set(key, null);
  }

  private async applyStatus(def: KindDef<ApiObject>, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: def.plural,
        name,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: def.kind, metadata: { name, namespace }, status },
        fieldManager: this.fieldManager,
        force: true,
      },
      ssa,
    );
  }

  private async ensureNamespace(name: string): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'clusterless' } } } });
    } catch (err) {
      if (httpStatusOf(err) !== 409) throw err;
    }
  }

  /** The object as the target has it now, or undefined. */
  async get(kind: KindName, namespace: string, name: string): Promise<TargetObject | undefined> {
    try {
      const obj = (await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: defOf(kind).plural,
        name,
      })) as TargetObject;
      return { ...obj, kind };
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Removes the mirrored object from the target. Only an object the mirror wrote (it carries the source uid
   * annotation) is removed: one created there with kubectl and not imported yet is left alone.
   */
  async delete(kind: KindName, namespace: string, name: string): Promise<boolean> {
    const def = defOf(kind);
    const params = { group: GROUP, version: VERSION, namespace, plural: def.plural, name };
    let current: TargetObject;
    try {
      current = (await this.custom.getNamespacedCustomObject(params)) as TargetObject;
    } catch (err) {
      if (httpStatusOf(err) === 404) return false;
      throw err;
    }
    if (!current.metadata.annotations?.[MirrorAnnotations.sourceUid]) return false;
    return this.deleteTarget(current);
  }

  /**
   * Deletes an object the mirror wrote: its finalizer first, so that the delete is not taken for a user's (an
   * object terminating without it is never imported), then the object, by uid. One already terminating just goes.
   */
  private async deleteTarget(obj: TargetObject): Promise<boolean> {
    const def = defOf(obj.kind);
    this.refusals.delete(keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name));
    await this.releaseFinalizer(obj);
    if (obj.metadata.deletionTimestamp) return true;
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: obj.metadata.namespace,
        plural: def.plural,
        name: obj.metadata.name,
        propagationPolicy: 'Background',
        ...(obj.metadata.uid ? { body: { preconditions: { uid: obj.metadata.uid } } } : {}),
      });
      return true;
    } catch (err) {
      // Gone already, or replaced by another object of that name (uid precondition): not ours to delete.
      if (httpStatusOf(err) === 404 || httpStatusOf(err) === 409) return false;
      throw err;
    }
  }

  /**
   * Takes the mirror's finalizer off the object (a JSON patch that first tests the entry, so another writer's
   * finalizers are never touched). An object that is gone, or lost the entry meanwhile, is left as it is.
   */
  private async releaseFinalizer(obj: TargetObject): Promise<void> {
    const i = obj.metadata.finalizers?.indexOf(MIRROR_FINALIZER) ?? -1;
    if (i < 0) return;
    const path = `/metadata/finalizers/${i}`;
    try {
      await this.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: obj.metadata.namespace,
          plural: defOf(obj.kind).plural,
          name: obj.metadata.name,
          body: [
            ...(obj.metadata.uid ? [{ op: 'test', path: '/metadata/uid', value: obj.metadata.uid }] : []),
            { op: 'test', path, value: MIRROR_FINALIZER },
            { op: 'remove', path },
          ],
        },
        jsonPatch,
      );
    } catch (err) {
      const code = httpStatusOf(err);
      if (code !== 404 && code !== 409 && code !== 422) throw err;
    }
  }

  /**
   * Imports a delete made in the target: an object there that is terminating and still holds the mirror's
   * finalizer. When it is the mirror's copy of the stored object (the source-uid annotation names the stored uid)
   * of a kind in MIRROR_DELETED_KINDS, it is deleted in clusterless as `DELETE` on the API deletes it
   * (ObjectService.delete) with the uid as precondition, so a newer incarnation of the name is never deleted.
   * The finalizer is released once clusterless has removed the object: until then the target shows it
   * terminating, with the deletion annotation of the teardown. Anything else (created there and never imported,
   * another incarnation, a kind not deleted this way) is just let go, and the resync puts the store's back.
   */
  async importDeletion(store: Store, obj: TargetObject): Promise<ImportOutcome> {
    const def = kindByName(obj.kind);
    if (!def || !obj.metadata.deletionTimestamp || !obj.metadata.finalizers?.includes(MIRROR_FINALIZER)) return { type: 'unchanged' };
    const kind = def.kind as KindName;
    const { namespace, name } = obj.metadata;
    const sourceUid = obj.metadata.annotations?.[MirrorAnnotations.sourceUid];
    const stored = sourceUid ? await store.get(kind, namespace, name) : undefined;
    if (stored && stored.metadata.uid === sourceUid && MIRROR_DELETED_KINDS.has(kind)) {
      // Being torn down already (this delete was imported, or clusterless started it): let it finish.
      if (stored.metadata.deletionTimestamp) return { type: 'unchanged' };
      try {
        const deleted = await new ObjectService({ store, ...(this.limits ? { limits: this.limits } : {}) }).delete(
          { kind, namespace, name },
          { uid: sourceUid },
        );
        this.clearRefusal(keyOf(kind, namespace, name));
        if (deleted.removed) await this.releaseFinalizer(obj);
        return { type: 'deleted', removed: deleted.removed };
      } catch (err) {
        // Deleted or replaced (another uid) since the read: nothing of this incarnation is left to delete.
        if (!(err instanceof ApiError) || (err.status.code !== 404 && err.status.code !== 409)) throw err;
      }
    }
    await this.releaseFinalizer(obj);
    return { type: 'unchanged' };
  }

  /** Every object of the seven kinds in the target, in all namespaces (paginated lists). */
  async list(kinds: readonly KindDef<ApiObject>[] = KINDS): Promise<TargetObject[]> {
    const out: TargetObject[] = [];
    for (const def of kinds) for await (const page of targetPages(this.custom, def)) out.push(...page.items);
    return out;
  }

  /** Removes every object the mirror wrote to this target (after a switch to another one). */
  async removeAll(): Promise<number> {
    let removed = 0;
    for (const obj of await this.list()) if (obj.metadata.annotations?.[MirrorAnnotations.sourceUid] && (await this.deleteTarget(obj))) removed++;
    return removed;
  }

  /**
   * Imports the edits made in the target (one list per kind; see importObject). Run on each sweep, before
   * the resync, which would otherwise put the store's version back over them.
   */
  async importEdits(store: Store): Promise<ImportResult[]> {
    return this.importListed(store, await this.list());
  }

  private async importListed(store: Store, listed: readonly TargetObject[]): Promise<ImportResult[]> {
    const results: ImportResult[] = [];
    for (const obj of listed) {
      const outcome = await this.importObject(store, obj);
      if (outcome.type !== 'unchanged') results.push({ kind: obj.kind as KindName, namespace: obj.metadata.namespace, name: obj.metadata.name, outcome });
    }
    return results;
  }

  /**
   * Imports one object of the target, as the API would take the same write:
   * - a mirrored object whose labels, annotations or spec no longer match what was mirrored (its hash) was
   *   edited: the edit is validated with validateUpdate against the stored object and written guarded by
   *   the resourceVersion the object was mirrored at. If the store moved on meanwhile, the edit lost the
   *   race (Conflict), as a kubectl write with a stale resourceVersion would.
   * - an object without the mirror's annotations and unknown to the store was created there
   *   (`kubectl apply -f cluster.yaml`): validated with validateCreate and created, with the kind's finalizer.
   * A refusal changes nothing in the store: it is reported as a MirrorSynced=False condition on the object in
   * the target, whose spec is put back to the store's.
   */
  async importObject(store: Store, obj: TargetObject): Promise<ImportOutcome> {
    const def = kindByName(obj.kind);
    if (!def) return { type: 'unchanged' };
    if (obj.metadata.deletionTimestamp) return this.importDeletion(store, obj);
    const kind = def.kind as KindName;
    const { namespace, name } = obj.metadata;
    const annotations = obj.metadata.annotations ?? {};
    const sourceUid = annotations[MirrorAnnotations.sourceUid];
    const stored = await store.get(kind, namespace, name);
    if (!stored) return sourceUid ? { type: 'unchanged' } : this.importCreation(store, def, obj);
    // Not the mirror's object, or another incarnation of the name: the resync puts the store's in its place.
    if (sourceUid !== stored.metadata.uid) return { type: 'unchanged' };
    if (annotations[MirrorAnnotations.sourceHash] === viewHash(obj)) return { type: 'unchanged' };

    const view = userView(obj);
    const key = keyOf(kind, namespace, name);
    const mirroredAt = annotations[MirrorAnnotations.sourceResourceVersion];
    if (mirroredAt !== stored.metadata.resourceVersion)
      return this.refuse(stored, 'Conflict', [
        {
          field: 'metadata.resourceVersion',
          message: `the object has changed in clusterless since it was mirrored (resourceVersion ${mirroredAt ?? 'none'}, now ${stored.metadata.resourceVersion})`,
        },
      ]);
    const candidate = {
      ...stored,
      metadata: { ...stored.metadata, labels: view.labels, annotations: view.annotations },
      spec: obj.spec,
    };
    const v = validateUpdate(stored, candidate);
    if (!v.ok) return this.refuse(stored, 'Invalid', v.causes);
    const overLimit = replicaLimitCauses(v.object, stored, this.limits);
    if (overLimit.length) return this.refuse(stored, 'Invalid', overLimit);
    if (canonicalJson(userView(v.object)) === canonicalJson(userView(stored))) {
      // Same after defaults: nothing to import; mirror the store's form so the hash matches again.
      await this.apply(stored);
      return { type: 'unchanged' };
    }
    try {
      const written = await store.update({ ...v.object, status: stored.status, metadata: { ...v.object.metadata, resourceVersion: mirroredAt } } as ApiObject);
      this.clearRefusal(key);
      // At once, not only by the push that follows the write: until the target carries the new resourceVersion,
      // a later event of this object would look like an edit made on a stale copy (Conflict).
      await this.apply(written);
      return { type: 'imported', generation: written.metadata.generation };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const current = err.current ?? (await store.get(kind, namespace, name)) ?? stored;
      return this.refuse(current, 'Conflict', [
        {
          field: 'metadata.resourceVersion',
          message: `the object changed in clusterless while the edit was imported (now ${current.metadata.resourceVersion})`,
        },
      ]);
    }
  }

  private async importCreation(store: Store, def: KindDef<ApiObject>, obj: TargetObject): Promise<ImportOutcome> {
    const view = userView(obj);
    const body = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        ...(Object.keys(view.labels).length ? { labels: view.labels } : {}),
        ...(Object.keys(view.annotations).length ? { annotations: view.annotations } : {}),
      },
      ...(obj.spec !== undefined ? { spec: obj.spec } : {}),
    };
    const validated = validateCreate(body);
    const overLimit = validated.ok ? replicaLimitCauses(validated.object, undefined, this.limits) : [];
    const v = overLimit.length ? { ok: false as const, causes: overLimit } : validated;
    const key = keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (!v.ok) {
      const condition = refusalCondition('Invalid', v.causes, this.clock.now());
      // Reported once: the object stays as the user left it until they fix or delete it.
      if (sameRefusal(obj.status?.conditions, condition)) return { type: 'unchanged' };
      const conditions = [...(obj.status?.conditions ?? []).filter((c) => c.type !== MIRROR_CONDITION), condition];
      await this.applyStatus(def, obj.metadata.namespace, obj.metadata.name, { conditions });
      return { type: 'refused', reason: 'Invalid', causes: v.causes };
    }
    const created = v.object;
    if (def.finalizer && !created.metadata.finalizers?.includes(def.finalizer))
      created.metadata.finalizers = [...(created.metadata.finalizers ?? []), def.finalizer];
    try {
      await store.create(created);
    } catch (err) {
      if (err instanceof AlreadyExistsError) return { type: 'unchanged' }; // created meanwhile: the resync mirrors it
      throw err;
    }
    this.clearRefusal(key);
    return { type: 'created' };
  }

  /** Records the refusal and applies the stored object again: its spec back, the condition on its status. */
  private async refuse(stored: ApiObject, reason: MirrorRefusalReason, causes: FieldCause[]): Promise<ImportOutcome> {
    const key = keyOf(stored.kind, stored.metadata.namespace, stored.metadata.name);
    this.refusals.set(key, refusalCondition(reason, causes, this.clock.now()));
    await this.apply(stored);
    return { type: 'refused', reason, causes };
  }

  /**
   * One sweep: imports the edits made in the target, then makes the target match the store: applies every
   * object that is missing or not at the store's resourceVersion, and removes mirrored objects the store no
   * longer has. Objects created in the target and not imported (refused) are left where they are.
   */
  async sync(store: Store): Promise<SyncResult> {
    const listed = await this.list();
    const imports = await this.importListed(store, listed);
    const touched = new Set(imports.map((r) => keyOf(r.kind, r.namespace, r.name)));
    const inTarget = new Map(listed.map((o) => [keyOf(o.kind, o.metadata.namespace, o.metadata.name), o]));
    const stored = (await Promise.all(KINDS.map((k) => store.list(k.kind as KindName)))).flat();
    let applied = 0;
    for (const obj of stored) {
      const key = keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name);
      const there = inTarget.get(key);
      inTarget.delete(key);
      const a = there?.metadata.annotations ?? {};
      const upToDate =
        there &&
        !touched.has(key) &&
        a[MirrorAnnotations.sourceUid] === obj.metadata.uid &&
        a[MirrorAnnotations.sourceResourceVersion] === obj.metadata.resourceVersion &&
        a[MirrorAnnotations.sourceHash] === viewHash(there) &&
        !!there.metadata.finalizers?.includes(MIRROR_FINALIZER);
      // A terminating object in the target is only brought up to date while it is the copy of an object being
      // torn down; any other goes away (its finalizer is released) and the store's is applied once it is gone.
      if (there?.metadata.deletionTimestamp ? upToDate || a[MirrorAnnotations.sourceUid] !== obj.metadata.uid || !obj.metadata.deletionTimestamp : upToDate)
        continue;
      await this.apply(obj);
      applied++;
    }
    let deleted = 0;
    for (const obj of inTarget.values()) if (obj.metadata.annotations?.[MirrorAnnotations.sourceUid] && (await this.deleteTarget(obj))) deleted++;
    return { imports, applied, deleted, objects: stored.length };
  }
}

function sameRefusal(conditions: readonly Condition[] | undefined, next: Condition): boolean {
  const c = conditions?.find((x) => x.type === MIRROR_CONDITION);
  return !!c && c.status === next.status && c.reason === next.reason && c.message === next.message;
}
