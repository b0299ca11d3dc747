/**
 * The Store in process memory: for unit tests and for hosts that need no persistence. The semantics are
 * BaseStore's; this file only keeps Maps. Each primitive runs without awaiting, so it is atomic.
 * A read of a kind returns what one DynamoDB Query response would (at most about 1 MB of objects), so that
 * paging and its metering behave here as on the table.
 */
import type { ApiObject } from '../../api/kind.js';
import type { StoredKindName } from '../../api/kinds.js';
import { AlreadyExistsError, type ObjectKey, type UsageRecord } from '../../ports.js';
import {
  BaseStore,
  cloneObject,
  clusterNameOf,
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

/** What one read of a kind returns at most, as DynamoDB's Query: items are added while less than this was read. */
export const MEMORY_READ_BYTES = 1024 * 1024;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const comparePositions = (a: ListPosition, b: ListPosition) => compare(a.namespace, b.namespace) || compare(a.name, b.name);

/** The index of the first position in `sorted` that is not before `p` (binary search). */
function lowerBound(sorted: readonly ListPosition[], p: ListPosition): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePositions(sorted[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Stored {
  obj: ApiObject;
  /** Its JSON's length in bytes: what a read of it weighs against MEMORY_READ_BYTES. */
  bytes: number;
}

const stored = (obj: ApiObject): Stored => ({ obj: cloneObject(obj), bytes: Buffer.byteLength(JSON.stringify(obj), 'utf8') });

export class MemoryStore extends BaseStore {
  private readonly objects = new Map<string, Stored>();
  /** Each kind's positions in list order, kept sorted as objects come and go, so that a read never sorts. */
  private readonly positions = new Map<StoredKindName, ListPosition[]>();
  private readonly leases = new Map<string, LeaseRecord>();
  /** `{period}/{namespace}/{cluster}` -> its record. */
  private readonly usage = new Map<string, UsageRecord>();

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
  }

  protected async getObject(key: ObjectKey): Promise<ApiObject | undefined> {
    const s = this.objects.get(objectId(key));
    return s && cloneObject(s.obj);
  }

  protected async putIfAbsent(obj: ApiObject): Promise<void> {
    const key = keyOf(obj);
    if (this.objects.has(objectId(key))) throw new AlreadyExistsError(key);
    this.objects.set(objectId(key), stored(obj));
    const sorted = this.positions.get(key.kind) ?? [];
    this.positions.set(key.kind, sorted);
    const p = { namespace: key.namespace, name: key.name };
    sorted.splice(lowerBound(sorted, p), 0, p);
  }

  protected async putIfVersion(next: ApiObject, current: ApiObject): Promise<WriteOutcome> {
    const id = objectId(keyOf(current));
    const s = this.objects.get(id);
    if (s?.obj.metadata.resourceVersion !== current.metadata.resourceVersion) return { ok: false, current: s && cloneObject(s.obj) };
    this.objects.set(id, stored(next));
    return { ok: true };
  }

  protected async deleteIfVersion(current: ApiObject): Promise<WriteOutcome> {
    const key = keyOf(current);
    const id = objectId(key);
    const s = this.objects.get(id);
    if (s?.obj.metadata.resourceVersion !== current.metadata.resourceVersion) return { ok: false, current: s && cloneObject(s.obj) };
    this.objects.delete(id);
    const sorted = this.positions.get(key.kind) ?? [];
    const at = lowerBound(sorted, { namespace: key.namespace, name: key.name });
    if (sorted[at]?.namespace === key.namespace && sorted[at]?.name === key.name) sorted.splice(at, 1);
    return { ok: true };
  }

  protected async queryCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return [...this.objects.values()]
      .map((s) => s.obj)
      .filter((o) => namespaceOf(o) === namespace && clusterNameOf(o) === clusterName)
      .map(cloneObject);
  }

  protected async queryKindPage(
    kind: StoredKindName,
    namespace: string | undefined,
    after: ListPosition | undefined,
    limit: number | undefined,
  ): Promise<KindPage> {
    const sorted = this.positions.get(kind) ?? [];
    // The first position strictly after `after` ('' sorts before every name), within the namespace if one is given.
    let i = after ? lowerBound(sorted, { namespace: after.namespace, name: `${after.name}\0` }) : 0;
    if (namespace !== undefined && (!after || after.namespace < namespace)) i = Math.max(i, lowerBound(sorted, { namespace, name: '' }));
    const objects: ApiObject[] = [];
    let bytes = 0;
    for (; i < sorted.length && (limit === undefined || objects.length < limit) && bytes < MEMORY_READ_BYTES; i++) {
      const p = sorted[i]!;
      if (namespace !== undefined && p.namespace !== namespace) return { objects, more: false };
      const s = this.objects.get(objectId({ kind, ...p }))!;
      objects.push(cloneObject(s.obj));
      bytes += s.bytes;
    }
    const next = sorted[i];
    return { objects, more: next !== undefined && (namespace === undefined || next.namespace === namespace) };
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

  protected async addUsageCounters(
    namespace: string,
    clusterName: string,
    period: string,
    counters: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<void> {
    const id = `${period}/${namespace}/${clusterName}`;
    const record = this.usage.get(id) ?? { namespace, clusterName, period, since: new Date(nowMs).toISOString(), counters: {} };
    for (const [name, value] of Object.entries(counters)) record.counters[name] = (record.counters[name] ?? 0) + value;
    this.usage.set(id, record);
  }

  protected async queryUsage(period: string, namespace: string | undefined): Promise<UsageRecord[]> {
    return [...this.usage.values()]
      .filter((r) => r.period === period && (namespace === undefined || r.namespace === namespace))
      .map((r) => ({ ...r, counters: { ...r.counters } }));
  }
}
