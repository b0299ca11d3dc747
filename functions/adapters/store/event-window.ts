/**
 * The recent changes of a store, per kind, for watches: the last `maxEventsPerKind` changes of each kind or
 * those of the last `maxAgeMs`, whichever is fewer. A version older than what the window still holds is
 * expired (kube-apiserver's watch cache answers 410 Gone then). Pure: the time is passed in.
 * Learnt from kubernetes staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go (a ring of recent events
 * per resource, a resourceVersion below its oldest one is "too old").
 */
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import type { Change } from '../../ports.js';

export interface EventWindowOptions {
  /** Every change after this version is recorded (the store's version when recording started). */
  startVersion: number;
  /** @default 1000 */
  maxEventsPerKind?: number;
  /** @default 15 minutes */
  maxAgeMs?: number;
}

interface Recorded {
  change: Change;
  version: number;
  atMs: number;
}

const keyOf = (o: ApiObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class EventWindow {
  private readonly kinds = new Map<string, { events: Recorded[]; horizon: number }>();
  /** The last state of every object seen (seeded or written), for a change's `previous`. */
  private readonly latest = new Map<string, ApiObject>();
  private newest: number;
  private readonly maxEvents: number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: EventWindowOptions) {
    this.newest = options.startVersion;
    this.maxEvents = options.maxEventsPerKind ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 15 * 60_000;
  }

  /** Objects as they are now (read once at start), so that the first change of each knows its previous state. */
  seed(objects: readonly ApiObject[]): void {
    for (const o of objects) if (!this.latest.has(keyOf(o))) this.latest.set(keyOf(o), o);
  }

  /** The newest version recorded (or the start version). */
  get currentVersion(): number {
    return this.newest;
  }

  /** Records changes, which must come in version order; fills in each one's `previous` and drops what is past the window. */
  record(change: Omit<Change, 'previous'>, nowMs: number): Change {
    const version = Number(change.object.metadata.resourceVersion);
    const key = keyOf(change.object);
    const previous = this.latest.get(key);
    const full: Change = { ...change, ...(previous ? { previous } : {}) };
    if (change.type === 'DELETED') this.latest.delete(key);
    else this.latest.set(key, change.object);
    const kind = this.kindOf(change.object.kind);
    // In version order, which `since` searches by (an out-of-order change still goes in its place).
    const last = kind.events[kind.events.length - 1];
    if (!last || last.version <= version) kind.events.push({ change: full, version, atMs: nowMs });
    else kind.events.splice(firstAfter(kind.events, version), 0, { change: full, version, atMs: nowMs });
    this.newest = Math.max(this.newest, version);
    this.trim(nowMs);
    return full;
  }

  /** The changes of `kind` (in `namespace`, or all) newer than `after`, oldest first; `expired` when some may have been dropped. */
  since(kind: KindName, namespace: string | undefined, after: number): Change[] | 'expired' {
    const k = this.kinds.get(kind);
    if (after < (k?.horizon ?? this.options.startVersion)) return 'expired';
    if (!k) return [];
    // The events are in version order: every watcher reads from its cursor on, not the whole window.
    const out: Change[] = [];
    for (let i = firstAfter(k.events, after); i < k.events.length; i++) {
      const { change } = k.events[i]!;
      if (namespace === undefined || change.object.metadata.namespace === namespace) out.push(change);
    }
    return out;
  }

  /** Drops the changes past the window; the kind's horizon moves to the newest one dropped. */
  trim(nowMs: number): void {
    for (const k of this.kinds.values()) {
      let drop = Math.max(0, k.events.length - this.maxEvents);
      while (drop < k.events.length && nowMs - k.events[drop]!.atMs > this.maxAgeMs) drop++;
      if (drop === 0) continue;
      k.horizon = k.events[drop - 1]!.version;
      k.events.splice(0, drop);
    }
  }

  private kindOf(kind: string) {
    const k = this.kinds.get(kind) ?? { events: [], horizon: this.options.startVersion };
    this.kinds.set(kind, k);
    return k;
  }
}

/** The index of the first event newer than `version` (events in version order), or their count. */
function firstAfter(events: readonly Recorded[], version: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.version > version) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
