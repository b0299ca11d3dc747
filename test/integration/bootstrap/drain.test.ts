/**
 * A worker drained through the Kubernetes adapter against a real kube-apiserver, driven by the whole workflow
 * runtime: when a MachineDeployment scales down, the chosen machine's node is cordoned and its pods evicted
 * through the Eviction API, a PodDisruptionBudget holds one pod back, and once nodeDrainTimeoutSeconds has
 * passed the planner gives up, the machine is deleted anyway and the reason is recorded (DrainingSucceeded
 * False, DrainingFailed, and a log line). A stand-in kubelet registers a Ready node per running instance and
 * confirms the deletion of evicted pods, as a kubelet would.
 */
import { expect, it } from 'vitest';
import { NS_PATH } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';
import { cordoned, disruptionBudget, drainFixture, podsOn, runningPod } from './drain-harness.js';

const DRAIN_TIMEOUT_SECONDS = 120;
const fixture = drainFixture();

it('evicts pods, respects a PodDisruptionBudget, and deletes the machine with the reason once the drain timeout passed', async () => {
  // Prepare: the control plane with real node reads and drains
  const kube = fixture.kube();
  const cp = await fixture.start({ cluster: 'drain', timeScale: 40, workers: 2, drainTimeoutSeconds: DRAIN_TIMEOUT_SECONDS });
  const { api, workers, written, logs, provider } = cp;
  // The workload on the worker about to go: two replicas behind a budget that lets one go, a batch pod, a DaemonSet pod.
  const victim = (await workers())[0]!;
  const node = victim.status!.nodeRef!.name;
  await runningPod(kube, 'web-0', node, { labels: { app: 'web' } });
  await runningPod(kube, 'web-1', node, { labels: { app: 'web' } });
  await runningPod(kube, 'batch-0', node);
  await runningPod(kube, 'agent-0', node, {
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: '0b1c2d3e-0000-4000-8000-00000000000a', controller: true }],
  });
  // What the disruption controller would write: two healthy pods, one may go.
  await disruptionBudget(kube, 'web', 1, 2);

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
  expect(await cordoned(kube, node)).toBe(true);
  const left = await podsOn(kube, node);
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
  expect((await podsOn(kube, node)).filter((p) => p.name.startsWith('web-') && !p.deleting)).toHaveLength(1);
  const instance = (await provider.describe('default', 'drain')).find((i) => i.instanceId === victim.status!.infrastructure!.instanceId);
  expect(instance === undefined || instance.state === 'terminated' || instance.state === 'shutting-down').toBe(true);
}, 240_000);
