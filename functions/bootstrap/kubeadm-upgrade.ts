/**
 * What `kubeadm upgrade` and `kubeadm init` do to kubeadm's own objects in a workload cluster (kube-system), as pure
 * edits: the version map (Kubernetes minor -> CoreDNS and etcd), kube-proxy's image, the ClusterConfiguration of the
 * kubeadm-config ConfigMap, the CoreDNS Corefile migration, and the objects `kubeadm init` uploads.
 *
 * Learnt from kubeadm (cmd/kubeadm/app/constants/constants.go: CoreDNSVersion, SupportedEtcdVersion, per release
 * branch; app/phases/uploadconfig, app/phases/addons/proxy and addons/dns for what init uploads), Cluster API
 * (controlplane/kubeadm/internal/workload_cluster.go: UpdateClusterConfiguration, UpdateKubeProxyImageInfo;
 * workload_cluster_coredns.go: UpdateCoreDNS) and coredns/corefile-migration (migration/versions.go). Written anew.
 */
import { parseDocument, stringify } from 'yaml';
import type { ClusterSpec } from '../api/cluster.js';
import { KUBEADM_API_VERSION, UnsupportedVersionError, parseKubernetesVersion } from './kubeadm-config.js';

export { UnsupportedVersionError };

/** What kubeadm deploys with one Kubernetes minor: the CoreDNS image tag and the etcd image tag. */
export interface AddonVersions {
  coreDNS: string;
  etcd: string;
}

/**
 * kubeadm's CoreDNS and etcd per Kubernetes minor, as each minor's release branch of kubeadm's constants.go first
 * shipped them (later patch releases may carry a newer etcd patch). From v1.31: kubeadm's v1beta4 configuration, the
 * oldest the bootstrap renders (MIN_KUBERNETES_MINOR in kubeadm-config.ts); a minor outside the map is refused.
 */
export const ADDON_VERSIONS: Readonly<Record<number, AddonVersions>> = {
  31: { coreDNS: 'v1.11.3', etcd: '3.5.15-0' },
  32: { coreDNS: 'v1.11.3', etcd: '3.5.16-0' },
  33: { coreDNS: 'v1.12.0', etcd: '3.5.21-0' },
  34: { coreDNS: 'v1.12.1', etcd: '3.6.4-0' },
  35: { coreDNS: 'v1.13.1', etcd: '3.6.6-0' },
};

/** kubeadm's default image repository (k8s.gcr.io was frozen in 2023; kubeadm moved to registry.k8s.io in 1.25). */
export const DEFAULT_IMAGE_REPOSITORY = 'registry.k8s.io';
const LEGACY_IMAGE_REPOSITORY = 'k8s.gcr.io';

/** The names kubeadm gives its objects in kube-system (constants.go). */
export const KubeadmObjectNames = {
  namespace: 'kube-system',
  kubeadmConfig: 'kubeadm-config',
  clusterConfigurationKey: 'ClusterConfiguration',
  kubeletConfig: 'kubelet-config',
  kubeletConfigKey: 'kubelet',
  kubeProxy: 'kube-proxy',
  kubeProxyConfigKey: 'config.conf',
  coreDNS: 'coredns',
  corefileKey: 'Corefile',
  kubeDNSService: 'kube-dns',
} as const;

/** The add-on versions kubeadm deploys with `version`; throws UnsupportedVersionError outside the map. */
export function addonVersions(version: string): AddonVersions {
  const v = parseKubernetesVersion(version);
  const found = ADDON_VERSIONS[v.minor];
  if (!found) {
    const known = Object.keys(ADDON_VERSIONS).map((m) => `v1.${m}`);
    throw new UnsupportedVersionError(`no CoreDNS and etcd versions are known for Kubernetes ${version} (known minors: ${known.join(', ')})`);
  }
  return found;
}

/** An image tag as kubeadm writes a Kubernetes version into one ('+' is not allowed in a tag). */
const imageTag = (version: string) => version.replace(/\+/g, '_');

/** Splits `repo/name:tag` (a digest or a port in the registry are kept in the name part). */
export function splitImage(image: string): { name: string; tag?: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { name: image.slice(0, at) };
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image };
}

/** `image` with its tag (and any digest) replaced by `tag`. */
export function withTag(image: string, tag: string): string {
  return `${splitImage(image).name}:${tag}`;
}

/** The repository images should come from: the configured one, moved off the frozen k8s.gcr.io as kubeadm does. */
export function imageRepositoryOf(configured: string | undefined): string {
  const r = (configured ?? '').replace(/\/$/, '');
  return r === '' || r === LEGACY_IMAGE_REPOSITORY ? DEFAULT_IMAGE_REPOSITORY : r;
}

/** kube-proxy's image for a version, as kubeadm's addons/proxy phase names it. */
export function kubeProxyImage(version: string, imageRepository?: string): string {
  return `${imageRepositoryOf(imageRepository)}/kube-proxy:${imageTag(parseKubernetesVersion(version).text)}`;
}

/**
 * kube-proxy's image after an upgrade to `version`: the running image re-tagged (as Cluster API's
 * UpdateKubeProxyImageInfo does), moved to the ClusterConfiguration's repository when that is not the image's own.
 */
export function upgradedKubeProxyImage(current: string, version: string, imageRepository?: string): string {
  const tag = imageTag(parseKubernetesVersion(version).text);
  const name = splitImage(current).name;
  const repo = imageRepositoryOf(imageRepository);
  const base = name.slice(name.lastIndexOf('/') + 1);
  return name.startsWith(`${repo}/`) ? `${name}:${tag}` : `${repo}/${base}:${tag}`;
}

/** CoreDNS's image for a version, as kubeadm's addons/dns phase names it (the default registry nests it). */
export function coreDNSImage(version: string, imageRepository?: string): string {
  const repo = imageRepositoryOf(imageRepository);
  const name = repo === DEFAULT_IMAGE_REPOSITORY ? `${repo}/coredns/coredns` : `${repo}/coredns`;
  return `${name}:${addonVersions(version).coreDNS}`;
}

// ---------------------------------------------------------------------------------------------------------
// ClusterConfiguration (kubeadm-config)

export class InvalidKubeadmObjectError extends Error {
  override name = 'InvalidKubeadmObjectError';
}

/**
 * The ClusterConfiguration text of kubeadm-config at `version`: kubernetesVersion set, imageRepository moved off
 * k8s.gcr.io (as Cluster API's ImageRepositoryFromClusterConfig does for 1.25 and later); every other field, its
 * order and its comments kept. Returns the same text when nothing changes (so a second call writes nothing).
 */
export function upgradedClusterConfiguration(text: string, version: string): string {
  const target = parseKubernetesVersion(version).text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !doc.contents || typeof doc.toJS() !== 'object')
    throw new InvalidKubeadmObjectError(`the ClusterConfiguration of kubeadm-config is not a YAML object: ${doc.errors[0]?.message ?? 'empty'}`);
  let changed = false;
  if (doc.get('kubernetesVersion') !== target) {
    doc.set('kubernetesVersion', target);
    changed = true;
  }
  const repo = doc.get('imageRepository');
  if (repo === LEGACY_IMAGE_REPOSITORY) {
    doc.set('imageRepository', DEFAULT_IMAGE_REPOSITORY);
    changed = true;
  }
  return changed ? doc.toString() : text;
}

/** The imageRepository a ClusterConfiguration names (undefined: kubeadm's default). */
export function imageRepositoryIn(clusterConfiguration: string): string | undefined {
  const v = parseDocument(clusterConfiguration).get('imageRepository');
  return typeof v === 'string' ? v : undefined;
}

/**
 * The kubelet-config ConfigMap needs no edit for an upgrade: since Kubernetes 1.24 its name carries no version, and
 * the KubeletConfiguration in it is the cluster's, not the version's (`kubeadm upgrade apply` uploads it again as it
 * is). Kept as a function so that the adapter's order mirrors kubeadm's phases and a future edit has its place.
 */
export function upgradedKubeletConfiguration(text: string, _version: string): string {
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// CoreDNS Corefile migration

export class CorefileMigrationError extends Error {
  override name = 'CorefileMigrationError';
}

/**
 * The plugins corefile-migration knows for the CoreDNS releases of ADDON_VERSIONS (1.11.3 to 1.13.1), and the options
 * it knows of those whose options it tracks. Between these releases nothing is deprecated, removed or renamed: forward
 * gains `next` and `fail_fast` (1.11.4) and `failfast_all_unhealthy_upstreams` (1.12.0). So a Corefile that uses only
 * what the source release knows migrates unchanged; one with a plugin or option the tool does not know is refused,
 * because whether it survives the upgrade cannot be told (corefile-migration reports those as "unsupported").
 */
const KNOWN_PLUGINS = new Set([
  'errors',
  'log',
  'health',
  'ready',
  'autopath',
  'kubernetes',
  'k8s_external',
  'prometheus',
  'forward',
  'cache',
  'loop',
  'reload',
  'loadbalance',
  'hosts',
  'rewrite',
  'transfer',
]);

const FORWARD_OPTIONS_1_11 = ['except', 'force_tcp', 'prefer_udp', 'expire', 'max_fails', 'tls', 'tls_servername', 'policy', 'health_check', 'max_concurrent'];
/** forward's options by the first CoreDNS release that has them. */
const FORWARD_OPTIONS: readonly { since: string; options: readonly string[] }[] = [
  { since: 'v1.11.0', options: FORWARD_OPTIONS_1_11 },
  { since: 'v1.11.4', options: ['next', 'fail_fast'] },
  { since: 'v1.12.0', options: ['failfast_all_unhealthy_upstreams'] },
];

/** Options the migration tool tracks, per plugin (others' options are carried over as they are). */
const TRACKED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  kubernetes: [
    'resyncperiod',
    'endpoint',
    'tls',
    'kubeconfig',
    'namespaces',
    'labels',
    'pods',
    'endpoint_pod_names',
    'ttl',
    'noendpoints',
    'fallthrough',
    'ignore',
    'namespace_labels',
    'apiserver',
    'multicluster',
    'startup_timeout',
  ],
  cache: ['success', 'denial', 'prefetch', 'serve_stale', 'servfail', 'disable', 'keepttl'],
  health: ['lameduck'],
  errors: ['consolidate', 'stacktrace'],
};

const semverOf = (tag: string) => {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(tag);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};

/** Compares two CoreDNS tags (v1.11.3); undefined when either is not a release tag. */
export function compareCoreDNSTags(a: string, b: string): number | undefined {
  const x = semverOf(a);
  const y = semverOf(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
  return 0;
}

/** The CoreDNS releases this migration is written for: those of ADDON_VERSIONS. */
const SUPPORTED_COREDNS = new Set(Object.values(ADDON_VERSIONS).map((v) => v.coreDNS));

interface CorefilePlugin {
  name: string;
  options: string[];
  line: number;
}

/** The plugins of each server block, with the names of their options: enough to check what migration needs. */
export function parseCorefile(text: string): CorefilePlugin[][] {
  const tokens: { t: string; line: number; first: boolean }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '');
    let first = true;
    for (const t of line.match(/"[^"]*"|[{}]|[^\s{}]+/g) ?? []) {
      tokens.push({ t, line: i + 1, first });
      first = false;
    }
  });
  const servers: CorefilePlugin[][] = [];
  let i = 0;
  const fail = (why: string, line?: number): never => {
    throw new CorefileMigrationError(`the Corefile cannot be read${line ? ` (line ${line})` : ''}: ${why}`);
  };
  while (i < tokens.length) {
    // Server keys up to the block's brace.
    while (i < tokens.length && tokens[i]!.t !== '{') {
      if (tokens[i]!.t === '}') fail('unexpected }', tokens[i]!.line);
      i++;
    }
    if (i >= tokens.length) fail('a server block without {');
    i++;
    const plugins: CorefilePlugin[] = [];
    for (;;) {
      const tok = tokens[i];
      if (!tok) fail('a server block that does not close');
      if (tok!.t === '}') {
        i++;
        break;
      }
      const plugin: CorefilePlugin = { name: tok!.t, options: [], line: tok!.line };
      i++;
      while (tokens[i] && !tokens[i]!.first && tokens[i]!.t !== '{' && tokens[i]!.t !== '}') i++; // arguments
      if (tokens[i]?.t === '{') {
        i++;
        for (;;) {
          const o = tokens[i];
          if (!o) fail(`plugin ${plugin.name} does not close`, plugin.line);
          if (o!.t === '}') {
            i++;
            break;
          }
          if (o!.t === '{') fail('nested block', o!.line);
          if (o!.first) plugin.options.push(o!.t);
          i++;
        }
      }
      plugins.push(plugin);
    }
    servers.push(plugins);
  }
  if (servers.length === 0) fail('no server block');
  return servers;
}

/**
 * The Corefile migrated from CoreDNS `from` to `to` (tags such as v1.11.3), or a CorefileMigrationError naming what
 * it cannot migrate: a downgrade, a release outside ADDON_VERSIONS, a plugin or an option the migration does not
 * know. Same tags: the Corefile as it is, unread (nothing to migrate).
 */
export function migrateCorefile(from: string, to: string, corefile: string): string {
  if (from === to) return corefile;
  const order = compareCoreDNSTags(from, to);
  if (order === undefined) throw new CorefileMigrationError(`CoreDNS ${from} -> ${to}: not release versions`);
  if (order > 0) throw new CorefileMigrationError(`CoreDNS ${from} -> ${to}: a downgrade cannot be migrated`);
  for (const v of [from, to])
    if (!SUPPORTED_COREDNS.has(v)) throw new CorefileMigrationError(`CoreDNS ${v}: no migration rules (known: ${[...SUPPORTED_COREDNS].join(', ')})`);
  const forwardOptions = new Set(FORWARD_OPTIONS.filter((f) => (compareCoreDNSTags(f.since, from) ?? 1) <= 0).flatMap((f) => f.options));
  for (const server of parseCorefile(corefile))
    for (const p of server) {
      if (!KNOWN_PLUGINS.has(p.name))
        throw new CorefileMigrationError(
          `CoreDNS ${from} -> ${to}: plugin "${p.name}" (line ${p.line}) is not one the migration knows, so it cannot tell it survives`,
        );
      const known = p.name === 'forward' ? forwardOptions : TRACKED_OPTIONS[p.name] ? new Set(TRACKED_OPTIONS[p.name]) : undefined;
      for (const o of p.options)
        if (known && !known.has(o))
          throw new CorefileMigrationError(
            `CoreDNS ${from} -> ${to}: option "${o}" of plugin ${p.name} (line ${p.line}) is not one the migration knows for ${from}`,
          );
    }
  // Nothing between the supported releases changes a known plugin or option: the text carries over.
  return corefile;
}

// ---------------------------------------------------------------------------------------------------------
// What `kubeadm init` uploads

/** A Kubernetes object as JSON (the workload API's own shapes; no client types here). */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<
  string,
  unknown
>;

export interface InitObjectsOptions {
  /** @default 'kubernetes' (kubeadm's default clusterName) */
  clusterName?: string;
  /** @default registry.k8s.io */
  imageRepository?: string;
}

/** The default Corefile kubeadm deploys (addons/dns/manifests.go), for the cluster's DNS domain. */
export function defaultCorefile(dnsDomain: string): string {
  return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${dnsDomain} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
}

/** The tenth address of the first service CIDR: kubeadm's kube-dns ClusterIP (GetDNSIP). IPv4 only here. */
function dnsIP(serviceCidr: string): string {
  const [addr] = serviceCidr.split('/');
  const parts = (addr ?? '').split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p)))
    throw new InvalidKubeadmObjectError(`service CIDR ${serviceCidr}: only IPv4 is supported here`);
  const n = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]! + 10;
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: KubeadmObjectNames.namespace },
  data,
});

/**
 * The objects `kubeadm init` uploads for `version` (its upload-config and addon phases), in the order it makes them:
 * kubeadm-config, kubelet-config, kube-proxy (ConfigMap, DaemonSet), CoreDNS (ConfigMap, Deployment, Service). Reduced
 * to what an upgrade reads and writes plus what makes them valid objects; the RBAC and ServiceAccounts of those phases
 * are left out, and so is kube-proxy's privileged securityContext (a kube-apiserver run without --allow-privileged,
 * as the tests' is, refuses it; no upgrade step reads it).
 */
export function kubeadmInitObjects(version: string, clusterSpec: ClusterSpec, options: InitObjectsOptions = {}): KubeObject[] {
  const v = parseKubernetesVersion(version).text;
  const repo = imageRepositoryOf(options.imageRepository);
  const net = clusterSpec.clusterNetwork;
  const endpoint = clusterSpec.controlPlaneEndpoint;
  const clusterConfiguration = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    apiServer: {},
    caCertificateValidityPeriod: '87600h0m0s',
    certificateValidityPeriod: '8760h0m0s',
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: options.clusterName ?? 'kubernetes',
    ...(endpoint ? { controlPlaneEndpoint: `${endpoint.host}:${endpoint.port}` } : {}),
    controllerManager: {},
    dns: {},
    encryptionAlgorithm: 'RSA-2048',
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: repo,
    kubernetesVersion: v,
    networking: { dnsDomain: net.serviceDomain, podSubnet: net.pods.cidrBlocks.join(','), serviceSubnet: net.services.cidrBlocks.join(',') },
    proxy: {},
    scheduler: {},
  };
  const kubeletConfiguration = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'systemd',
    clusterDNS: [dnsIP(net.services.cidrBlocks[0]!)],
    clusterDomain: net.serviceDomain,
    rotateCertificates: true,
    staticPodPath: '/etc/kubernetes/manifests',
  };
  const kubeProxyConfiguration = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
    clusterCIDR: net.pods.cidrBlocks.join(','),
    mode: '',
  };
  const k8sApp = (app: string) => ({ 'k8s-app': app });
  return [
    configMap(KubeadmObjectNames.kubeadmConfig, { [KubeadmObjectNames.clusterConfigurationKey]: stringify(clusterConfiguration) }),
    configMap(KubeadmObjectNames.kubeletConfig, { [KubeadmObjectNames.kubeletConfigKey]: stringify(kubeletConfiguration) }),
    {
      ...configMap(KubeadmObjectNames.kubeProxy, { [KubeadmObjectNames.kubeProxyConfigKey]: stringify(kubeProxyConfiguration) }),
      metadata: { name: KubeadmObjectNames.kubeProxy, namespace: KubeadmObjectNames.namespace, labels: { app: 'kube-proxy' } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: KubeadmObjectNames.kubeProxy, namespace: KubeadmObjectNames.namespace, labels: k8sApp('kube-proxy') },
      spec: {
        selector: { matchLabels: k8sApp('kube-proxy') },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: k8sApp('kube-proxy') },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'kube-proxy',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'kube-proxy',
                image: kubeProxyImage(v, repo),
                command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
              },
            ],
            volumes: [{ name: 'kube-proxy', configMap: { name: KubeadmObjectNames.kubeProxy } }],
          },
        },
      },
    },
    configMap(KubeadmObjectNames.coreDNS, { [KubeadmObjectNames.corefileKey]: defaultCorefile(net.serviceDomain) }),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: KubeadmObjectNames.coreDNS, namespace: KubeadmObjectNames.namespace, labels: k8sApp('kube-dns') },
      spec: {
        replicas: 2,
        selector: { matchLabels: k8sApp('kube-dns') },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: k8sApp('kube-dns') },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
            ],
            containers: [
              {
                name: 'coredns',
                image: coreDNSImage(v, repo),
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            dnsPolicy: 'Default',
            volumes: [
              { name: 'config-volume', configMap: { name: KubeadmObjectNames.coreDNS, items: [{ key: KubeadmObjectNames.corefileKey, path: 'Corefile' }] } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: KubeadmObjectNames.kubeDNSService,
        namespace: KubeadmObjectNames.namespace,
        labels: { ...k8sApp('kube-dns'), 'kubernetes.io/name': 'CoreDNS' },
      },
      spec: {
        clusterIP: dnsIP(net.services.cidrBlocks[0]!),
        selector: k8sApp('kube-dns'),
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  ];
}
