/**
 * The embedded host's change feed: a Store wrapper that records every successful write into an EventWindow, and
 * the ChangeFeed that watches read it through.
 *
 * Changes are published in version order. Writes run concurrently, so one that got a lower version may finish
 * after one that got a higher; a watcher that had already read the higher would then never see the lower. A
 * change is therefore held back while a write that started before its version was given is still in flight: the
 * base store takes each version from the same clock (at least the clock's microseconds when it is given), so a
 * write started at time t gets a version of at least t, and a change below every in-flight write's start is final.
 */
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import { systemClock, type Change, type ChangeFeed, type Clock, type DeleteOptions, type DeleteResult, type Store } from '../../ports.js';
import { EventWindow, type EventWindowOptions } from './event-window.js';
import { ForwardingStore } from './forwarding-store.js';

type Unpublished = Omit<Change, 'previous'>;

const micros = (clock: Clock) => clock.now().getTime() * 1000;

/**
 * The next turn of the event loop, after the I/O callbacks of this one. Taken when the module loads, so that a test's
 * fake timers (installed later) do not hold a watch back.
 */
const nextTurn: (wake: () => void) => void = globalThis.setImmediate;

export class LocalChangeFeed implements ChangeFeed {
  private readonly window: EventWindow;
  private readonly inFlight = new Map<number, number>();
  private nextToken = 0;
  private pending: Unpublished[] = [];
  private readonly waiters = new Set<() => void>();
  private wakeScheduled = false;
  /** The last version published per object, so that a write that changed nothing (a second delete) is not a change. */
  private readonly published = new Map<string, string>();

  private readonly wallClock: Clock;

  /**
   * `clock` must be the store's: versions are read against it. The window's age is kept on `wallClock` (the
   * embedded host's store clock may run faster than the wall's, `--time-scale`). @default wallClock - systemClock
   */
  constructor(
    private readonly clock: Clock,
    options: Omit<EventWindowOptions, 'startVersion'> & { wallClock?: Clock } = {},
  ) {
    const { wallClock, ...window } = options;
    this.wallClock = wallClock ?? systemClock;
    // Every write from now on gets a version of at least this.
    this.window = new EventWindow({ ...window, startVersion: micros(clock) - 1 });
  }

  /** Objects as they are now, so that the first change of each knows its previous state (selectors need it). */
  seed(objects: readonly ApiObject[]): void {
    this.window.seed(objects);
    for (const o of objects) this.published.set(keyOf(o), o.metadata.resourceVersion ?? '');
  }

  /** A write starts; returns its token for `end`. */
  begin(): number {
    const token = this.nextToken++;
    this.inFlight.set(token, micros(this.clock));
    return token;
  }

  /** A write ended, with the change it made (none when it failed or changed nothing). */
  end(token: number, change: Unpublished | undefined): void {
    this.inFlight.delete(token);
    if (change) this.pending.push(change);
    this.publish();
  }

  async currentVersion(): Promise<string> {
    return String(this.window.currentVersion);
  }

  async changesSince(kind: KindName, namespace: string | undefined, after: string): Promise<Change[] | 'expired'> {
    return this.window.since(kind, namespace, Number(after));
  }

  waitForChange(after: string, signal: AbortSignal): Promise<void> {
    if (this.window.currentVersion > Number(after) || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private publish(): void {
    if (this.pending.length === 0) return;
    const oldestInFlight = Math.min(...this.inFlight.values());
    const ready = this.pending.filter((c) => Number(c.object.metadata.resourceVersion) < oldestInFlight);
    if (ready.length === 0) return;
    this.pending = this.pending.filter((c) => !ready.includes(c));
    const now = this.wallClock.now().getTime();
    let any = false;
    for (const c of ready.sort((a, b) => Number(a.object.metadata.resourceVersion) - Number(b.object.metadata.resourceVersion))) {
      const key = keyOf(c.object);
      if (this.published.get(key) === c.object.metadata.resourceVersion) continue;
      if (c.type === 'DELETED') this.published.delete(key);
      else this.published.set(key, c.object.metadata.resourceVersion ?? '');
      this.window.record(c, now);
      any = true;
    }
    if (any) this.scheduleWake();
  }

  /**
   * Watchers are woken once per turn of the event loop, not once per change: the writes that finish in one turn
   * (concurrent requests whose bodies arrived together) reach each watcher as one read of the window and one write
   * to its socket, rather than one of each per change per watcher (the socket writes were the largest item in a
   * profile of 50 watchers). A watcher registering in between finds the change by its version and does not wait.
   */
  private scheduleWake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    nextTurn(() => {
      this.wakeScheduled = false;
      for (const wake of [...this.waiters]) wake();
    });
  }
}

const keyOf = (o: ApiObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Gone from the store: an update that took the last finalizer off a deleting object removes it. */
const removed = (o: ApiObject) => !!o.metadata.deletionTimestamp && !o.metadata.finalizers?.length;

/** Records every successful write of the store it wraps into `feed` (wrap the innermost store, so every writer is seen). */
export class ChangeRecordingStore extends ForwardingStore {
  constructor(
    inner: Store,
    readonly feed: LocalChangeFeed,
  ) {
    super(inner);
  }

  override create<T extends ApiObject>(obj: T): Promise<T> {
    return this.recorded(
      () => super.create(obj),
      (o) => ({ type: 'ADDED', object: o }),
    );
  }
  override update<T extends ApiObject>(obj: T): Promise<T> {
    return this.recorded(() => super.update(obj), written);
  }
  override updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    return this.recorded(() => super.updateStatus(obj), written);
  }
  override delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    // A delete of an object with finalizers only sets deletionTimestamp: a MODIFIED, as in Kubernetes.
    return this.recorded(
      () => super.delete(kind, namespace, name, options),
      (r) => ({ type: r.removed ? 'DELETED' : 'MODIFIED', object: r.object }),
    );
  }

  private async recorded<R>(write: () => Promise<R>, change: (result: R) => Unpublished): Promise<R> {
    const token = this.feed.begin();
    let made: Unpublished | undefined;
    try {
      const result = await write();
      made = change(result);
      return result;
    } finally {
      this.feed.end(token, made);
    }
  }
}

function written(o: ApiObject): Unpublished {
  return { type: removed(o) ? 'DELETED' : 'MODIFIED', object: o };
}
