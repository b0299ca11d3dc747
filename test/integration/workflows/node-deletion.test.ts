/**
 * The two waits of a worker's deletion after its drain, against a real kube-apiserver and driven by the whole
 * workflow runtime (cluster-api core/reconcilers/machine/machine_controller.go reconcileDelete): the instance is kept
 * while its Node reports volumes attached (status.volumesAttached, set here by the test as the attach-detach
 * controller would), up to nodeVolumeDetachTimeoutSeconds; once the instance is gone the Node object is deleted,
 * asked again up to nodeDeletionTimeoutSeconds, then the Machine goes without it. A stand-in kubelet registers a
 * Ready node with one volume attached per running instance.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubernetesNodeDrainer, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider } from '../../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { invocationHolder, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { scaledClock } from '../../../local/scaled-clock.js';
import { NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { waitUntil } from '../../support/wait.js';

const TIME_SCALE = 40;
const VOLUME_DETACH_TIMEOUT_SECONDS = 120;
const NODE_DELETION_TIMEOUT_SECONDS = 20;
/** A finalizer the test puts on a Node so that its deletion cannot complete. */
const HOLD = 'example.com/hold';
const VOLUME = 'kubernetes.io/csi/ebs.csi.aws.com^vol-0123';

let kube: RunningKube;
let runtime: ControlPlaneRuntime;
let kubelet: NodeJS.Timeout | undefined;
let provider: SimMachineProvider;
const clock = scaledClock({ timeScale: TIME_SCALE });
/** Every version of every Machine the control plane wrote, with the control plane's time of the write. */
const written: (Machine & { writtenAt: number })[] = [];
const api = (method: string, path: string, body?: unknown) => handleRequest(jsonRequest(method, path, body), { store: runtime.store });
const nodeName = (instanceId: string) => `node-${instanceId}`;
const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

beforeAll(async () => {
  kube = await startKube();
  const cloud = new SimCloud({ clock, seed: 11 });
  provider = new SimMachineProvider(cloud);
  const workload = { kubeconfigFor: () => kube.adminKubeconfig };
  runtime = new ControlPlaneRuntime({
    deps: workflowDeps({
      store: new MemoryStore({ clock }),
      provider,
      nodes: new KubernetesNodeReader(workload),
      drainer: new KubernetesNodeDrainer(workload),
      clock,
      timer: scaledTimer(TIME_SCALE),
      holder: invocationHolder('node-deletion-test'),
      pollSeconds: 5,
    }),
    timeScale: TIME_SCALE,
    sweepSeconds: 10,
    onChange: (_ns, _c, obj: ApiObject) => obj.kind === 'Machine' && written.push({ ...structuredClone(obj as Machine), writtenAt: clock.now().getTime() }),
  });
  await runtime.start();
  // The stand-in kubelets: a Ready node per running instance, registered once, with one volume attached.
  const registered = new Set<string>();
  let busy = false;
  kubelet = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const i of (await provider.describe('default', 'vols')).filter((x) => x.state === 'running' && !registered.has(x.instanceId))) {
        registered.add(i.instanceId);
        await kube.kubectlOk(['create', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i.instanceId) }, spec: { providerID: i.providerID } }),
        });
        const at = ts(clock.now());
        const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: at, lastTransitionTime: at };
        await setNodeStatus(nodeName(i.instanceId), { conditions: [ready], volumesAttached: [{ name: VOLUME, devicePath: '' }] });
      }
    })()
      // The API server goes away at the end of the test while a round may still run.
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 100);
  for (const m of clusterManifests({ name: 'vols', controlPlaneReplicas: 1, workers: 3, bootSeconds: 10 })) {
    if (m.plural === 'machinedeployments')
      Object.assign((m.object.spec as { template: { spec: Record<string, unknown> } }).template.spec, {
        nodeVolumeDetachTimeoutSeconds: VOLUME_DETACH_TIMEOUT_SECONDS,
        nodeDeletionTimeoutSeconds: NODE_DELETION_TIMEOUT_SECONDS,
      });
    expect((await api('POST', `${NS_PATH}/default/${m.plural}`, m.object)).status).toBe(201);
  }
  await waitUntil(
    'workers available on real nodes',
    async () =>
      (await runtime.store.get<MachineDeployment>('MachineDeployment', 'default', 'vols-md'))?.status?.availableReplicas === 3 &&
      (await workers()).every((m) => m.status?.nodeRef),
    90_000,
    50,
  );
}, 180_000);

afterAll(async () => {
  if (kubelet) clearInterval(kubelet);
  await runtime?.stop();
  await kube?.stop();
});

async function setNodeStatus(name: string, status: Record<string, unknown>): Promise<void> {
  await kube.kubectlOk(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

async function workers(): Promise<Machine[]> {
  return (await runtime.store.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'vols-md');
}

async function nodeJson(name: string): Promise<{ metadata: { deletionTimestamp?: string } } | undefined> {
  const r = await kube.kubectl(['get', 'node', name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

async function instanceState(instanceId: string): Promise<string | undefined> {
  return (await provider.describe('default', 'vols')).find((i) => i.instanceId === instanceId)?.state;
}

/** Removes one worker by scaling the deployment down with the worker marked. */
async function removeWorker(victim: Machine, replicas: number): Promise<void> {
  await api('PATCH', `${NS_PATH}/default/machines/${victim.metadata.name}`, { metadata: { annotations: { 'clusterless.dev/delete-machine': 'yes' } } });
  await api('PATCH', `${NS_PATH}/default/machinedeployments/vols-md`, { spec: { replicas } });
}

const deletingReason = (m: Machine) => m.status?.conditions?.find((c) => c.type === 'Deleting');

it('keeps the instance while volumes stay attached until the volume-detach timeout, then asks the held Node to go until the node-deletion timeout, and lets the Machine go', async () => {
  // Prepare: the first worker's Node cannot finish its deletion
  const victim = (await workers())[0]!;
  const node = victim.status!.nodeRef!.name;
  const instanceId = victim.status!.infrastructure!.instanceId!;
  await kube.kubectlOk(['patch', 'node', node, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: [HOLD] } })]);

  // Act
  await removeWorker(victim, 2);

  // Assess 1: the wait for the volumes is recorded while the instance still runs.
  const mine = () => written.filter((m) => m.metadata.uid === victim.metadata.uid);
  await waitUntil('the volume wait recorded', async () => mine().some((m) => deletingReason(m)?.reason === 'WaitingForVolumeDetach'), 60_000, 50);
  const waiting = mine().find((m) => deletingReason(m)?.reason === 'WaitingForVolumeDetach')!;
  expect(deletingReason(waiting)?.message).toContain(VOLUME);
  expect(await instanceState(instanceId)).toBe('running');
  const started = Date.parse(waiting.status!.deletion!.waitForNodeVolumeDetachStartTime!);

  // Assess 2: past the timeout the instance goes anyway, then the Node's deletion is asked for (it is held).
  await waitUntil('the node deletion asked for', async () => (await nodeJson(node))?.metadata.deletionTimestamp !== undefined, 90_000, 50);
  const terminated = mine().find((m) => deletingReason(m)?.reason === 'WaitingForInfrastructureDeletion')!;
  expect(terminated.writtenAt - started).toBeGreaterThanOrEqual(VOLUME_DETACH_TIMEOUT_SECONDS * 1000);

  // Assess 3: the Machine goes once the node deletion timeout has passed, leaving the held Node behind.
  await waitUntil('the machine gone', async () => !(await workers()).some((m) => m.metadata.uid === victim.metadata.uid), 90_000, 50);
  const deletingNode = mine().find((m) => deletingReason(m)?.reason === 'DeletingNode')!;
  const last = mine().at(-1)!;
  expect(deletingReason(last)?.message).toBe(
    `Deletion completed; Node ${node} not deleted within nodeDeletionTimeout (${NODE_DELETION_TIMEOUT_SECONDS}s), left behind`,
  );
  expect(Date.parse(deletingNode.status!.deletion!.nodeDeletionStartTime!)).toBeGreaterThanOrEqual(started);
  expect(await nodeJson(node)).toMatchObject({ metadata: { finalizers: [HOLD] } });
  await kube.kubectlOk(['patch', 'node', node, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: null } })]);
}, 240_000);

it('goes on as soon as the volumes detach, and deletes the Node object once the instance is gone', async () => {
  // Prepare: no volume timeout any more (propagated in place to the machines), so only the detach ends the wait
  expect(
    (
      await api('PATCH', `${NS_PATH}/default/machinedeployments/vols-md`, {
        spec: { template: { spec: { nodeVolumeDetachTimeoutSeconds: 0 } } },
      })
    ).status,
  ).toBe(200);
  await waitUntil('the timeout on the machines', async () => (await workers()).every((m) => m.spec.nodeVolumeDetachTimeoutSeconds === 0), 60_000, 50);
  const victim = (await workers())[0]!;
  const node = victim.status!.nodeRef!.name;
  const instanceId = victim.status!.infrastructure!.instanceId!;

  // Act
  await removeWorker(victim, 1);
  const mine = () => written.filter((m) => m.metadata.uid === victim.metadata.uid);
  await waitUntil('the volume wait recorded', async () => mine().some((m) => deletingReason(m)?.reason === 'WaitingForVolumeDetach'), 60_000, 50);
  expect(await instanceState(instanceId)).toBe('running');
  await setNodeStatus(node, { volumesAttached: null });

  // Assess: the instance goes, then the Node object, then the Machine.
  await waitUntil('the machine gone', async () => !(await workers()).some((m) => m.metadata.uid === victim.metadata.uid), 90_000, 50);
  expect(await nodeJson(node)).toBeUndefined();
  expect(['terminated', 'shutting-down', undefined]).toContain(await instanceState(instanceId));
  expect(mine().some((m) => deletingReason(m)?.reason === 'DeletingNode')).toBe(true);
  expect(deletingReason(mine().at(-1)!)?.message).toBe('Deletion completed');
}, 240_000);
