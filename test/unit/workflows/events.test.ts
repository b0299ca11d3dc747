/**
 * The EventRecorder on the Store (workflows/events.ts): a retried step updates its event instead of adding one, a
 * store that refuses never fails the caller, expired events are pruned; and events are never a reconcile trigger:
 * not the embedded host's TriggeringStore, not the DynamoDB stream, not a cluster's listCluster.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { partitionKey, objectSortKey } from '../../../functions/adapters/dynamodb/table.js';
import { EVENT_LIFETIME_SECONDS, EventReason, type Event, type EventInput } from '../../../functions/api/event.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { clusterOfKeys } from '../../../functions/handlers/stream.js';
import { StoreUnavailableError, type Store } from '../../../functions/ports.js';
import { pruneExpiredEvents, storeEventRecorder, type Logger } from '../../../functions/workflows/index.js';
import { TriggeringStore } from '../../../local/runtime.js';
import { FakeClock } from '../../support/fake-clock.js';

const input = (over: Partial<EventInput> = {}): EventInput => ({
  regarding: { kind: 'Machine', namespace: 'default', name: 'c1-md-x1', uid: 'm-uid', apiVersion: 'clusterless.dev/v1alpha1' },
  type: 'Normal',
  reason: EventReason.SuccessfulCreate,
  action: 'Create',
  note: 'Created new worker instance with id "i-1"',
  workflow: 'provision-machine',
  ...over,
});

function setup() {
  const clock = new FakeClock('2026-03-01T12:00:00Z');
  const store = new MemoryStore({ clock });
  const warnings: string[] = [];
  const log: Logger = { info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
  return { clock, store, warnings, recorder: storeEventRecorder(store, clock, log) };
}

describe('storeEventRecorder', () => {
  it('a retried step updates its event (one object, series count 2) instead of duplicating it', async () => {
    const { clock, store, recorder } = setup();
    await recorder.record(input());
    clock.advance(30);
    await recorder.record(input());
    const events = await store.list<Event>('Event');
    expect(events).toHaveLength(1);
    expect(events[0]!.series).toEqual({ count: 2, lastObservedTime: '2026-03-01T12:00:30.000000Z' });
    expect(events[0]!.eventTime).toBe('2026-03-01T12:00:00.000000Z');
  });

  it('different events of one object are different objects', async () => {
    const { store, recorder } = setup();
    await recorder.record(input());
    await recorder.record(input({ type: 'Warning', reason: EventReason.FailedCreate, note: 'Failed to create instance: boom' }));
    expect((await store.list<Event>('Event')).map((e) => e.reason).sort()).toEqual(['FailedCreate', 'SuccessfulCreate']);
  });

  it('never fails its caller: a store that refuses is logged and the event dropped', async () => {
    const { clock, warnings } = setup();
    const broken = new MemoryStore({ clock });
    broken.create = async () => {
      throw new StoreUnavailableError('throttled');
    };
    const log: Logger = { info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
    await expect(storeEventRecorder(broken, clock, log).record(input())).resolves.toBeUndefined();
    expect(warnings).toEqual(['event not recorded']);
  });

  it('pruning removes the events an hour past their last observation, and only those', async () => {
    const { clock, store, recorder } = setup();
    await recorder.record(input());
    clock.advance(600);
    await recorder.record(input({ note: 'another' }));
    clock.advance(EVENT_LIFETIME_SECONDS - 600);
    expect(await pruneExpiredEvents(store, clock.now())).toBe(1);
    expect((await store.list<Event>('Event')).map((e) => e.note)).toEqual(['another']);
  });
});

describe('events are no reconcile trigger', () => {
  const machine: ApiObject = {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'c1-md-x1', namespace: 'default' },
    spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'c' } },
  };

  it('the embedded host: writes of events reach no onChange, a Machine write does', async () => {
    const clock = new FakeClock();
    const changed: string[] = [];
    const store: Store = new TriggeringStore(new MemoryStore({ clock }), (ns, cluster, obj) => changed.push(`${ns}/${cluster}/${obj.kind}`));
    const recorder = storeEventRecorder(store, clock, { info: () => {}, warn: () => {}, error: () => {} });
    await recorder.record(input());
    await recorder.record(input());
    await pruneExpiredEvents(store, new Date(clock.now().getTime() + 2 * EVENT_LIFETIME_SECONDS * 1000));
    expect(changed).toEqual([]);
    await store.create(machine);
    expect(changed).toEqual(['default/c1/Machine']);
  });

  it("a cluster's listCluster never holds its events", async () => {
    const { store, recorder } = setup();
    await store.create(machine);
    await recorder.record(input());
    expect((await store.listCluster('default', 'c1')).map((o) => o.kind)).toEqual(['Machine']);
  });

  it("the DynamoDB stream: an event item (its namespace's partition) names no cluster", () => {
    expect(clusterOfKeys(partitionKey('default', undefined), objectSortKey('Event', 'c1-md-x1.abcdefghij'))).toBeUndefined();
    expect(clusterOfKeys(partitionKey('default', 'c1'), objectSortKey('Machine', 'c1-md-x1'))).toEqual({ namespace: 'default', clusterName: 'c1' });
  });
});
