/** Clients of workload clusters' APIs, found by the cluster's namespace and name. */
import type { Kubeconfig, KubeconfigSource } from '../kubernetes-client/kubeconfig.js';
import { KubernetesClient } from '../kubernetes-client/rest-client.js';

/**
 * Where the kubeconfig of a workload cluster comes from (the host knows: a file for a test, the secret
 * clusterless keeps for a cluster it made). Undefined when there is none (yet).
 */
export type KubeconfigResolver = (namespace: string, clusterName: string) => KubeconfigSource | undefined | Promise<KubeconfigSource | undefined>;

export interface WorkloadClientOptions {
  kubeconfigFor: KubeconfigResolver;
  /**
   * How long one call may take before the workload API counts as unreachable.
   * @default 10000
   */
  timeoutMs?: number;
}

export class WorkloadTimeoutError extends Error {
  override name = 'WorkloadTimeoutError';
}

/**
 * Builds (and keeps) one KubernetesClient per cluster and kubeconfig: the same text or KubeConfig gives the same client,
 * and a cluster's new kubeconfig text (renewed credentials) replaces its old client, so that a long-lived
 * process keeps one client per cluster, not one per credential it ever had.
 */
export class WorkloadClients {
  private readonly byCluster = new Map<string, { text: string; api: KubernetesClient }>();
  private readonly byConfig = new WeakMap<Kubeconfig, KubernetesClient>();
  readonly timeoutMs: number;

  constructor(private readonly options: WorkloadClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The client of a cluster's API; undefined when the resolver has no kubeconfig for it. */
  async core(namespace: string, clusterName: string): Promise<KubernetesClient | undefined> {
    const source = await this.options.kubeconfigFor(namespace, clusterName);
    if (source === undefined) return undefined;
    if (typeof source === 'string') {
      const key = `${namespace}/${clusterName}`;
      const kept = this.byCluster.get(key);
      if (kept?.text === source) return kept.api;
      const api = new KubernetesClient(source, { timeoutMs: this.timeoutMs });
      this.byCluster.set(key, { text: source, api });
      return api;
    }
    let api = this.byConfig.get(source);
    if (!api) {
      api = new KubernetesClient(source, { timeoutMs: this.timeoutMs });
      this.byConfig.set(source, api);
    }
    return api;
  }

  /** How many clusters have a client made from kubeconfig text (tests). */
  get clusterCount(): number {
    return this.byCluster.size;
  }

  /** `call` with a deadline: a dead endpoint can hold a TCP connect for minutes. */
  async withTimeout<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkloadTimeoutError(`${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([call, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A Kubernetes timestamp in the API's RFC 3339 form (a Date, as other clients give them, converted). */
export function timestamp(v: unknown): string | undefined {
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof v === 'string' ? v : undefined;
}
