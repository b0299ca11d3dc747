/**
 * The API's object semantics, once, for every caller: the HTTP router (both hosts), the CLI through it, the fleet
 * custom resource, the soak and the bench. The router parses a request and writes the response; everything about
 * what a create, replace, patch, apply, status write, delete or rollback means lives here. Every refusal is an
 * ApiError (a Kubernetes Status with causes) and leaves the store as it was.
 */
import {
  AlreadyExistsError,
  ConflictError,
  ExpiredContinueTokenError,
  InvalidContinueTokenError,
  NotFoundError,
  StoreUnavailableError,
  systemClock,
  type Clock,
  type DeleteOptions,
  type Store,
} from '../../ports.js';
import { API_VERSION, DNS1123_LABEL, selectorMatches, type LabelSelector } from '../common.js';
import { jsonEqual, type ApiObject, type FieldCause, type KindDef } from '../kind.js';
import { kindByName, type KindName } from '../kinds.js';
import type { MachineDeployment } from '../machine-deployment.js';
import type { MachineSet } from '../machine-set.js';
import { validateCreate, validateUpdate } from '../validate.js';
import { needsSkewCheck, versionSkewCauses } from '../version-skew.js';
import { clusterClassCauses, clusterClassDeleteCauses } from './cluster-class-checks.js';
import { replicaLimitCauses, type ApiLimits } from '../http/limits.js';
import { applyJsonPatch, type JsonPatchOperation } from '../http/json-patch.js';
import { isPlainObject, mergePatch } from '../http/merge-patch.js';
import { rollbackTarget } from '../http/rollback.js';
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound, successStatus, unavailable, type Status } from '../http/status.js';
import { DryRunStore } from './dry-run-store.js';

export interface ObjectServiceDeps {
  store: Store;
  /** What this installation allows beyond validity (replica counts). @default - see ApiLimits */
  limits?: ApiLimits;
  /**
   * A dry run (`dryRun=All`): every write is checked and defaulted as a real one and answered as it would be
   * stored, and nothing is written (the store is only read). @default false
   */
  dryRun?: boolean;
  /** The clock a dry run stamps creationTimestamp and deletionTimestamp with. @default - the system clock */
  clock?: Clock;
}

/** Where an object lives: its kind, namespace and name. */
export interface ObjectKey {
  kind: KindName;
  namespace: string;
  name: string;
}

export interface ListOptions {
  /** At most this many items (the router clamps what a client asks for). */
  limit: number;
  /** The `continue` of the previous page. */
  continue?: string;
  labelSelector?: LabelSelector;
  /** A parsed field selector. */
  fieldSelector?: (o: ApiObject) => boolean;
  /** Cuts the page once the items measured this way pass the budget (the router measures them as it will write them). */
  budget?: { maxBytes: number; sizeOf: (o: ApiObject) => number };
}

/** A Kubernetes list: `{Kind}List` with `metadata.continue` while more remain. */
export interface ObjectList<T extends ApiObject = ApiObject> {
  apiVersion: string;
  kind: string;
  metadata: { continue?: string };
  items: T[];
}

/**
 * What an apply did: `created` (the object was absent), `configured` (a field the manifest gives changed) or
 * `unchanged` (the manifest already held; nothing was written), with the object as it is now.
 */
export interface Applied<T extends ApiObject = ApiObject> {
  result: 'created' | 'configured' | 'unchanged';
  object: T;
}

/** What a delete did: the object gone (a Success Status, as the API answers it), or marked for teardown. */
export type Deleted = { removed: true; status: Status; object: ApiObject } | { removed: false; object: ApiObject };

/** What a caller sends: a typed object, or a body as parsed (validation decides what it is). */
export type Body = ApiObject | Readonly<Record<string, unknown>>;

/** Conflicts retried from a fresh read when the caller gave no resourceVersion (nothing it saw is stale). */
export const UNGUARDED_ATTEMPTS = 5;

/** Server-set metadata: the store's to set, never taken from a body on create or apply. */
const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;

/** A client's value in a message; never String(), which throws on an object whose toString is not a function. */
const shownValue = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v));

/** Names that validation would refuse cannot exist, so a lookup of one is a 404 without a store read. */
export const isName = (s: string) => s.length <= 63 && DNS1123_LABEL.test(s);

function defOf(kind: string): KindDef {
  const def = kindByName(kind);
  if (!def) throw new ApiError('NotFound', 'the server could not find the requested resource', {});
  return def;
}

/** The key of a manifest, in `namespace` when it names none. */
export function keyOf(obj: { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } }, namespace = 'default'): ObjectKey {
  const def = defOf(String(obj.kind));
  const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : '';
  const ns = typeof obj.metadata?.namespace === 'string' && obj.metadata.namespace !== '' ? obj.metadata.namespace : namespace;
  return { kind: def.kind as KindName, namespace: ns, name };
}

/**
 * Fills apiVersion and kind from the address when the body leaves them out (as Kubernetes' decoder does) and
 * refuses a body of another kind, and one whose namespace or name contradicts the address (the URL).
 */
function checkBody(body: Body, def: KindDef, namespace: string, name?: string): Record<string, unknown> {
  const fields = body as Record<string, unknown>;
  const apiVersion = fields['apiVersion'] ?? API_VERSION;
  const kind = fields['kind'] ?? def.kind;
  if (apiVersion !== API_VERSION || kind !== def.kind)
    throw badRequest(`the body is a ${shownValue(kind)} of ${shownValue(apiVersion)}, but the URL is for ${def.plural} (${def.kind} of ${API_VERSION})`);
  const meta = fields['metadata'] ?? {};
  if (!isPlainObject(meta)) return { ...fields, apiVersion, kind }; // validation names the field
  if (meta['namespace'] !== undefined && meta['namespace'] !== namespace)
    throw badRequest(`the namespace of the provided object (${shownValue(meta['namespace'])}) does not match the namespace sent on the request (${namespace})`);
  if (name !== undefined && meta['name'] !== undefined && meta['name'] !== name)
    throw badRequest(`the name of the object (${shownValue(meta['name'])}) does not match the name on the URL (${name})`);
  return { ...fields, apiVersion, kind, metadata: { ...meta, namespace, ...(name !== undefined ? { name } : {}) } };
}

const nameOf = (body: Record<string, unknown>) => {
  const meta = body['metadata'];
  return isPlainObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : '';
};

/** The resourceVersion a client sent as its precondition, if any. */
function resourceVersionOf(body: Body): string | undefined {
  const meta = (body as Record<string, unknown>)['metadata'];
  const rv = isPlainObject(meta) ? meta['resourceVersion'] : undefined;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** A body without status and server-set metadata: what a create or an apply takes from a client. */
function withoutServerFields(body: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = body;
  const meta = body['metadata'];
  if (!isPlainObject(meta)) return rest;
  const clientMeta = { ...meta };
  for (const f of SERVER_FIELDS) delete clientMeta[f];
  return { ...rest, metadata: clientMeta };
}

function withFinalizer(obj: ApiObject, def: KindDef): ApiObject {
  const finalizers = obj.metadata.finalizers ?? [];
  if (!def.finalizer || finalizers.includes(def.finalizer)) return obj;
  return { ...obj, metadata: { ...obj.metadata, finalizers: [...finalizers, def.finalizer] } };
}

function withResourceVersion<T extends ApiObject>(obj: T, resourceVersion: string | undefined): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion } };
}

/** What an object says about itself once the server's bookkeeping is set aside (apply's "unchanged"). */
function content(obj: ApiObject): unknown {
  const { resourceVersion: _rv, generation: _g, ...meta } = obj.metadata;
  const { status: _s, ...rest } = obj;
  return { ...rest, metadata: meta };
}

/** The Status a Store error stands for; undefined for anything else (a bug: the caller's 500). */
export function storeErrorStatus(err: unknown): ApiError | undefined {
  const pluralOf = (kind: string) => kindByName(kind)?.plural ?? kind;
  if (err instanceof NotFoundError) return notFound(pluralOf(err.key.kind), err.key.name);
  if (err instanceof AlreadyExistsError) return alreadyExists(pluralOf(err.key.kind), err.key.name);
  if (err instanceof ConflictError) return conflict(pluralOf(err.key.kind), err.key.name, err.current?.metadata.resourceVersion);
  if (err instanceof StoreUnavailableError) return unavailable();
  if (err instanceof InvalidContinueTokenError) return badRequest(err.message);
  if (err instanceof ExpiredContinueTokenError) return new ApiError('Expired', err.message);
  return undefined;
}

/** Runs an operation with the Store's errors turned into the Status they stand for. */
async function asStatus<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw storeErrorStatus(err) ?? err;
  }
}

interface Target {
  def: KindDef;
  namespace: string;
  name: string;
}

export class ObjectService {
  private readonly store: Store;
  private readonly limits: ApiLimits | undefined;
  private readonly deps: ObjectServiceDeps;

  constructor(deps: ObjectServiceDeps) {
    this.deps = deps;
    this.store = deps.dryRun ? new DryRunStore(deps.store, deps.clock ?? systemClock) : deps.store;
    this.limits = deps.limits;
  }

  /** Whether this service writes nothing (a dry run). */
  get dryRun(): boolean {
    return this.deps.dryRun === true;
  }

  /** The same service as a dry run (for a DELETE whose body asks for one). */
  asDryRun(): ObjectService {
    return this.dryRun ? this : new ObjectService({ ...this.deps, dryRun: true });
  }

  /** The object, or a 404 Status. */
  get<T extends ApiObject = ApiObject>(key: ObjectKey): Promise<T> {
    return asStatus(async () => (await this.getOrThrow(this.target(key))) as T);
  }

  /**
   * One page of a list, selectors applied while paging (a page may hold fewer than the limit), `metadata.continue`
   * while more remain. No remainingItemCount: DynamoDB cannot count what is left without reading it.
   */
  list<T extends ApiObject = ApiObject>(kind: KindName, namespace: string | undefined, options: ListOptions): Promise<ObjectList<T>> {
    return asStatus(async () => {
      const def = defOf(kind);
      const empty: ObjectList<T> = { apiVersion: API_VERSION, kind: `${def.kind}List`, metadata: {}, items: [] };
      // A namespace that validation would refuse holds nothing; no need to ask the store.
      if (namespace !== undefined && !isName(namespace)) return empty;
      const { labelSelector: selector, fieldSelector: fields } = options;
      const page = await this.store.listPage<T>(kind, namespace, {
        limit: options.limit,
        ...(options.continue ? { continue: options.continue } : {}),
        ...(selector || fields ? { filter: (o: ApiObject) => (!selector || selectorMatches(selector, o.metadata.labels)) && (!fields || fields(o)) } : {}),
        ...(options.budget ? { budget: options.budget } : {}),
      });
      return { ...empty, metadata: page.continue ? { continue: page.continue } : {}, items: page.items };
    });
  }

  /**
   * Creates the object in `namespace`. Server fields are the store's to set, and status is written through
   * /status only (as with a CRD's status subresource), so both are dropped rather than refused: an object read
   * back can be created again. The kind's finalizer is added.
   */
  create<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, body: Body): Promise<T> {
    return asStatus(async () => {
      const def = defOf(kind);
      const checked = checkBody(body, def, namespace);
      const v = validateCreate(withoutServerFields(checked));
      if (!v.ok) throw invalid(def.kind, nameOf(checked), v.causes);
      const overLimit = replicaLimitCauses(v.object, undefined, this.limits);
      if (overLimit.length) throw invalid(def.kind, nameOf(checked), overLimit);
      await this.checkSkew(def, v.object, undefined);
      const obj = withFinalizer(v.object, def);
      try {
        return (await this.store.create(obj)) as T;
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw alreadyExists(def.plural, obj.metadata.name);
        throw err;
      }
    });
  }

  /**
   * Replaces spec and metadata (status stays). Guarded by the body's resourceVersion when it has one (a conflict
   * is the caller's 409); otherwise by what was just read, retried from a fresh read.
   */
  replace<T extends ApiObject = ApiObject>(key: ObjectKey, body: Body): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      const checked = checkBody(body, t.def, t.namespace, t.name);
      return (await this.readModifyWrite(t, resourceVersionOf(checked), async (old, rv) => {
        let candidate = checked;
        // Note: a manifest applied again usually has no finalizers; taking that as "remove them" would let a
        // later DELETE skip teardown. An explicit list (even []) is still taken as given.
        const meta = checked['metadata'];
        if (isPlainObject(meta) && meta['finalizers'] === undefined && old.metadata.finalizers)
          candidate = { ...checked, metadata: { ...meta, finalizers: old.metadata.finalizers } };
        return this.updateUnlessUnchanged(old, await this.checkedUpdate(t, old, candidate), rv);
      })) as T;
    });
  }

  /** A JSON merge patch (RFC 7386) of spec and metadata; guarded like replace by the patch's resourceVersion. */
  mergePatch<T extends ApiObject = ApiObject>(key: ObjectKey, patch: Body): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      return (await this.readModifyWrite(t, resourceVersionOf(patch), async (old, rv) => {
        const merged = mergePatch(old, patch);
        if (!isPlainObject(merged)) throw badRequest('the patch must be an object');
        return this.updateUnlessUnchanged(old, await this.checkedUpdate(t, old, merged), rv);
      })) as T;
    });
  }

  /**
   * A JSON patch (RFC 6902) of spec and metadata, validated as a replace. A patch that changes
   * metadata.resourceVersion makes it a precondition, as kube-apiserver reads one.
   */
  jsonPatch<T extends ApiObject = ApiObject>(key: ObjectKey, operations: readonly JsonPatchOperation[]): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      return (await this.readModifyWrite(t, undefined, async (old, rv) => {
        const patched = this.jsonPatched(t, old, operations);
        return this.updateUnlessUnchanged(old, await this.checkedUpdate(t, old, patched), rv);
      })) as T;
    });
  }

  /**
   * Apply, the one meaning `clusterless apply`, a server-side apply PATCH and the soak and bench share: create the
   * object when it is absent, otherwise merge the fields the manifest gives onto the live object (a merge patch:
   * fields it leaves out keep their live values, null removes one). Status and server-set metadata in the manifest
   * are ignored (a manifest saved with `get -o yaml` applies as it is). Nothing is written when the manifest already
   * holds. A create that finds the name taken, or an update that loses a race, starts again from a fresh read.
   *
   * Unlike Kubernetes' server-side apply there are no managed fields: no field owners, no conflicts between
   * managers, and a field left out of a later manifest is not removed.
   */
  apply<T extends ApiObject = ApiObject>(key: ObjectKey, body: Body): Promise<Applied<T>> {
    return asStatus(async () => {
      const t = this.target(key);
      const desired = withoutServerFields(checkBody(body, t.def, t.namespace, t.name));
      for (let attempt = 1; ; attempt++) {
        const live = await this.store.get(t.def.kind as KindName, t.namespace, t.name);
        const last = attempt >= UNGUARDED_ATTEMPTS;
        if (!live) {
          try {
            return { result: 'created', object: await this.create<T>(key.kind, t.namespace, desired) };
          } catch (err) {
            // Created by someone else since the read: update it as if it had been there.
            if (last || !(err instanceof ApiError && err.status.reason === 'AlreadyExists')) throw err;
            continue;
          }
        }
        const merged = mergePatch(live, desired) as Record<string, unknown>;
        const next = this.validated(t, live, merged);
        if (jsonEqual(content(next), content(live))) return { result: 'unchanged', object: live as T };
        await this.checkSkew(t.def, next, live);
        try {
          return { result: 'configured', object: (await this.store.update(withResourceVersion(next, live.metadata.resourceVersion))) as T };
        } catch (err) {
          // Changed (or deleted) since the read: start again from what is there now.
          if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
          if (last) throw err instanceof ConflictError ? await this.conflictOf(err, t) : err;
        }
      }
    });
  }

  /** Replaces status (spec and metadata stay); the status is checked against the kind's schema. */
  replaceStatus<T extends ApiObject = ApiObject>(key: ObjectKey, body: Body): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      const checked = checkBody(body, t.def, t.namespace, t.name);
      return (await this.writeStatus(t, resourceVersionOf(checked), () => checked['status'])) as T;
    });
  }

  /** A merge patch of status; only status changes. */
  patchStatus<T extends ApiObject = ApiObject>(key: ObjectKey, patch: Body): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      return (await this.writeStatus(t, resourceVersionOf(patch), (old) => {
        const merged = mergePatch(old, patch);
        return isPlainObject(merged) ? merged['status'] : undefined;
      })) as T;
    });
  }

  /** A JSON patch of status; only status changes. */
  jsonPatchStatus<T extends ApiObject = ApiObject>(key: ObjectKey, operations: readonly JsonPatchOperation[]): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      return (await this.writeStatus(t, undefined, (old) => this.jsonPatched(t, old, operations)['status'])) as T;
    });
  }

  /**
   * Deletes the object, with DeleteOptions' preconditions: removed at once when it has no finalizers, otherwise
   * marked (deletionTimestamp) for its teardown.
   */
  delete(key: ObjectKey, preconditions: DeleteOptions = {}): Promise<Deleted> {
    return asStatus(async () => {
      const t = this.target(key);
      const inUse = await clusterClassDeleteCauses(this.store, t.def.kind, t.namespace, t.name);
      if (inUse.length) throw invalid(t.def.kind, t.name, inUse);
      try {
        const r = await this.store.delete(t.def.kind as KindName, t.namespace, t.name, preconditions);
        return r.removed
          ? { removed: true, status: successStatus(t.def.plural, t.name, r.object.metadata.uid), object: r.object }
          : { removed: false, object: r.object };
      } catch (err) {
        if (err instanceof ConflictError) throw await this.conflictOf(err, t);
        throw err;
      }
    });
  }

  /**
   * Puts an older MachineSet's template back into a MachineDeployment, as `kubectl rollout undo` does; the rollout
   * then proceeds as for any template change. The request is `{toRevision}`; 0 (or none) is the previous revision.
   */
  rollback<T extends ApiObject = MachineDeployment>(key: ObjectKey, request: Body): Promise<T> {
    return asStatus(async () => {
      const t = this.target(key);
      const fields = request as Record<string, unknown>;
      const causes: FieldCause[] = Object.keys(fields)
        .filter((k) => k !== 'toRevision')
        .map((k) => ({ field: k, reason: 'FieldValueNotSupported', message: `unknown field "${k}"` }));
      const toRevision = fields['toRevision'] ?? 0;
      if (typeof toRevision !== 'number' || !Number.isInteger(toRevision) || toRevision < 0)
        causes.push({ field: 'toRevision', reason: 'FieldValueInvalid', message: 'must be an integer >= 0 (0 is the previous revision)' });
      if (causes.length) throw invalid(t.def.kind, t.name, causes);
      return (await this.readModifyWrite(t, undefined, async (old, rv) => {
        const md = old as MachineDeployment;
        if (md.spec.paused)
          throw invalid(t.def.kind, t.name, [
            { field: 'spec.paused', reason: 'FieldValueForbidden', message: 'cannot roll back a paused MachineDeployment; resume it first' },
          ]);
        const sets = await this.store.list<MachineSet>('MachineSet', t.namespace);
        const target = rollbackTarget(md, sets, toRevision as number);
        if (!target.ok) throw invalid(t.def.kind, t.name, [target.cause]);
        if (jsonEqual(target.template, md.spec.template)) return md; // already at that template: nothing to do
        const candidate = { ...md, spec: { ...md.spec, template: target.template } };
        // Note: going back to the revision that ran before an upgrade is what undo is for, so the "no
        // downgrade" rule of ordinary updates does not apply here; every other rule does.
        const isDowngrade = (c: FieldCause) => c.field === 'spec.template.spec.version' && c.reason === 'FieldValueForbidden';
        return this.store.update(withResourceVersion(await this.checkedUpdate(t, old, candidate, isDowngrade), rv));
      })) as T;
    });
  }

  /** The kind's definition for a key; a name validation would refuse cannot exist (404 without a read). */
  private target(key: ObjectKey): Target {
    const def = defOf(key.kind);
    if (!isName(key.namespace) || !isName(key.name)) throw notFound(def.plural, key.name);
    return { def, namespace: key.namespace, name: key.name };
  }

  private async getOrThrow(t: Target): Promise<ApiObject> {
    const obj = await this.store.get(t.def.kind as KindName, t.namespace, t.name);
    if (!obj) throw notFound(t.def.plural, t.name);
    return obj;
  }

  /**
   * Read, check, write, guarded by resourceVersion. With the client's resourceVersion a conflict is the
   * client's (409); without one the write is guarded by what was just read and retried from a fresh read.
   */
  private async readModifyWrite(
    t: Target,
    precondition: string | undefined,
    write: (old: ApiObject, resourceVersion: string | undefined) => Promise<ApiObject>,
  ): Promise<ApiObject> {
    for (let attempt = 1; ; attempt++) {
      const old = await this.getOrThrow(t);
      if (precondition !== undefined && precondition !== old.metadata.resourceVersion) throw conflict(t.def.plural, t.name, old.metadata.resourceVersion);
      try {
        return await write(old, precondition ?? old.metadata.resourceVersion);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (precondition !== undefined || attempt >= UNGUARDED_ATTEMPTS) throw await this.conflictOf(err, t);
      }
    }
  }

  /**
   * `old` with a JSON patch applied, held to the address like any body; a resourceVersion the patch changed is
   * a precondition that `old` fails (a conflict).
   */
  private jsonPatched(t: Target, old: ApiObject, operations: readonly JsonPatchOperation[]): Record<string, unknown> {
    const patched = applyJsonPatch(old, operations);
    if (!isPlainObject(patched)) throw badRequest('the patched object must be an object');
    const checked = checkBody(patched, t.def, t.namespace, t.name);
    const rv = resourceVersionOf(checked);
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw conflict(t.def.plural, t.name, old.metadata.resourceVersion);
    return checked;
  }

  /**
   * Writes `next` unless the store would keep it exactly as `old` is: kube-apiserver skips a write that changes
   * nothing (the resourceVersion stays, and kubectl says "patched (no change)"), and so does this.
   * Learnt from staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go (GuaranteedUpdate: unchanged data).
   */
  private updateUnlessUnchanged(old: ApiObject, next: ApiObject, rv: string | undefined): Promise<ApiObject> {
    const { uid, creationTimestamp, generation, deletionTimestamp, namespace } = old.metadata;
    const asStored = {
      ...next,
      metadata: { ...next.metadata, namespace, uid, creationTimestamp, generation, deletionTimestamp, resourceVersion: old.metadata.resourceVersion },
    };
    if (old.status === undefined) delete asStored.status;
    else asStored.status = old.status;
    if (jsonEqual(asStored, old)) return Promise.resolve(old);
    return this.store.update(withResourceVersion(next, rv));
  }

  private async conflictOf(err: ConflictError, t: Target): Promise<ApiError> {
    const current = err.current ?? (await this.store.get(t.def.kind as KindName, t.namespace, t.name));
    return conflict(t.def.plural, t.name, current?.metadata.resourceVersion);
  }

  /**
   * Validates `candidate` as a replacement of `old` (replace, merge patch, apply, rollback), then holds it to the
   * installation's limits; status always stays the stored one on these writes.
   */
  private validated(t: Target, old: ApiObject, candidate: Record<string, unknown>, ignore?: (c: FieldCause) => boolean): ApiObject {
    const obj = parsedUpdate(t, old, candidate, ignore);
    const overLimit = replicaLimitCauses(obj, old, this.limits);
    if (overLimit.length) throw invalid(t.def.kind, t.name, overLimit);
    return obj;
  }

  /** `validated`, then the rules that read the rest of the cluster (version skew). */
  private async checkedUpdate(t: Target, old: ApiObject, candidate: Record<string, unknown>, ignore?: (c: FieldCause) => boolean): Promise<ApiObject> {
    const obj = this.validated(t, old, candidate, ignore);
    await this.checkSkew(t.def, obj, old);
    return obj;
  }

  /**
   * The version skew rules (`version-skew.ts`) for a create (`old` undefined) or an update: one read of the
   * cluster's objects, only when the write creates a versioned object or changes its version. Not atomic with the
   * write (there are no transactions): two racing writes of one cluster may each pass against the other's old state.
   */
  private async checkSkew(def: KindDef, obj: ApiObject, old: ApiObject | undefined): Promise<void> {
    const topology = await clusterClassCauses(this.store, obj, old);
    if (topology.length) throw invalid(def.kind, obj.metadata.name, topology);
    if (!needsSkewCheck(obj, old)) return;
    const clusterName = def.clusterNameOf(obj);
    if (!clusterName || !obj.metadata.namespace) return;
    const causes = versionSkewCauses(obj, old, await this.store.listCluster(obj.metadata.namespace, clusterName));
    if (causes.length) throw invalid(def.kind, obj.metadata.name, causes);
  }

  private writeStatus(t: Target, precondition: string | undefined, statusOf: (old: ApiObject) => unknown): Promise<ApiObject> {
    return this.readModifyWrite(t, precondition, (old, rv) => {
      const status = statusOf(old);
      const { status: _s, ...rest } = old;
      // The stored spec and metadata with the new status, through the kind's schema: the status shape is checked.
      const v = validateUpdate(old, status === undefined ? rest : { ...rest, status });
      if (!v.ok) throw invalid(t.def.kind, t.name, v.causes);
      const next = { ...old, status: v.object.status };
      if (next.status === undefined) delete next.status;
      // Nothing changed: nothing is written, as kube-apiserver skips such a write (kubectl: "patched (no change)").
      if (jsonEqual(next, old)) return Promise.resolve(old);
      return this.store.updateStatus(withResourceVersion(next, rv));
    });
  }
}

function parsedUpdate(t: Target, old: ApiObject, candidate: Record<string, unknown>, ignore?: (c: FieldCause) => boolean): ApiObject {
  const { status: _s, ...rest } = candidate;
  const next = old.status === undefined ? rest : { ...rest, status: old.status };
  const v = validateUpdate(old, next);
  if (v.ok) return v.object;
  const causes = ignore ? v.causes.filter((c) => !ignore(c)) : v.causes;
  if (causes.length > 0) throw invalid(t.def.kind, t.name, causes);
  // Only ignored update rules failed, so the object itself parses: take it as validateCreate reads it.
  const c = validateCreate(next);
  if (!c.ok) throw invalid(t.def.kind, t.name, c.causes);
  return c.object;
}
