/**
 * The ObjectService called directly, as the fleet resource, the soak and the bench call it: apply (absent,
 * present, unchanged, raced, refused), and the Status errors the other operations throw without a router.
 * The router's own tests (test/unit/http) cover the rest of the semantics through HTTP.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { Finalizers } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { ApiError, ObjectService, keyOf } from '../../../functions/api/service/index.js';
import { StoreUnavailableError, type Store } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { cluster, machineClass, machineDeployment } from '../http/fixtures.js';

const MD = { kind: 'MachineDeployment', namespace: 'default', name: 'md1' } as const;

/** A store whose next `n` updates lose a race to a writer that bumps the object first (as another client would). */
function racingStore(inner: MemoryStore, races: number): Store & { races: number } {
  const state = { races };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'races') return state.races;
      if (prop === 'update')
        return async (obj: ApiObject) => {
          if (state.races > 0) {
            state.races--;
            const current = (await target.get(obj.kind as 'MachineDeployment', obj.metadata.namespace!, obj.metadata.name))!;
            await target.update({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, other: `writer-${state.races}` } } });
          }
          return target.update(obj);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as Store & { races: number };
}

const thrown = async (p: Promise<unknown>): Promise<ApiError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};

describe('ObjectService', () => {
  let store: MemoryStore;
  let service: ObjectService;

  beforeEach(async () => {
    // Prepare
    store = new MemoryStore({ clock: new FakeClock() });
    service = new ObjectService({ store });
    await service.create('Cluster', 'default', cluster());
    await service.create('MachineClass', 'default', machineClass());
  });

  describe('apply', () => {
    it('creates an absent object, with the API defaults and the kind finalizer', async () => {
      // Act
      const applied = await service.apply(MD, machineDeployment());

      // Assess
      expect(applied.result).toBe('created');
      const stored = await store.get('MachineDeployment', 'default', 'md1');
      expect(stored).toEqual(applied.object);
      expect(stored?.metadata.finalizers).toEqual([Finalizers.machineDeployment]);
      expect(stored?.spec).toMatchObject({ replicas: 3, strategy: { type: 'RollingUpdate' } });
    });

    it('updates the fields the manifest gives and keeps the ones it leaves out', async () => {
      // Prepare
      const before = await service.create('MachineDeployment', 'default', { ...machineDeployment(), metadata: { name: 'md1', labels: { team: 'a' } } });
      const manifest = machineDeployment('md1', 'default', { replicas: 5 });

      // Act
      const applied = await service.apply(MD, manifest);

      // Assess
      expect(applied.result).toBe('configured');
      const stored = await store.get('MachineDeployment', 'default', 'md1');
      expect(stored?.spec).toMatchObject({ replicas: 5 });
      expect(stored?.metadata.labels).toMatchObject({ team: 'a' });
      expect(stored?.metadata.uid).toBe(before.metadata.uid);
      expect(stored?.metadata.finalizers).toEqual([Finalizers.machineDeployment]);
    });

    it('writes nothing when the manifest already holds', async () => {
      // Prepare
      const before = await service.apply(MD, machineDeployment());

      // Act
      const again = await service.apply(MD, machineDeployment());

      // Assess
      expect(again.result).toBe('unchanged');
      expect((await store.get('MachineDeployment', 'default', 'md1'))?.metadata.resourceVersion).toBe(before.object.metadata.resourceVersion);
    });

    it('ignores status and server-set metadata in the manifest (one saved with get -o yaml applies as it is)', async () => {
      // Prepare
      const saved = (await service.apply<MachineDeployment>(MD, machineDeployment())).object;
      const edited = {
        ...saved,
        spec: { ...saved.spec, replicas: 4 },
        status: { replicas: 99 },
        metadata: { ...saved.metadata, resourceVersion: 'stale', uid: 'someone-else' },
      };

      // Act
      const applied = await service.apply(MD, edited);

      // Assess
      expect(applied.result).toBe('configured');
      expect(applied.object.spec).toMatchObject({ replicas: 4 });
      expect(applied.object.metadata.uid).toBe(saved.metadata.uid);
      expect(applied.object.status).toBeUndefined();
    });

    it("starts again from a fresh read when an update loses a race, keeping the other writer's fields", async () => {
      // Prepare
      await service.create('MachineDeployment', 'default', machineDeployment());
      const raced = racingStore(store, 2);
      const racing = new ObjectService({ store: raced });

      // Act
      const applied = await racing.apply(MD, machineDeployment('md1', 'default', { replicas: 7 }));

      // Assess
      expect(raced.races).toBe(0);
      expect(applied.result).toBe('configured');
      const stored = await store.get('MachineDeployment', 'default', 'md1');
      expect(stored?.spec).toMatchObject({ replicas: 7 });
      expect(stored?.metadata.labels).toMatchObject({ other: 'writer-0' });
    });

    it('gives up with a 409 Conflict Status after as many lost races as the router retries', async () => {
      // Prepare
      await service.create('MachineDeployment', 'default', machineDeployment());
      const racing = new ObjectService({ store: racingStore(store, 100) });

      // Act
      const err = await thrown(racing.apply(MD, machineDeployment('md1', 'default', { replicas: 7 })));

      // Assess
      expect(err.status).toMatchObject({ code: 409, reason: 'Conflict' });
      expect((await store.get('MachineDeployment', 'default', 'md1'))?.spec).toMatchObject({ replicas: 3 });
    });

    it('updates an object created by someone else between its read and its create', async () => {
      // Prepare: the first create finds the name taken, as when another client created it meanwhile.
      let sneaked = false;
      const sneaky = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'create')
            return async (obj: ApiObject) => {
              if (obj.kind === 'MachineDeployment' && !sneaked) {
                sneaked = true;
                await target.create({ ...obj, metadata: { ...obj.metadata, labels: { by: 'other' } } });
              }
              return target.create(obj);
            };
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });

      // Act
      const applied = await new ObjectService({ store: sneaky }).apply(MD, machineDeployment('md1', 'default', { replicas: 2 }));

      // Assess
      expect(applied.result).toBe('configured');
      const stored = await store.get('MachineDeployment', 'default', 'md1');
      expect(stored?.spec).toMatchObject({ replicas: 2 });
      expect(stored?.metadata.labels).toMatchObject({ by: 'other' });
    });

    it.each([
      { name: 'an invalid create', exists: false },
      { name: 'an invalid update', exists: true },
    ])('refuses $name with a 422 Status naming the field and writes nothing', async ({ exists }) => {
      // Prepare
      if (exists) await service.create('MachineDeployment', 'default', machineDeployment());
      const before = await store.list('MachineDeployment');

      // Act
      const err = await thrown(service.apply(MD, machineDeployment('md1', 'default', { replicas: -1 })));

      // Assess
      expect(err.status).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'MachineDeployment', name: 'md1' } });
      expect(err.status.details?.causes?.map((c) => c.field)).toContain('spec.replicas');
      expect(await store.list('MachineDeployment')).toEqual(before);
    });

    it('refuses a manifest whose name contradicts its address', async () => {
      // Act
      const err = await thrown(service.apply(MD, machineDeployment('md2')));

      // Assess
      expect(err.status).toMatchObject({ code: 400, reason: 'BadRequest' });
      expect(await store.list('MachineDeployment')).toEqual([]);
    });
  });

  describe('Status errors without a router', () => {
    it('a missing object is a 404 Status', async () => {
      const err = await thrown(service.get(MD));
      expect(err.status).toMatchObject({ code: 404, reason: 'NotFound', details: { kind: 'machinedeployments', name: 'md1' } });
    });

    it('a create of a taken name is a 409 AlreadyExists Status', async () => {
      const err = await thrown(service.create('Cluster', 'default', cluster()));
      expect(err.status).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    });

    it('a throttled store is a 503 Status that says when to retry', async () => {
      // Prepare
      const busy = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'get') return async () => Promise.reject(new StoreUnavailableError('ThrottlingException'));
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });

      // Act
      const err = await thrown(new ObjectService({ store: busy }).get(keyOf(cluster())));

      // Assess
      expect(err.status).toMatchObject({ code: 503, reason: 'ServiceUnavailable', details: { retryAfterSeconds: 1 } });
    });

    it('a delete of an object with a finalizer marks it, one without removes it with a Success Status', async () => {
      // Act
      const marked = await service.delete(keyOf(cluster()));
      const removed = await service.delete(keyOf(machineClass()));

      // Assess
      expect(marked.removed).toBe(false);
      expect(marked.object.metadata.deletionTimestamp).toBeDefined();
      expect(removed).toMatchObject({ removed: true, status: { status: 'Success', code: 200, details: { kind: 'machineclasses', name: 'small' } } });
      expect(await store.get('MachineClass', 'default', 'small')).toBeUndefined();
    });
  });
});
