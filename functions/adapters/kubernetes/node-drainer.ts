/**
 * Drains a node of a workload cluster as `kubectl drain` and Cluster API's machine controller do
 * (cluster-api internal/controllers/machine/drain): cordon, then evict every pod through the Eviction API
 * (policy/v1), so that PodDisruptionBudgets are respected, except DaemonSet pods (their controller would
 * put them back; they go with the node) and static pods' mirror pods (the API cannot delete them).
 * One call is one pass; the caller repeats it until `drained` or until its node drain timeout.
 */
import type { NodeDrainer } from '../../ports.js';
import { errorMessage, httpStatusOf, resourcePath, type KubernetesClient } from '../kubernetes-client/rest-client.js';
import type { Eviction, List, Node, Pod } from '../kubernetes-client/types.js';
import { WorkloadClients, type WorkloadClientOptions } from './workload.js';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export const isDaemonSetPod = (pod: Pod) => (pod.metadata?.ownerReferences ?? []).some((o) => o.controller && o.kind === 'DaemonSet');
export const isMirrorPod = (pod: Pod) => pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
const isFinished = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const podName = (pod: Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export class KubernetesNodeDrainer implements NodeDrainer {
  private readonly clients: WorkloadClients;

  /** A WorkloadClients of its own from the options, or one shared with the other workload adapters. */
  constructor(options: WorkloadClientOptions | WorkloadClients) {
    this.clients = options instanceof WorkloadClients ? options : new WorkloadClients(options);
  }

  /** DELETE of the Node; a 404 is a Node gone already. */
  async deleteNode(namespace: string, clusterName: string, nodeName: string): Promise<{ deleted: boolean; message: string }> {
    let core: Awaited<ReturnType<typeof this.clients.core>>;
    try {
      core = await this.clients.core(namespace, clusterName);
    } catch (err) {
      return { deleted: false, message: `the kubeconfig of ${namespace}/${clusterName} cannot be read: ${errorMessage(err)}` };
    }
    if (!core) return { deleted: false, message: `no kubeconfig for the workload cluster ${namespace}/${clusterName} yet` };
    try {
      await this.clients.withTimeout(`delete node in ${namespace}/${clusterName}`, core.delete(resourcePath('', 'v1', 'nodes', { name: nodeName })));
      return { deleted: true, message: `node ${nodeName} deleted` };
    } catch (err) {
      if (httpStatusOf(err) === 404) return { deleted: true, message: `node ${nodeName} does not exist` };
      return { deleted: false, message: `cannot delete node ${nodeName}: ${errorMessage(err)}` };
    }
  }

  /**
   * Note: a pod being deleted counts as not drained yet, since its containers may still run, unless the
   * node is unreachable (Ready Unknown): no kubelet will confirm the deletion, so waiting would never end.
   * Cluster API skips such pods too (SkipWaitForDeleteTimeoutSeconds).
   */
  async drain(namespace: string, clusterName: string, nodeName: string): Promise<{ drained: boolean; message: string }> {
    const core = await this.clients.core(namespace, clusterName);
    if (!core) return { drained: false, message: `no kubeconfig for the workload cluster ${namespace}/${clusterName} yet` };
    const call = <T>(what: string, p: Promise<T>) => this.clients.withTimeout(`${what} in ${namespace}/${clusterName}`, p);

    let unreachable = false;
    try {
      const path = resourcePath('', 'v1', 'nodes', { name: nodeName });
      const node = await call('read node', core.get<Node>(path));
      unreachable = (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'Unknown');
      if (!node.spec?.unschedulable) await call('cordon', core.patch<Node>(path, { spec: { unschedulable: true } }, 'merge'));
    } catch (err) {
      if (httpStatusOf(err) === 404) return { drained: true, message: `node ${nodeName} does not exist` };
      return { drained: false, message: `cannot cordon node ${nodeName}: ${errorMessage(err)}` };
    }

    let pods: Pod[];
    try {
      pods = await listPodsOn(core, nodeName, call);
    } catch (err) {
      return { drained: false, message: `cannot list the pods of node ${nodeName}: ${errorMessage(err)}` };
    }
    const skipped = pods.filter((p) => isDaemonSetPod(p) || isMirrorPod(p));
    const evictable = pods.filter((p) => !skipped.includes(p) && !isFinished(p));

    let evicted = 0;
    const terminating: string[] = [];
    const blocked: string[] = [];
    const failed: string[] = [];
    for (const pod of evictable) {
      if (pod.metadata?.deletionTimestamp) {
        if (!unreachable) terminating.push(podName(pod));
        continue;
      }
      const { name, namespace: podNamespace } = pod.metadata as { name: string; namespace: string };
      const eviction: Eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: podNamespace } };
      try {
        await call('evict', core.create(resourcePath('', 'v1', 'pods', { namespace: podNamespace, name, subresource: 'eviction' }), eviction));
        evicted++;
        if (!unreachable) terminating.push(podName(pod));
      } catch (err) {
        const code = httpStatusOf(err);
        if (code === 404) continue; // gone meanwhile
        // 429: a PodDisruptionBudget allows no disruption now; try again on the next pass.
        if (code === 429) blocked.push(`${podName(pod)} (${errorMessage(err)})`);
        else failed.push(`${podName(pod)} (${errorMessage(err)})`);
      }
    }

    const drained = terminating.length === 0 && blocked.length === 0 && failed.length === 0;
    const parts: string[] = [];
    if (evicted) parts.push(`evicted ${evicted} pod${evicted === 1 ? '' : 's'}`);
    if (terminating.length) parts.push(`waiting for ${terminating.length} pod${terminating.length === 1 ? '' : 's'} to terminate: ${terminating.join(', ')}`);
    if (blocked.length) parts.push(`blocked by a PodDisruptionBudget: ${blocked.join(', ')}`);
    if (failed.length) parts.push(`eviction failed: ${failed.join(', ')}`);
    if (skipped.length) parts.push(`ignored ${skipped.length} DaemonSet or mirror pod${skipped.length === 1 ? '' : 's'}`);
    const message = drained
      ? `node ${nodeName} drained${parts.length ? `: ${parts.join('; ')}` : ''}`
      : `node ${nodeName} not drained yet: ${parts.join('; ')}`;
    return { drained, message };
  }
}

async function listPodsOn(core: KubernetesClient, nodeName: string, call: <T>(what: string, p: Promise<T>) => Promise<T>): Promise<Pod[]> {
  const pods: Pod[] = [];
  let next: string | undefined;
  do {
    const page = await call(
      'list pods',
      core.get<List<Pod>>(resourcePath('', 'v1', 'pods'), { fieldSelector: `spec.nodeName=${nodeName}`, limit: 500, continue: next }),
    );
    pods.push(...(page.items ?? []));
    next = page.metadata?.continue || undefined;
  } while (next);
  return pods;
}
