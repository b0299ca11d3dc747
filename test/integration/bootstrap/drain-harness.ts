/**
 * The control plane whose drains are real: the whole workflow runtime on the simulated cloud, with the
 * Kubernetes adapter's node reader and drainer against a real kube-apiserver. A stand-in kubelet registers a
 * healthy Node (Ready, no pressure) per running instance and confirms the deletion of evicted pods, as a kubelet would. Every Machine
 * write is kept with the control plane's time of the write, and every log line.
 */
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { KubernetesNodeDrainer, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { SimCloud, SimMachineProvider } from '../../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest, type HttpResponse } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { invocationHolder, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { healthyKubeletConditions } from '../../../local/process/kubelet-status.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { scaledClock, type ScaledClock } from '../../../local/scaled-clock.js';
import { NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { waitUntil } from '../../support/wait.js';
import type { LogLine } from './harness.js';

export interface DrainControlPlaneOptions {
  /** The cluster's name; its workers are `{cluster}-md`'s. */
  cluster: string;
  timeScale: number;
  workers: number;
  /** The workers' nodeDrainTimeoutSeconds (0: no limit of their own). */
  drainTimeoutSeconds: number;
}

export interface DrainControlPlane {
  runtime: ControlPlaneRuntime;
  cloud: SimCloud;
  provider: SimMachineProvider;
  clock: ScaledClock;
  logs: LogLine[];
  /** Every version of every Machine the control plane wrote, with the control plane's time of the write. */
  written: (Machine & { writtenAt: number })[];
  api(method: string, path: string, body?: unknown): Promise<HttpResponse>;
  /** The MachineDeployment's machines. */
  workers(): Promise<Machine[]>;
  stop(): Promise<void>;
}

/**
 * For a test file: a kube-apiserver started before its tests, and `start` for the control plane on it; both stopped
 * after them.
 */
export function drainFixture(): { kube(): RunningKube; start(o: DrainControlPlaneOptions): Promise<DrainControlPlane> } {
  let kube: RunningKube | undefined;
  let cp: DrainControlPlane | undefined;
  beforeAll(async () => {
    kube = await startKube();
  }, 90_000);
  afterAll(async () => {
    await cp?.stop();
    await kube?.stop();
  });
  return {
    kube: () => kube!,
    start: async (o) => (cp = await startDrainControlPlane(kube!, o)),
  };
}

export const nodeName = (instanceId: string) => `node-${instanceId}`;

/** Starts the control plane and the stand-in kubelet, applies the cluster and waits for its workers on real nodes. */
export async function startDrainControlPlane(kube: RunningKube, o: DrainControlPlaneOptions): Promise<DrainControlPlane> {
  const logs: LogLine[] = [];
  const written: DrainControlPlane['written'] = [];
  const clock = scaledClock({ timeScale: o.timeScale });
  const cloud = new SimCloud({ clock, seed: 7 });
  const provider = new SimMachineProvider(cloud);
  const workload = { kubeconfigFor: () => kube.adminKubeconfig };
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, ...(fields ? { fields } : {}) });
  const deps = workflowDeps({
    store: new MemoryStore({ clock }),
    provider,
    nodes: new KubernetesNodeReader(workload),
    drainer: new KubernetesNodeDrainer(workload),
    clock,
    timer: scaledTimer(o.timeScale),
    holder: invocationHolder(`${o.cluster}-test`),
    pollSeconds: 5,
    log: { info: line('info'), warn: line('warn'), error: line('error') },
  });
  const runtime = new ControlPlaneRuntime({
    deps,
    timeScale: o.timeScale,
    sweepSeconds: 10,
    onChange: (_ns, _c, obj: ApiObject) => obj.kind === 'Machine' && written.push({ ...structuredClone(obj as Machine), writtenAt: clock.now().getTime() }),
  });
  await runtime.start();
  const kubelet = standInKubelet(kube, () => provider.describe('default', o.cluster), clock);
  const api = (method: string, path: string, body?: unknown) => handleRequest(jsonRequest(method, path, body), { store: runtime.store });
  const workers = async () =>
    (await runtime.store.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === `${o.cluster}-md`);
  const cp: DrainControlPlane = {
    runtime,
    cloud,
    provider,
    clock,
    logs,
    written,
    api,
    workers,
    async stop() {
      clearInterval(kubelet);
      await runtime.stop();
    },
  };
  for (const m of clusterManifests({ name: o.cluster, controlPlaneReplicas: 1, workers: o.workers, bootSeconds: 10 })) {
    if (m.plural === 'machinedeployments')
      (m.object.spec as { template: { spec: Record<string, unknown> } }).template.spec['nodeDrainTimeoutSeconds'] = o.drainTimeoutSeconds;
    const created = await api('POST', `${NS_PATH}/default/${m.plural}`, m.object);
    if (created.status !== 201) throw new Error(`${m.plural}: ${created.status} ${JSON.stringify(created.body)}`);
  }
  await waitUntil(
    'workers available on real nodes',
    async () =>
      (await runtime.store.get<MachineDeployment>('MachineDeployment', 'default', `${o.cluster}-md`))?.status?.availableReplicas === o.workers &&
      (await workers()).every((m) => m.status?.nodeRef),
    90_000,
    50,
  );
  return cp;
}

/** A Ready Node per running instance, registered once; pods with a deletionTimestamp deleted for good. */
function standInKubelet(
  kube: RunningKube,
  instances: () => Promise<{ instanceId: string; providerID: string; state: string }[]>,
  clock: ScaledClock,
): NodeJS.Timeout {
  const registered = new Set<string>();
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const i of (await instances()).filter((x) => x.state === 'running' && !registered.has(x.instanceId))) {
        registered.add(i.instanceId);
        await kube.kubectlOk(['create', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i.instanceId) }, spec: { providerID: i.providerID } }),
        });
        await kube.kubectlOk([
          'patch',
          'node',
          nodeName(i.instanceId),
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { conditions: healthyKubeletConditions(undefined, clock.now()) } }),
        ]);
      }
      const terminating = (
        JSON.parse(await kube.kubectlOk(['get', 'pods', '-n', 'default', '-o', 'json'])) as {
          items: { metadata: { name: string; deletionTimestamp?: string } }[];
        }
      ).items.filter((p) => p.metadata.deletionTimestamp);
      for (const p of terminating) await kube.kubectl(['delete', 'pod', p.metadata.name, '--grace-period=0', '--force']);
    })()
      // The API server goes away at the end of the test while a round may still run.
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 100);
}

/** The pods bound to a node, by name, and whether each is being deleted. */
export async function podsOn(kube: RunningKube, node: string): Promise<{ name: string; deleting: boolean }[]> {
  const out = await kube.kubectlOk(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] }).items
    .map((p) => ({ name: p.metadata.name, deleting: !!p.metadata.deletionTimestamp }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A pod bound to `node`, Running and Ready. */
export async function runningPod(kube: RunningKube, name: string, node: string, meta: Record<string, unknown> = {}): Promise<void> {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', ...meta },
      spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    }),
  });
  await kube.kubectlOk([
    'patch',
    'pod',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }),
  ]);
}

/**
 * A PodDisruptionBudget of minAvailable over the pods labelled `app: {app}`, with the status the disruption
 * controller (which does not run here) would write for `healthy` pods.
 */
export async function disruptionBudget(kube: RunningKube, app: string, minAvailable: number, healthy: number): Promise<void> {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: app, namespace: 'default' },
      spec: { minAvailable, selector: { matchLabels: { app } } },
    }),
  });
  const status = {
    observedGeneration: 1,
    disruptionsAllowed: Math.max(0, healthy - minAvailable),
    currentHealthy: healthy,
    desiredHealthy: minAvailable,
    expectedPods: healthy,
  };
  await kube.kubectlOk(['patch', 'pdb', app, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** The node's spec.unschedulable ('true' once cordoned; '' otherwise). */
export const cordoned = async (kube: RunningKube, node: string) =>
  (await kube.kubectlOk(['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}'])) === 'true';
