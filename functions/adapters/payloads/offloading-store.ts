/**
 * The API's Store: ClusterResourceSets go to the inner store with each resource's manifests replaced by their
 * digest and size, the bytes kept by the PayloadStore, and come back whole on every read. So a stored item stays a
 * few hundred bytes per resource whatever the manifests weigh (a DynamoDB item holds 400 KB), while every client of
 * the API (kubectl apply, the CLI's read-then-apply, the mirror) sees exactly what was written: an apply of the same
 * manifests finds nothing changed.
 *
 * Only the API's host wraps its store with this: the reconcile reads the references and fetches a payload only when
 * it applies it. Payloads are never deleted here: another set may hold the same digest, and telling which are unused
 * needs a scan of every namespace (a sweep left for later).
 */
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import type { StoredAddonResource } from '../../api/cluster-resource-set.js';
import type { DeleteOptions, DeleteResult, Lease, ListPage, ListPageOptions, PayloadStore, Store, UsageRecord } from '../../ports.js';
import { payloadDigest } from './digest.js';

/** A payload a stored set names is not in the PayloadStore (removed by hand, or another installation's bucket). */
export class PayloadMissingError extends Error {
  override name = 'PayloadMissingError';
}

const KIND = 'ClusterResourceSet';
const decoder = new TextDecoder();
const encoder = new TextEncoder();

type WithResources = ApiObject & { spec: { resources: StoredAddonResource[] } };
const isSet = (o: ApiObject): o is WithResources => o.kind === KIND && Array.isArray((o.spec as { resources?: unknown } | undefined)?.resources);

export class PayloadOffloadingStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly payloads: PayloadStore,
  ) {}

  /** The object as the inner store keeps it: every inline manifests moved to the payload store. */
  private async offload<T extends ApiObject>(obj: T): Promise<T> {
    if (!isSet(obj)) return obj;
    const resources: StoredAddonResource[] = [];
    for (const r of obj.spec.resources) {
      if (r.manifests === undefined) {
        resources.push(r);
        continue;
      }
      const bytes = encoder.encode(r.manifests);
      const digest = payloadDigest(bytes);
      // Written before the object that names it, so a stored reference always has its payload.
      await this.payloads.put(digest, bytes);
      resources.push({ name: r.name, digest, size: bytes.length });
    }
    return { ...obj, spec: { ...obj.spec, resources } };
  }

  /** The object as written: every reference replaced by its manifests (public for the change feed's objects, stored as the inner store keeps them). */
  async restore<T extends ApiObject>(obj: T): Promise<T> {
    if (!isSet(obj)) return obj;
    const resources = await Promise.all(
      obj.spec.resources.map(async (r): Promise<StoredAddonResource> => {
        if (r.digest === undefined || r.manifests !== undefined) return { name: r.name, ...(r.manifests !== undefined ? { manifests: r.manifests } : {}) };
        const bytes = await this.payloads.get(r.digest);
        if (bytes === undefined)
          throw new PayloadMissingError(`${obj.metadata.namespace}/${obj.metadata.name}: the manifests of resource ${r.name} (${r.digest}) are missing`);
        return { name: r.name, manifests: decoder.decode(bytes) };
      }),
    );
    return { ...obj, spec: { ...obj.spec, resources } };
  }

  async create<T extends ApiObject>(obj: T): Promise<T> {
    return this.restore(await this.inner.create(await this.offload(obj)));
  }

  async get<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, name: string): Promise<T | undefined> {
    const obj = await this.inner.get<T>(kind, namespace, name);
    return obj && this.restore(obj);
  }

  async update<T extends ApiObject>(obj: T): Promise<T> {
    return this.restore(await this.inner.update(await this.offload(obj)));
  }

  async updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    // A status write keeps the stored spec (base-store), so nothing is offloaded for it.
    return this.restore(await this.inner.updateStatus(obj));
  }

  async delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    const result = await this.inner.delete(kind, namespace, name, options);
    return { ...result, object: await this.restore(result.object) };
  }

  async listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return Promise.all((await this.inner.listCluster(namespace, clusterName)).map((o) => this.restore(o)));
  }

  async list<T extends ApiObject = ApiObject>(kind: KindName, namespace?: string): Promise<T[]> {
    return Promise.all((await this.inner.list<T>(kind, namespace)).map((o) => this.restore(o)));
  }

  async listPage<T extends ApiObject = ApiObject>(kind: KindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>> {
    const { budget } = options;
    // The page's byte budget counts the manifests the items will carry, not the references they are read with.
    const sized: ListPageOptions = budget
      ? { ...options, budget: { maxBytes: budget.maxBytes, sizeOf: (o) => budget.sizeOf(o) + offloadedBytes(o) } }
      : options;
    const page = await this.inner.listPage<T>(kind, namespace, sized);
    return { ...page, items: await Promise.all(page.items.map((o) => this.restore(o))) };
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

/** Bytes the references of a stored set stand for (JSON escaping aside). */
function offloadedBytes(o: ApiObject): number {
  return isSet(o) ? o.spec.resources.reduce((n, r) => n + (r.manifests === undefined ? (r.size ?? 0) : 0), 0) : 0;
}
