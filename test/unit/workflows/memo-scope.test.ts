/**
 * The Machine planner's memo is kept per store (reconcile-cluster.ts): the store beneath the wrappers a task
 * invocation runs over, since each invocation is given a MeteredStore of its own.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { MemoryPayloadStore } from '../../../functions/adapters/payloads/memory-payload-store.js';
import { PayloadOffloadingStore } from '../../../functions/adapters/payloads/offloading-store.js';
import { ChangeRecordingStore, LocalChangeFeed } from '../../../functions/adapters/store/index.js';
import { CostMeter, MeteredStore } from '../../../functions/metering/index.js';
import { storeBeneath } from '../../../functions/workflows/reconcile-cluster.js';
import { TriggeringStore } from '../../../local/runtime.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('storeBeneath', () => {
  it("finds the process's store beneath every wrapper, the same for each invocation's new MeteredStore", () => {
    // Prepare: the embedded host's chain, then one MeteredStore per invocation over it
    const clock = new FakeClock();
    const base = new MemoryStore({ clock });
    const host = new TriggeringStore(
      new PayloadOffloadingStore(new ChangeRecordingStore(base, new LocalChangeFeed(clock)), new MemoryPayloadStore()),
      () => {},
    );
    const meter = () => new CostMeter({ now: () => clock.now() });
    const first = new MeteredStore(new MeteredStore(host, meter()), meter());
    const second = new MeteredStore(new MeteredStore(host, meter()), meter());
    // Act, Assess
    expect(first).not.toBe(second);
    expect(storeBeneath(first)).toBe(base);
    expect(storeBeneath(second)).toBe(base);
  });

  it('is the store itself when it wraps nothing, and tells two stores apart', () => {
    const a = new MemoryStore({ clock: new FakeClock() });
    const b = new MemoryStore({ clock: new FakeClock() });
    const overA = storeBeneath(new MeteredStore(a, new CostMeter({ now: () => new Date(0) })));
    expect(storeBeneath(a)).toBe(a);
    expect(overA).toBe(a);
    expect(overA).not.toBe(storeBeneath(b));
  });
});
