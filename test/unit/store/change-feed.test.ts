/**
 * The embedded host's change feed: the event window (what is kept, what has expired, each change's previous state)
 * and the recording store (which writes are which changes, published in version order).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { ChangeRecordingStore, EventWindow, ForwardingStore, LocalChangeFeed } from '../../../functions/adapters/store/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Change } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';

const obj = (name: string, resourceVersion: number, namespace = 'default', labels?: Record<string, string>): ApiObject => ({
  apiVersion: API_VERSION,
  kind: 'Cluster',
  metadata: { name, namespace, resourceVersion: String(resourceVersion), ...(labels ? { labels } : {}) },
  spec: {},
});

const summary = (changes: Change[] | 'expired') =>
  changes === 'expired' ? changes : changes.map((c) => `${c.type} ${c.object.metadata.name}@${c.object.metadata.resourceVersion}`);

describe('EventWindow', () => {
  it('gives the changes of a kind after a version, in one namespace or in all', () => {
    // Prepare
    const w = new EventWindow({ startVersion: 10 });
    w.record({ type: 'ADDED', object: obj('a', 11) }, 0);
    w.record({ type: 'ADDED', object: obj('b', 12, 'other') }, 0);
    w.record({ type: 'MODIFIED', object: obj('a', 13) }, 0);
    // Act, Assess
    expect(summary(w.since('Cluster', undefined, 10))).toEqual(['ADDED a@11', 'ADDED b@12', 'MODIFIED a@13']);
    expect(summary(w.since('Cluster', 'default', 11))).toEqual(['MODIFIED a@13']);
    expect(summary(w.since('Machine', undefined, 10))).toEqual([]);
    expect(w.currentVersion).toBe(13);
  });

  it('answers every change after a version from anywhere in a full window, one recorded out of order in its place', () => {
    // Prepare
    const w = new EventWindow({ startVersion: 10 });
    for (let rv = 11; rv <= 40; rv += 2) w.record({ type: 'MODIFIED', object: obj('a', rv) }, 0);
    w.record({ type: 'ADDED', object: obj('b', 30) }, 0);
    // Act, Assess
    expect(summary(w.since('Cluster', undefined, 35))).toEqual(['MODIFIED a@37', 'MODIFIED a@39']);
    expect(summary(w.since('Cluster', undefined, 27))).toEqual([
      'MODIFIED a@29',
      'ADDED b@30',
      'MODIFIED a@31',
      'MODIFIED a@33',
      'MODIFIED a@35',
      'MODIFIED a@37',
      'MODIFIED a@39',
    ]);
    expect(summary(w.since('Cluster', undefined, 39))).toEqual([]);
    expect(w.since('Cluster', undefined, 10)).toHaveLength(16);
  });

  it('answers expired for a version before the start, or before what it dropped past maxEventsPerKind', () => {
    const w = new EventWindow({ startVersion: 10, maxEventsPerKind: 2 });
    expect(w.since('Cluster', undefined, 9)).toBe('expired');
    for (const rv of [11, 12, 13]) w.record({ type: 'MODIFIED', object: obj('a', rv) }, 0);
    expect(w.since('Cluster', undefined, 10)).toBe('expired');
    expect(summary(w.since('Cluster', undefined, 11))).toEqual(['MODIFIED a@12', 'MODIFIED a@13']);
  });

  it('drops changes older than maxAgeMs', () => {
    const w = new EventWindow({ startVersion: 10, maxAgeMs: 1000 });
    w.record({ type: 'ADDED', object: obj('a', 11) }, 0);
    w.record({ type: 'ADDED', object: obj('b', 12) }, 5000);
    expect(w.since('Cluster', undefined, 10)).toBe('expired');
    expect(summary(w.since('Cluster', undefined, 11))).toEqual(['ADDED b@12']);
  });

  it("fills in each change's previous state, from the seed and from earlier changes, and forgets a deleted object", () => {
    const w = new EventWindow({ startVersion: 10 });
    w.seed([obj('a', 5, 'default', { app: 'x' })]);
    expect(w.record({ type: 'MODIFIED', object: obj('a', 11) }, 0).previous?.metadata.labels).toEqual({ app: 'x' });
    expect(w.record({ type: 'DELETED', object: obj('a', 12) }, 0).previous?.metadata.resourceVersion).toBe('11');
    expect(w.record({ type: 'ADDED', object: obj('a', 13) }, 0).previous).toBeUndefined();
  });
});

/** A store whose create of `held` waits, after the write, until released: a write that finishes late. */
class LateStore extends ForwardingStore {
  release: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  constructor(
    inner: MemoryStore,
    readonly held: string,
  ) {
    super(inner);
  }
  override async create<T extends ApiObject>(o: T): Promise<T> {
    const created = await super.create(o);
    if (o.metadata.name === this.held) await this.gate;
    return created;
  }
}

function recording(clock = new FakeClock()) {
  const feed = new LocalChangeFeed(clock);
  const inner = new MemoryStore({ clock });
  return { feed, inner, store: new ChangeRecordingStore(inner, feed), clock };
}

const cluster = (name: string, finalizers?: string[]): ApiObject => ({
  apiVersion: API_VERSION,
  kind: 'Cluster',
  metadata: { name, namespace: 'default', ...(finalizers ? { finalizers } : {}) },
  spec: {},
});

describe('ChangeRecordingStore', () => {
  it('records create, update and status writes, a delete that only marks as MODIFIED, and the removal as DELETED', async () => {
    // Prepare
    const { feed, store } = recording();
    const start = await feed.currentVersion();
    // Act
    const created = await store.create(cluster('a', ['f']));
    const updated = await store.update({ ...created, metadata: { ...created.metadata, labels: { x: 'y' } } });
    const status = await store.updateStatus({ ...updated, status: { phase: 'Provisioning' } });
    const marked = await store.delete('Cluster', 'default', 'a');
    await store.delete('Cluster', 'default', 'a'); // changes nothing: not a change
    await store.update({ ...marked.object, metadata: { ...marked.object.metadata, finalizers: [] } });
    // Assess
    const changes = await feed.changesSince('Cluster', undefined, start);
    expect(changes !== 'expired' && changes.map((c) => c.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED']);
    expect(changes !== 'expired' && changes[2]!.object.status).toEqual(status.status);
    expect(changes !== 'expired' && changes[3]!.object.metadata.deletionTimestamp).toBeDefined();
  });

  it('records a delete that removes an object without finalizers as DELETED, at a version after its last', async () => {
    const { feed, store } = recording();
    const start = await feed.currentVersion();
    const created = await store.create(cluster('a'));
    await store.delete('Cluster', 'default', 'a');
    const changes = await feed.changesSince('Cluster', undefined, start);
    expect(summary(changes).length).toBe(2);
    expect(changes !== 'expired' && changes[1]!.type).toBe('DELETED');
    expect(changes !== 'expired' && Number(changes[1]!.object.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it('holds a change back while a write that started before it is in flight, then publishes both in version order', async () => {
    // Prepare: `a` gets its version first but its write finishes after `b`'s
    const clock = new FakeClock();
    const feed = new LocalChangeFeed(clock);
    const late = new LateStore(new MemoryStore({ clock }), 'a');
    const store = new ChangeRecordingStore(late, feed);
    const start = await feed.currentVersion();
    const a = store.create(cluster('a'));
    await new Promise((r) => setImmediate(r));
    // Act
    await store.create(cluster('b'));
    const whileHeld = await feed.changesSince('Cluster', undefined, start);
    late.release();
    await a;
    // Assess
    expect(whileHeld).toEqual([]);
    const names = summary(await feed.changesSince('Cluster', undefined, start));
    expect(names !== 'expired' && names.map((n) => n.split('@')[0])).toEqual(['ADDED a', 'ADDED b']);
  });

  it('wakes a waiter on the next change, and one whose signal aborts', async () => {
    const { feed, store } = recording();
    const waiting = feed.waitForChange(await feed.currentVersion(), new AbortController().signal);
    await store.create(cluster('a'));
    await expect(waiting).resolves.toBeUndefined();
    const abort = new AbortController();
    const idle = feed.waitForChange(await feed.currentVersion(), abort.signal);
    abort.abort();
    await expect(idle).resolves.toBeUndefined();
  });

  it('wakes its waiters once per turn of the event loop: the changes written in one turn are read together', async () => {
    // Prepare
    const { feed, store } = recording();
    const start = await feed.currentVersion();
    let seenAtWake: number | undefined;
    const waiting = feed.waitForChange(start, new AbortController().signal).then(async () => {
      const changes = await feed.changesSince('Cluster', undefined, start);
      seenAtWake = changes === 'expired' ? -1 : changes.length;
    });
    // Act: one write, its promise chain run to the end, then a second write in the same turn (as a second request's
    // body arriving with the first would be)
    await store.create(cluster('a'));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    const beforeTheTurnEnds = seenAtWake;
    await store.create(cluster('b'));
    await waiting;
    // Assess
    expect(beforeTheTurnEnds).toBeUndefined();
    expect(seenAtWake).toBe(2);
  });
  it('records nothing for a write that fails', async () => {
    const { feed, store } = recording();
    const start = await feed.currentVersion();
    await store.create(cluster('a'));
    await expect(store.create(cluster('a'))).rejects.toThrow();
    expect(summary(await feed.changesSince('Cluster', undefined, start))).toHaveLength(1);
  });
});
