/**
 * A cluster's CA as the kubeadm bootstrap keeps it in the secret store: read through a short in-memory cache, and
 * the admin kubeconfigs signed with it (the one a person downloads, and the control plane's own short-lived one).
 * The part of the bootstrap that needs no workload API: the kubeconfig function uses it alone, so that its bundle
 * holds no Kubernetes client (bench/coldstart.ts), and KubeadmBootstrapper reads its certificates through it.
 */
import type { Endpoint } from '../../bootstrap/kubeconfig.js';
import type { SecretNames } from '../../bootstrap/names.js';
import type { ClusterCertificates } from '../../bootstrap/pki.js';
import type { ClusterSpec } from '../../api/cluster.js';
import type { Clock, SecretStore } from '../../ports.js';
import { adminKubeconfig } from './admin-kubeconfig.js';
import { issueEtcdClientCertificate, parseCertificates } from './certificates.js';

/** How long the control plane's own client certificate for a workload API lasts; remade at half of it. */
export const WORKLOAD_CREDENTIALS_SECONDS = 3600;

/** What a client of a cluster's etcd presents and trusts: the etcd CA, and a client certificate it signed. */
export interface EtcdClientCredentials {
  /** PEM of the etcd CA, the only CA the client trusts for etcd's serving certificates. */
  ca: string;
  cert: string;
  key: string;
}

export interface ClusterCaOptions {
  secrets: SecretStore;
  clock: Clock;
  /** Where the certificates are (secretNames(prefix).certificates). */
  names: SecretNames;
  /** How long certificates read from the secret store are kept in memory. @default 300 */
  cacheSeconds?: number;
}

const decoder = new TextDecoder();

export class ClusterCa {
  private readonly cacheMs: number;
  private readonly certCache = new Map<string, { certs: ClusterCertificates; at: number }>();
  private readonly kubeconfigCache = new Map<string, { text: string; at: number }>();
  private readonly etcdClientCache = new Map<string, { credentials: EtcdClientCredentials; at: number }>();

  constructor(private readonly options: ClusterCaOptions) {
    this.cacheMs = (options.cacheSeconds ?? 300) * 1000;
  }

  /** The cluster's certificates, or undefined when none were made yet. */
  async certificates(namespace: string, clusterName: string): Promise<ClusterCertificates | undefined> {
    const key = `${namespace}/${clusterName}`;
    const now = this.options.clock.now().getTime();
    const cached = this.certCache.get(key);
    if (cached && now - cached.at < this.cacheMs) return cached.certs;
    const raw = await this.options.secrets.get(this.options.names.certificates(namespace, clusterName));
    if (!raw) return undefined;
    const certs = parseCertificates(decoder.decode(raw));
    this.certCache.set(key, { certs, at: now });
    return certs;
  }

  /** Keeps certificates just made (and stored) as if they had been read. */
  remember(namespace: string, clusterName: string, certs: ClusterCertificates): void {
    this.certCache.set(`${namespace}/${clusterName}`, { certs, at: this.options.clock.now().getTime() });
  }

  /** Drops what is kept of a cluster whose certificates are deleted. */
  forget(namespace: string, clusterName: string): void {
    this.certCache.delete(`${namespace}/${clusterName}`);
    this.kubeconfigCache.delete(`${namespace}/${clusterName}`);
    this.etcdClientCache.delete(`${namespace}/${clusterName}`);
  }

  async adminKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec, validitySeconds?: number): Promise<string | undefined> {
    const endpoint: Endpoint | undefined = clusterSpec.controlPlaneEndpoint;
    if (!endpoint) return undefined;
    const certificates = await this.certificates(namespace, clusterName);
    if (!certificates) return undefined;
    return adminKubeconfig({
      clusterName,
      endpoint,
      certificates,
      now: this.options.clock.now(),
      ...(validitySeconds !== undefined ? { validitySeconds } : {}),
    });
  }

  /**
   * The kubeconfig the control plane itself uses for a workload cluster (node reads, drains, tokens): a short-lived
   * admin certificate, remade at half its life. Undefined when the cluster has no certificates or no endpoint.
   */
  async workloadKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec | undefined): Promise<string | undefined> {
    const endpoint = clusterSpec?.controlPlaneEndpoint;
    if (!endpoint) return undefined;
    const key = `${namespace}/${clusterName}`;
    const now = this.options.clock.now();
    const cached = this.kubeconfigCache.get(key);
    if (cached && now.getTime() - cached.at < (WORKLOAD_CREDENTIALS_SECONDS * 1000) / 2 && cached.text.includes(endpoint.host)) return cached.text;
    const certificates = await this.certificates(namespace, clusterName);
    if (!certificates) return undefined;
    const text = await adminKubeconfig({ clusterName, endpoint, certificates, now, validitySeconds: WORKLOAD_CREDENTIALS_SECONDS });
    this.kubeconfigCache.set(key, { text, at: now.getTime() });
    return text;
  }

  /**
   * The control plane's own client credentials for a cluster's etcd (member list, status, alarms, leadership
   * moves, member removal): a short-lived certificate from the etcd CA, as kubeadm's apiserver-etcd-client, kept
   * and remade at half its life like the workload kubeconfig. Undefined when the cluster has no certificates.
   */
  async etcdClientCredentials(namespace: string, clusterName: string): Promise<EtcdClientCredentials | undefined> {
    const key = `${namespace}/${clusterName}`;
    const now = this.options.clock.now();
    const cached = this.etcdClientCache.get(key);
    if (cached && now.getTime() - cached.at < (WORKLOAD_CREDENTIALS_SECONDS * 1000) / 2) return cached.credentials;
    const certificates = await this.certificates(namespace, clusterName);
    if (!certificates) return undefined;
    const client = await issueEtcdClientCertificate(certificates.etcdCa, now, WORKLOAD_CREDENTIALS_SECONDS);
    const credentials = { ca: certificates.etcdCa.cert, ...client };
    this.etcdClientCache.set(key, { credentials, at: now.getTime() });
    return credentials;
  }
}
