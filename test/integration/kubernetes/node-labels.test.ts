/**
 * Machine labels reaching Nodes against a real kube-apiserver: the reconcile's label sync step
 * (workflows/node-labels.ts) with the real KubernetesNodeReader and KubernetesNodeLabeler. There is no kubelet:
 * Nodes are written through the API, with the providerID of the machine's instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubernetesNodeLabeler, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import type { Machine } from '../../../functions/api/machine.js';
import { LABELS_FROM_MACHINE_ANNOTATION } from '../../../functions/core/machine/node-labels.js';
import type { InstanceFact } from '../../../functions/core/observed.js';
import { silentLogger } from '../../../functions/workflows/deps.js';
import { syncNodeLabels } from '../../../functions/workflows/node-labels.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { machine } from '../../unit/core/machineset/fixtures.js';

let kube: RunningKube;
let reader: KubernetesNodeReader;
let labeler: KubernetesNodeLabeler;

beforeAll(async () => {
  kube = await startKube();
  const options = { kubeconfigFor: (ns: string, cluster: string) => (ns === 'default' && cluster === 'prod' ? kube.adminKubeconfig : undefined) };
  reader = new KubernetesNodeReader(options);
  labeler = new KubernetesNodeLabeler(options);
});

afterAll(async () => {
  await kube?.stop();
});

const providerID = (name: string) => `aws:///eu-west-1a/i-${name}`;
const instanceOf = (name: string): InstanceFact => ({ machineUid: `${name}-uid`, instanceId: `i-${name}`, providerID: providerID(name), state: 'running' });

async function node(name: string): Promise<void> {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: { providerID: providerID(name) },
    }),
  });
}

async function nodeMeta(name: string): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; resourceVersion: string }> {
  const n = JSON.parse(await kube.kubectlOk(['get', 'node', name, '-o', 'json'])) as {
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion: string };
  };
  return { labels: n.metadata.labels ?? {}, annotations: n.metadata.annotations ?? {}, resourceVersion: n.metadata.resourceVersion };
}

/** One reconcile's label sync for machines named after their nodes (each with its own instance). */
async function sync(...machines: Machine[]): Promise<string[]> {
  const observed = { instances: machines.map((m) => instanceOf(m.metadata.name)), nodes: await reader.listNodes('default', 'prod') };
  return syncNodeLabels({ nodeLabels: labeler, log: silentLogger }, 'default', 'prod', machines, observed);
}

describe('node label sync', () => {
  it('puts the labels in the node domains on the Node, and no other', async () => {
    // Prepare
    await node('gpu-0');
    const m = machine('gpu-0', {
      labels: {
        app: 'web',
        'cluster.x-k8s.io/cluster-name': 'prod',
        'node-role.kubernetes.io/gpu': '',
        'node.cluster.x-k8s.io/spot': 'true',
        'pool.node-restriction.kubernetes.io/accelerator': 'a100',
      },
    });
    // Act
    expect(await sync(m)).toEqual([]);
    // Assess
    const { labels, annotations } = await nodeMeta('gpu-0');
    expect(labels).toEqual({
      'kubernetes.io/hostname': 'gpu-0',
      'node-role.kubernetes.io/gpu': '',
      'node.cluster.x-k8s.io/spot': 'true',
      'pool.node-restriction.kubernetes.io/accelerator': 'a100',
    });
    expect(annotations[LABELS_FROM_MACHINE_ANNOTATION]).toBe(
      'node-role.kubernetes.io/gpu,node.cluster.x-k8s.io/spot,pool.node-restriction.kubernetes.io/accelerator',
    );
  });

  it('follows an edit and a removal of the machine labels, and keeps labels set on the Node by hand', async () => {
    // Prepare
    await node('spot-0');
    await sync(machine('spot-0', { labels: { 'node.cluster.x-k8s.io/spot': 'true', 'node.cluster.x-k8s.io/pool': 'a' } }));
    await kube.kubectlOk(['label', 'node', 'spot-0', 'node.cluster.x-k8s.io/by-hand=yes', 'team=data']);
    // Act: the pool changes, spot goes.
    await sync(machine('spot-0', { labels: { 'node.cluster.x-k8s.io/pool': 'b' } }));
    // Assess
    let meta = await nodeMeta('spot-0');
    expect(meta.labels).toEqual({
      'kubernetes.io/hostname': 'spot-0',
      'node.cluster.x-k8s.io/pool': 'b',
      'node.cluster.x-k8s.io/by-hand': 'yes',
      team: 'data',
    });
    expect(meta.annotations[LABELS_FROM_MACHINE_ANNOTATION]).toBe('node.cluster.x-k8s.io/pool');
    // Act: no synced label left.
    await sync(machine('spot-0', { labels: { app: 'web' } }));
    // Assess
    meta = await nodeMeta('spot-0');
    expect(meta.labels).toEqual({ 'kubernetes.io/hostname': 'spot-0', 'node.cluster.x-k8s.io/by-hand': 'yes', team: 'data' });
    expect(meta.annotations).not.toHaveProperty(LABELS_FROM_MACHINE_ANNOTATION);
  });

  it('writes nothing to a Node that is up to date', async () => {
    // Prepare
    await node('steady-0');
    const m = machine('steady-0', { labels: { 'node-role.kubernetes.io/worker': '' } });
    await sync(m);
    const before = await nodeMeta('steady-0');
    // Act
    await sync(m);
    // Assess
    expect((await nodeMeta('steady-0')).resourceVersion).toBe(before.resourceVersion);
  });

  it('reports a Node it cannot patch and still patches the others', async () => {
    // Prepare: a label value the API refuses (the Store validates labels; a Node writer's record is not).
    await node('bad-0');
    await node('good-0');
    const bad = machine('bad-0', { labels: { 'node.cluster.x-k8s.io/x': 'not a label value!' } });
    // Act
    const errors = await sync(bad, machine('good-0', { labels: { 'node.cluster.x-k8s.io/x': 'ok' } }));
    // Assess
    expect(errors).toEqual([expect.stringContaining('labels of node bad-0 (machine bad-0)')]);
    expect((await nodeMeta('good-0')).labels['node.cluster.x-k8s.io/x']).toBe('ok');
  });
});
