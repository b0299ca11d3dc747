/**
 * `?watch=true` through the router, as kube-apiserver answers it: initial ADDED events, changes after a version,
 * 410 for a version the window no longer holds, bookmarks, selectors (leaving is DELETED), sendInitialEvents.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { ChangeRecordingStore, LocalChangeFeed } from '../../../functions/adapters/store/index.js';
import { kindByPlural } from '../../../functions/api/kinds.js';
import { INITIAL_EVENTS_END, parseWatchOptions, watchEvents, type WatchEvent } from '../../../functions/api/http/watch.js';
import { FakeClock } from '../../support/fake-clock.js';
import type { ChangeFeed } from '../../../functions/ports.js';
import { api, cluster, machineClass, machineDeployment, ns, type Api } from './fixtures.js';

let t: Api;
let feed: LocalChangeFeed;
const MDS = ns('default', 'machinedeployments');

function setUp(window: { maxEventsPerKind?: number } = {}) {
  const clock = new FakeClock();
  feed = new LocalChangeFeed(clock, window);
  t = api(clock, new ChangeRecordingStore(new MemoryStore({ clock }), feed));
  t.deps.changes = feed;
}

beforeEach(async () => {
  setUp();
  await t.create(cluster());
  await t.create(machineClass());
});

/** Reads events of a watch until `count` have come (or the stream ends), then hangs up. */
async function watch(
  query: Record<string, string>,
  count: number,
  path = MDS,
): Promise<{ status: number; headers: Record<string, string>; events: WatchEvent[] }> {
  const res = await t.call('GET', path, undefined, {}, { watch: 'true', ...query });
  if (!res.stream) return { status: res.status, headers: res.headers, events: [] };
  const abort = new AbortController();
  const events: WatchEvent[] = [];
  for await (const line of res.stream(abort.signal)) {
    expect(line.endsWith('\n')).toBe(true);
    events.push(JSON.parse(line) as WatchEvent);
    if (events.length >= count) break;
  }
  abort.abort();
  return { status: res.status, headers: res.headers, events };
}

const shown = (events: WatchEvent[]) => events.map((e) => `${e.type} ${(e.object as { metadata: { name?: string } }).metadata.name ?? ''}`.trim());

const scale = (name: string, replicas: number) => t.call('PATCH', ns('default', 'machinedeployments', name), { spec: { replicas } });

describe('watch', () => {
  it('starts without a resourceVersion with an ADDED event for every object there, then streams changes as JSON lines', async () => {
    // Prepare
    await t.create(machineDeployment('md1'));
    // Act
    const watching = watch({}, 3);
    await new Promise((r) => setImmediate(r));
    await scale('md1', 5);
    await t.call('DELETE', ns('default', 'machinedeployments', 'md1'));
    const { status, headers, events } = await watching;
    // Assess
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/json');
    expect(shown(events)).toEqual(['ADDED md1', 'MODIFIED md1', 'MODIFIED md1']);
    expect((events[1]!.object as { spec: { replicas: number } }).spec.replicas).toBe(5);
  });

  it("resumes from a list's resourceVersion with only the changes after it (what kubectl get -w does)", async () => {
    await t.create(machineDeployment('md1'));
    const list = await t.call('GET', MDS);
    expect(list.json.metadata.resourceVersion).toMatch(/^[0-9]+$/);
    await scale('md1', 4);
    const { events } = await watch({ resourceVersion: list.json.metadata.resourceVersion }, 1);
    expect(shown(events)).toEqual(['MODIFIED md1']);
    expect((events[0]!.object as { spec: { replicas: number } }).spec.replicas).toBe(4);
  });

  it('answers a version older than the window with an ERROR event carrying a 410 Expired Status, and ends', async () => {
    // Prepare: a window of one change per kind
    setUp({ maxEventsPerKind: 1 });
    await t.create(cluster());
    await t.create(machineClass());
    const before = (await t.call('GET', MDS)).json.metadata.resourceVersion as string;
    await t.create(machineDeployment('md1'));
    await scale('md1', 4);
    // Act
    const { events } = await watch({ resourceVersion: before }, 5);
    // Assess
    expect(events).toEqual([
      {
        type: 'ERROR',
        object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired', message: expect.stringContaining('too old resource version') }),
      },
    ]);
  });

  it('watches one object through fieldSelector=metadata.name (kubectl get NAME -w)', async () => {
    await t.create(machineDeployment('md1'));
    await t.create(machineDeployment('md2'));
    const watching = watch({ fieldSelector: 'metadata.name=md2' }, 2);
    await new Promise((r) => setImmediate(r));
    await scale('md1', 5);
    await scale('md2', 5);
    expect(shown((await watching).events)).toEqual(['ADDED md2', 'MODIFIED md2']);
  });

  it('sends DELETED for an object that leaves the label selection and ADDED when it comes back, as kube does', async () => {
    await t.create(machineDeployment('md1', 'default', { labels: { tier: 'a' } }));
    const watching = watch({ labelSelector: 'tier=a' }, 3);
    await new Promise((r) => setImmediate(r));
    await t.call('PATCH', ns('default', 'machinedeployments', 'md1'), { metadata: { labels: { tier: 'b' } } });
    await t.call('PATCH', ns('default', 'machinedeployments', 'md1'), { metadata: { labels: { tier: 'a' } } });
    const { events } = await watching;
    expect(shown(events)).toEqual(['ADDED md1', 'DELETED md1', 'ADDED md1']);
    // The DELETED carries the object as it was last seen in the selection, at the change's version.
    const left = events[1]!.object as { metadata: { labels: Record<string, string>; resourceVersion: string } };
    expect(left.metadata.labels).toMatchObject({ tier: 'a' });
    expect(Number(left.metadata.resourceVersion)).toBeGreaterThan(
      Number((events[0]!.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion),
    );
  });

  it('sends the initial events then a bookmark annotated k8s.io/initial-events-end (sendInitialEvents=true)', async () => {
    await t.create(machineDeployment('md1'));
    const { events } = await watch({ sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true' }, 2);
    expect(shown(events)).toEqual(['ADDED md1', 'BOOKMARK']);
    expect(events[1]!.object).toEqual({
      kind: 'MachineDeployment',
      apiVersion: 'clusterless.dev/v1alpha1',
      metadata: { resourceVersion: expect.stringMatching(/^[0-9]+$/), annotations: { [INITIAL_EVENTS_END]: 'true' } },
    });
  });

  it('refuses sendInitialEvents without resourceVersionMatch=NotOlderThan with 422 naming resourceVersionMatch, and a malformed resourceVersion with 400', async () => {
    const res = await t.call('GET', MDS, undefined, {}, { watch: 'true', sendInitialEvents: 'true' });
    expect(res.status).toBe(422);
    expect(res.json.details.causes).toEqual([expect.objectContaining({ field: 'resourceVersionMatch', reason: 'FieldValueForbidden' })]);
    expect((await t.call('GET', MDS, undefined, {}, { watch: 'true', resourceVersion: 'abc' })).status).toBe(400);
  });

  it("takes watch=1 as kube-apiserver does (Go's ParseBool), across all namespaces too", async () => {
    await t.create(machineDeployment('md1'));
    const res = await t.call('GET', '/apis/clusterless.dev/v1alpha1/machinedeployments', undefined, {}, { watch: '1' });
    expect(res.stream).toBeDefined();
  });

  it("ends the stream after timeoutSeconds (30 minutes without it, kube-apiserver's --min-request-timeout)", () => {
    expect(parseWatchOptions({ timeoutSeconds: '5' }).timeoutMs).toBe(5000);
    expect(parseWatchOptions({}).timeoutMs).toBe(1_800_000);
    expect(() => parseWatchOptions({ timeoutSeconds: '-1' })).toThrow(/timeoutSeconds/);
  });

  it('answers a list, not a watch, when watch is false', async () => {
    const res = await t.call('GET', MDS, undefined, {}, { watch: 'false' });
    expect(res.stream).toBeUndefined();
    expect(res.json.kind).toBe('MachineDeploymentList');
  });
});

describe('watch fan-out', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Opens a watch from `resourceVersion` and resolves with its first `count` lines, as written. */
  async function lines(query: Record<string, string>, count: number, headers: Record<string, string> = {}): Promise<string[]> {
    const res = await t.call('GET', MDS, undefined, headers, { watch: 'true', ...query });
    const abort = new AbortController();
    const out: string[] = [];
    for await (const line of res.stream!(abort.signal)) if (out.push(line) >= count) break;
    abort.abort();
    return out;
  }

  it('encodes a change once for the watchers that send it as it is, and each other view exactly as its own', async () => {
    // Prepare: four watchers of one kind from the same version: two alike, one whose label selection the change
    // leaves, one asking for a Table
    await t.create(machineDeployment('md1', 'default', { labels: { tier: 'a' } }));
    const from = { resourceVersion: (await t.call('GET', MDS)).json.metadata.resourceVersion as string };
    const stringify = vi.spyOn(JSON, 'stringify');
    const watching = Promise.all([
      lines(from, 1),
      lines(from, 1),
      lines({ ...from, labelSelector: 'tier=a' }, 1),
      lines(from, 1, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' }),
    ]);
    await new Promise((r) => setImmediate(r));
    // Act
    await t.call('PATCH', ns('default', 'machinedeployments', 'md1'), { metadata: { labels: { tier: 'b' } } });
    const [first, second, selected, table] = (await watching).map((l) => l[0]!);
    // Assess: one encoding of the MODIFIED, the same line for both plain watchers, the object as stored
    const encodings = stringify.mock.calls.filter(([v]) => {
      const e = v as { type?: string; object?: { kind?: string } } | undefined;
      return e?.type === 'MODIFIED' && e.object?.kind === 'MachineDeployment';
    });
    expect(encodings).toHaveLength(1);
    const stored = (await t.call('GET', ns('default', 'machinedeployments', 'md1'))).json;
    expect(first).toBe(`${JSON.stringify({ type: 'MODIFIED', object: stored })}\n`);
    expect(second).toBe(first);
    // The selection's watcher: a DELETED of the object as it was in the selection, at the change's version
    const left = JSON.parse(selected!) as WatchEvent;
    expect(left.type).toBe('DELETED');
    expect(left.object).toMatchObject({ metadata: { labels: { tier: 'a' }, resourceVersion: stored.metadata.resourceVersion } });
    // The Table's watcher: its own row, with the column definitions of a first row
    const row = JSON.parse(table!) as { type: string; object: { kind: string; columnDefinitions: unknown[]; rows: unknown[] } };
    expect(row.type).toBe('MODIFIED');
    expect(row.object.kind).toBe('Table');
    expect(row.object.columnDefinitions.length).toBeGreaterThan(0);
  });
});

describe('watchEvents: bookmarks', () => {
  const def = kindByPlural('machinedeployments')!;

  it('sends a bookmark, at the newest version, when the watch times out', async () => {
    // Prepare
    await t.create(machineDeployment('md1'));
    const options = {
      ...parseWatchOptions({ allowWatchBookmarks: 'true', resourceVersion: await feed.currentVersion() }),
      timeoutMs: 30,
      bookmarkIntervalMs: 60_000,
    };
    // Act
    const events: WatchEvent[] = [];
    for await (const e of watchEvents({ changes: feed, store: t.store }, def, 'default', options, new AbortController().signal)) events.push(e);
    // Assess
    expect(events).toEqual([
      {
        type: 'BOOKMARK',
        object: { kind: 'MachineDeployment', apiVersion: 'clusterless.dev/v1alpha1', metadata: { resourceVersion: await feed.currentVersion() } },
      },
    ]);
  });

  it('sends a bookmark after every idle interval while the watch lasts', async () => {
    const options = { ...parseWatchOptions({ allowWatchBookmarks: 'true', resourceVersion: await feed.currentVersion() }), bookmarkIntervalMs: 5 };
    const client = new AbortController();
    const events: WatchEvent[] = [];
    for await (const e of watchEvents({ changes: feed, store: t.store }, def, 'default', options, client.signal)) {
      events.push(e);
      if (events.length === 2) client.abort();
    }
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK', 'BOOKMARK']);
  });

  it('sends no bookmark unless asked (allowWatchBookmarks)', async () => {
    const options = { ...parseWatchOptions({ resourceVersion: await feed.currentVersion() }), timeoutMs: 30, bookmarkIntervalMs: 5 };
    const events: WatchEvent[] = [];
    for await (const e of watchEvents({ changes: feed, store: t.store }, def, 'default', options, new AbortController().signal)) events.push(e);
    expect(events).toEqual([]);
  });
});

describe('watchEvents: a feed read at two moments', () => {
  const def = kindByPlural('machinedeployments')!;

  it('sends a change once when the feed answers it before its current version reaches it (a polled log)', async () => {
    // Prepare: the change at 150 is logged between the two reads of each round, so the current version lags behind it
    const md = { ...machineDeployment('md1'), metadata: { namespace: 'default', name: 'md1', resourceVersion: '150' } } as never;
    let current = 100;
    const asked: string[] = [];
    const client = new AbortController();
    const log: ChangeFeed = {
      currentVersion: async () => String(current),
      changesSince: async (_kind, _namespace, after) => {
        asked.push(after);
        if (asked.length === 3) client.abort();
        const changes = Number(after) < 150 ? [{ type: 'ADDED' as const, object: md }] : [];
        current = 120;
        return changes;
      },
      waitForChange: async () => {},
    };
    const events: WatchEvent[] = [];
    // Act
    for await (const e of watchEvents({ changes: log, store: t.store }, def, 'default', { ...parseWatchOptions({ resourceVersion: '100' }) }, client.signal)) {
      events.push(e);
    }
    // Assess
    expect(shown(events)).toEqual(['ADDED md1']);
    expect(asked).toEqual(['100', '150', '150']);
  });

  /** A feed whose log answers, round by round, what `rounds` holds for versions above `after` (a late-filled log). */
  function lateLog(rounds: { current: number; logged: [string, number][] }[], client: AbortController, lateArrivalWindow?: number) {
    const asked: string[] = [];
    let round = -1;
    const at = (name: string, version: number) =>
      ({ ...machineDeployment(name), metadata: { namespace: 'default', name, resourceVersion: String(version) } }) as never;
    const log: ChangeFeed = {
      ...(lateArrivalWindow !== undefined ? { lateArrivalWindow } : {}),
      currentVersion: async () => String(rounds[Math.max(0, round)]!.current),
      changesSince: async (_kind, _namespace, after) => {
        asked.push(after);
        round += 1;
        if (round === rounds.length - 1) client.abort();
        const logged = rounds[Math.min(round, rounds.length - 1)]!.logged;
        return logged
          .filter(([, v]) => v > Number(after))
          .sort((a, b) => a[1] - b[1])
          .map(([name, v]) => ({ type: 'MODIFIED' as const, object: at(name, v) }));
      },
      waitForChange: async () => {},
    };
    return { log, asked };
  }

  /** Every event of a watch of default's MachineDeployments from version 100, until the client leaves. */
  async function watchedFrom100(log: ChangeFeed, client: AbortController): Promise<WatchEvent[]> {
    const events: WatchEvent[] = [];
    for await (const e of watchEvents({ changes: log, store: t.store }, def, 'default', { ...parseWatchOptions({ resourceVersion: '100' }) }, client.signal))
      events.push(e);
    return events;
  }

  const modified = (events: WatchEvent[]) =>
    events.map(
      (e) =>
        `${(e.object as { metadata: { name: string; resourceVersion: string } }).metadata.name}@${(e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`,
    );

  it('sends a change logged after the cursor passed its version once, when the feed says changes may come that late', async () => {
    // Prepare: md2's change at 130 is logged only in the second round, after md1's at 150 moved the cursor past it
    const client = new AbortController();
    const { log, asked } = lateLog(
      [
        { current: 150, logged: [['md1', 150]] },
        {
          current: 160,
          logged: [
            ['md1', 150],
            ['md2', 130],
          ],
        },
        {
          current: 170,
          logged: [
            ['md1', 150],
            ['md2', 130],
          ],
        },
      ],
      client,
      100,
    );
    // Act
    const events = await watchedFrom100(log, client);
    // Assess: read back to the start (100) each round; each change sent once
    expect(modified(events)).toEqual(['md1@150', 'md2@130']);
    expect(asked).toEqual(['100', '100', '100']);
  });

  it('never sends an older change of an object after a newer one, nor what is older than the version it started from', async () => {
    // Prepare: md1@140 is logged after md1@150 went out; md3@90 is older than the watch's start
    const client = new AbortController();
    const { log } = lateLog(
      [
        { current: 150, logged: [['md1', 150]] },
        {
          current: 160,
          logged: [
            ['md1', 140],
            ['md1', 150],
            ['md3', 90],
          ],
        },
      ],
      client,
      100,
    );
    // Act
    const events = await watchedFrom100(log, client);
    // Assess
    expect(modified(events)).toEqual(['md1@150']);
  });

  it('misses a change logged late when the feed says changes are never late (the cursor is the only bound)', async () => {
    // Prepare: the same late md2@130 from a feed without a late-arrival window
    const client = new AbortController();
    const { log, asked } = lateLog(
      [
        { current: 150, logged: [['md1', 150]] },
        {
          current: 160,
          logged: [
            ['md1', 150],
            ['md2', 130],
          ],
        },
      ],
      client,
    );
    // Act
    const events = await watchedFrom100(log, client);
    // Assess
    expect(modified(events)).toEqual(['md1@150']);
    expect(asked).toEqual(['100', '150']);
  });
});
