/**
 * The Store contract: one suite that every adapter must pass (memory, dynalite, moto's DynamoDB), so that
 * the semantics in ports.ts hold whichever host runs. Like hono's `common.case.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../functions/api/kind.js';
import type { KindName } from '../../functions/api/kinds.js';
import { ClusterNameChangeError } from '../../functions/adapters/store/base-store.js';
import {
  AlreadyExistsError,
  ConflictError,
  ExpiredContinueTokenError,
  InvalidContinueTokenError,
  NotFoundError,
  StoreError,
  type Clock,
  type ListPageOptions,
  type Store,
} from '../../functions/ports.js';
import { FakeClock } from './fake-clock.js';

export interface StoreFactoryOptions {
  clock: Clock;
  /** Page size of the adapter's queries, small so that pagination is exercised; adapters without pages ignore it. */
  pageLimit?: number;
}

export type StoreFactory = (options: StoreFactoryOptions) => Promise<Store>;

const API_VERSION = 'clusterless.dev/v1alpha1';

/** A minimal object of a cluster-scoped kind: the store does not validate, the API does. */
export function clusterObject(
  kind: Exclude<KindName, 'MachineClass' | 'Cluster'>,
  name: string,
  clusterName: string,
  namespace = 'default',
  extra: Partial<ApiObject> = {},
): ApiObject {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec: { clusterName, replicas: 1 }, ...extra };
}

export function machine(name: string, clusterName = 'c1', namespace = 'default', extra: Partial<ApiObject> = {}): ApiObject {
  return clusterObject('Machine', name, clusterName, namespace, extra);
}

export function cluster(name: string, namespace = 'default'): ApiObject {
  return { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name, namespace }, spec: { paused: false } };
}

export function machineClass(name: string, namespace = 'default'): ApiObject {
  return { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name, namespace }, spec: { sim: { bootSeconds: 1 } } };
}

function rv(obj: ApiObject): bigint {
  return BigInt(obj.metadata.resourceVersion ?? '0');
}

function names(objs: ApiObject[]): string[] {
  return objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

export function runStoreContract(name: string, makeStore: StoreFactory): void {
  async function setup(pageLimit?: number): Promise<{ store: Store; clock: FakeClock }> {
    const clock = new FakeClock();
    const store = await makeStore(pageLimit === undefined ? { clock } : { clock, pageLimit });
    return { store, clock };
  }

  describe(`Store contract: ${name}`, () => {
    describe('events (events.k8s.io Event, named `{object}.{hash}`)', () => {
      const event = (name: string, namespace = 'default'): ApiObject =>
        ({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, namespace }, eventTime: '2026-01-01T00:00:00.000000Z', note: name }) as ApiObject;

      it('creates, gets, updates, lists in pages and deletes events, never in a cluster', async () => {
        const { store } = await setup(2);
        for (const n of ['m1.aaaaaaaaaa', 'm1.bbbbbbbbbb', 'm2.cccccccccc']) await store.create(event(n));
        await expect(store.create(event('m1.aaaaaaaaaa'))).rejects.toBeInstanceOf(AlreadyExistsError);
        const got = await store.get('Event', 'default', 'm1.bbbbbbbbbb');
        const updated = await store.update({ ...got!, note: 'again' } as ApiObject);
        expect(((await store.get('Event', 'default', 'm1.bbbbbbbbbb')) as unknown as { note: string }).note).toBe('again');
        await expect(store.update({ ...got!, note: 'stale' } as ApiObject)).rejects.toBeInstanceOf(ConflictError);
        // Pages of one, resumed after names with dots.
        const seen: string[] = [];
        let token: string | undefined;
        do {
          const page = await store.listPage('Event', 'default', { limit: 1, ...(token ? { continue: token } : {}) });
          seen.push(...page.items.map((o) => o.metadata.name));
          token = page.continue;
        } while (token);
        expect(seen).toEqual(['m1.aaaaaaaaaa', 'm1.bbbbbbbbbb', 'm2.cccccccccc']);
        expect(await store.listCluster('default', 'm1')).toEqual([]);
        expect((await store.delete('Event', 'default', 'm1.bbbbbbbbbb', { resourceVersion: updated.metadata.resourceVersion })).removed).toBe(true);
        expect(await store.get('Event', 'default', 'm1.bbbbbbbbbb')).toBeUndefined();
        // A deleted event's name is free again at once (no name claim holds it).
        await store.create(event('m1.bbbbbbbbbb'));
        expect((await store.list('Event')).map((o) => o.metadata.name)).toEqual(['m1.aaaaaaaaaa', 'm1.bbbbbbbbbb', 'm2.cccccccccc']);
      });
    });

    describe('create', () => {
      it('sets uid, resourceVersion, generation 1 and creationTimestamp from the clock', async () => {
        // Prepare
        const { store } = await setup();
        // Act
        const created = await store.create(machine('m1'));
        // Assess
        expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
        expect(created.metadata.generation).toBe(1);
        expect(created.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
        expect(await store.get('Machine', 'default', 'm1')).toEqual(created);
      });

      it('keeps a given uid and ignores server fields sent by the caller', async () => {
        const { store } = await setup();
        const obj = machine('m1');
        obj.metadata = {
          ...obj.metadata,
          uid: 'given-uid',
          generation: 7,
          resourceVersion: '5',
          deletionTimestamp: '2020-01-01T00:00:00Z',
          creationTimestamp: '2020-01-01T00:00:00Z',
        };
        const created = await store.create(obj);
        expect(created.metadata).toMatchObject({ uid: 'given-uid', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' });
        expect(created.metadata.resourceVersion).not.toBe('5');
        expect(created.metadata.deletionTimestamp).toBeUndefined();
      });

      it('gives every object its own uid', async () => {
        const { store } = await setup();
        const a = await store.create(machine('a'));
        const b = await store.create(machine('b'));
        expect(a.metadata.uid).not.toBe(b.metadata.uid);
      });

      it('refuses a second object of the same kind, namespace and name with AlreadyExistsError', async () => {
        const { store } = await setup();
        const first = await store.create(machine('m1'));
        const err = await rejection(store.create(machine('m1', 'c1', 'default', { spec: { clusterName: 'c1', replicas: 9 } })));
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect((err as AlreadyExistsError).key).toEqual({ kind: 'Machine', namespace: 'default', name: 'm1' });
        expect(await store.get('Machine', 'default', 'm1')).toEqual(first);
      });

      it('keeps names unique across the clusters of a namespace', async () => {
        const { store } = await setup();
        const first = await store.create(machine('m1', 'c1'));
        await expect(store.create(machine('m1', 'c2'))).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await store.listCluster('default', 'c2')).toEqual([]);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(first);
      });

      it('allows the same name in another namespace or of another kind', async () => {
        const { store } = await setup();
        await store.create(machine('x', 'c1', 'ns-a'));
        await store.create(machine('x', 'c1', 'ns-b'));
        await store.create(clusterObject('MachineSet', 'x', 'c1', 'ns-a'));
        await store.create(machineClass('x', 'ns-a'));
        expect(await store.get('Machine', 'ns-b', 'x')).toBeDefined();
        expect(names(await store.listCluster('ns-a', 'c1'))).toEqual(['Machine/ns-a/x', 'MachineSet/ns-a/x']);
      });

      it('shares no object with the caller', async () => {
        const { store } = await setup();
        const input = machine('m1');
        const created = await store.create(input);
        (input.spec as { replicas: number }).replicas = 5;
        (created.spec as { replicas: number }).replicas = 6;
        const read = await store.get('Machine', 'default', 'm1');
        (read?.spec as { replicas: number }).replicas = 7;
        expect((await store.get('Machine', 'default', 'm1'))?.spec).toEqual({ clusterName: 'c1', replicas: 1 });
      });
    });

    describe('get', () => {
      it('returns undefined for a missing object', async () => {
        const { store } = await setup();
        await store.create(machine('m1'));
        expect(await store.get('Machine', 'default', 'nope')).toBeUndefined();
        expect(await store.get('MachineSet', 'default', 'm1')).toBeUndefined();
        expect(await store.get('Machine', 'other', 'm1')).toBeUndefined();
      });

      it('reads namespace-level objects (MachineClass)', async () => {
        const { store } = await setup();
        const mc = await store.create(machineClass('small'));
        expect(await store.get('MachineClass', 'default', 'small')).toEqual(mc);
      });
    });

    describe('update', () => {
      it('bumps generation when the spec changes, and resourceVersion always', async () => {
        const { store, clock } = await setup();
        const created = await store.create(machine('m1'));
        clock.advance(1);
        const updated = await store.update({ ...created, spec: { clusterName: 'c1', replicas: 3 } });
        expect(updated.metadata.generation).toBe(2);
        expect(rv(updated)).toBeGreaterThan(rv(created));
        expect(await store.get('Machine', 'default', 'm1')).toEqual(updated);
      });

      it('keeps generation when only metadata changes', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const updated = await store.update({ ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
        expect(updated.metadata.generation).toBe(1);
        expect(updated.metadata.labels).toEqual({ a: 'b' });
        expect(rv(updated)).toBeGreaterThan(rv(created));
      });

      it('keeps the stored status and server fields whatever the caller sends', async () => {
        const { store, clock } = await setup();
        const created = await store.create(machine('m1'));
        const withStatus = await store.updateStatus({ ...created, status: { phase: 'Running' } });
        clock.advance(60);
        const updated = await store.update({
          ...withStatus,
          metadata: {
            ...withStatus.metadata,
            uid: undefined,
            creationTimestamp: '1999-01-01T00:00:00Z',
            deletionTimestamp: '1999-01-01T00:00:00Z',
            generation: 42,
          },
          status: { phase: 'Failed' },
        });
        expect(updated.status).toEqual({ phase: 'Running' });
        expect(updated.metadata).toMatchObject({ uid: created.metadata.uid, creationTimestamp: created.metadata.creationTimestamp, generation: 1 });
        expect(updated.metadata.deletionTimestamp).toBeUndefined();
      });

      it('refuses a stale resourceVersion with ConflictError carrying the current object', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const current = await store.update({ ...created, spec: { clusterName: 'c1', replicas: 2 } });
        const err = await rejection(store.update({ ...created, spec: { clusterName: 'c1', replicas: 3 } }));
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).current).toEqual(current);
        expect((err as ConflictError).message).toContain(current.metadata.resourceVersion);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(current);
      });

      it('applies to whatever is current when no resourceVersion is given (last write wins)', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        await store.update({ ...created, spec: { clusterName: 'c1', replicas: 2 } });
        const blind = await store.update({
          ...created,
          metadata: { ...created.metadata, resourceVersion: undefined },
          spec: { clusterName: 'c1', replicas: 3 },
        });
        expect(blind.spec).toEqual({ clusterName: 'c1', replicas: 3 });
        expect(blind.metadata.generation).toBe(3);
      });

      it('refuses a uid that is not the stored one with ConflictError', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const err = await rejection(store.update({ ...created, metadata: { ...created.metadata, uid: 'someone-else' } }));
        expect(err).toBeInstanceOf(ConflictError);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(created);
      });

      it('throws NotFoundError for a missing object', async () => {
        const { store } = await setup();
        await expect(store.update(machine('nope'))).rejects.toBeInstanceOf(NotFoundError);
      });

      it('refuses to move an object to another cluster', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1', 'c1'));
        await expect(store.update({ ...created, spec: { clusterName: 'c2', replicas: 1 } })).rejects.toBeInstanceOf(ClusterNameChangeError);
        expect(names(await store.listCluster('default', 'c1'))).toEqual(['Machine/default/m1']);
        expect(await store.listCluster('default', 'c2')).toEqual([]);
      });

      it('updates namespace-level objects (MachineClass)', async () => {
        const { store } = await setup();
        const mc = await store.create(machineClass('small'));
        const updated = await store.update({ ...mc, spec: { sim: { bootSeconds: 2 } } });
        expect(updated.metadata.generation).toBe(2);
        expect(await store.get('MachineClass', 'default', 'small')).toEqual(updated);
      });
    });

    describe('updateStatus', () => {
      it('writes the status only: spec and metadata stay, generation stays', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const updated = await store.updateStatus({
          ...created,
          metadata: { ...created.metadata, labels: { ignored: 'yes' } },
          spec: { clusterName: 'c1', replicas: 99 },
          status: { phase: 'Running', observedGeneration: 1 },
        });
        expect(updated.status).toEqual({ phase: 'Running', observedGeneration: 1 });
        expect(updated.spec).toEqual(created.spec);
        expect(updated.metadata.labels).toBeUndefined();
        expect(updated.metadata.generation).toBe(1);
        expect(rv(updated)).toBeGreaterThan(rv(created));
        expect(await store.get('Machine', 'default', 'm1')).toEqual(updated);
      });

      it('refuses a stale resourceVersion with ConflictError', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const current = await store.updateStatus({ ...created, status: { phase: 'Provisioning' } });
        const err = await rejection(store.updateStatus({ ...created, status: { phase: 'Failed' } }));
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).current).toEqual(current);
      });

      it('throws NotFoundError for a missing object', async () => {
        const { store } = await setup();
        await expect(store.updateStatus({ ...machine('nope'), status: { phase: 'Running' } })).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('delete', () => {
      it('removes an object without finalizers', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const result = await store.delete('Machine', 'default', 'm1');
        // As it was, at the removal's own version (newer than any before it), as kube's etcd3 store returns it: watches order by it.
        expect(result).toEqual({ object: { ...created, metadata: { ...created.metadata, resourceVersion: expect.any(String) } }, removed: true });
        expect(Number(result.object.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
        expect(await store.get('Machine', 'default', 'm1')).toBeUndefined();
        expect(await store.listCluster('default', 'c1')).toEqual([]);
        expect(await store.list('Machine')).toEqual([]);
      });

      it('only marks an object with finalizers: deletionTimestamp once, generation + 1', async () => {
        const { store, clock } = await setup();
        const created = await store.create(
          machine('m1', 'c1', 'default', { metadata: { name: 'm1', namespace: 'default', finalizers: ['clusterless.dev/machine'] } }),
        );
        clock.advance(30);
        const first = await store.delete('Machine', 'default', 'm1');
        expect(first.removed).toBe(false);
        expect(first.object.metadata).toMatchObject({ deletionTimestamp: '2026-01-01T00:00:30Z', generation: 2 });
        expect(rv(first.object)).toBeGreaterThan(rv(created));
        clock.advance(30);
        const second = await store.delete('Machine', 'default', 'm1');
        expect(second).toEqual({ object: first.object, removed: false });
        expect(await store.get('Machine', 'default', 'm1')).toEqual(first.object);
      });

      it('removes a deleting object when an update takes its last finalizer off', async () => {
        const { store } = await setup();
        await store.create(machine('m1', 'c1', 'default', { metadata: { name: 'm1', namespace: 'default', finalizers: ['a.dev/x', 'b.dev/y'] } }));
        const { object } = await store.delete('Machine', 'default', 'm1');
        const one = await store.update({ ...object, metadata: { ...object.metadata, finalizers: ['b.dev/y'] } });
        expect(one.metadata.deletionTimestamp).toBe(object.metadata.deletionTimestamp);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(one);
        await store.update({ ...one, metadata: { ...one.metadata, finalizers: [] } });
        expect(await store.get('Machine', 'default', 'm1')).toBeUndefined();
        expect(await store.listCluster('default', 'c1')).toEqual([]);
      });

      it('keeps deletionTimestamp on an update that does not send it', async () => {
        const { store } = await setup();
        await store.create(machine('m1', 'c1', 'default', { metadata: { name: 'm1', namespace: 'default', finalizers: ['a.dev/x'] } }));
        const { object } = await store.delete('Machine', 'default', 'm1');
        const updated = await store.update({ ...object, metadata: { ...object.metadata, deletionTimestamp: undefined, labels: { a: 'b' } } });
        expect(updated.metadata.deletionTimestamp).toBe(object.metadata.deletionTimestamp);
      });

      it('keeps a deleting object and its deletionTimestamp on updateStatus', async () => {
        const { store } = await setup();
        await store.create(machine('m1', 'c1', 'default', { metadata: { name: 'm1', namespace: 'default', finalizers: ['a.dev/x'] } }));
        const { object } = await store.delete('Machine', 'default', 'm1');
        const kept = await store.updateStatus({ ...object, status: { phase: 'Deleting' } });
        expect(kept.metadata.deletionTimestamp).toBe(object.metadata.deletionTimestamp);
        expect(kept.metadata.generation).toBe(object.metadata.generation);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(kept);
      });

      it.each([
        { name: 'a stale resourceVersion', options: { resourceVersion: '1' } },
        { name: 'another uid', options: { uid: 'someone-else' } },
      ])('refuses $name as precondition with ConflictError and changes nothing', async ({ options }) => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const err = await rejection(store.delete('Machine', 'default', 'm1', options));
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).current).toEqual(created);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(created);
      });

      it('deletes when the preconditions hold', async () => {
        const { store } = await setup();
        const created = await store.create(machine('m1'));
        const result = await store.delete('Machine', 'default', 'm1', { resourceVersion: created.metadata.resourceVersion, uid: created.metadata.uid });
        expect(result.removed).toBe(true);
        expect(await store.get('Machine', 'default', 'm1')).toBeUndefined();
      });

      it('throws NotFoundError for a missing object', async () => {
        const { store } = await setup();
        await expect(store.delete('Machine', 'default', 'nope')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('lets the name be used again, and a writer of the old object cannot win against the new one', async () => {
        // The clock does not move: the versions must still never repeat.
        const { store } = await setup();
        const old = await store.create(machine('m1', 'c1'));
        const oldUpdated = await store.update({ ...old, spec: { clusterName: 'c1', replicas: 2 } });
        await store.delete('Machine', 'default', 'm1');
        const again = await store.create(machine('m1', 'c2'));
        expect(again.metadata.uid).not.toBe(old.metadata.uid);
        expect(rv(again)).toBeGreaterThan(rv(oldUpdated));
        await expect(store.update({ ...oldUpdated, metadata: { ...oldUpdated.metadata, uid: undefined } })).rejects.toBeInstanceOf(ConflictError);
        await expect(store.update({ ...old, metadata: { ...old.metadata, uid: undefined } })).rejects.toBeInstanceOf(ConflictError);
        expect(await store.get('Machine', 'default', 'm1')).toEqual(again);
        expect(names(await store.listCluster('default', 'c2'))).toEqual(['Machine/default/m1']);
        expect(await store.listCluster('default', 'c1')).toEqual([]);
      });
    });

    describe('listCluster', () => {
      it('returns every object of the cluster, all kinds, sorted by kind then name, and nothing else', async () => {
        const { store } = await setup();
        await store.create(cluster('c1'));
        await store.create(clusterObject('ControlPlane', 'c1-cp', 'c1'));
        await store.create(clusterObject('MachineDeployment', 'md', 'c1'));
        await store.create(clusterObject('MachineSet', 'md-abc', 'c1'));
        await store.create(machine('md-abc-2', 'c1'));
        await store.create(machine('md-abc-1', 'c1'));
        await store.create(clusterObject('MachineHealthCheck', 'mhc', 'c1'));
        // Neighbours that must not leak in: another cluster (also one whose name extends c1), another
        // namespace, namespace-level objects, and the cluster's leases.
        await store.create(cluster('c10'));
        await store.create(machine('other', 'c10'));
        await store.create(machine('elsewhere', 'c1', 'ns2'));
        await store.create(machineClass('small'));
        await store.acquireLease('default', 'c1', 'reconcile', 'me', 60);
        expect(names(await store.listCluster('default', 'c1'))).toEqual([
          'Cluster/default/c1',
          'ControlPlane/default/c1-cp',
          'Machine/default/md-abc-1',
          'Machine/default/md-abc-2',
          'MachineDeployment/default/md',
          'MachineHealthCheck/default/mhc',
          'MachineSet/default/md-abc',
        ]);
        expect(names(await store.listCluster('default', 'c10'))).toEqual(['Cluster/default/c10', 'Machine/default/other']);
      });

      it('returns the objects as get does', async () => {
        const { store } = await setup();
        const m = await store.create(machine('m1'));
        const withStatus = await store.updateStatus({ ...m, status: { phase: 'Running' } });
        expect(await store.listCluster('default', 'c1')).toEqual([withStatus]);
      });

      it('reads every page of a large cluster', async () => {
        const { store } = await setup(7);
        const created = await Promise.all(Array.from({ length: 25 }, (_, i) => store.create(machine(`m-${String(i).padStart(2, '0')}`))));
        const listed = await store.listCluster('default', 'c1');
        expect(listed).toHaveLength(25);
        expect(listed).toEqual([...created].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)));
      });

      it('reads clusters whose objects are larger than one 1 MB query page', async () => {
        const { store } = await setup();
        const big = 'x'.repeat(200 * 1024);
        for (let i = 0; i < 7; i++)
          await store.create(
            machine(`big-${i}`, 'c1', 'default', { metadata: { name: `big-${i}`, namespace: 'default', annotations: { 'example.com/blob': big } } }),
          );
        const listed = await store.listCluster('default', 'c1');
        expect(listed.map((o) => o.metadata.name)).toEqual(['big-0', 'big-1', 'big-2', 'big-3', 'big-4', 'big-5', 'big-6']);
        expect(listed.every((o) => o.metadata.annotations?.['example.com/blob'] === big)).toBe(true);
      });
    });

    describe('list', () => {
      it('lists one kind in a namespace sorted by name, and not in a namespace that merely starts the same', async () => {
        const { store } = await setup();
        await store.create(machine('b', 'c1', 'a'));
        await store.create(machine('a', 'c2', 'a'));
        await store.create(machine('a', 'c1', 'a-b'));
        await store.create(clusterObject('MachineSet', 'a', 'c1', 'a'));
        expect(names(await store.list('Machine', 'a'))).toEqual(['Machine/a/a', 'Machine/a/b']);
      });

      it('lists one kind across namespaces sorted by namespace then name', async () => {
        const { store } = await setup();
        await store.create(machine('z', 'c1', 'a-b'));
        await store.create(machine('b', 'c1', 'a'));
        await store.create(machine('a', 'c2', 'b'));
        await store.create(machine('a', 'c1', 'a'));
        await store.create(machineClass('mc', 'a'));
        expect(names(await store.list('Machine'))).toEqual(['Machine/a/a', 'Machine/a/b', 'Machine/a-b/z', 'Machine/b/a']);
        expect(names(await store.list('MachineClass'))).toEqual(['MachineClass/a/mc']);
      });

      it('returns an empty list when there is nothing', async () => {
        const { store } = await setup();
        expect(await store.list('Machine')).toEqual([]);
        expect(await store.list('Machine', 'default')).toEqual([]);
      });

      it('reads every page', async () => {
        const { store } = await setup(4);
        await Promise.all(Array.from({ length: 13 }, (_, i) => store.create(machine(`m-${String(i).padStart(2, '0')}`, `c${i % 3}`))));
        const listed = await store.list('Machine', 'default');
        expect(listed.map((o) => o.metadata.name)).toEqual(Array.from({ length: 13 }, (_, i) => `m-${String(i).padStart(2, '0')}`));
      });
    });

    describe('listPage', () => {
      const padded = (i: number) => `m-${String(i).padStart(2, '0')}`;

      /** Every page from the first, following continue tokens; also returns the pages' sizes. */
      async function allPages(store: Store, kind: KindName, namespace: string | undefined, options: Omit<ListPageOptions, 'continue'>) {
        const pages: ApiObject[][] = [];
        let token: string | undefined;
        do {
          const page = await store.listPage(kind, namespace, { ...options, ...(token ? { continue: token } : {}) });
          pages.push(page.items);
          token = page.continue;
        } while (token && pages.length < 100);
        return { items: pages.flat(), sizes: pages.map((p) => p.length) };
      }

      it('pages through one namespace in name order, every object once, with a continue while more remain', async () => {
        // Prepare: objects of three clusters (three partitions) and of a namespace that starts the same.
        const { store } = await setup(3);
        await Promise.all(Array.from({ length: 13 }, (_, i) => store.create(machine(padded(i), `c${i % 3}`))));
        await store.create(machine('m-00', 'c1', 'default-b'));
        // Act
        const first = await store.listPage('Machine', 'default', { limit: 5 });
        const second = await store.listPage('Machine', 'default', { limit: 5, continue: first.continue! });
        const third = await store.listPage('Machine', 'default', { limit: 5, continue: second.continue! });
        // Assess
        expect([first, second, third].map((p) => p.items.map((o) => o.metadata.name))).toEqual([
          [0, 1, 2, 3, 4].map(padded),
          [5, 6, 7, 8, 9].map(padded),
          [10, 11, 12].map(padded),
        ]);
        expect(first.continue).toEqual(expect.any(String));
        expect(second.continue).toEqual(expect.any(String));
        expect(third.continue).toBeUndefined();
        expect([...first.items, ...second.items, ...third.items]).toEqual(await store.list('Machine', 'default'));
      });

      it('pages across namespaces in namespace then name order', async () => {
        const { store } = await setup(2);
        for (const [name, ns] of [
          ['z', 'a-b'],
          ['b', 'a'],
          ['a', 'b'],
          ['a', 'a'],
          ['c', 'a'],
        ] as const)
          await store.create(machine(name, 'c1', ns));
        await store.create(clusterObject('MachineSet', 'a', 'c1', 'a'));
        const { items, sizes } = await allPages(store, 'Machine', undefined, { limit: 2 });
        expect(names(items)).toEqual(['Machine/a/a', 'Machine/a/b', 'Machine/a/c', 'Machine/a-b/z', 'Machine/b/a']);
        expect(sizes).toEqual([2, 2, 1]);
      });

      it('gives no continue when a page holds exactly what is left', async () => {
        const { store } = await setup(2);
        await Promise.all([0, 1, 2, 3].map((i) => store.create(machine(padded(i)))));
        expect((await store.listPage('Machine', 'default', { limit: 4 })).continue).toBeUndefined();
        const first = await store.listPage('Machine', 'default', { limit: 2 });
        const last = await store.listPage('Machine', 'default', { limit: 2, continue: first.continue! });
        expect(last.items.map((o) => o.metadata.name)).toEqual([padded(2), padded(3)]);
        expect(last.continue).toBeUndefined();
        expect(await store.listPage('Machine', 'nobody', { limit: 2 })).toEqual({ items: [] });
      });

      it('filters while paging: a page may hold fewer than its limit, and the pages hold every match once', async () => {
        const { store } = await setup(2);
        await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.create(
              machine(padded(i), 'c1', 'default', { metadata: { name: padded(i), namespace: 'default', labels: { pick: i % 4 === 0 ? 'yes' : 'no' } } }),
            ),
          ),
        );
        const filter = (o: ApiObject) => o.metadata.labels?.['pick'] === 'yes';
        const { items, sizes } = await allPages(store, 'Machine', 'default', { limit: 2, filter });
        expect(items.map((o) => o.metadata.name)).toEqual([0, 4, 8].map(padded));
        expect(sizes.every((n) => n <= 2)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(3);
      });

      it('ends a page early at its byte budget, never before its first object', async () => {
        const { store } = await setup();
        await Promise.all([0, 1, 2, 3, 4].map((i) => store.create(machine(padded(i)))));
        const sizeOf = () => 100;
        expect((await allPages(store, 'Machine', 'default', { limit: 10, budget: { maxBytes: 250, sizeOf } })).sizes).toEqual([2, 2, 1]);
        const tiny = await allPages(store, 'Machine', 'default', { limit: 10, budget: { maxBytes: 1, sizeOf } });
        expect(tiny.sizes).toEqual([1, 1, 1, 1, 1]);
        expect(tiny.items.map((o) => o.metadata.name)).toEqual([0, 1, 2, 3, 4].map(padded));
      });

      it('tells onRead what each read returned, kept or not; a filtered page asks for many objects per read', async () => {
        // Prepare: 20 small objects, of which a filter keeps only the last.
        const { store } = await setup();
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(machine(padded(i)))));
        const reads: string[][] = [];
        // Act
        const page = await store.listPage('Machine', 'default', {
          limit: 1,
          filter: (o) => o.metadata.name === padded(19),
          onRead: (objects) => reads.push(objects.map((o) => o.metadata.name)),
        });
        // Assess: one read of all 20 (not one read per limit + 1), and the page is the whole list.
        expect(page.items.map((o) => o.metadata.name)).toEqual([padded(19)]);
        expect(page.continue).toBeUndefined();
        expect(reads).toEqual([Array.from({ length: 20 }, (_, i) => padded(i))]);
      });

      it('reads large objects in responses of about 1 MB, and an unfiltered page no further than one object past it', async () => {
        // Prepare: 12 objects of 200 KB (2.4 MB: at least two reads).
        const { store } = await setup();
        const blob = 'x'.repeat(200 * 1024);
        for (let i = 0; i < 12; i++)
          await store.create(
            machine(padded(i), 'c1', 'default', { metadata: { name: padded(i), namespace: 'default', annotations: { 'example.com/blob': blob } } }),
          );
        const bytes = (objects: readonly ApiObject[]) => objects.reduce((n, o) => n + Buffer.byteLength(JSON.stringify(o), 'utf8'), 0);
        const small: number[] = [];
        const scan: number[][] = [];
        // Act
        const page = await store.listPage('Machine', 'default', { limit: 2, onRead: (objects) => small.push(objects.length) });
        await store.listPage('Machine', 'default', { limit: 1, filter: () => false, onRead: (objects) => scan.push([objects.length, bytes(objects)]) });
        // Assess: the page of two read three objects; the scan read all twelve once, at most 1 MB and one object a read.
        expect(page.items).toHaveLength(2);
        expect(small.reduce((a, b) => a + b, 0)).toBe(3);
        expect(scan.filter(([count]) => count! > 0).length).toBeGreaterThanOrEqual(2);
        expect(scan.reduce((n, [count]) => n + count!, 0)).toBe(12);
        for (const [, b] of scan) expect(b).toBeLessThanOrEqual(1024 * 1024 + 210 * 1024);
      });

      it('resumes after its place even when that object is gone, and sees objects created after it', async () => {
        const { store } = await setup();
        await Promise.all([0, 2, 4, 6].map((i) => store.create(machine(padded(i)))));
        const first = await store.listPage('Machine', 'default', { limit: 2 });
        await store.delete('Machine', 'default', padded(2));
        await store.create(machine(padded(1)));
        await store.create(machine(padded(3)));
        const rest = await store.listPage('Machine', 'default', { limit: 10, continue: first.continue! });
        expect(first.items.map((o) => o.metadata.name)).toEqual([padded(0), padded(2)]);
        expect(rest.items.map((o) => o.metadata.name)).toEqual([3, 4, 6].map(padded));
      });

      it('refuses a continue token of another list, or one it did not make, with InvalidContinueTokenError', async () => {
        const { store } = await setup();
        await Promise.all([0, 1].map((i) => store.create(machine(padded(i), 'c1', 'a'))));
        const token = (await store.listPage('Machine', 'a', { limit: 1 })).continue!;
        const forged = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
        for (const [kind, ns, t] of [
          ['MachineSet', 'a', token],
          ['Machine', 'b', token],
          ['Machine', undefined, token],
          ['Machine', 'a', 'not a token!'],
          ['Machine', 'a', forged({ v: 1, kind: 'Machine', namespace: 'a', after: ['a', '../../x'] })],
          ['Machine', 'a', forged({ v: 1, kind: 'Machine', namespace: 'a', after: ['b', 'm-00'] })],
          ['Machine', 'a', forged([1, 2])],
          ['Machine', 'a', 'x'.repeat(5000)],
        ] as const)
          await expect(store.listPage(kind, ns, { limit: 1, continue: t }), `${kind} ${ns} ${t.slice(0, 40)}`).rejects.toBeInstanceOf(
            InvalidContinueTokenError,
          );
      });

      it('refuses a continue token of another version of the store with ExpiredContinueTokenError', async () => {
        const { store } = await setup();
        const old = Buffer.from(JSON.stringify({ v: 0, kind: 'Machine', namespace: 'a', after: ['a', 'm'] })).toString('base64url');
        await expect(store.listPage('Machine', 'a', { limit: 1, continue: old })).rejects.toBeInstanceOf(ExpiredContinueTokenError);
      });
    });

    describe('leases', () => {
      it('grants a free lease until now + ttl', async () => {
        const { store } = await setup();
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30)).toEqual({
          name: 'reconcile',
          holder: 'worker-a',
          expiresAt: '2026-01-01T00:00:30.000Z',
        });
      });

      it('refuses another holder while the lease is unexpired, and lets it in once it has expired', async () => {
        const { store, clock } = await setup();
        await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30);
        clock.advance(29);
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-b', 30)).toBeUndefined();
        clock.advance(1);
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-b', 30)).toMatchObject({
          holder: 'worker-b',
          expiresAt: '2026-01-01T00:01:00.000Z',
        });
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30)).toBeUndefined();
      });

      it('renews for the same holder', async () => {
        const { store, clock } = await setup();
        await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30);
        clock.advance(20);
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30)).toMatchObject({ expiresAt: '2026-01-01T00:00:50.000Z' });
        clock.advance(20);
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-b', 30)).toBeUndefined();
      });

      it('is released only by its holder', async () => {
        const { store } = await setup();
        await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30);
        await store.releaseLease('default', 'c1', 'reconcile', 'worker-b');
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-b', 30)).toBeUndefined();
        await store.releaseLease('default', 'c1', 'reconcile', 'worker-a');
        expect(await store.acquireLease('default', 'c1', 'reconcile', 'worker-b', 30)).toMatchObject({ holder: 'worker-b' });
      });

      it('releasing a lease nobody holds is a no-op', async () => {
        const { store } = await setup();
        await expect(store.releaseLease('default', 'c1', 'reconcile', 'worker-a')).resolves.toBeUndefined();
      });

      it('keeps leases of other names, clusters and namespaces apart', async () => {
        const { store } = await setup();
        await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30);
        expect(await store.acquireLease('default', 'c1', 'rollout', 'worker-b', 30)).toBeDefined();
        expect(await store.acquireLease('default', 'c2', 'reconcile', 'worker-b', 30)).toBeDefined();
        expect(await store.acquireLease('other', 'c1', 'reconcile', 'worker-b', 30)).toBeDefined();
      });

      it('lets exactly one of many concurrent holders take a free lease', async () => {
        const { store } = await setup();
        for (let round = 0; round < 5; round++) {
          const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acquireLease('default', `c${round}`, 'reconcile', `worker-${i}`, 30)));
          expect(results.filter((l) => l !== undefined)).toHaveLength(1);
        }
      });
    });

    describe('usage (a cluster-month of counters)', () => {
      it('adds to the counters of a record and creates it with the time of its first add', async () => {
        const { store, clock } = await setup();
        await store.addUsage('default', 'c1', '2026-01', { lambdaRequests: 1, readUnits: 0.5 });
        clock.advance(60);
        await store.addUsage('default', 'c1', '2026-01', { lambdaRequests: 2, writeUnits: 3 });
        expect(await store.listUsage('2026-01')).toEqual([
          {
            namespace: 'default',
            clusterName: 'c1',
            period: '2026-01',
            since: '2026-01-01T00:00:00.000Z',
            counters: { lambdaRequests: 3, readUnits: 0.5, writeUnits: 3 },
          },
        ]);
      });

      it('keeps periods, clusters and namespaces apart, lists one namespace or all in (namespace, cluster) order', async () => {
        const { store } = await setup();
        await store.addUsage('team-b', 'c1', '2026-01', { ec2Calls: 1 });
        await store.addUsage('team-a', 'c2', '2026-01', { ec2Calls: 2 });
        await store.addUsage('team-a', 'c1', '2026-01', { ec2Calls: 3 });
        await store.addUsage('team-a', 'c1', '2026-02', { ec2Calls: 4 });
        // A namespace whose name starts like another's is not listed with it.
        await store.addUsage('team-a2', 'c1', '2026-01', { ec2Calls: 5 });
        const keys = (records: { namespace: string; clusterName: string; counters: Record<string, number> }[]) =>
          records.map((r) => `${r.namespace}/${r.clusterName}=${r.counters['ec2Calls']}`);
        expect(keys(await store.listUsage('2026-01'))).toEqual(['team-a/c1=3', 'team-a/c2=2', 'team-a2/c1=5', 'team-b/c1=1']);
        expect(keys(await store.listUsage('2026-01', 'team-a'))).toEqual(['team-a/c1=3', 'team-a/c2=2']);
        expect(keys(await store.listUsage('2026-02'))).toEqual(['team-a/c1=4']);
        expect(await store.listUsage('2026-03')).toEqual([]);
        // Usage is no object: a cluster's objects and the kinds' lists do not hold it.
        expect(await store.listCluster('team-a', 'c1')).toEqual([]);
        expect(await store.list('Cluster')).toEqual([]);
      });

      it('counts every one of many concurrent adds', async () => {
        const { store } = await setup();
        const add = () => store.addUsage('default', 'c1', '2026-01', { lambdaRequests: 1, writeUnits: 2 });
        await add();
        await Promise.all(Array.from({ length: 20 }, add));
        expect((await store.listUsage('2026-01'))[0]!.counters).toEqual({ lambdaRequests: 21, writeUnits: 42 });
      });

      it.each([
        { name: 'a period that is no month', add: ['default', 'c1', '2026-13', { a: 1 }] },
        { name: 'a counter name with a dot', add: ['default', 'c1', '2026-01', { 'a.b': 1 }] },
        { name: 'a negative value', add: ['default', 'c1', '2026-01', { a: -1 }] },
        { name: 'a value that is not finite', add: ['default', 'c1', '2026-01', { a: Number.NaN }] },
        { name: 'a cluster name that is not a DNS label', add: ['default', 'C_1', '2026-01', { a: 1 }] },
      ] as const)('refuses $name and stores nothing', async ({ add }) => {
        const { store } = await setup();
        const [ns, cluster, period, counters] = add;
        await expect(store.addUsage(ns, cluster, period, counters)).rejects.toBeInstanceOf(StoreError);
        expect(await store.listUsage('2026-01')).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('two concurrent replaces from the same resourceVersion: exactly one wins, the other gets ConflictError', async () => {
        const { store } = await setup();
        const rounds = 20;
        const results = await Promise.all(
          Array.from({ length: rounds }, async (_, round) => {
            const base = await store.create(machine(`race-${round}`));
            const outcomes = await Promise.allSettled([
              store.update({ ...base, spec: { clusterName: 'c1', replicas: 10 } }),
              store.update({ ...base, spec: { clusterName: 'c1', replicas: 20 } }),
            ]);
            return { round, outcomes };
          }),
        );
        for (const { round, outcomes } of results) {
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o) => o.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
          const stored = await store.get('Machine', 'default', `race-${round}`);
          expect(stored).toEqual(won[0]?.value);
          expect(stored?.metadata.generation).toBe(2);
        }
      });

      it('many concurrent status writes from the same resourceVersion: exactly one wins', async () => {
        const { store } = await setup();
        const base = await store.create(machine('m1'));
        const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.updateStatus({ ...base, status: { phase: `P${i}` } })));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(outcomes.filter((o) => o.status === 'rejected').every((o) => o.reason instanceof ConflictError)).toBe(true);
      });

      it('concurrent unguarded updates all apply, none lost (atomic read-modify-write)', async () => {
        const { store } = await setup();
        const base = await store.create(machine('m1'));
        const unguarded = { ...base, metadata: { ...base.metadata, resourceVersion: undefined } };
        await Promise.all(Array.from({ length: 8 }, (_, i) => store.update({ ...unguarded, spec: { clusterName: 'c1', replicas: 100 + i } })));
        // Every update changed the spec relative to what it read, so each one bumped generation once.
        expect((await store.get('Machine', 'default', 'm1'))?.metadata.generation).toBe(9);
      });

      it('concurrent creates of one name in different clusters: exactly one wins', async () => {
        const { store } = await setup();
        for (let round = 0; round < 5; round++) {
          const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => store.create(machine(`dup-${round}`, `c${i}`))));
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          expect(won).toHaveLength(1);
          expect(outcomes.filter((o) => o.status === 'rejected').every((o) => o.reason instanceof AlreadyExistsError)).toBe(true);
          const stored = await store.get('Machine', 'default', `dup-${round}`);
          expect(stored).toEqual(won[0]?.value);
          const everywhere = (await Promise.all([0, 1, 2, 3].map((i) => store.listCluster('default', `c${i}`)))).flat();
          expect(everywhere.filter((o) => o.metadata.name === `dup-${round}`)).toEqual([stored]);
        }
      });
    });
  });
}
