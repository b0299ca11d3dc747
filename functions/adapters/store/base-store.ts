/**
 * The Kubernetes semantics of the Store port, written once. Adapters (memory, dynamodb) extend BaseStore and
 * fill in a handful of primitive single-item operations; everything about uid, resourceVersion, generation,
 * finalizers, preconditions and lost races lives here, so every adapter behaves the same.
 * (Shaped like powertools' BasePersistenceLayer: the base class owns the rules, adapters own the I/O.)
 */
import { randomUUID } from 'node:crypto';
import { DNS1123_LABEL, DNS1123_LABEL_MAX, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MAX } from '../../api/common.js';
import { jsonEqual, type ApiObject } from '../../api/kind.js';
import { storedKindByName, type StoredKindName } from '../../api/kinds.js';
import {
  ConflictError,
  checkPreconditions,
  ExpiredContinueTokenError,
  InvalidContinueTokenError,
  NotFoundError,
  StoreError,
  systemClock,
  type Clock,
  type DeleteOptions,
  type DeleteResult,
  type Lease,
  type ListPage,
  type ListPageOptions,
  type ObjectKey,
  type Store,
  type UsageRecord,
  USAGE_PERIOD,
} from '../../ports.js';

/** A place in a list of one kind: lists run in (namespace, name) order, and a page starts after such a place. */
export interface ListPosition {
  namespace: string;
  name: string;
}

/** One read of a kind's objects by an adapter (see BaseStore.queryKindPage). */
export interface KindPage {
  /** In list order; empty only when nothing follows. */
  objects: ApiObject[];
  /** False when no object follows the last one returned (true may still be followed by nothing). */
  more: boolean;
}

/**
 * The most objects one listPage reads from the store, kept or not: with a selective filter a page then ends
 * early (with a continue) rather than reading a whole table within one request.
 */
export const MAX_SCANNED_PER_PAGE = 5000;

/**
 * The most reads of the store (DynamoDB Query responses, each at most 1 MB) one listPage makes: with large
 * objects that a filter drops, the object cap alone would let a page read gigabytes. 16 MB is three times
 * what a page can return (LIST_BYTE_BUDGET), and well within a Lambda's memory and time.
 */
export const MAX_READS_PER_PAGE = 16;

/** How many objects a filtered page asks for per read at most: a filter may drop them all, so ask for many. */
const FILTERED_READ_OBJECTS = 1000;

/** Bumped when the token format changes: a token of another version is Expired (410), and clients start over. */
const CONTINUE_VERSION = 1;

/**
 * The continue token of a page that stopped after `after`: the place, and the list it belongs to so that it
 * cannot be replayed against another. Opaque to clients (base64url JSON), like Kubernetes' own; it grants
 * nothing, since it only says where a list the caller may read resumes.
 */
export function continueToken(kind: StoredKindName, namespace: string | undefined, after: ListPosition): string {
  const token = { v: CONTINUE_VERSION, kind, namespace: namespace ?? null, after: [after.namespace, after.name] };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

const isLabel = (v: unknown): v is string => typeof v === 'string' && v.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(v);
// Events are named `{object}.{hash}` (functions/api/event.ts): a subdomain.
const isSubdomain = (v: unknown): v is string => typeof v === 'string' && v.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(v);

/** The place a continue token resumes after; throws when it is not a token of this list. */
export function continuePosition(token: string, kind: StoredKindName, namespace: string | undefined): ListPosition {
  const invalid = (why: string) => new InvalidContinueTokenError(`continue key is not valid: ${why}`);
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid('it is not a token this server made');
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('it is not a token this server made');
  }
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw invalid('it is not a token this server made');
  const { v, kind: k, namespace: ns, after } = t as { v?: unknown; kind?: unknown; namespace?: unknown; after?: unknown };
  if (typeof v === 'number' && v !== CONTINUE_VERSION)
    throw new ExpiredContinueTokenError(
      'the continue token was made by another version of the server and can no longer be used; start the list again without it',
    );
  if (v !== CONTINUE_VERSION) throw invalid('it is not a token this server made');
  if (k !== kind || ns !== (namespace ?? null)) throw invalid('it was made for another list (another kind or namespace)');
  if (
    !Array.isArray(after) ||
    after.length !== 2 ||
    !isLabel(after[0]) ||
    !(isLabel(after[1]) || (kind === 'Event' && isSubdomain(after[1]))) ||
    (namespace !== undefined && after[0] !== namespace)
  )
    throw invalid('it is not a token this server made');
  return { namespace: after[0], name: after[1] };
}

/** The result of a conditional write: applied, or lost to the object as it is now (undefined when gone). */
export type WriteOutcome = { ok: true } | { ok: false; current: ApiObject | undefined };

/** A lease as adapters store it: expiry in epoch milliseconds so that it compares as a number. */
export interface LeaseRecord {
  name: string;
  holder: string;
  expiresAtMs: number;
}

/** Usage counter names: safe as DynamoDB attribute names and SQLite values alike. */
const USAGE_COUNTER = /^[a-zA-Z][a-zA-Z0-9]{0,62}$/;
/** At most this many counters in one add (one DynamoDB UpdateItem's expression stays small). */
const MAX_USAGE_COUNTERS = 32;

/** Refuses a usage period that is not a month (StoreError). */
export const checkUsagePeriod = (period: string): void => {
  if (!USAGE_PERIOD.test(period)) throw new StoreError(`usage period ${JSON.stringify(period)} is not a month (YYYY-MM)`);
};

/** Refuses a usage add the adapters could not store faithfully (StoreError: a caller's bug, never data). */
export function checkUsage(namespace: string, clusterName: string, period: string, counters: Readonly<Record<string, number>>): void {
  if (!DNS1123_LABEL.test(namespace) || !DNS1123_LABEL.test(clusterName))
    throw new StoreError(`usage of ${namespace}/${clusterName}: not a namespace and cluster name`);
  checkUsagePeriod(period);
  const names = Object.keys(counters);
  if (names.length > MAX_USAGE_COUNTERS) throw new StoreError(`usage add of ${names.length} counters, more than ${MAX_USAGE_COUNTERS}`);
  for (const [name, value] of Object.entries(counters)) {
    if (!USAGE_COUNTER.test(name)) throw new StoreError(`usage counter name ${JSON.stringify(name)} is not letters and digits`);
    if (!(Number.isFinite(value) && value >= 0)) throw new StoreError(`usage counter ${name}: ${value} is not a finite number >= 0`);
  }
}

/** The order of listUsage: namespace, then cluster. */
export const byUsageKey = (a: UsageRecord, b: UsageRecord): number =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : 0;

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
  /**
   * The most objects one listPage reads, kept by its filter or not, before it ends the page with a continue.
   * A whole number, 1 or more.
   * @default MAX_SCANNED_PER_PAGE (5000)
   */
  maxScannedPerPage?: number;
  /**
   * The most reads of the store (queryKindPage calls) one listPage makes before it ends the page with a
   * continue. A whole number, 1 or more.
   * @default MAX_READS_PER_PAGE (16)
   */
  maxReadsPerPage?: number;
}

/** A positive whole-number option, or its default; anything else is a mistake of the host that sets it. */
function countOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new StoreError(`${name} must be a whole number of 1 or more, not ${value}`);
  return value;
}

export function namespaceOf(obj: ApiObject): string {
  return obj.metadata.namespace || 'default';
}

export function keyOf(obj: ApiObject): ObjectKey {
  return { kind: obj.kind as StoredKindName, namespace: namespaceOf(obj), name: obj.metadata.name };
}

/** The cluster an object belongs to (its partition); undefined for namespace-level kinds such as MachineClass. */
export function clusterNameOf(obj: ApiObject): string | undefined {
  const def = storedKindByName(obj.kind);
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

type Plan = { write: 'put'; next: ApiObject } | { write: 'remove'; result: ApiObject } | { write: 'none'; result: ApiObject };

export abstract class BaseStore implements Store {
  protected readonly clock: Clock;
  private readonly maxRaceRetries: number;
  private readonly maxScannedPerPage: number;
  private readonly maxReadsPerPage: number;
  private lastVersion = 0;

  constructor(options: BaseStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxRaceRetries = options.maxRaceRetries ?? 50;
    this.maxScannedPerPage = countOption('maxScannedPerPage', options.maxScannedPerPage, MAX_SCANNED_PER_PAGE);
    this.maxReadsPerPage = countOption('maxReadsPerPage', options.maxReadsPerPage, MAX_READS_PER_PAGE);
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
  /**
   * One read of the objects of one kind, in one namespace or all, in (namespace, name) order, strictly after
   * `after`: at most `limit` of them (all the read can hold when undefined) and at most what one DynamoDB Query
   * response holds (1 MB), so that a caller never pays for more than it asked for; and whether more may follow.
   */
  protected abstract queryKindPage(
    kind: StoredKindName,
    namespace: string | undefined,
    after: ListPosition | undefined,
    limit: number | undefined,
  ): Promise<KindPage>;
  /** Writes the lease if it is absent, expired at nowMs (expiresAtMs <= nowMs), or held by the same holder. */
  protected abstract putLease(namespace: string, clusterName: string, lease: LeaseRecord, nowMs: number): Promise<boolean>;
  /** Removes the lease if `holder` holds it; otherwise does nothing. */
  protected abstract deleteLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void>;
  /** Adds to the counters of a usage record in one atomic write, creating it with `since` = nowMs if absent. */
  protected abstract addUsageCounters(
    namespace: string,
    clusterName: string,
    period: string,
    counters: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<void>;
  /** The usage records of a period (one namespace or all), any order. */
  protected abstract queryUsage(period: string, namespace: string | undefined): Promise<UsageRecord[]>;

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

  async get<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace: string, name: string): Promise<T | undefined> {
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
      if (clusterNameOf(next) !== clusterNameOf(current)) throw new ClusterNameChangeError(key, clusterNameOf(current), clusterNameOf(next));
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

  async delete(kind: StoredKindName, namespace: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    let removed = false;
    const object = await this.guardedWrite(
      { kind, namespace, name },
      undefined,
      options,
      (current) => {
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
        // The removal's own version, as kube's etcd3 store returns a deleted object: a watch orders it after every earlier change.
        return {
          write: 'remove',
          result: { ...current, metadata: { ...current.metadata, resourceVersion: this.nextResourceVersion(current.metadata.resourceVersion) } },
        };
      },
      () => {
        removed = true;
      },
    );
    return { object, removed };
  }

  async listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    const objects = await this.queryCluster(namespace, clusterName);
    // The order of the table's sort key ({Kind}#{name}), whatever the adapter returned.
    return objects.sort((a, b) => compare(`${a.kind}#${a.metadata.name}`, `${b.kind}#${b.metadata.name}`));
  }

  async list<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace?: string): Promise<T[]> {
    const objects: ApiObject[] = [];
    let after: ListPosition | undefined;
    for (;;) {
      const read = await this.queryKindPage(kind, namespace, after, undefined);
      objects.push(...read.objects);
      const last = read.objects.at(-1);
      if (!read.more || !last) return objects as T[];
      after = { namespace: namespaceOf(last), name: last.metadata.name };
    }
  }

  /**
   * Reads the adapter one response at a time and stops as soon as the page is full (one object past it is
   * read, to know whether any follows), the byte budget is spent, maxScannedPerPage objects were read or
   * maxReadsPerPage reads were made, filtering as it goes. Without a filter each read asks for what the page
   * still needs; with one, for many more (a filter may drop them all), up to the scan cap.
   * The continue token is the place of the last object read, kept or not, so the next page never reads it again.
   */
  async listPage<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>> {
    const { limit, filter, budget, onRead } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new StoreError(`a list page needs a limit of 1 or more, not ${limit}`);
    let after = options.continue === undefined ? undefined : continuePosition(options.continue, kind, namespace);
    const items: ApiObject[] = [];
    const page = (): ListPage<T> => ({ items: items as T[], continue: continueToken(kind, namespace, after!) });
    let bytes = 0;
    let scanned = 0;
    for (let reads = 1; ; reads++) {
      const stillWanted = limit - items.length + 1;
      // One past the cap: an object there means the page stops with a continue rather than at the end.
      const room = this.maxScannedPerPage - scanned + 1;
      const want = Math.min(filter ? Math.max(stillWanted, FILTERED_READ_OBJECTS) : stillWanted, room);
      const { objects, more } = await this.queryKindPage(kind, namespace, after, want);
      onRead?.(objects);
      for (const obj of objects) {
        // `obj` is there, so a page that stops here has more to come.
        if (items.length === limit || scanned >= this.maxScannedPerPage) return page();
        const keep = !filter || filter(obj);
        if (keep && budget) {
          const size = budget.sizeOf(obj);
          if (items.length > 0 && bytes + size > budget.maxBytes) return page();
          bytes += size;
        }
        if (keep) items.push(obj);
        after = { namespace: namespaceOf(obj), name: obj.metadata.name };
        scanned++;
      }
      if (!more || objects.length === 0) return { items: items as T[] };
      if (reads >= this.maxReadsPerPage) return page();
    }
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

  async addUsage(namespace: string, clusterName: string, period: string, counters: Readonly<Record<string, number>>): Promise<void> {
    checkUsage(namespace, clusterName, period, counters);
    await this.addUsageCounters(namespace, clusterName, period, counters, this.clock.now().getTime());
  }

  async listUsage(period: string, namespace?: string): Promise<UsageRecord[]> {
    checkUsagePeriod(period);
    return (await this.queryUsage(period, namespace)).sort(byUsageKey);
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of lists: namespace, then name (the kind index's sort key `{ns}#{name}` sorts the same way). */
export function byPosition(a: ApiObject, b: ApiObject): number {
  return compare(namespaceOf(a), namespaceOf(b)) || compare(a.metadata.name, b.metadata.name);
}

/** True when `obj` comes after `position` in list order. */
export function isAfter(obj: ApiObject, position: ListPosition): boolean {
  return compare(namespaceOf(obj), position.namespace) > 0 || (namespaceOf(obj) === position.namespace && obj.metadata.name > position.name);
}
