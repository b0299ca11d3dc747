/**
 * What a launch hands on of the machine's MachineClass and of its deployment's mixed capacity: the class's node
 * labels and taints merged with the machine's (to the kubeadm bootstrap and to the provider), and the market the
 * MachineSet planner recorded on the Machine.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { CapacityAnnotations, CapacityLabels } from '../../../functions/api/capacity.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { NodeTaint } from '../../../functions/api/taint.js';
import { mergeTaints } from '../../../functions/core/machine/node-registration.js';
import type { BootstrapRequest, LaunchSpec, MachineBootstrapper, MachineProvider } from '../../../functions/ports.js';
import { invocationHolder, noBootstrap, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { launch } from '../../../functions/workflows/provision-machine.js';
import { FakeClock } from '../../support/fake-clock.js';

const gpu: NodeTaint = { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' };
const spot: NodeTaint = { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' };

async function launched(o: {
  machineTaints?: NodeTaint[];
  classRegistration?: unknown;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): Promise<{ request: BootstrapRequest; spec: LaunchSpec }> {
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const store = new MemoryStore({ clock });
  const meta = (name: string) => ({ name, namespace: 'default' });
  await store.create({
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: meta('c1'),
    spec: { provider: { process: {} }, controlPlaneEndpoint: { host: '127.0.0.1', port: 6443 } },
  } as unknown as ApiObject);
  const classSpec = { process: o.classRegistration ? { nodeRegistration: o.classRegistration } : {} };
  await store.create({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta('gpu'), spec: classSpec } as unknown as ApiObject);
  const machine = await store.create({
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: { ...meta('w-0'), labels: { 'cluster.x-k8s.io/cluster-name': 'c1', ...o.labels }, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      clusterName: 'c1',
      version: 'v1.31.2',
      machineClassRef: { name: 'gpu' },
      nodeDrainTimeoutSeconds: 300,
      ...(o.machineTaints ? { taints: o.machineTaints } : {}),
    },
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

describe("provision: the class's node registration", () => {
  it("merges the class's taints after the machine's and hands its labels to the bootstrap and the launch", async () => {
    const { request, spec } = await launched({
      machineTaints: [spot],
      classRegistration: { labels: { 'nvidia.com/gpu.present': 'true' }, taints: [gpu] },
    });
    expect(request.taints).toEqual([spot, gpu]);
    expect(spec.taints).toEqual([spot, gpu]);
    expect(request.nodeLabels).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(spec.nodeLabels).toEqual({ 'nvidia.com/gpu.present': 'true' });
  });

  it("keeps the machine's taint when the class has one of the same key and effect", () => {
    expect(mergeTaints([{ ...gpu, value: 'mine' }], [gpu, spot])).toEqual([{ ...gpu, value: 'mine' }, spot]);
  });

  it('hands no labels or taints when neither the class nor the machine has any', async () => {
    const { request, spec } = await launched({});
    expect(request).not.toHaveProperty('nodeLabels');
    expect(request).not.toHaveProperty('taints');
    expect(spec).not.toHaveProperty('nodeLabels');
  });
});

describe('provision: the market', () => {
  it('tells the provider the market, price cap and fallback grant the planner recorded on the machine', async () => {
    const { spec } = await launched({
      labels: { [CapacityLabels.capacityType]: 'spot' },
      annotations: { [CapacityAnnotations.spotMaxPrice]: '0.03', [CapacityAnnotations.onDemandFallback]: 'true' },
    });
    expect(spec.capacity).toEqual({ capacityType: 'spot', spotMaxPrice: '0.03', onDemandFallback: true });
  });

  it('tells none for a machine without a recorded market (its class decides)', async () => {
    expect((await launched({})).spec).not.toHaveProperty('capacity');
  });
});
