/**
 * The pure edits of `kubeadm upgrade` (functions/bootstrap/kubeadm-upgrade.ts): the version map, images, the
 * ClusterConfiguration edit, the Corefile migration and what `kubeadm init` uploads.
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { ClusterSpec } from '../../../functions/api/cluster.js';
import { validateCreate } from '../../../functions/api/validate.js';
import {
  ADDON_VERSIONS,
  CorefileMigrationError,
  UnsupportedVersionError,
  addonVersions,
  coreDNSImage,
  defaultCorefile,
  kubeProxyImage,
  kubeadmInitObjects,
  migrateCorefile,
  upgradedClusterConfiguration,
  upgradedKubeProxyImage,
  upgradedKubeletConfiguration,
  type KubeObject,
} from '../../../functions/bootstrap/kubeadm-upgrade.js';

const clusterSpec = (): ClusterSpec => {
  const r = validateCreate({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'prod' }, spec: {} });
  if (!r.ok) throw new Error(JSON.stringify(r.causes));
  return r.object.spec as ClusterSpec;
};
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
const dataOf = (o: KubeObject, key: string) => (o['data'] as Record<string, string>)[key]!;

describe('the version map', () => {
  it.each(Object.keys(ADDON_VERSIONS).map(Number))('v1.%i has a CoreDNS and an etcd tag', (minor) => {
    const v = addonVersions(`v1.${minor}.0`);
    expect(v.coreDNS).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.etcd).toMatch(/^3\.\d+\.\d+-0$/);
  });

  it('never moves CoreDNS or etcd backwards from one minor to the next', () => {
    const minors = Object.keys(ADDON_VERSIONS)
      .map(Number)
      .sort((a, b) => a - b);
    for (const [a, b] of minors.slice(1).map((m, i) => [minors[i]!, m] as const)) {
      expect(ADDON_VERSIONS[b]!.coreDNS.localeCompare(ADDON_VERSIONS[a]!.coreDNS, undefined, { numeric: true })).toBeGreaterThanOrEqual(0);
      expect(ADDON_VERSIONS[b]!.etcd.localeCompare(ADDON_VERSIONS[a]!.etcd, undefined, { numeric: true })).toBeGreaterThanOrEqual(0);
    }
  });

  it.each(['v1.30.5', 'v1.36.0', 'v2.0.0'])('refuses %s, a minor it does not know', (v) => {
    expect(() => addonVersions(v)).toThrow(UnsupportedVersionError);
  });
});

describe('images', () => {
  it('names kube-proxy and CoreDNS as kubeadm does', () => {
    expect(kubeProxyImage('v1.32.1')).toBe('registry.k8s.io/kube-proxy:v1.32.1');
    expect(coreDNSImage('v1.33.0')).toBe('registry.k8s.io/coredns/coredns:v1.12.0');
    expect(coreDNSImage('v1.33.0', 'mirror.example.com/k8s')).toBe('mirror.example.com/k8s/coredns:v1.12.0');
  });

  it('re-tags the running kube-proxy image, keeping a registry with a port, and leaves k8s.gcr.io', () => {
    expect(upgradedKubeProxyImage('registry.k8s.io/kube-proxy:v1.31.2', 'v1.32.0')).toBe('registry.k8s.io/kube-proxy:v1.32.0');
    expect(upgradedKubeProxyImage('mirror:5000/k8s/kube-proxy:v1.31.2', 'v1.32.0', 'mirror:5000/k8s')).toBe('mirror:5000/k8s/kube-proxy:v1.32.0');
    expect(upgradedKubeProxyImage('k8s.gcr.io/kube-proxy:v1.31.2', 'v1.32.0', 'k8s.gcr.io')).toBe('registry.k8s.io/kube-proxy:v1.32.0');
  });
});

describe('the ClusterConfiguration edit', () => {
  const text = `# written by kubeadm init
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  certSANs: [api.example.com] # the load balancer
clusterName: prod
imageRepository: k8s.gcr.io
kubernetesVersion: v1.31.2
networking:
  podSubnet: 192.168.0.0/16
`;

  it('sets kubernetesVersion, moves k8s.gcr.io to registry.k8s.io, and keeps every other field and comment', () => {
    // Act
    const next = upgradedClusterConfiguration(text, 'v1.32.0');
    // Assess
    expect(parse(next)).toEqual({ ...parse(text), kubernetesVersion: 'v1.32.0', imageRepository: 'registry.k8s.io' });
    expect(next).toContain('# written by kubeadm init');
    expect(next).toContain('# the load balancer');
  });

  it('returns the same text when it already is at the version (a second call writes nothing)', () => {
    const once = upgradedClusterConfiguration(text, 'v1.32.0');
    expect(upgradedClusterConfiguration(once, 'v1.32.0')).toBe(once);
  });

  it('leaves a custom imageRepository alone', () => {
    const custom = text.replace('k8s.gcr.io', 'mirror.example.com/k8s');
    expect(parse(upgradedClusterConfiguration(custom, 'v1.32.0')).imageRepository).toBe('mirror.example.com/k8s');
  });

  it('leaves kubelet-config as it is: nothing in it is versioned', () => {
    expect(upgradedKubeletConfiguration('kind: KubeletConfiguration\ncgroupDriver: systemd\n', 'v1.32.0')).toBe(
      'kind: KubeletConfiguration\ncgroupDriver: systemd\n',
    );
  });
});

describe('the Corefile migration', () => {
  const steps = Object.values(ADDON_VERSIONS)
    .map((v) => v.coreDNS)
    .filter((v, i, all) => all.indexOf(v) === i);

  it.each(steps.slice(1).map((to, i) => ({ from: steps[i]!, to })))('kubeadm default Corefile: $from -> $to carries over unchanged', ({ from, to }) => {
    expect(migrateCorefile(from, to, defaultCorefile('cluster.local'))).toBe(defaultCorefile('cluster.local'));
  });

  it('keeps forward options that the source release knows (next came with 1.11.4)', () => {
    const corefile = '.:53 {\n  forward . 10.0.0.2 {\n    next NXDOMAIN\n    max_concurrent 100\n  }\n}\n';
    expect(migrateCorefile('v1.12.0', 'v1.12.1', corefile)).toBe(corefile);
    expect(() => migrateCorefile('v1.11.3', 'v1.12.0', corefile)).toThrow(/option "next" of plugin forward .* not one the migration knows for v1\.11\.3/);
  });

  it.each([
    { name: 'a plugin it does not know', corefile: '.:53 {\n  errors\n  etcd example.org\n}\n', message: /plugin "etcd" \(line 3\)/ },
    { name: 'an option it does not know', corefile: '.:53 {\n  cache 30 {\n    frobnicate\n  }\n}\n', message: /option "frobnicate" of plugin cache/ },
    { name: 'a block that does not close', corefile: '.:53 {\n  errors\n', message: /cannot be read/ },
  ])('refuses $name', ({ corefile, message }) => {
    expect(() => migrateCorefile('v1.11.3', 'v1.12.0', corefile)).toThrow(CorefileMigrationError);
    expect(() => migrateCorefile('v1.11.3', 'v1.12.0', corefile)).toThrow(message);
  });

  it('refuses a downgrade and a release it has no rules for', () => {
    expect(() => migrateCorefile('v1.12.0', 'v1.11.3', defaultCorefile('cluster.local'))).toThrow(/downgrade/);
    expect(() => migrateCorefile('v1.9.3', 'v1.11.3', defaultCorefile('cluster.local'))).toThrow(/no migration rules/);
  });
});

describe('kubeadmInitObjects', () => {
  it('uploads what kubeadm init does, in its order, at the version', () => {
    // Act
    const objects = kubeadmInitObjects('v1.32.1', clusterSpec(), { clusterName: 'prod' });
    // Assess
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/kubeadm-config',
      'ConfigMap/kubelet-config',
      'ConfigMap/kube-proxy',
      'DaemonSet/kube-proxy',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ]);
    expect(objects.every((o) => o.metadata.namespace === 'kube-system')).toBe(true);
    const cc = parse(dataOf(find(objects, 'ConfigMap', 'kubeadm-config'), 'ClusterConfiguration'));
    expect(cc).toMatchObject({ kind: 'ClusterConfiguration', kubernetesVersion: 'v1.32.1', clusterName: 'prod', imageRepository: 'registry.k8s.io' });
    expect(cc.networking).toEqual({ dnsDomain: 'cluster.local', podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12' });
    expect(JSON.stringify(find(objects, 'DaemonSet', 'kube-proxy'))).toContain('"image":"registry.k8s.io/kube-proxy:v1.32.1"');
    expect(JSON.stringify(find(objects, 'Deployment', 'coredns'))).toContain('"image":"registry.k8s.io/coredns/coredns:v1.11.3"');
    expect((find(objects, 'Service', 'kube-dns')['spec'] as { clusterIP: string }).clusterIP).toBe('10.96.0.10');
    expect(parse(dataOf(find(objects, 'ConfigMap', 'kubelet-config'), 'kubelet')).clusterDNS).toEqual(['10.96.0.10']);
  });

  it('refuses a version outside the map before making anything', () => {
    expect(() => kubeadmInitObjects('v1.30.0', clusterSpec())).toThrow(UnsupportedVersionError);
  });
});
