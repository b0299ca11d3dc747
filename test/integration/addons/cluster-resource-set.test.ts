/**
 * ClusterResourceSets applied by the real reconcile task to a real kube-apiserver standing for the workload
 * cluster's API: the sets go in through the API (manifests kept as payloads), the reconcile reads the references,
 * fetches the payloads and server-side applies them; kubectl reads back what the cluster holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesAddonApplier } from '../../../functions/adapters/kubernetes/addon-applier.js';
import { KubernetesNodeReader, WorkloadClients } from '../../../functions/adapters/kubernetes/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { MemoryPayloadStore, PayloadOffloadingStore } from '../../../functions/adapters/payloads/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ClusterResourceSetBinding } from '../../../functions/api/cluster-resource-set.js';
import { handleRequest } from '../../../functions/api/http/router.js';
import type { MachineProvider } from '../../../functions/ports.js';
import { invocationHolder, workflowDeps, type WorkflowDeps } from '../../../functions/workflows/deps.js';
import { reconcileCluster } from '../../../functions/workflows/reconcile-cluster.js';
import { startKube, type RunningKube } from '../../support/kube.js';

let kube: RunningKube;
beforeAll(async () => {
  kube = await startKube();
});
afterAll(async () => {
  await kube?.stop();
});

const noMachines: MachineProvider = {
  create: async () => {
    throw new Error('no launches in this test');
  },
  describe: async () => [],
  delete: async () => ({ refused: [] }),
} as unknown as MachineProvider;

interface World {
  store: MemoryStore;
  api: PayloadOffloadingStore;
  deps: WorkflowDeps;
  applied: string[];
}

/** A store, the API's store over it, and the reconcile's deps: every cluster's API is the test's kube-apiserver. */
function world(): World {
  const store = new MemoryStore();
  const payloads = new MemoryPayloadStore();
  const clients = new WorkloadClients({ kubeconfigFor: () => kube.adminKubeconfigYaml });
  const applier = new KubernetesAddonApplier(clients);
  const applied: string[] = [];
  const deps = workflowDeps({
    store,
    provider: noMachines,
    nodes: new KubernetesNodeReader(clients),
    addons: { apply: async (ns, c, m) => (applied.push(`${ns}/${c}`), applier.apply(ns, c, m)) },
    payloads,
    clock: { now: () => new Date() },
    timer: { wakeAt: () => new Date().toISOString() },
    holder: invocationHolder('test'),
  });
  return { store, api: new PayloadOffloadingStore(store, payloads), deps, applied };
}

async function send(w: World, method: string, path: string, body: unknown, contentType = 'application/json') {
  const res = await handleRequest(
    {
      method,
      path: `/apis/${API_VERSION}/namespaces/default/${path}`,
      query: method === 'PATCH' ? { fieldManager: 'test' } : {},
      headers: { 'content-type': contentType },
      body: JSON.stringify(body),
    },
    { store: w.api },
  );
  expect(res.status, res.body).toBeLessThan(300);
  return JSON.parse(res.body);
}

/** A Cluster and an initialized ControlPlane (its status as the control-plane planner writes it). */
async function cluster(w: World, name: string, labels: Record<string, string>) {
  await send(w, 'POST', 'clusters', { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name, labels }, spec: {} });
  await send(w, 'POST', 'controlplanes', {
    apiVersion: API_VERSION,
    kind: 'ControlPlane',
    metadata: { name: `${name}-cp` },
    spec: { clusterName: name, replicas: 1, version: 'v1.31.2', machineClassRef: { name: 'small' } },
  });
  const cp = (await w.store.get('ControlPlane', 'default', `${name}-cp`))!;
  await w.store.updateStatus({ ...cp, status: { initialized: true } });
}

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: kube-system\ndata:\n  value: "${value}"\n`;
const daemonSet = (name: string, image: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  });

const crs = (name: string, strategy: 'ApplyOnce' | 'Reconcile', value: string, image = 'registry.k8s.io/pause:3.10') => ({
  apiVersion: API_VERSION,
  kind: 'ClusterResourceSet',
  metadata: { name },
  spec: {
    clusterSelector: { matchLabels: { addons: name } },
    strategy,
    resources: [{ name: 'network', manifests: `${configMap(`${name}-config`, value)}---\n${daemonSet(`${name}-node`, image)}\n` }],
  },
});

const cmValue = async (name: string) => (await kube.kubectl(['get', 'configmap', '-n', 'kube-system', name, '-o', 'jsonpath={.data.value}'])).stdout;

describe('ClusterResourceSet on a real kube-apiserver', () => {
  it('applies a ConfigMap and a DaemonSet to a matching cluster once, records them, and not to a cluster it does not select', async () => {
    const w = world();
    await cluster(w, 'match', { addons: 'once' });
    await cluster(w, 'other', { addons: 'none' });
    await send(w, 'POST', 'clusterresourcesets', crs('once', 'ApplyOnce', 'v1'));

    const other = await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'other' });
    expect(other.errors).toEqual([]);
    expect(w.applied).toEqual([]);
    const outcome = await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'match' });
    expect(outcome.errors).toEqual([]);
    expect(w.applied).toEqual(['default/match']);

    expect(await cmValue('once-config')).toBe('v1');
    const ds = JSON.parse(await kube.kubectlOk(['get', 'daemonset', '-n', 'kube-system', 'once-node', '-o', 'json', '--show-managed-fields']));
    expect(ds.metadata.managedFields.map((f: { manager: string }) => f.manager)).toContain('clusterless');
    const binding = (await w.store.get<ClusterResourceSetBinding>('ClusterResourceSetBinding', 'default', 'match'))!;
    expect(binding.status?.bindings).toMatchObject([
      { clusterResourceSetName: 'once', resources: [{ name: 'network', applied: true, hash: expect.stringMatching(/^sha256:/) }] },
    ]);
    expect(binding.status?.conditions).toMatchObject([{ type: 'ResourcesApplied', status: 'True' }]);
    expect(await w.store.get('ClusterResourceSetBinding', 'default', 'other')).toBeUndefined();

    // Reconciled again: nothing is applied again.
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'match' });
    expect(w.applied).toEqual(['default/match']);
  });

  it('ApplyOnce: an edit of the set is not applied again', async () => {
    const w = world();
    await cluster(w, 'ao', { addons: 'edit-once' });
    await send(w, 'POST', 'clusterresourcesets', crs('edit-once', 'ApplyOnce', 'first'));
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'ao' });
    await send(w, 'PATCH', 'clusterresourcesets/edit-once', crs('edit-once', 'ApplyOnce', 'second'), 'application/apply-patch+yaml');
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'ao' });
    expect(await cmValue('edit-once-config')).toBe('first');
    expect(w.applied).toHaveLength(1);
  });

  it('Reconcile: an edit of the set is applied again', async () => {
    const w = world();
    await cluster(w, 'rc', { addons: 'edit-rc' });
    await send(w, 'POST', 'clusterresourcesets', crs('edit-rc', 'Reconcile', 'first'));
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'rc' });
    expect(await cmValue('edit-rc-config')).toBe('first');
    await send(w, 'PATCH', 'clusterresourcesets/edit-rc', crs('edit-rc', 'Reconcile', 'second'), 'application/apply-patch+yaml');
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'rc' });
    expect(await cmValue('edit-rc-config')).toBe('second');
    expect(w.applied).toHaveLength(2);
  });

  it('records a refused document as ResourcesApplied False with the message, reports it, and retries on the next reconcile', async () => {
    const w = world();
    await cluster(w, 'bad', { addons: 'broken' });
    const broken = crs('broken', 'ApplyOnce', 'x');
    broken.spec.resources[0]!.manifests = 'apiVersion: v1\nkind: NoSuchKind\nmetadata:\n  name: nope\n';
    await send(w, 'POST', 'clusterresourcesets', broken);
    const outcome = await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'bad' });
    expect(outcome.errors.join()).toContain('NoSuchKind');
    const binding = (await w.store.get<ClusterResourceSetBinding>('ClusterResourceSetBinding', 'default', 'bad'))!;
    expect(binding.status?.conditions).toMatchObject([
      { type: 'ResourcesApplied', status: 'False', reason: 'ApplyFailed', message: expect.stringContaining('NoSuchKind') },
    ]);
    const tried = w.applied.length;
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: 'bad' });
    expect(w.applied.length).toBeGreaterThan(tried);
  });
});
