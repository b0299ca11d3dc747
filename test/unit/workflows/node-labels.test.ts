/**
 * The reconcile carries Machine labels to Nodes: reconcileCluster runs the label sync step with the nodes it
 * observed, through the NodeLabeler port (the real API round trip: test/integration/kubernetes/node-labels.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { NodeLabelPatch } from '../../../functions/core/machine/node-labels.js';
import type { NodeFact } from '../../../functions/core/observed.js';
import type { MachineProvider, NodeLabeler } from '../../../functions/ports.js';
import { invocationHolder, reconcileCluster, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { machine } from '../core/machineset/fixtures.js';

const API = API_VERSION;

describe('reconcileCluster: node labels', () => {
  it('patches the Node of a machine whose synced labels it lacks, and nothing once it has them', async () => {
    // Prepare
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const store = new MemoryStore({ clock });
    await store.create({
      apiVersion: API,
      kind: 'Cluster',
      metadata: { name: 'c1', namespace: 'default' },
      spec: { provider: { sim: {} } },
    } as unknown as ApiObject);
    const m = machine('m1', { labels: { 'cluster.x-k8s.io/cluster-name': 'c1', 'node.cluster.x-k8s.io/spot': 'true' } });
    const { uid: _uid, ...metadata } = m.metadata;
    const stored = await store.create({ ...m, metadata } as ApiObject);
    const provider: MachineProvider = {
      create: async () => {
        throw new Error('no launch expected');
      },
      describe: async () => [{ machineUid: stored.metadata.uid!, instanceId: 'i-1', providerID: 'sim:///a/i-1', state: 'running' }],
      delete: async () => ({ refused: [] }),
    };
    let node: NodeFact = { name: 'n1', providerID: 'sim:///a/i-1', conditions: [], labels: {} };
    const patched: { nodeName: string; patch: NodeLabelPatch }[] = [];
    const nodeLabels: NodeLabeler = {
      patchLabels: async (_ns, _c, nodeName, patch) => {
        patched.push({ nodeName, patch });
        node = { ...node, labels: { 'node.cluster.x-k8s.io/spot': 'true' }, labelsFromMachine: 'node.cluster.x-k8s.io/spot' };
      },
    };
    const deps = workflowDeps({
      store,
      provider,
      nodes: { listNodes: async () => [node] },
      nodeLabels,
      clock,
      timer: scaledTimer(),
      holder: invocationHolder('test'),
    });
    // Act
    await reconcileCluster(deps, { namespace: 'default', clusterName: 'c1' });
    await reconcileCluster(deps, { namespace: 'default', clusterName: 'c1' });
    // Assess
    expect(patched).toEqual([
      {
        nodeName: 'n1',
        patch: { labels: { 'node.cluster.x-k8s.io/spot': 'true' }, annotations: { 'cluster.x-k8s.io/labels-from-machine': 'node.cluster.x-k8s.io/spot' } },
      },
    ]);
  });
});
