/**
 * The UpdateKubeadmObjects action as the reconcile carries it out: the port is called for the part and version, and
 * the part is recorded in the ControlPlane's status.kubeadmObjects only once the call succeeded; a failure is
 * reported as an action error (repeated by the next reconcile) and records nothing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { Action } from '../../../functions/core/plan.js';
import { KubeadmObjectsUnavailableError, type KubeadmObjects } from '../../../functions/ports.js';
import { executeActions, invocationHolder, noEtcd, scaledTimer, silentLogger, workflowDeps } from '../../../functions/workflows/index.js';
import { cluster, controlPlane } from '../core/cluster/fixtures.js';
import { FakeClock } from '../../support/fake-clock.js';

async function setup(port: KubeadmObjects) {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  const c = cluster();
  c.metadata.namespace = 'default';
  const cp = controlPlane({ version: 'v1.32.1' });
  cp.metadata.namespace = 'default';
  delete cp.metadata.resourceVersion;
  await store.create(c);
  const stored = await store.create(cp);
  const deps = workflowDeps({
    store,
    provider: { create: async () => Promise.reject(new Error('unused')), describe: async () => [], delete: async () => ({ refused: [] }) },
    nodes: { listNodes: async () => [] },
    etcd: noEtcd,
    kubeadmObjects: port,
    clock,
    timer: scaledTimer(1),
    holder: invocationHolder('test'),
    log: silentLogger,
  });
  const action: Action = {
    type: 'UpdateKubeadmObjects',
    cluster: { kind: 'Cluster', namespace: 'default', name: c.metadata.name },
    controlPlane: { kind: 'ControlPlane', namespace: 'default', name: stored.metadata.name },
    version: 'v1.32.1',
    part: 'clusterConfiguration',
  };
  const run = () => executeActions(deps, 'default', c.metadata.name, [action], new Map(), c);
  const recorded = async () => (await store.get<ControlPlane>('ControlPlane', 'default', stored.metadata.name))?.status?.kubeadmObjects;
  return { run, recorded };
}

describe('UpdateKubeadmObjects', () => {
  it('calls the port for the part and version, then records it in the ControlPlane status', async () => {
    // Prepare
    const calls: string[] = [];
    const { run, recorded } = await setup({
      updateClusterConfiguration: async (target, version) => (calls.push(`config ${target.clusterName} ${version}`), { version, objects: [] }),
      updateAddons: async (_t, version) => (calls.push(`addons ${version}`), { version, objects: [] }),
    });
    // Act
    const out = await run();
    // Assess
    expect(out.errors).toEqual([]);
    expect(calls).toEqual(['config demo v1.32.1']);
    expect(await recorded()).toEqual({ clusterConfiguration: 'v1.32.1' });
  });

  it('reports a failure as an action error and records nothing', async () => {
    // Prepare
    const { run, recorded } = await setup({
      updateClusterConfiguration: async () => Promise.reject(new KubeadmObjectsUnavailableError('connect ECONNREFUSED')),
      updateAddons: async () => Promise.reject(new Error('unused')),
    });
    // Act
    const out = await run();
    // Assess
    expect(out.errors).toEqual(['UpdateKubeadmObjects clusterConfiguration: KubeadmObjectsUnavailableError: connect ECONNREFUSED']);
    expect(await recorded()).toBeUndefined();
  });
});
