/**
 * The ObjectService's checks between a Cluster's topology and its ClusterClass: a 422 naming the field at fault,
 * nothing written; a Cluster whose class is not there yet is admitted (the planner reports it).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { ApiError, ObjectService } from '../../../functions/api/service/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { standardClass, topologyCluster } from '../api/cluster-class-fixtures.js';
import { withValue } from '../api/fixtures.js';

const refused = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  const status = (err as ApiError).status;
  expect(status.code).toBe(422);
  return status.details?.causes?.map((c) => c.field);
};

describe('ObjectService: a topology against its ClusterClass', () => {
  let store: MemoryStore;
  let service: ObjectService;

  beforeEach(async () => {
    store = new MemoryStore({ clock: new FakeClock() });
    service = new ObjectService({ store });
  });

  it("refuses a Cluster whose variable value the class's schema refuses, naming the value, and stores nothing", async () => {
    await service.create('ClusterClass', 'default', standardClass());
    const bad = withValue(topologyCluster(), 'spec.topology.variables[0].value', { drain: 9000 });
    expect(await refused(service.create('Cluster', 'default', bad))).toEqual(['spec.topology.variables[0].value']);
    expect(await store.list('Cluster', 'default')).toEqual([]);
  });

  it('refuses a merge patch that names a worker class the class does not define', async () => {
    await service.create('ClusterClass', 'default', standardClass());
    await service.create('Cluster', 'default', topologyCluster());
    const patch = { spec: { topology: { workers: { machineDeployments: [{ class: 'gpu', name: 'md-0' }] } } } };
    expect(await refused(service.mergePatch({ kind: 'Cluster', namespace: 'default', name: 'prod' }, patch))).toEqual([
      'spec.topology.workers.machineDeployments[0].class',
    ]);
  });

  it('admits a Cluster whose ClusterClass does not exist yet', async () => {
    const c = await service.create('Cluster', 'default', topologyCluster());
    expect(c.metadata.name).toBe('prod');
  });

  it('refuses a ClusterClass update that removes a worker class a Cluster uses', async () => {
    const cc = withValue(standardClass(), 'spec.patches', []);
    await service.create('ClusterClass', 'default', cc);
    await service.create('Cluster', 'default', topologyCluster());
    expect(
      await refused(service.replace({ kind: 'ClusterClass', namespace: 'default', name: 'standard' }, withValue(cc, 'spec.workers.machineDeployments', []))),
    ).toEqual(['spec.workers.machineDeployments']);
  });

  it('refuses to delete a ClusterClass a Cluster uses, and deletes it once that Cluster is being deleted', async () => {
    await service.create('ClusterClass', 'default', standardClass());
    await service.create('Cluster', 'default', topologyCluster());
    const key = { kind: 'ClusterClass', namespace: 'default', name: 'standard' } as const;
    expect(await refused(service.delete(key))).toEqual(['metadata.name']);
    expect(await store.get('ClusterClass', 'default', 'standard')).toBeDefined();
    await service.delete({ kind: 'Cluster', namespace: 'default', name: 'prod' });
    expect((await service.delete(key)).removed).toBe(true);
  });
});
