/**
 * A MachineHealthCheck driven by real Node objects of a real kube-apiserver: the control plane reads nodes
 * through the Kubernetes NodeReader; a stand-in kubelet registers a Ready node for each running instance;
 * a node set NotReady past its timeout gets its machine replaced.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { startKube, type RunningKube } from '../../support/kube.js';

let kube: RunningKube;
let cp: TestControlPlane;
let kubelet: NodeJS.Timeout | undefined;
/** The stand-in kubelets' round under way, awaited before the API server stops. */
let round: Promise<void> | undefined;
const registered = new Set<string>();

beforeAll(async () => {
  kube = await startKube();
}, 60_000);

afterAll(async () => {
  if (kubelet) clearInterval(kubelet);
  await round;
  await cp?.stop();
  await kube?.stop();
});

const nodeName = (instanceId: string) => `node-${instanceId}`;

async function setReady(name: string, status: 'True' | 'False', at: Date): Promise<void> {
  const patch = {
    status: {
      conditions: [
        {
          type: 'Ready',
          status,
          reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady',
          message: 'set by the test',
          lastHeartbeatTime: at.toISOString().replace(/\.\d+Z$/, 'Z'),
          lastTransitionTime: at.toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
    },
  };
  await kube.kubectlOk(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]);
}

/** What kubelets would do: register a Ready node for every running instance, once. */
async function registerNodes(): Promise<void> {
  const instances = await cp.provider.describe('default', 'hc');
  for (const i of instances.filter((x) => x.state === 'running' && !registered.has(x.instanceId))) {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i.instanceId) }, spec: { providerID: i.providerID } };
    await kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(node) });
    registered.add(i.instanceId);
    await setReady(nodeName(i.instanceId), 'True', cp.clock.now());
  }
}

it('replaces the machine whose real Node stays NotReady past the health check timeout', async () => {
  cp = await startTestControlPlane({
    timeScale: 40,
    nodes: new KubernetesNodeReader({ kubeconfigFor: () => kube.adminKubeconfig }),
  });
  kubelet = setInterval(() => {
    // One round at a time; a failed round is tried again by the next (a node is registered once created).
    round ??= registerNodes()
      .catch(() => undefined)
      .finally(() => (round = undefined));
  }, 100);
  for (const m of clusterManifests({ name: 'hc', workers: 3, healthCheck: true })) {
    const r = await cp.api('POST', `${NS_PATH}/default/${m.plural}`, m.object);
    expect(r.status, r.body).toBe(201);
  }
  const workers = async () => (await cp.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'hc-md');
  const available = async (n: number) => (await cp.store.get<MachineDeployment>('MachineDeployment', 'default', 'hc-md'))?.status?.availableReplicas === n;
  await cp.waitFor('workers available on real nodes', async () => (await available(3)) && (await workers()).every((m) => m.status?.nodeRef), 90_000);

  // Prepare: one worker's node goes NotReady.
  const victim = (await workers())[0]!;
  await setReady(victim.status!.nodeRef!.name, 'False', cp.clock.now());

  // Assess: past the 60s timeout (1.5 s at this time scale) the machine is deleted and a new one takes its place.
  await cp.waitFor(
    'the unhealthy machine replaced',
    async () => {
      const now = await workers();
      return !now.some((m) => m.metadata.uid === victim.metadata.uid) && now.length === 3 && (await available(3));
    },
    90_000,
  );
  expect(cp.runtime.workflows.list('remediate').some((e) => e.name.includes(victim.metadata.uid!))).toBe(true);
}, 180_000);
