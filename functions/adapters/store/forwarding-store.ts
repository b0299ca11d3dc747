/**
 * A Store that hands every call to another: the base of wrappers that change a few calls and pass the rest on
 * (the embedded host's write trigger, the soak's fault injection, tests that count leases). A method added to the
 * Store port is then forwarded in one place, not in every wrapper.
 */
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import type { DeleteOptions, DeleteResult, Lease, ListPage, ListPageOptions, Store, UsageRecord } from '../../ports.js';

export class ForwardingStore implements Store {
  constructor(readonly inner: Store) {}

  create<T extends ApiObject>(obj: T): Promise<T> {
    return this.inner.create(obj);
  }
  get<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, name: string): Promise<T | undefined> {
    return this.inner.get<T>(kind, namespace, name);
  }
  update<T extends ApiObject>(obj: T): Promise<T> {
    return this.inner.update(obj);
  }
  updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    return this.inner.updateStatus(obj);
  }
  delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    return this.inner.delete(kind, namespace, name, options);
  }
  listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return this.inner.listCluster(namespace, clusterName);
  }
  list<T extends ApiObject = ApiObject>(kind: KindName, namespace?: string): Promise<T[]> {
    return this.inner.list<T>(kind, namespace);
  }
  listPage<T extends ApiObject = ApiObject>(kind: KindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>> {
    return this.inner.listPage<T>(kind, namespace, options);
  }
  acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined> {
    return this.inner.acquireLease(namespace, clusterName, name, holder, ttlSeconds);
  }
  releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    return this.inner.releaseLease(namespace, clusterName, name, holder);
  }
  addUsage(namespace: string, clusterName: string, period: string, counters: Readonly<Record<string, number>>): Promise<void> {
    return this.inner.addUsage(namespace, clusterName, period, counters);
  }
  listUsage(period: string, namespace?: string): Promise<UsageRecord[]> {
    return this.inner.listUsage(period, namespace);
  }
}
