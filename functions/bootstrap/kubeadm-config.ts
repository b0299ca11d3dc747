/**
 * kubeadm's configuration files (kubeadm.k8s.io/v1beta4): InitConfiguration and ClusterConfiguration for the
 * machine that initialises the control plane, JoinConfiguration for every other machine (with the certificate
 * key for control-plane joins). What goes in them, learnt from Cluster API bootstrap/kubeadm
 * (internal/controllers/kubeadmconfig_controller.go: handleClusterNotInitialized, joinWorker, joinControlplane;
 * controlPlaneEndpoint, networking and token discovery with the CA hash), written anew.
 */
import { stringify } from 'yaml';
import type { NodeTaint } from '../api/taint.js';
import type { Endpoint } from './kubeconfig.js';
import { NODE_BOOTSTRAP_GROUP, tokenString, type BootstrapToken } from './tokens.js';

export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
/** kubeadm v1beta4 exists from Kubernetes 1.31; earlier versions are not bootstrapped. */
export const MIN_KUBERNETES_MINOR = 31;
/** The port kube-apiserver binds on every control-plane machine (localAPIEndpoint.bindPort), the target port. */
export const API_SERVER_BIND_PORT = 6443;
/**
 * Stands for the node's provider ID (aws:///zone/instance-id), which only the instance knows; the bootstrap
 * script replaces it from the instance metadata before kubeadm runs. With it set, the Node carries the
 * provider ID clusterless matches its Machine by, with or without a cloud controller manager.
 */
export const PROVIDER_ID_PLACEHOLDER = '__CLUSTERLESS_PROVIDER_ID__';
/** Where the bootstrap writes the configuration on the machine. */
export const KUBEADM_CONFIG_PATH = '/run/kubeadm/kubeadm.yaml';

export class UnsupportedVersionError extends Error {
  override name = 'UnsupportedVersionError';
}

/** `v1.31.2` -> `{ major: 1, minor: 31, patch: 2 }`; throws for anything else. */
export function parseKubernetesVersion(version: string): { major: number; minor: number; patch: number; text: string } {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new UnsupportedVersionError(`"${version}" is not a Kubernetes release version such as v1.31.2`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major !== 1 || minor < MIN_KUBERNETES_MINOR)
    throw new UnsupportedVersionError(
      `Kubernetes ${version} cannot be bootstrapped: kubeadm's v1beta4 configuration needs v1.${MIN_KUBERNETES_MINOR} or newer`,
    );
  return { major, minor, patch, text: `v${major}.${minor}.${patch}` };
}

export interface KubeadmCluster {
  clusterName: string;
  version: string;
  controlPlaneEndpoint: Endpoint;
  podSubnets: readonly string[];
  serviceSubnets: readonly string[];
  dnsDomain: string;
}

const endpointText = (e: Endpoint) => `${e.host.includes(':') && !e.host.startsWith('[') ? `[${e.host}]` : e.host}:${e.port}`;

/**
 * Note: kubeadm taints control-plane nodes by default, and a taints list replaces that default (an empty one
 * means none). The control-plane taint is therefore stated, and a machine's own taints are added after it, so
 * that they never untaint a control-plane node (kubeadm cmd/kubeadm/app/apis/kubeadm/v1beta4 NodeRegistrationOptions).
 */
const nodeRegistration = (controlPlane: boolean, taints: readonly NodeTaint[] = [], nodeLabels: Readonly<Record<string, string>> = {}) => {
  const all = [...(controlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : []), ...taints.map(taintOf)];
  const labels = nodeLabelsArg(nodeLabels);
  return {
    kubeletExtraArgs: [{ name: 'provider-id', value: PROVIDER_ID_PLACEHOLDER }, ...(labels ? [{ name: 'node-labels', value: labels }] : [])],
    ...(all.length > 0 ? { taints: all } : {}),
  };
};

/**
 * The kubelet's --node-labels: key=value pairs, comma-separated, sorted so that the same labels render the same
 * text. The API only accepts keys and values without commas or '=' (label syntax) and keys the kubelet may set
 * (api/node-registration.ts), so the text is never ambiguous and the kubelet never refuses it.
 */
export function nodeLabelsArg(labels: Readonly<Record<string, string>>): string | undefined {
  const keys = Object.keys(labels).sort();
  return keys.length > 0 ? keys.map((k) => `${k}=${labels[k]}`).join(',') : undefined;
}

/** A taint as kubeadm's configuration writes it: no value when it has none. */
const taintOf = (t: NodeTaint) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect });

function clusterConfiguration(c: KubeadmCluster): Record<string, unknown> {
  const version = parseKubernetesVersion(c.version).text;
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    clusterName: c.clusterName,
    kubernetesVersion: version,
    controlPlaneEndpoint: endpointText(c.controlPlaneEndpoint),
    networking: { podSubnet: c.podSubnets.join(','), serviceSubnet: c.serviceSubnets.join(','), dnsDomain: c.dnsDomain },
    // The endpoint's name in the serving certificate, also when it is reached by another name than the node's.
    apiServer: { certSANs: [c.controlPlaneEndpoint.host] },
  };
}

export interface InitOptions {
  /**
   * The token kubeadm init makes. Without one kubeadm makes its own for 24 hours; this one lives only as long
   * as `ttlSeconds`, since every later join gets a token of its own.
   */
  token: BootstrapToken;
  ttlSeconds: number;
  /** The machine's own taints (Machine spec.taints), after kubeadm's control-plane taint. */
  taints?: readonly NodeTaint[];
  /** Labels the kubelet registers the Node with (its MachineClass's nodeRegistration.labels). */
  nodeLabels?: Readonly<Record<string, string>>;
}

/** InitConfiguration and ClusterConfiguration, as one YAML stream. */
export function renderInitConfiguration(c: KubeadmCluster, o: InitOptions): string {
  const init = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: tokenString(o.token),
        ttl: `${o.ttlSeconds}s`,
        usages: ['signing', 'authentication'],
        groups: [NODE_BOOTSTRAP_GROUP],
        description: 'clusterless: kubeadm init',
      },
    ],
    localAPIEndpoint: { bindPort: API_SERVER_BIND_PORT },
    nodeRegistration: nodeRegistration(true, o.taints, o.nodeLabels),
  };
  return [init, clusterConfiguration(c)].map((d) => stringify(d)).join('---\n');
}

export interface JoinOptions {
  token: BootstrapToken;
  /** caCertHash of the cluster CA: the joining machine trusts the API only if its CA matches. */
  caCertHashes: string[];
  /** For a control-plane machine: the key its certificates are downloaded with (kubeadm-certs). */
  certificateKey?: string;
  /** The machine's own taints (Machine spec.taints): the kubelet registers with them. */
  taints?: readonly NodeTaint[];
  /** Labels the kubelet registers the Node with (its MachineClass's nodeRegistration.labels). */
  nodeLabels?: Readonly<Record<string, string>>;
}

export function renderJoinConfiguration(c: KubeadmCluster, o: JoinOptions): string {
  parseKubernetesVersion(c.version);
  const controlPlane = o.certificateKey !== undefined;
  return stringify({
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: endpointText(c.controlPlaneEndpoint), token: tokenString(o.token), caCertHashes: o.caCertHashes } },
    nodeRegistration: nodeRegistration(controlPlane, o.taints, o.nodeLabels),
    ...(controlPlane ? { controlPlane: { localAPIEndpoint: { bindPort: API_SERVER_BIND_PORT }, certificateKey: o.certificateKey } } : {}),
  });
}
