/**
 * NodeReader and NodeDrainer against a real kube-apiserver. There is no kubelet: Nodes and their conditions
 * are written through the API, pods are bound to a node by spec.nodeName and stay Pending, and a pod
 * evicted from a node stays terminating until it is deleted with grace period 0, as a kubelet would confirm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubernetesNodeDrainer, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { NodeReaderUnavailableError } from '../../../functions/ports.js';
import { startKube, type RunningKube } from '../../support/kube.js';

let kube: RunningKube;

beforeAll(async () => {
  kube = await startKube();
});

afterAll(async () => {
  await kube?.stop();
});

const T0 = '2026-01-02T03:04:05Z';

async function node(name: string, ready: 'True' | 'False' | 'Unknown', extra: { unschedulable?: boolean } = {}): Promise<void> {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { providerID: `aws:///eu-west-1a/i-${name}`, ...extra } }),
  });
  const status = {
    conditions: [
      {
        type: 'Ready',
        status: ready,
        reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown',
        message: `kubelet says ${ready}`,
        lastHeartbeatTime: T0,
        lastTransitionTime: T0,
      },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: T0, lastTransitionTime: T0 },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.31.2',
      machineID: 'm',
      systemUUID: 's',
      bootID: 'b',
      kernelVersion: 'k',
      osImage: 'o',
      containerRuntimeVersion: 'containerd://2.0.0',
      kubeProxyVersion: 'v1.31.2',
      operatingSystem: 'linux',
      architecture: 'arm64',
    },
  };
  await kube.kubectlOk(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

async function pod(name: string, nodeName: string, meta: Record<string, unknown> = {}, namespace = 'default'): Promise<void> {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, ...meta },
      spec: { nodeName, containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    }),
  });
}

async function podsOn(nodeName: string): Promise<{ name: string; deleting: boolean }[]> {
  const out = await kube.kubectlOk(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${nodeName}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] }).items
    .map((p) => ({ name: p.metadata.name, deleting: p.metadata.deletionTimestamp !== undefined }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const forWorkload = () => ({ kubeconfigFor: (ns: string, cluster: string) => (ns === 'default' && cluster === 'prod' ? kube.adminKubeconfig : undefined) });

describe('KubernetesNodeReader', () => {
  it('reads the nodes of a workload cluster with their conditions, providerID, kubelet version and cordon', async () => {
    // Prepare
    await node('reader-a', 'True');
    await node('reader-b', 'False', { unschedulable: true });
    // Act
    const nodes = (await new KubernetesNodeReader(forWorkload()).listNodes('default', 'prod')).filter((n) => n.name.startsWith('reader-'));
    // Assess
    expect(nodes).toEqual([
      {
        name: 'reader-a',
        uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        providerID: 'aws:///eu-west-1a/i-reader-a',
        unschedulable: false,
        kubeletVersion: 'v1.31.2',
        labels: {},
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet says True', lastTransitionTime: T0 },
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastTransitionTime: T0 },
        ],
      },
      expect.objectContaining({
        name: 'reader-b',
        unschedulable: true,
        conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'False' })]),
      }),
    ]);
  });

  it.each([
    { name: 'no kubeconfig for the cluster', kubeconfig: () => undefined },
    { name: 'an API that refuses connections', kubeconfig: () => kube.adminKubeconfigYaml.replace(kube.server, 'https://127.0.0.1:1') },
    { name: 'an identity that may not list nodes', kubeconfig: () => kube.mirrorKubeconfig },
  ])('reports $name as NodeReaderUnavailableError', async ({ kubeconfig }) => {
    const reader = new KubernetesNodeReader({ kubeconfigFor: () => kubeconfig() });
    await expect(reader.listNodes('default', 'prod')).rejects.toBeInstanceOf(NodeReaderUnavailableError);
  });
});

describe('KubernetesNodeDrainer', () => {
  it('cordons, evicts pods, skips DaemonSet and mirror pods, and is drained once evicted pods are gone', async () => {
    // Prepare
    await node('drain-a', 'True');
    await pod('web-1', 'drain-a');
    await pod('logs-agent', 'drain-a', {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'logs', uid: '6b3c2f1e-0000-4000-8000-000000000001', controller: true }],
    });
    await pod('static-etcd', 'drain-a', { annotations: { 'kubernetes.io/config.mirror': 'abc' } });
    await pod('elsewhere', 'other-node');
    const drainer = new KubernetesNodeDrainer(forWorkload());
    // Act 1
    const first = await drainer.drain('default', 'prod', 'drain-a');
    // Assess 1: cordoned, web-1 evicted but still terminating (no kubelet confirmed it yet)
    expect(first).toEqual({ drained: false, message: expect.stringContaining('waiting for 1 pod to terminate: default/web-1') });
    expect(await kube.kubectlOk(['get', 'node', 'drain-a', '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
    expect(await podsOn('drain-a')).toEqual([
      { name: 'logs-agent', deleting: false },
      { name: 'static-etcd', deleting: false },
      { name: 'web-1', deleting: true },
    ]);
    // Act 2: the kubelet confirms the deletion
    await kube.kubectlOk(['delete', 'pod', 'web-1', '--grace-period=0', '--force']);
    const second = await drainer.drain('default', 'prod', 'drain-a');
    // Assess 2
    expect(second.drained).toBe(true);
    expect(second.message).toMatch(/ignored 2 DaemonSet or mirror pods/);
    expect(await podsOn('other-node')).toEqual([{ name: 'elsewhere', deleting: false }]);
  });

  it('is not drained while a PodDisruptionBudget refuses the eviction (429), and evicts nothing it protects', async () => {
    // Prepare
    await node('drain-pdb', 'True');
    await pod('db-0', 'drain-pdb', { labels: { app: 'db' } });
    // The API server lets Pending pods go whatever the budget says: make it Running, as a kubelet would.
    await kube.kubectlOk([
      'patch',
      'pod',
      'db-0',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }),
    ]);
    await kube.kubectlOk(['apply', '-f', '-'], {
      input: stringify({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'db', namespace: 'default' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } },
      }),
    });
    // What the disruption controller would write: one healthy pod, none may go.
    const budget = { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 };
    await kube.kubectlOk(['patch', 'pdb', 'db', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: budget })]);
    // Act
    const result = await new KubernetesNodeDrainer(forWorkload()).drain('default', 'prod', 'drain-pdb');
    // Assess
    expect(result.drained).toBe(false);
    expect(result.message).toMatch(/blocked by a PodDisruptionBudget: default\/db-0/);
    expect(await podsOn('drain-pdb')).toEqual([{ name: 'db-0', deleting: false }]);
  });

  it('does not wait for pods of an unreachable node (Ready Unknown): no kubelet will confirm them', async () => {
    await node('drain-gone', 'Unknown');
    await pod('api-1', 'drain-gone');
    const result = await new KubernetesNodeDrainer(forWorkload()).drain('default', 'prod', 'drain-gone');
    expect(result).toEqual({ drained: true, message: expect.stringContaining('evicted 1 pod') });
    expect(await podsOn('drain-gone')).toEqual([{ name: 'api-1', deleting: true }]);
  });

  it('treats a node that no longer exists as drained', async () => {
    expect(await new KubernetesNodeDrainer(forWorkload()).drain('default', 'prod', 'never-was')).toEqual({
      drained: true,
      message: 'node never-was does not exist',
    });
  });
});
