/**
 * events.k8s.io/v1 through the router: discovery lists the group, Events are read (get, list in a namespace or all,
 * field selectors, Table), watched (every namespace or one, from a resourceVersion, by name, as a Table, with
 * bookmarks) and never written by callers (405), and expired ones are never served.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { EVENT_LIFETIME_SECONDS, EventReason, eventName, type EventInput } from '../../../functions/api/event.js';
import { handleRequest, type HttpRequest } from '../../../functions/api/http/index.js';
import { pruneExpiredEvents, silentLogger, storeEventRecorder } from '../../../functions/workflows/index.js';
import { ChangeRecordingStore, LocalChangeFeed } from '../../../functions/adapters/store/index.js';
import type { WatchEvent } from '../../../functions/api/http/watch.js';
import { FakeClock } from '../../support/fake-clock.js';

const ROOT = '/apis/events.k8s.io/v1';
const input = (ns: string, name: string, over: Partial<EventInput> = {}): EventInput => ({
  regarding: { kind: 'Machine', namespace: ns, name, uid: `${name}-uid`, apiVersion: 'clusterless.dev/v1alpha1' },
  type: 'Normal',
  reason: EventReason.SuccessfulCreate,
  action: 'Create',
  note: `Created new worker instance for ${name}`,
  workflow: 'provision-machine',
  ...over,
});

let clock: FakeClock;
let store: MemoryStore;
const call = async (method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body?: string) => {
  const req: HttpRequest = { method, path, query, headers: { 'content-type': 'application/json', ...headers }, ...(body ? { body } : {}) };
  const res = await handleRequest(req, { store, clock });
  return { ...res, json: JSON.parse(res.body) };
};

beforeEach(async () => {
  clock = new FakeClock('2026-03-01T12:00:00Z');
  store = new MemoryStore({ clock });
  const recorder = storeEventRecorder(store, clock, silentLogger);
  await recorder.record(input('team-a', 'm1'));
  await recorder.record(input('team-a', 'm2', { type: 'Warning', reason: EventReason.FailedCreate, note: 'Failed to create instance: boom' }));
  await recorder.record(input('team-b', 'm3'));
});

describe('discovery', () => {
  it('/apis lists events.k8s.io beside clusterless.dev', async () => {
    const r = await call('GET', '/apis');
    expect(r.json.groups.map((g: { name: string }) => g.name)).toEqual(['clusterless.dev', 'events.k8s.io']);
  });

  it('the group and its version list one read-only resource, events (ev)', async () => {
    expect((await call('GET', '/apis/events.k8s.io')).json).toMatchObject({
      kind: 'APIGroup',
      name: 'events.k8s.io',
      preferredVersion: { groupVersion: 'events.k8s.io/v1' },
    });
    expect((await call('GET', ROOT)).json.resources).toEqual([
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: ['get', 'list', 'watch'], shortNames: ['ev'] },
    ]);
  });
});

describe('reads', () => {
  it('lists a namespace, and every namespace', async () => {
    const ns = await call('GET', `${ROOT}/namespaces/team-a/events`);
    expect(ns.status).toBe(200);
    expect(ns.json).toMatchObject({ kind: 'EventList', apiVersion: 'events.k8s.io/v1' });
    expect(ns.json.items.map((e: { regarding: { name: string } }) => e.regarding.name).sort()).toEqual(['m1', 'm2']);
    expect((await call('GET', `${ROOT}/events`)).json.items).toHaveLength(3);
  });

  it('gets one event by name; an unknown one is a 404 naming events.events.k8s.io', async () => {
    const name = eventName(input('team-a', 'm1'));
    const r = await call('GET', `${ROOT}/namespaces/team-a/events/${name}`);
    expect(r.json).toMatchObject({ kind: 'Event', metadata: { name }, reason: 'SuccessfulCreate' });
    const missing = await call('GET', `${ROOT}/namespaces/team-a/events/m1.nothing`);
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('events.events.k8s.io "m1.nothing" not found');
  });

  it('selects by regarding.name and type, as kubectl get events --field-selector sends it', async () => {
    const r = await call('GET', `${ROOT}/events`, { fieldSelector: 'regarding.name=m2,type=Warning' });
    expect(r.json.items.map((e: { reason: string }) => e.reason)).toEqual(['FailedCreate']);
    const bad = await call('GET', `${ROOT}/events`, { fieldSelector: 'spec.x=1' });
    expect(bad.status).toBe(400);
  });

  it('answers a Table when kubectl asks for one', async () => {
    const r = await call('GET', `${ROOT}/namespaces/team-a/events`, {}, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(r.json.kind).toBe('Table');
    expect(r.json.rows.map((row: { cells: unknown[] }) => row.cells.slice(1, 4)).sort()).toEqual([
      ['Normal', 'SuccessfulCreate', 'machine/m1'],
      ['Warning', 'FailedCreate', 'machine/m2'],
    ]);
  });

  it('never serves an expired event, before it is pruned', async () => {
    clock.advance(EVENT_LIFETIME_SECONDS);
    expect((await call('GET', `${ROOT}/events`)).json.items).toEqual([]);
    const name = eventName(input('team-a', 'm1'));
    expect((await call('GET', `${ROOT}/namespaces/team-a/events/${name}`)).status).toBe(404);
  });
});

describe('watches', () => {
  let feed: LocalChangeFeed;
  let recorder: ReturnType<typeof storeEventRecorder>;

  // The embedded host's arrangement: the recorder writes through the store that records changes into the feed.
  beforeEach(async () => {
    clock = new FakeClock('2026-03-01T12:00:00Z');
    feed = new LocalChangeFeed(clock);
    store = new ChangeRecordingStore(new MemoryStore({ clock }), feed) as unknown as MemoryStore;
    recorder = storeEventRecorder(store, clock, silentLogger);
    await recorder.record(input('team-a', 'm1'));
    await recorder.record(input('team-b', 'm3'));
  });

  const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

  /** Opens a watch, lets `act` write, and reads until `count` events have come. */
  async function watch(path: string, query: Record<string, string>, count: number, act: () => Promise<void> = async () => {}, accept?: string) {
    const req: HttpRequest = { method: 'GET', path, query: { watch: 'true', ...query }, headers: accept ? { accept } : {} };
    const res = await handleRequest(req, { store, clock, changes: feed });
    const events: WatchEvent[] = [];
    if (!res.stream) return { res, events };
    const abort = new AbortController();
    const reading = (async () => {
      for await (const line of res.stream!(abort.signal)) {
        events.push(JSON.parse(line) as WatchEvent);
        if (events.length >= count) break;
      }
    })();
    await new Promise((r) => setImmediate(r));
    await act();
    await reading;
    abort.abort();
    return { res, events };
  }
  const shown = (events: WatchEvent[]) =>
    events.map((e) =>
      `${e.type} ${(e.object as { reason?: string; regarding?: { name: string } }).regarding?.name ?? ''} ${(e.object as { reason?: string }).reason ?? ''}`.trim(),
    );

  it('streams every namespace: ADDED for what is there, then a new event, a series counted again (MODIFIED), an expiry (DELETED)', async () => {
    const { res, events } = await watch(`${ROOT}/events`, {}, 5, async () => {
      await recorder.record(input('team-b', 'm4', { type: 'Warning', reason: EventReason.FailedCreate, note: 'boom' }));
      await recorder.record(input('team-a', 'm1'));
      clock.advance(EVENT_LIFETIME_SECONDS + 1);
      await pruneExpiredEvents(store, clock.now());
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(shown(events).slice(0, 4).sort()).toEqual(
      ['ADDED m1 SuccessfulCreate', 'ADDED m3 SuccessfulCreate', 'ADDED m4 FailedCreate', 'MODIFIED m1 SuccessfulCreate'].sort(),
    );
    expect(shown(events).slice(2, 4)).toEqual(['ADDED m4 FailedCreate', 'MODIFIED m1 SuccessfulCreate']);
    expect((events[3]!.object as { series?: { count: number } }).series?.count).toBe(2);
    // The pruner's removal (the embedded host's TTL) is a DELETED, as an expired event's lease ending is on kube-apiserver.
    expect(events[4]!.type).toBe('DELETED');
  });

  it("watches one namespace from a list's resourceVersion: only the changes after it, of that namespace", async () => {
    const listed = await handleRequest({ method: 'GET', path: `${ROOT}/namespaces/team-a/events` }, { store, clock, changes: feed });
    const list = { json: JSON.parse(listed.body) };
    expect(list.json.metadata.resourceVersion).toMatch(/^[0-9]+$/);
    await recorder.record(input('team-b', 'm5'));
    await recorder.record(input('team-a', 'm2', { type: 'Warning', reason: EventReason.FailedCreate, note: 'boom' }));
    const { events } = await watch(`${ROOT}/namespaces/team-a/events`, { resourceVersion: list.json.metadata.resourceVersion }, 1);
    expect(shown(events)).toEqual(['ADDED m2 FailedCreate']);
  });

  it('watches one event by fieldSelector=metadata.name (kubectl get event NAME -w), or by regarding.name; a field events cannot be selected by is a 400', async () => {
    const name = eventName(input('team-a', 'm1'));
    const { events } = await watch(`${ROOT}/namespaces/team-a/events`, { fieldSelector: `metadata.name=${name}` }, 2, async () => {
      await recorder.record(input('team-a', 'm2'));
      await recorder.record(input('team-a', 'm1'));
    });
    expect(shown(events)).toEqual(['ADDED m1 SuccessfulCreate', 'MODIFIED m1 SuccessfulCreate']);
    // The fields only events have, as kubectl get events --field-selector sends them.
    const byRegarding = await watch(`${ROOT}/events`, { fieldSelector: 'regarding.name=m3,type=Normal' }, 1);
    expect(shown(byRegarding.events)).toEqual(['ADDED m3 SuccessfulCreate']);
    const bad = await handleRequest(
      { method: 'GET', path: `${ROOT}/events`, query: { watch: 'true', fieldSelector: 'spec.x=1' } },
      { store, clock, changes: feed },
    );
    expect(bad.status).toBe(400);
    expect(bad.stream).toBeUndefined();
  });

  it('prints a Table per event as kubectl get events -w asks (the columns in the first only)', async () => {
    const { events } = await watch(`${ROOT}/namespaces/team-a/events`, {}, 2, () => recorder.record(input('team-a', 'm2')), TABLE);
    const tables = events.map((e) => e.object as unknown as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] });
    expect(tables.map((t) => t.kind)).toEqual(['Table', 'Table']);
    expect(tables[0]!.columnDefinitions.map((c) => c.name).slice(0, 4)).toEqual(['Last Seen', 'Type', 'Reason', 'Object']);
    expect(tables[1]!.columnDefinitions).toEqual([]);
    expect(tables.map((t) => t.rows[0]!.cells[3])).toEqual(['machine/m1', 'machine/m2']);
  });

  it('sends bookmarks of events.k8s.io/v1 Event (the initial-events-end one with sendInitialEvents)', async () => {
    const query = { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true' };
    const { events } = await watch(`${ROOT}/namespaces/team-b/events`, query, 2);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(events[1]!.object).toMatchObject({
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
  });

  it('leaves expired events out of the initial events, as lists do', async () => {
    clock.advance(EVENT_LIFETIME_SECONDS / 2);
    await recorder.record(input('team-a', 'm2'));
    clock.advance(EVENT_LIFETIME_SECONDS / 2);
    const { events } = await watch(`${ROOT}/events`, {}, 1);
    expect(shown(events)).toEqual(['ADDED m2 SuccessfulCreate']);
  });

  it('answers GET of one event with watch=true with the event, as for the other kinds (a watch is of a list)', async () => {
    const name = eventName(input('team-a', 'm1'));
    const r = await handleRequest(
      { method: 'GET', path: `${ROOT}/namespaces/team-a/events/${name}`, query: { watch: 'true' } },
      { store, clock, changes: feed },
    );
    expect(r.stream).toBeUndefined();
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Event', metadata: { name } });
  });

  it('refuses a watch with 405 on a host without a change feed, rather than answering a list', async () => {
    const r = await call('GET', `${ROOT}/events`, { watch: 'true' });
    expect(r.status).toBe(405);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed' });
  });
});

describe('writes', () => {
  it.each([
    ['POST', `${ROOT}/namespaces/team-a/events`],
    ['PUT', `${ROOT}/namespaces/team-a/events/x.y`],
    ['PATCH', `${ROOT}/namespaces/team-a/events/x.y`],
    ['DELETE', `${ROOT}/namespaces/team-a/events/x.y`],
    ['DELETE', `${ROOT}/namespaces/team-a/events`],
  ])('%s %s is 405 (only the control plane writes events), nothing changed', async (method, path) => {
    const before = await store.list('Event');
    const r = await call(method, path, {}, {}, JSON.stringify({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'x.y' } }));
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('GET');
    expect(await store.list('Event')).toEqual(before);
  });
});
