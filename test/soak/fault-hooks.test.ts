/**
 * The soak's own fault hooks, which no adapter offers: store throttling before and after a write, a lost race,
 * and the fence that cuts a stopped host off. A soak whose faults silently did nothing would prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { ConflictError, StoreUnavailableError, type Store } from '../../functions/ports.js';
import { withContext } from '../../soak/context.js';
import { FaultStore, type StoreFault, type WriteEvent } from '../../soak/fault-store.js';
import { Fence, HostStoppedError } from '../../soak/fence.js';
import { machineClass } from '../unit/http/fixtures.js';

async function seeded(fault?: StoreFault) {
  const inner = new MemoryStore();
  const events: WriteEvent[] = [];
  const injected: string[] = [];
  const store = new FaultStore(inner, {
    onWrite: (e) => events.push(e),
    fault: (_op, _key, ctx) => (ctx?.actor === 'task' ? fault : undefined),
    onFault: (f, op) => injected.push(`${f}:${op}`),
  });
  const created = await store.create(machineClass('small', 'ns1'));
  return { inner, store, events, injected, created };
}

const asTask = <T>(run: () => Promise<T>) => withContext({ actor: 'task', task: 'reconcile', step: 'reconcile', startedAt: Date.now() }, run);

describe('FaultStore', () => {
  it('reports every write that landed, with the API call or task that made it', async () => {
    // Prepare
    const { store, events, created } = await seeded();
    // Act
    await withContext({ actor: 'api', startedAt: 1 }, () => store.update({ ...created, spec: { sim: { bootSeconds: 9 } } }));
    await asTask(() => store.delete('MachineClass', 'ns1', 'small'));
    // Assess
    expect(events.map((e) => [e.op, e.context?.actor ?? 'none', e.removed ?? false])).toEqual([
      ['create', 'none', false],
      ['update', 'api', false],
      ['delete', 'task', true],
    ]);
  });

  it('throttle-before refuses the write with StoreUnavailableError and writes nothing', async () => {
    const { inner, store, events, injected, created } = await seeded('throttle-before');
    const err = await asTask(() => store.update({ ...created, spec: { sim: { bootSeconds: 9 } } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).name).toBe('StoreUnavailableError');
    expect((await inner.get('MachineClass', 'ns1', 'small'))?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(events).toHaveLength(1);
    expect(injected).toEqual(['throttle-before:update']);
  });

  it('throttle-after lands the write, reports it, and still fails the caller', async () => {
    const { inner, store, events, created } = await seeded('throttle-after');
    const err = await asTask(() => store.update({ ...created, spec: { sim: { bootSeconds: 9 } } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((await inner.get<typeof created>('MachineClass', 'ns1', 'small'))?.spec).toEqual({ sim: { bootSeconds: 9 } });
    expect(events.at(-1)?.op).toBe('update');
  });

  it('lost-race fails with a ConflictError carrying the current object and writes nothing', async () => {
    const { inner, store, created } = await seeded('lost-race');
    const err = await asTask(() => store.updateStatus({ ...created, status: { x: 1 } } as never)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).current?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect((await inner.get('MachineClass', 'ns1', 'small'))?.status).toBeUndefined();
  });

  it('injects nothing into API calls: a user write is never failed on purpose', async () => {
    const { store, injected, created } = await seeded('throttle-before');
    await withContext({ actor: 'api', startedAt: 1 }, () => store.update({ ...created, spec: { sim: { bootSeconds: 3 } } }));
    expect(injected).toEqual([]);
  });
});

describe('Fence', () => {
  it('passes calls through until dropped, then refuses every call without making it', async () => {
    const inner = new MemoryStore();
    const fence = new Fence(4);
    const store = fence.guard<Store>(inner);
    await store.create(machineClass('a', 'ns1'));
    fence.drop();
    await expect(store.create(machineClass('b', 'ns1'))).rejects.toBeInstanceOf(HostStoppedError);
    await expect(store.list('MachineClass')).rejects.toThrow(/host 4 is stopped/);
    expect((await inner.list('MachineClass')).map((o) => o.metadata.name)).toEqual(['a']);
  });
});
