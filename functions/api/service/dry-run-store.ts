/**
 * The Store a dry run (`?dryRun=All`, DeleteOptions.dryRun) writes to: reads go to the real store, writes are
 * worked out exactly as the store would make them and answered, and never reach it. Every rule of the service
 * (validation, defaults, limits, version skew, preconditions) runs unchanged above it, so a dry run answers what
 * the real write would, and refuses what it would refuse.
 *
 * What a dry run answers follows kube-apiserver's (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/
 * dryrun.go, DryRunnableStorage): a create gets a uid and creationTimestamp but no resourceVersion (nothing was
 * stored at any version); an update keeps the stored resourceVersion and bumps generation when spec changes; a
 * delete checks the preconditions and answers the object as the delete would leave it.
 */
import { randomUUID } from 'node:crypto';
import { jsonEqual, type ApiObject } from '../kind.js';
import {
  AlreadyExistsError,
  checkPreconditions,
  NotFoundError,
  StoreError,
  type Clock,
  type DeleteOptions,
  type DeleteResult,
  type ListPage,
  type ListPageOptions,
  type Lease,
  type ObjectKey,
  type Store,
  type UsageRecord,
} from '../../ports.js';
import type { KindName } from '../kinds.js';

/** A dry run asked the store to do something no request does (a lease): a bug, never a client's error. */
export class DryRunWriteError extends StoreError {
  override name = 'DryRunWriteError';
}

/** Kubernetes writes timestamps as RFC 3339 with whole seconds. */
const timestamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const keyOf = (obj: ApiObject): ObjectKey => ({ kind: obj.kind as KindName, namespace: obj.metadata.namespace || 'default', name: obj.metadata.name });

export class DryRunStore implements Store {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create<T extends ApiObject>(obj: T): Promise<T> {
    const key = keyOf(obj);
    if (await this.store.get(key.kind, key.namespace, key.name)) throw new AlreadyExistsError(key);
    const { resourceVersion: _rv, deletionTimestamp: _dt, ...metadata } = obj.metadata;
    return structuredClone({
      ...obj,
      metadata: { ...metadata, namespace: key.namespace, uid: obj.metadata.uid || randomUUID(), generation: 1, creationTimestamp: timestamp(this.clock.now()) },
    });
  }

  get<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, name: string): Promise<T | undefined> {
    return this.store.get<T>(kind, namespace, name);
  }

  async update<T extends ApiObject>(obj: T): Promise<T> {
    const current = await this.current(obj);
    const metadata = {
      ...obj.metadata,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: (current.metadata.generation ?? 1) + (jsonEqual(obj.spec, current.spec) ? 0 : 1),
      resourceVersion: current.metadata.resourceVersion,
    };
    if (current.metadata.deletionTimestamp) metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    else delete metadata.deletionTimestamp;
    const next = structuredClone({ ...obj, metadata }) as T;
    if (current.status === undefined) delete next.status;
    else next.status = structuredClone(current.status);
    return next;
  }

  async updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    const current = await this.current(obj);
    const next = structuredClone(current) as T;
    if (obj.status === undefined) delete next.status;
    else next.status = structuredClone(obj.status);
    return next;
  }

  async delete(kind: KindName, namespace: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const key = { kind, namespace, name };
    const current = await this.store.get(kind, namespace, name);
    if (!current) throw new NotFoundError(key);
    checkPreconditions(key, current, options);
    if (!current.metadata.finalizers?.length) return { object: current, removed: true };
    if (current.metadata.deletionTimestamp) return { object: current, removed: false };
    const metadata = { ...current.metadata, deletionTimestamp: timestamp(this.clock.now()), generation: (current.metadata.generation ?? 1) + 1 };
    return { object: { ...current, metadata }, removed: false };
  }

  listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return this.store.listCluster(namespace, clusterName);
  }

  list<T extends ApiObject = ApiObject>(kind: KindName, namespace?: string): Promise<T[]> {
    return this.store.list<T>(kind, namespace);
  }

  listPage<T extends ApiObject = ApiObject>(kind: KindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>> {
    return this.store.listPage<T>(kind, namespace, options);
  }

  acquireLease(): Promise<Lease | undefined> {
    return Promise.reject(new DryRunWriteError('a dry run takes no lease'));
  }

  releaseLease(): Promise<void> {
    return Promise.reject(new DryRunWriteError('a dry run holds no lease'));
  }

  addUsage(): Promise<void> {
    return Promise.reject(new DryRunWriteError('a dry run counts no usage'));
  }

  listUsage(period: string, namespace?: string): Promise<UsageRecord[]> {
    return this.store.listUsage(period, namespace);
  }

  /** The stored object an update is of, held to the update's preconditions as the store holds them. */
  private async current(obj: ApiObject): Promise<ApiObject> {
    const key = keyOf(obj);
    const current = await this.store.get(key.kind, key.namespace, key.name);
    if (!current) throw new NotFoundError(key);
    checkPreconditions(key, current, { resourceVersion: obj.metadata.resourceVersion, uid: obj.metadata.uid });
    return current;
  }
}
