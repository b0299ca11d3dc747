/**
 * The Kubernetes semantics of the Store port, written once. Adapters (memory, dynamodb) extend BaseStore and
 * fill in a handful of primitive single-item operations; everything about uid, resourceVersion, generation,
 * finalizers, preconditions and lost races lives here, so every adapter behaves the same.
 * (Shaped like powertools' BasePersistenceLayer: the base class owns the rules, adapters own the I/O.)
 */
import { randomUUID } from 'node:crypto';
import { jsonEqual, type ApiObject } from '../../api/kind.js';
import { kindByName, type KindName } from '../../api/kinds.js';
import {
  ConflictError,
  NotFoundError,
  StoreError,
  systemClock,
  type Clock,
  type DeleteOptions,
  type DeleteResult,
  type Lease,
  type ObjectKey,
  type Store,
} from '../../ports.js';

/** The result of a conditional write: applied, or lost to the object as it is now (undefined when gone). */
export type WriteOutcome = { ok: true } | { ok: false; current: ApiObject | undefined };

/** A lease as adapters store it: expiry in epoch milliseconds so that it compares as a number. */
export interface LeaseRecord {
  name: string;
  holder: string;
  expiresAtMs: number;
}

/** An update tried to move an object to another cluster; its cluster decides where it is stored. */
export class ClusterNameChangeError extends StoreError {
  override name = 'ClusterNameChangeError';
  constructor(
    readonly key: ObjectKey,
    readonly from: string | undefined,
    readonly to: string | undefined,
  ) {
    super(`${key.kind} ${key.namespace}/${key.name}: the cluster of an object cannot change (from ${from ?? 'none'} to ${to ?? 'none'})`);
  }
}

export interface BaseStoreOptions {
  /** @default - the system clock */
  clock?: Clock;
  /**
   * How many times an unguarded write (no resourceVersion given) re-reads and retries after losing a race,
   * before it gives up with ConflictError.
   * @default 50
   */
  maxRaceRetries?: number;
}

export function namespaceOf(obj: ApiObject): string {
  return obj.metadata.namespace || 'default';
}

export function keyOf(obj: ApiObject): ObjectKey {
  return { kind: obj.kind as KindName, namespace: namespaceOf(obj), name: obj.metadata.name };
}

/** The cluster an object belongs to (its partition); undefined for namespace-level kinds such as MachineClass. */
export function clusterNameOf(obj: ApiObject): string | undefined {
  const def = kindByName(obj.kind);
  if (!def) throw new StoreError(`unknown kind ${obj.kind}`);
  return def.clusterNameOf(obj);
}

/** Kubernetes writes timestamps as RFC 3339 with whole seconds. */
export function kubeTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A deep copy, so that nobody shares a mutable object with the store. */
export function cloneObject<T>(obj: T): T {
  return structuredClone(obj);
}

type Plan =
  | { write: 'put'; next: ApiObject }
  | { write: 'remove'; result: ApiObject }
  | { write: 'none'; result: ApiObject };

export abstract class BaseStore implements Store {
  protected readonly clock: Clock;
  private readonly maxRaceRetries: number;
  private lastVersion = 0;

  constructor(options: BaseStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxRaceRetries = options.maxRaceRetries ?? 50;
  }

  // --- primitives the adapters fill in -------------------------------------------------------------------

  /** A strongly consistent read. `hint` is an object of the same key whose cluster is probably the right one. */
  protected abstract getObject(key: ObjectKey, hint?: ApiObject): Promise<ApiObject | undefined>;
  /** Stores a new object; throws AlreadyExistsError when one of that kind, namespace and name exists in any cluster. */
  protected abstract putIfAbsent(obj: ApiObject): Promise<void>;
  /** Replaces `current` with `next` (same key, same cluster) if it is still at current's resourceVersion. */
  protected abstract putIfVersion(next: ApiObject, current: ApiObject): Promise<WriteOutcome>;
  /** Removes `current` if it is still at its resourceVersion. */
  protected abstract deleteIfVersion(current: ApiObject): Promise<WriteOutcome>;
  /** Every object of one cluster, any order. */
  protected abstract queryCluster(namespace: string, clusterName: string): Promise<ApiObject[]>;
  /** Every object of one kind, in one namespace or all, any order. */
  protected abstract queryKind(kind: KindName, namespace?: string): Promise<ApiObject[]>;
  /** Writes the lease if it is absent, expired at nowMs (expiresAtMs <= nowMs), or held by the same holder. */
  protected abstract putLease(namespace: string, clusterName: string, lease: LeaseRecord, nowMs: number): Promise<boolean>;
  /** Removes the lease if `holder` holds it; otherwise does nothing. */
  protected abstract deleteLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void>;

  // --- the Store port ----------------------------------------------------------------------------------

  async create<T extends ApiObject>(obj: T): Promise<T> {
    clusterNameOf(obj); // refuses unknown kinds before anything is written
    const metadata = {
      ...obj.metadata,
      namespace: namespaceOf(obj),
      uid: obj.metadata.uid || randomUUID(),
      resourceVersion: this.nextResourceVersion(),
      generation: 1,
      creationTimestamp: kubeTimestamp(this.clock.now()),
    };
    delete metadata.deletionTimestamp;
    const created = { ...cloneObject(obj), metadata } as T;
    await this.putIfAbsent(created);
    return cloneObject(created);
  }

  async get<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, name: string): Promise<T | undefined> {
    return (await this.getObject({ kind, namespace, name })) as T | undefined;
  }

  async update<T extends ApiObject>(obj: T): Promise<T> {
    const key = keyOf(obj);
    const result = await this.guardedWrite(key, obj, { resourceVersion: obj.metadata.resourceVersion, uid: obj.metadata.uid }, (current) => {
      const specChanged = !jsonEqual(obj.spec, current.spec);
      const metadata = {
        ...cloneObject(obj.metadata),
        namespace: key.namespace,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
        resourceVersion: this.nextResourceVersion(current.metadata.resourceVersion),
      };
      if (current.metadata.deletionTimestamp) metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      else delete metadata.deletionTimestamp;
      const next: ApiObject = { ...cloneObject(obj), metadata };
      if (current.status === undefined) delete next.status;
      else next.status = current.status;
      if (clusterNameOf(next) !== clusterNameOf(current))
        throw new ClusterNameChangeError(key, clusterNameOf(current), clusterNameOf(next));
      return this.removeIfReleased(next);
    });
    return result as T;
  }

  async updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    const key = keyOf(obj);
    const result = await this.guardedWrite(key, obj, { resourceVersion: obj.metadata.resourceVersion, uid: obj.metadata.uid }, (current) => {
      const next: ApiObject = {
        ...current,
        metadata: { ...current.metadata, resourceVersion: this.nextResourceVersion(current.metadata.resourceVersion) },
      };
      if (obj.status === undefined) delete next.status;
      else next.status = cloneObject(obj.status);
      return this.removeIfReleased(next);
    });
    return result as T;
  }

  async delete(kind: KindName, namespace: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    let removed = false;
    const object = await this.guardedWrite({ kind, namespace, name }, undefined, options, (current) => {
      if (current.metadata.finalizers?.length) {
        // Kubernetes sets deletionTimestamp once; later deletes change nothing.
        if (current.metadata.deletionTimestamp) return { write: 'none', result: current };
        const next: ApiObject = {
          ...current,
          metadata: {
            ...current.metadata,
            deletionTimestamp: kubeTimestamp(this.clock.now()),
            generation: (current.metadata.generation ?? 1) + 1,
            resourceVersion: this.nextResourceVersion(current.metadata.resourceVersion),
          },
        };
        return { write: 'put', next };
      }
      return { write: 'remove', result: current };
    }, () => {
      removed = true;
    });
    return { object, removed };
  }

  async listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    const objects = await this.queryCluster(namespace, clusterName);
    // The order of the table's sort key ({Kind}#{name}), whatever the adapter returned.
    return objects.sort((a, b) => compare(`${a.kind}#${a.metadata.name}`, `${b.kind}#${b.metadata.name}`));
  }

  async list<T extends ApiObject = ApiObject>(kind: KindName, namespace?: string): Promise<T[]> {
    const objects = await this.queryKind(kind, namespace);
    return objects.sort((a, b) => compare(namespaceOf(a), namespaceOf(b)) || compare(a.metadata.name, b.metadata.name)) as T[];
  }

  async acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined> {
    if (!(ttlSeconds > 0)) throw new StoreError(`lease ttlSeconds must be positive, got ${ttlSeconds}`);
    const nowMs = this.clock.now().getTime();
    const lease: LeaseRecord = { name, holder, expiresAtMs: nowMs + Math.round(ttlSeconds * 1000) };
    if (!(await this.putLease(namespace, clusterName, lease, nowMs))) return undefined;
    return { name, holder, expiresAt: new Date(lease.expiresAtMs).toISOString() };
  }

  async releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    await this.deleteLease(namespace, clusterName, name, holder);
  }

  // --- shared machinery ----------------------------------------------------------------------------------

  /**
   * The next resourceVersion: larger than the object's previous one, than the clock in microseconds and than
   * any this store issued before. The clock term is what keeps a version from being reused by a later object
   * of the same name (a deleted and re-created object starts above anything its predecessor had, given
   * clocks that agree to within the object's lifetime), so a writer holding a stale version cannot win.
   */
  protected nextResourceVersion(previous?: string): string {
    const micros = this.clock.now().getTime() * 1000;
    const prev = previous !== undefined && /^\d+$/.test(previous) ? Number(previous) : 0;
    const n = Math.max(micros, prev + 1, this.lastVersion + 1);
    this.lastVersion = n;
    return String(n);
  }

  /** An update that leaves a deleting object without finalizers removes it, as Kubernetes does. */
  private removeIfReleased(next: ApiObject): Plan {
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) return { write: 'remove', result: next };
    return { write: 'put', next };
  }

  /**
   * Read, check preconditions, write conditionally on the version read; on a lost race either report a
   * Conflict (the caller named a resourceVersion) or start again from a fresh read (last write wins).
   */
  private async guardedWrite(
    key: ObjectKey,
    hint: ApiObject | undefined,
    pre: { resourceVersion?: string | undefined; uid?: string | undefined },
    plan: (current: ApiObject) => Plan,
    onRemoved?: () => void,
  ): Promise<ApiObject> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.getObject(key, hint);
      if (!current) throw new NotFoundError(key);
      checkPreconditions(key, current, pre);
      const p = plan(current);
      if (p.write === 'none') return cloneObject(p.result);
      const outcome = p.write === 'put' ? await this.putIfVersion(p.next, current) : await this.deleteIfVersion(current);
      if (outcome.ok) {
        if (p.write === 'remove') onRemoved?.();
        return cloneObject(p.write === 'put' ? p.next : p.result);
      }
      if (outcome.current) checkPreconditions(key, outcome.current, pre);
      else if (pre.resourceVersion || pre.uid) throw new NotFoundError(key);
      if (attempt >= this.maxRaceRetries)
        throw new ConflictError(key, outcome.current, `${key.kind} ${key.namespace}/${key.name}: gave up after ${attempt + 1} lost races`);
    }
  }
}

function checkPreconditions(key: ObjectKey, current: ApiObject, pre: { resourceVersion?: string | undefined; uid?: string | undefined }): void {
  if (pre.uid && pre.uid !== current.metadata.uid)
    throw new ConflictError(
      key,
      current,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
    );
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError(key, current);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
