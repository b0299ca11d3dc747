/**
 * The Store in process memory: for unit tests and for hosts that need no persistence. The semantics are
 * BaseStore's; this file only keeps Maps. Each primitive runs without awaiting, so it is atomic.
 */
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import { AlreadyExistsError, type ObjectKey } from '../../ports.js';
import {
  BaseStore,
  byPosition,
  cloneObject,
  clusterNameOf,
  isAfter,
  keyOf,
  namespaceOf,
  type BaseStoreOptions,
  type KindPage,
  type LeaseRecord,
  type ListPosition,
  type WriteOutcome,
} from '../store/base-store.js';

export type MemoryStoreOptions = BaseStoreOptions;

/** `{Kind}/{namespace}/{name}`: names are unique per kind and namespace, whatever the cluster. */
function objectId(key: ObjectKey): string {
  return `${key.kind}/${key.namespace}/${key.name}`;
}

function leaseId(namespace: string, clusterName: string, name: string): string {
  return `${namespace}/${clusterName}/${name}`;
}

export class MemoryStore extends BaseStore {
  private readonly objects = new Map<string, ApiObject>();
  private readonly leases = new Map<string, LeaseRecord>();

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
  }

  protected async getObject(key: ObjectKey): Promise<ApiObject | undefined> {
    const obj = this.objects.get(objectId(key));
    return obj && cloneObject(obj);
  }

  protected async putIfAbsent(obj: ApiObject): Promise<void> {
    const key = keyOf(obj);
    if (this.objects.has(objectId(key))) throw new AlreadyExistsError(key);
    this.objects.set(objectId(key), cloneObject(obj));
  }

  protected async putIfVersion(next: ApiObject, current: ApiObject): Promise<WriteOutcome> {
    const id = objectId(keyOf(current));
    const stored = this.objects.get(id);
    if (stored?.metadata.resourceVersion !== current.metadata.resourceVersion) return { ok: false, current: stored && cloneObject(stored) };
    this.objects.set(id, cloneObject(next));
    return { ok: true };
  }

  protected async deleteIfVersion(current: ApiObject): Promise<WriteOutcome> {
    const id = objectId(keyOf(current));
    const stored = this.objects.get(id);
    if (stored?.metadata.resourceVersion !== current.metadata.resourceVersion) return { ok: false, current: stored && cloneObject(stored) };
    this.objects.delete(id);
    return { ok: true };
  }

  protected async queryCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return [...this.objects.values()]
      .filter((o) => namespaceOf(o) === namespace && clusterNameOf(o) === clusterName)
      .map(cloneObject);
  }

  protected async queryKindPage(kind: KindName, namespace: string | undefined, after: ListPosition | undefined, limit: number | undefined): Promise<KindPage> {
    const all = [...this.objects.values()]
      .filter((o) => o.kind === kind && (namespace === undefined || namespaceOf(o) === namespace) && (!after || isAfter(o, after)))
      .sort(byPosition);
    const objects = limit === undefined ? all : all.slice(0, limit);
    return { objects: objects.map(cloneObject), more: objects.length < all.length };
  }

  protected async putLease(namespace: string, clusterName: string, lease: LeaseRecord, nowMs: number): Promise<boolean> {
    const id = leaseId(namespace, clusterName, lease.name);
    const held = this.leases.get(id);
    if (held && held.expiresAtMs > nowMs && held.holder !== lease.holder) return false;
    this.leases.set(id, { ...lease });
    return true;
  }

  protected async deleteLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    const id = leaseId(namespace, clusterName, name);
    if (this.leases.get(id)?.holder === holder) this.leases.delete(id);
  }
}
