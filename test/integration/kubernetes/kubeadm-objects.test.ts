/**
 * KubeadmWorkloadObjects (functions/adapters/kubeadm/workload-upgrade.ts) on a real kube-apiserver seeded with what
 * `kubeadm init` uploads at v1.32 (kubeadmInitObjects), then brought to v1.33: the objects show the new version, other
 * fields stay, a second call changes nothing, a conflict is retried once, missing objects are said to be absent.
 */
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeadmWorkloadObjects } from '../../../functions/adapters/kubeadm/workload-upgrade.js';
import { KubernetesApiError, KubernetesClient, resourcePath } from '../../../functions/adapters/kubernetes-client/rest-client.js';
import type { ClusterSpec } from '../../../functions/api/cluster.js';
import { validateCreate } from '../../../functions/api/validate.js';
import { kubeadmInitObjects, type KubeObject } from '../../../functions/bootstrap/kubeadm-upgrade.js';
import type { WorkloadTarget } from '../../../functions/ports.js';
import { startKube, type RunningKube } from '../../support/kube.js';

let kube: RunningKube;
let admin: KubernetesClient;

/** The cluster's services in the test kube-apiserver's own range (support/kube.ts), so kube-dns gets its address. */
const spec = (): ClusterSpec => {
  const r = validateCreate({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod' },
    spec: { clusterNetwork: { services: { cidrBlocks: ['10.0.0.0/24'] } } },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.causes));
  return r.object.spec as ClusterSpec;
};
const target = (): WorkloadTarget => ({ namespace: 'default', clusterName: 'prod', clusterSpec: spec() });

const PLURAL: Record<string, [string, string]> = {
  ConfigMap: ['', 'configmaps'],
  DaemonSet: ['apps', 'daemonsets'],
  Deployment: ['apps', 'deployments'],
  Service: ['', 'services'],
};
const pathOf = (kind: string, name?: string) => {
  const [group, plural] = PLURAL[kind]!;
  return resourcePath(group, 'v1', plural, { namespace: 'kube-system', ...(name ? { name } : {}) });
};
const get = <T = any>(kind: string, name: string) => admin.get<T>(pathOf(kind, name));
const clusterConfiguration = async () => parse((await get('ConfigMap', 'kubeadm-config')).data.ClusterConfiguration);
const imageOf = async (kind: string, name: string) => (await get(kind, name)).spec.template.spec.containers[0].image as string;

async function seed(objects: KubeObject[]): Promise<void> {
  for (const o of objects) {
    await admin.delete(pathOf(o.kind, o.metadata.name)).catch((e: unknown) => {
      if (!(e instanceof KubernetesApiError && e.code === 404)) throw e;
    });
    await admin.create(pathOf(o.kind), o);
  }
}

/** The adapter, with a hook run after each of its reads (to play another writer). */
function objectsWith(afterRead?: (path: string) => Promise<void>): KubeadmWorkloadObjects {
  const objects = new KubeadmWorkloadObjects({ issuer: { workloadKubeconfig: async () => kube.adminKubeconfigYaml } });
  if (afterRead) {
    const read = (objects as any).read.bind(objects);
    (objects as any).read = async (api: KubernetesClient, path: string) => {
      const r = await read(api, path);
      await afterRead(path);
      return r;
    };
  }
  return objects;
}

beforeAll(async () => {
  kube = await startKube();
  admin = new KubernetesClient(kube.adminKubeconfigYaml);
}, 90_000);

afterAll(async () => {
  admin?.close();
  await kube?.stop();
});

beforeEach(async () => {
  await seed(kubeadmInitObjects('v1.32.4', spec(), { clusterName: 'prod' }));
});

describe('KubeadmWorkloadObjects on a real kube-apiserver', () => {
  it('brings kubeadm-config to the version and keeps its other fields; kubelet-config is left as it is', async () => {
    // Prepare
    const before = await clusterConfiguration();
    const kubelet = (await get('ConfigMap', 'kubelet-config')).metadata.resourceVersion;
    // Act
    const change = await objectsWith().updateClusterConfiguration(target(), 'v1.33.1');
    // Assess
    expect(change.objects).toEqual([
      { kind: 'ConfigMap', name: 'kubeadm-config', result: 'updated' },
      { kind: 'ConfigMap', name: 'kubelet-config', result: 'unchanged' },
    ]);
    expect(await clusterConfiguration()).toEqual({ ...before, kubernetesVersion: 'v1.33.1' });
    expect((await get('ConfigMap', 'kubelet-config')).metadata.resourceVersion).toBe(kubelet);
  });

  it('brings kube-proxy and CoreDNS to the version; the Deployment keeps everything but the image', async () => {
    // Prepare
    const before = await get('Deployment', 'coredns');
    const corefile = (await get('ConfigMap', 'coredns')).data.Corefile;
    // Act
    const change = await objectsWith().updateAddons(target(), 'v1.33.1');
    // Assess
    expect(change.objects).toEqual([
      { kind: 'DaemonSet', name: 'kube-proxy', result: 'updated' },
      { kind: 'ConfigMap', name: 'coredns', result: 'unchanged' },
      { kind: 'Deployment', name: 'coredns', result: 'updated' },
    ]);
    expect(await imageOf('DaemonSet', 'kube-proxy')).toBe('registry.k8s.io/kube-proxy:v1.33.1');
    const after = await get('Deployment', 'coredns');
    expect(after.spec.template.spec.containers[0].image).toBe('registry.k8s.io/coredns/coredns:v1.12.0');
    const { image: _a, ...restAfter } = after.spec.template.spec.containers[0];
    const { image: _b, ...restBefore } = before.spec.template.spec.containers[0];
    expect(restAfter).toEqual(restBefore);
    expect(after.spec.replicas).toBe(before.spec.replicas);
    expect((await get('ConfigMap', 'coredns')).data.Corefile).toBe(corefile);
  });

  it('changes nothing the second time (no write: resourceVersions stay)', async () => {
    // Prepare
    const objects = objectsWith();
    await objects.updateClusterConfiguration(target(), 'v1.33.1');
    await objects.updateAddons(target(), 'v1.33.1');
    const versions = async () =>
      Promise.all([
        get('ConfigMap', 'kubeadm-config'),
        get('ConfigMap', 'kubelet-config'),
        get('DaemonSet', 'kube-proxy'),
        get('ConfigMap', 'coredns'),
        get('Deployment', 'coredns'),
      ]).then((os) => os.map((o) => o.metadata.resourceVersion));
    const first = await versions();
    // Act
    const a = await objects.updateClusterConfiguration(target(), 'v1.33.1');
    const b = await objects.updateAddons(target(), 'v1.33.1');
    // Assess
    expect([...a.objects, ...b.objects].every((o) => o.result === 'unchanged')).toBe(true);
    expect(await versions()).toEqual(first);
  });

  it('retries a conflict once from a fresh read, keeping the other writer change', async () => {
    // Prepare: another writer labels kubeadm-config right after the adapter's first read of it.
    let raced = false;
    const objects = objectsWith(async (path) => {
      if (raced || !path.endsWith('/configmaps/kubeadm-config')) return;
      raced = true;
      await admin.patch(path, { metadata: { labels: { 'other-writer': 'was-here' } } });
    });
    // Act
    const change = await objects.updateClusterConfiguration(target(), 'v1.33.1');
    // Assess
    expect(raced).toBe(true);
    expect(change.objects[0]).toEqual({ kind: 'ConfigMap', name: 'kubeadm-config', result: 'updated' });
    const cm = await get('ConfigMap', 'kubeadm-config');
    expect(cm.metadata.labels).toEqual({ 'other-writer': 'was-here' });
    expect(parse(cm.data.ClusterConfiguration).kubernetesVersion).toBe('v1.33.1');
  });

  it('gives up with the 409 after a second conflict', async () => {
    let n = 0;
    const objects = objectsWith(async (path) => {
      if (!path.endsWith('/configmaps/kubeadm-config')) return;
      await admin.patch(path, { metadata: { labels: { 'other-writer': String(++n) } } });
    });
    const err = await objects.updateClusterConfiguration(target(), 'v1.33.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubernetesApiError);
    expect((err as KubernetesApiError).code).toBe(409);
    expect(parse((await get('ConfigMap', 'kubeadm-config')).data.ClusterConfiguration).kubernetesVersion).toBe('v1.32.4');
  });

  it('says kube-proxy is absent in a cluster without it, and still upgrades CoreDNS', async () => {
    await admin.delete(pathOf('DaemonSet', 'kube-proxy'));
    const change = await objectsWith().updateAddons(target(), 'v1.33.1');
    expect(change.objects[0]).toEqual({ kind: 'DaemonSet', name: 'kube-proxy', result: 'absent' });
    expect(await imageOf('Deployment', 'coredns')).toBe('registry.k8s.io/coredns/coredns:v1.12.0');
  });

  it('leaves CoreDNS alone, image and Corefile, when its Corefile cannot be migrated', async () => {
    // Prepare: a plugin the migration does not know.
    const cm = await get('ConfigMap', 'coredns');
    const custom = cm.data.Corefile.replace('    loop\n', '    loop\n    etcd example.org\n');
    await admin.replace(pathOf('ConfigMap', 'coredns'), { ...cm, data: { Corefile: custom } });
    // Act
    const change = await objectsWith().updateAddons(target(), 'v1.33.1');
    // Assess
    expect(change.objects.filter((o) => o.name === 'coredns')).toEqual([
      { kind: 'ConfigMap', name: 'coredns', result: 'skipped', detail: expect.stringMatching(/plugin "etcd"/) },
      { kind: 'Deployment', name: 'coredns', result: 'skipped', detail: expect.stringMatching(/plugin "etcd"/) },
    ]);
    expect(await imageOf('Deployment', 'coredns')).toBe('registry.k8s.io/coredns/coredns:v1.11.3');
    expect((await get('ConfigMap', 'coredns')).data.Corefile).toBe(custom);
    expect(await imageOf('DaemonSet', 'kube-proxy')).toBe('registry.k8s.io/kube-proxy:v1.33.1');
  });
});
