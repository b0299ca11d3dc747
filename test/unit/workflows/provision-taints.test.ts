/**
 * A Machine's taints reach what registers its Node: the kubeadm bootstrap request (nodeRegistration.taints of its
 * join configuration) and the provider's launch (the process provider registers the Node with them).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { NodeTaint } from '../../../functions/api/taint.js';
import type { BootstrapRequest, LaunchSpec, MachineBootstrapper, MachineProvider } from '../../../functions/ports.js';
import { invocationHolder, noBootstrap, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { launch } from '../../../functions/workflows/provision-machine.js';
import { FakeClock } from '../../support/fake-clock.js';

const gpu: NodeTaint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

async function launched(taints: NodeTaint[] | undefined): Promise<{ request: BootstrapRequest; spec: LaunchSpec }> {
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const store = new MemoryStore({ clock });
  const meta = (name: string) => ({ name, namespace: 'default' });
  await store.create({
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: meta('c1'),
    spec: { provider: { process: {} }, controlPlaneEndpoint: { host: '127.0.0.1', port: 6443 } },
  } as unknown as ApiObject);
  await store.create({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta('small'), spec: { process: {} } } as unknown as ApiObject);
  const machine = await store.create({
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: { ...meta('w-0'), labels: { 'cluster.x-k8s.io/cluster-name': 'c1' } },
    spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300, ...(taints ? { taints } : {}) },
  } as unknown as ApiObject);
  const seen: { request?: BootstrapRequest; spec?: LaunchSpec } = {};
  const bootstrap: MachineBootstrapper = { ...noBootstrap, prepare: async (request) => ((seen.request = request), { userData: 'x' }) };
  const provider: MachineProvider = {
    create: async (spec) => ((seen.spec = spec), { machineUid: spec.machineUid, instanceId: 'p-1', providerID: 'process:///p-1', state: 'pending' }),
    describe: async () => [],
    delete: async () => ({ refused: [] }),
  };
  const deps = workflowDeps({
    store,
    provider,
    bootstrap,
    nodes: { listNodes: async () => [] },
    clock,
    timer: scaledTimer(),
    holder: invocationHolder('test'),
  });
  await launch(deps, { namespace: 'default', clusterName: 'c1', machineName: 'w-0', machineUid: machine.metadata.uid! });
  return { request: seen.request!, spec: seen.spec! };
}

describe('provision: taints', () => {
  it("hands the machine's taints to its bootstrap and to its launch", async () => {
    const { request, spec } = await launched([gpu]);
    expect(request.taints).toEqual([gpu]);
    expect(spec.taints).toEqual([gpu]);
  });

  it('hands none when the machine has none', async () => {
    const { request, spec } = await launched(undefined);
    expect(request).not.toHaveProperty('taints');
    expect(spec).not.toHaveProperty('taints');
  });
});
