/**
 * events.k8s.io/v1 through the router: discovery lists the group, Events are read (get, list in a namespace or all,
 * field selectors, Table) and never written by callers (405), and expired ones are never served.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { EVENT_LIFETIME_SECONDS, EventReason, eventName, type EventInput } from '../../../functions/api/event.js';
import { handleRequest, type HttpRequest } from '../../../functions/api/http/index.js';
import { silentLogger, storeEventRecorder } from '../../../functions/workflows/index.js';
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
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: ['get', 'list'], shortNames: ['ev'] },
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
  it.each([`${ROOT}/namespaces/team-a/events`, `${ROOT}/events`])('GET %s?watch=true is 405 naming the list as the way, not a list', async (path) => {
    const r = await call('GET', path, { watch: 'true' });
    expect(r.status).toBe(405);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', message: expect.stringMatching(/does not allow watching events yet/) });
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
