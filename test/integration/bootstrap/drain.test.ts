/**
 * A worker drained through the Kubernetes adapter against a real kube-apiserver, driven by the whole workflow
 * runtime: when a MachineDeployment scales down, the chosen machine's node is cordoned and its pods evicted
 * through the Eviction API, a PodDisruptionBudget holds one pod back, and once nodeDrainTimeoutSeconds has
 * passed the planner gives up, the machine is deleted anyway and the reason is recorded (DrainingSucceeded
 * False, DrainingFailed, and a log line). A stand-in kubelet registers a Ready node per running instance and
 * confirms the deletion of evicted pods, as a kubelet would.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { KubernetesNodeDrainer, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
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
import type { LogLine } from './harness.js';

const TIME_SCALE = 40;
const DRAIN_TIMEOUT_SECONDS = 120;
let kube: RunningKube;
let runtime: ControlPlaneRuntime;
let kubelet: NodeJS.Timeout | undefined;
const logs: LogLine[] = [];
/** Every version of every Machine the control plane wrote, with the control plane's time of the write. */
const written: (Machine & { writtenAt: number })[] = [];

beforeAll(async () => {
  kube = await startKube();
}, 90_000);

afterAll(async () => {
  if (kubelet) clearInterval(kubelet);
  await runtime?.stop();
  await kube?.stop();
});

const nodeName = (instanceId: string) => `node-${instanceId}`;
const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

async function podsOn(node: string): Promise<{ name: string; deleting: boolean }[]> {
  const out = await kube.kubectlOk(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] }).items
    .map((p) => ({ name: p.metadata.name, deleting: !!p.metadata.deletionTimestamp }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function runningPod(name: string, node: string, meta: Record<string, unknown> = {}): Promise<void> {
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

it('evicts pods, respects a PodDisruptionBudget, and deletes the machine with the reason once the drain timeout passed', async () => {
  // Prepare: the control plane with real node reads and drains
  const clock = scaledClock({ timeScale: TIME_SCALE });
  const cloud = new SimCloud({ clock, seed: 7 });
  const provider = new SimMachineProvider(cloud);
  const workload = { kubeconfigFor: () => kube.adminKubeconfig };
  const deps = workflowDeps({
    store: new MemoryStore({ clock }),
    provider,
    nodes: new KubernetesNodeReader(workload),
    drainer: new KubernetesNodeDrainer(workload),
    clock,
    timer: scaledTimer(TIME_SCALE),
    holder: invocationHolder('drain-test'),
    pollSeconds: 5,
    log: {
      info: (message, fields) => void logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
      warn: (message, fields) => void logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
      error: (message, fields) => void logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
    },
  });
  runtime = new ControlPlaneRuntime({
    deps,
    timeScale: TIME_SCALE,
    sweepSeconds: 10,
    onChange: (_ns, _c, obj: ApiObject) => obj.kind === 'Machine' && written.push({ ...structuredClone(obj as Machine), writtenAt: clock.now().getTime() }),
  });
  await runtime.start();
  // The stand-in kubelets: a Ready node per running instance; evicted pods confirmed gone.
  const registered = new Set<string>();
  let busy = false;
  kubelet = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const i of (await provider.describe('default', 'drain')).filter((x) => x.state === 'running' && !registered.has(x.instanceId))) {
        registered.add(i.instanceId);
        await kube.kubectlOk(['create', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i.instanceId) }, spec: { providerID: i.providerID } }),
        });
        const at = ts(clock.now());
        await kube.kubectlOk([
          'patch',
          'node',
          nodeName(i.instanceId),
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({
            status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: at, lastTransitionTime: at }] },
          }),
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
  const api = (method: string, path: string, body?: unknown) => handleRequest(jsonRequest(method, path, body), { store: runtime.store });
  for (const m of clusterManifests({ name: 'drain', controlPlaneReplicas: 1, workers: 2, bootSeconds: 10 })) {
    if (m.plural === 'machinedeployments')
      (m.object.spec as { template: { spec: Record<string, unknown> } }).template.spec['nodeDrainTimeoutSeconds'] = DRAIN_TIMEOUT_SECONDS;
    expect((await api('POST', `${NS_PATH}/default/${m.plural}`, m.object)).status).toBe(201);
  }
  const workers = async () =>
    (await runtime.store.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'drain-md');
  await waitUntil(
    'workers available on real nodes',
    async () =>
      (await runtime.store.get<MachineDeployment>('MachineDeployment', 'default', 'drain-md'))?.status?.availableReplicas === 2 &&
      (await workers()).every((m) => m.status?.nodeRef),
    90_000,
    50,
  );
  // The workload on the worker about to go: two replicas behind a budget that lets one go, a batch pod, a DaemonSet pod.
  const victim = (await workers())[0]!;
  const node = victim.status!.nodeRef!.name;
  await runningPod('web-0', node, { labels: { app: 'web' } });
  await runningPod('web-1', node, { labels: { app: 'web' } });
  await runningPod('batch-0', node);
  await runningPod('agent-0', node, {
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: '0b1c2d3e-0000-4000-8000-00000000000a', controller: true }],
  });
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: 'default' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    }),
  });
  // What the disruption controller would write: two healthy pods, one may go.
  await kube.kubectlOk([
    'patch',
    'pdb',
    'web',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } }),
  ]);

  // Act: the user removes that worker
  await api('PATCH', `${NS_PATH}/default/machines/${victim.metadata.name}`, { metadata: { annotations: { 'clusterless.dev/delete-machine': 'yes' } } });
  await api('PATCH', `${NS_PATH}/default/machinedeployments/drain-md`, { spec: { replicas: 1 } });

  // Assess 1: while draining, the node is cordoned, evictable pods go, the budget keeps one web pod, the DaemonSet pod stays.
  const blocked = async () =>
    written.find(
      (m) =>
        m.metadata.uid === victim.metadata.uid &&
        m.status?.conditions?.some((c) => c.type === 'DrainingSucceeded' && c.reason === 'Draining' && /PodDisruptionBudget/.test(c.message ?? '')),
    );
  await waitUntil('the drain blocked by the budget', blocked, 90_000, 50);
  expect(await kube.kubectlOk(['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
  const left = await podsOn(node);
  expect(left.filter((p) => p.name.startsWith('web-')).filter((p) => !p.deleting)).toHaveLength(1);
  expect(left.find((p) => p.name === 'batch-0')?.deleting ?? true).toBe(true);
  expect(left.find((p) => p.name === 'agent-0')).toEqual({ name: 'agent-0', deleting: false });
  const started = Date.parse(
    written.find((m) => m.metadata.uid === victim.metadata.uid && m.status?.deletion?.nodeDrainStartTime)!.status!.deletion!.nodeDrainStartTime!,
  );

  // Assess 2: past the timeout the machine goes anyway, with the reason recorded.
  await waitUntil(
    'the machine deleted after its drain timeout',
    async () => !(await workers()).some((m) => m.metadata.uid === victim.metadata.uid),
    150_000,
    50,
  );
  const failed = written.find(
    (m) => m.metadata.uid === victim.metadata.uid && m.status?.conditions?.some((c) => c.type === 'DrainingSucceeded' && c.reason === 'DrainingFailed'),
  )!;
  const condition = failed.status!.conditions!.find((c) => c.type === 'DrainingSucceeded')!;
  expect(condition.status).toBe('False');
  expect(condition.message).toMatch(/nodeDrainTimeout \(120s\).*PodDisruptionBudget: default\/web-[01]/);
  // Not before the timeout (the scaled clock is the control plane's own).
  expect(failed.writtenAt - started).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_SECONDS * 1000);
  expect(logs.some((l) => l.level === 'warn' && l.message.includes('drain timed out') && l.fields?.['machine'] === victim.metadata.name)).toBe(true);
  // The pod the budget protected was never evicted: it went with the node only.
  expect((await podsOn(node)).filter((p) => p.name.startsWith('web-') && !p.deleting)).toHaveLength(1);
  const instance = (await provider.describe('default', 'drain')).find((i) => i.instanceId === victim.status!.infrastructure!.instanceId);
  expect(instance === undefined || instance.state === 'terminated' || instance.state === 'shutting-down').toBe(true);
}, 240_000);
