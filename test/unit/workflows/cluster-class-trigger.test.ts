/**
 * What brings a ClusterClass change to the Clusters that use it: on the embedded host, the store's trigger; on both
 * hosts, the sweep, which reads the classes only when some Cluster has a topology.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { TriggeringStore } from '../../../local/runtime.js';
import { readFleet } from '../../../functions/workflows/sweep.js';
import { standardClass, topologyCluster } from '../api/cluster-class-fixtures.js';
import { created, withValue } from '../api/fixtures.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('TriggeringStore', () => {
  it('reports the Clusters that use a ClusterClass when the class is written, and none for a class no Cluster uses', async () => {
    const inner = new MemoryStore({ clock: new FakeClock() });
    await inner.create(created(topologyCluster()));
    await inner.create(created(withValue(withValue(topologyCluster(), 'metadata.name', 'other'), 'spec.topology.class', 'gpu')));
    const reported: [string, readonly string[]][] = [];
    const changes: string[] = [];
    let told: () => void = () => undefined;
    const store = new TriggeringStore(
      inner,
      (_ns, cluster) => changes.push(cluster),
      (ns, clusters) => {
        reported.push([ns, clusters]);
        told();
      },
    );
    const wait = () => new Promise<void>((resolve) => (told = resolve));
    let next = wait();
    const cc = await store.create(created(standardClass()) as ApiObject);
    await next;
    next = wait();
    await store.create(created(withValue(standardClass(), 'metadata.name', 'unused')) as ApiObject);
    await next;
    expect(reported).toEqual([
      ['default', ['prod']],
      ['default', []],
    ]);
    expect(changes).toEqual([]);
    expect(cc.kind).toBe('ClusterClass');
  });
});

describe('readFleet', () => {
  it('reads the ClusterClasses only when some Cluster has a topology', async () => {
    const store = new MemoryStore({ clock: new FakeClock() });
    await store.create(created(standardClass()));
    await store.create(created(withValue(withValue(topologyCluster(), 'metadata.name', 'plain'), 'spec.topology', undefined)));
    expect(await readFleet(store)).not.toHaveProperty('clusterClasses');
    await store.create(created(topologyCluster()));
    expect((await readFleet(store)).clusterClasses?.map((c) => c.metadata.name)).toEqual(['standard']);
  });
});
