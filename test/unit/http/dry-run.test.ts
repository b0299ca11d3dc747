/**
 * Dry runs (`?dryRun=All`, DeleteOptions.dryRun) through the router and the ObjectService: each write is checked
 * and defaulted as the real one and answered as kube-apiserver answers a dry run, and the store is never written:
 * every dry run here goes to a store whose writes throw.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { Finalizers } from '../../../functions/api/common.js';
import { ObjectService } from '../../../functions/api/service/index.js';
import type { Store } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { api, cluster, machineClass, machineDeployment, ns, type Api } from './fixtures.js';

const WRITES = new Set(['create', 'update', 'updateStatus', 'delete', 'acquireLease', 'releaseLease']);

/** The store as a dry run must use it: reads pass, any write throws (and is counted). */
function readOnly(inner: Store): Store & { writes: string[] } {
  const writes: string[] = [];
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'writes') return writes;
      if (typeof prop === 'string' && WRITES.has(prop))
        return () => {
          writes.push(prop);
          throw new Error(`a dry run called ${prop}`);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store & { writes: string[] };
}

const MD = ns('default', 'machinedeployments', 'md1');
const DRY = { dryRun: 'All' };
const JSON_PATCH = { 'content-type': 'application/json-patch+json' };

describe('dry runs through the HTTP API', () => {
  let real: Api;
  let dry: Api;
  let store: Store & { writes: string[] };
  let stored: any;

  beforeEach(async () => {
    // Prepare: objects written for real, then a router whose store refuses every write.
    const clock = new FakeClock();
    real = api(clock);
    await real.create(cluster());
    await real.create(machineClass());
    stored = await real.create(machineDeployment());
    store = readOnly(real.store);
    dry = api(clock, store);
  });

  const unchanged = async () => {
    expect(store.writes).toEqual([]);
    expect(await real.store.get('MachineDeployment', 'default', 'md1')).toEqual(stored);
  };

  it('create answers the object as it would be stored (defaults, finalizer, uid, creationTimestamp, generation 1) without a resourceVersion', async () => {
    const res = await dry.call('POST', ns('default', 'machinedeployments'), machineDeployment('md2'), {}, DRY);
    expect(res.status, res.body).toBe(201);
    expect(res.json.metadata).toMatchObject({ name: 'md2', namespace: 'default', generation: 1, finalizers: [Finalizers.machineDeployment] });
    expect(res.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.json.metadata.resourceVersion).toBeUndefined();
    // Defaulted as a real create defaults it: the same fields the stored md1 got, and the same strategy.
    expect(Object.keys(res.json.spec).sort()).toEqual(Object.keys(stored.spec).sort());
    expect(res.json.spec.strategy).toEqual(stored.spec.strategy);
    expect(store.writes).toEqual([]);
    expect(await real.store.get('MachineDeployment', 'default', 'md2')).toBeUndefined();
  });

  it('create refuses what the real create refuses: a taken name (409) and an invalid object (422)', async () => {
    expect((await dry.call('POST', ns('default', 'machinedeployments'), machineDeployment(), {}, DRY)).status).toBe(409);
    const invalid = await dry.call('POST', ns('default', 'machinedeployments'), machineDeployment('md2', 'default', { replicas: -1 }), {}, DRY);
    expect(invalid.status).toBe(422);
    expect(invalid.json.details.causes.map((c: { field: string }) => c.field)).toContain('spec.replicas');
    expect(store.writes).toEqual([]);
  });

  it.each([
    { name: 'replace', method: 'PUT', body: () => ({ ...stored, spec: { ...stored.spec, replicas: 7 } }), headers: {} },
    { name: 'merge patch', method: 'PATCH', body: () => ({ spec: { replicas: 7 } }), headers: {} },
    { name: 'JSON patch', method: 'PATCH', body: () => [{ op: 'replace', path: '/spec/replicas', value: 7 }], headers: JSON_PATCH },
    {
      name: 'server-side apply',
      method: 'PATCH',
      body: () => JSON.stringify({ ...machineDeployment(), spec: { ...machineDeployment().spec!, replicas: 7 } }),
      headers: { 'content-type': 'application/apply-patch+yaml' },
      query: { fieldManager: 'kubectl' },
    },
  ])('$name answers the update (same resourceVersion, generation bumped) and stores nothing', async (c) => {
    const res = await dry.call(c.method, MD, c.body(), c.headers, { ...DRY, ...(c.query ?? {}) });
    expect(res.status, res.body).toBe(200);
    expect(res.json.spec.replicas).toBe(7);
    expect(res.json.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    expect(res.json.metadata.generation).toBe(stored.metadata.generation + 1);
    expect(res.json.metadata.uid).toBe(stored.metadata.uid);
    await unchanged();
  });

  it('apply of an absent object answers it created, and creates nothing', async () => {
    const res = await dry.call(
      'PATCH',
      ns('default', 'machinedeployments', 'md9'),
      JSON.stringify(machineDeployment('md9')),
      { 'content-type': 'application/apply-patch+yaml' },
      { ...DRY, fieldManager: 'kubectl' },
    );
    expect(res.status, res.body).toBe(201);
    expect(res.json.metadata.resourceVersion).toBeUndefined();
    expect(await real.store.get('MachineDeployment', 'default', 'md9')).toBeUndefined();
    expect(store.writes).toEqual([]);
  });

  it('holds a dry run to the replica limit and to a stale resourceVersion, as the real write', async () => {
    const over = await dry.call('PATCH', MD, { spec: { replicas: 5000 } }, {}, DRY);
    expect(over.status).toBe(422);
    const stale = await dry.call('PATCH', MD, { metadata: { resourceVersion: '1' }, spec: { replicas: 4 } }, {}, DRY);
    expect(stale.status).toBe(409);
    await unchanged();
  });

  it('a status patch (merge or JSON) answers the new status and leaves the stored one', async () => {
    const merge = await dry.call('PATCH', `${MD}/status`, { status: { replicas: 2 } }, {}, DRY);
    expect(merge.status, merge.body).toBe(200);
    expect(merge.json.status.replicas).toBe(2);
    const json = await dry.call('PATCH', `${MD}/status`, [{ op: 'add', path: '/status', value: { replicas: 3 } }], JSON_PATCH, DRY);
    expect(json.status, json.body).toBe(200);
    expect(json.json.status.replicas).toBe(3);
    await unchanged();
  });

  it.each([
    { name: 'in the query', query: DRY, body: undefined },
    { name: 'in DeleteOptions', query: {}, body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] } },
  ])('delete $name answers the object marked for teardown (it has a finalizer), and deletes nothing', async ({ query, body }) => {
    const res = await dry.call('DELETE', MD, body, {}, query);
    expect(res.status, res.body).toBe(200);
    expect(res.json.metadata.deletionTimestamp).toMatch(/Z$/);
    expect(res.json.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    await unchanged();
  });

  it('delete of an object without finalizers answers Success, and the object stays', async () => {
    const res = await dry.call('DELETE', ns('default', 'machineclasses', 'small'), undefined, {}, DRY);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'small', kind: 'machineclasses' } });
    expect(await real.store.get('MachineClass', 'default', 'small')).toBeDefined();
    expect(store.writes).toEqual([]);
  });

  it('delete with a uid precondition that does not hold is a 409, as the real delete', async () => {
    const res = await dry.call('DELETE', MD, { preconditions: { uid: 'not-it' } }, {}, DRY);
    expect(res.status).toBe(409);
    await unchanged();
  });

  it('scale answers the new Scale and leaves spec.replicas', async () => {
    const res = await dry.call('PATCH', `${MD}/scale`, { spec: { replicas: 9 } }, {}, DRY);
    expect(res.status, res.body).toBe(200);
    expect(res.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 9 } });
    await unchanged();
  });

  it('a rollback answers and writes nothing', async () => {
    const res = await dry.call('POST', `${MD}/rollback`, {}, {}, DRY);
    // No earlier revision: refused as the real rollback refuses it.
    expect(res.status).toBe(422);
    expect(store.writes).toEqual([]);
  });

  it('a read ignores dryRun, as kube-apiserver does', async () => {
    expect((await dry.call('GET', MD, undefined, {}, { dryRun: 'Whatever' })).status).toBe(200);
  });
});

describe('ObjectService({ dryRun: true })', () => {
  it('validates and answers every write without one store write; asDryRun gives the same', async () => {
    const inner = new MemoryStore({ clock: new FakeClock() });
    const live = new ObjectService({ store: inner });
    await live.create('Cluster', 'default', cluster());
    await live.create('MachineClass', 'default', machineClass());
    const md = await live.create('MachineDeployment', 'default', machineDeployment());
    const store = readOnly(inner);
    for (const service of [new ObjectService({ store, dryRun: true }), new ObjectService({ store }).asDryRun()]) {
      expect(service.dryRun).toBe(true);
      const key = { kind: 'MachineDeployment', namespace: 'default', name: 'md1' } as const;
      expect((await service.create('MachineDeployment', 'default', machineDeployment('md2'))).metadata.name).toBe('md2');
      expect((await service.mergePatch<any>(key, { spec: { replicas: 4 } })).spec.replicas).toBe(4);
      expect((await service.jsonPatch<any>(key, [{ op: 'replace', path: '/spec/paused', value: true, hasValue: true }])).spec.paused).toBe(true);
      expect((await service.apply(key, machineDeployment('md1', 'default', { replicas: 6 }))).result).toBe('configured');
      expect((await service.patchStatus<any>(key, { status: { replicas: 1 } })).status.replicas).toBe(1);
      expect((await service.delete(key)).removed).toBe(false);
    }
    expect(store.writes).toEqual([]);
    expect(await inner.get('MachineDeployment', 'default', 'md1')).toEqual(md);
    expect(await inner.get('MachineDeployment', 'default', 'md2')).toBeUndefined();
  });
});

describe('writes that change nothing', () => {
  it.each([
    { name: 'a merge patch', method: 'PATCH', path: MD, body: () => ({ spec: { replicas: 3 } }), headers: {} },
    { name: 'a JSON patch', method: 'PATCH', path: MD, body: () => [{ op: 'replace', path: '/spec/replicas', value: 3 }], headers: JSON_PATCH },
    { name: 'a replace with what was read', method: 'PUT', path: MD, body: (md: any) => md, headers: {} },
    { name: 'a status patch', method: 'PATCH', path: `${MD}/status`, body: () => ({ status: null }), headers: {} },
    { name: 'a scale to the same count', method: 'PATCH', path: `${MD}/scale`, body: () => ({ spec: { replicas: 3 } }), headers: {} },
  ])('$name answers the object as it is and writes nothing, as kube-apiserver (kubectl: "patched (no change)")', async (c) => {
    const a = api();
    await a.create(cluster());
    await a.create(machineClass());
    const md = await a.create(machineDeployment());
    const res = await a.call(c.method, c.path, c.body(md), c.headers);
    expect(res.status, res.body).toBe(200);
    expect(res.json.metadata.resourceVersion).toBe(md.metadata.resourceVersion);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(md);
  });
});
