import { LABELS_FROM_MACHINE_ANNOTATION } from '../../core/machine/node-labels.js';
import type { NodeCondition, NodeFact } from '../../core/observed.js';
import { NodeReaderUnavailableError, type NodeReader } from '../../ports.js';
import { errorMessage, resourcePath } from '../kubernetes-client/rest-client.js';
import type { List, Node } from '../kubernetes-client/types.js';
import { WorkloadClients, timestamp, type WorkloadClientOptions } from './workload.js';

const STATUSES = new Set(['True', 'False', 'Unknown']);

/** A Node as the planners see it. */
export function nodeFact(node: Node): NodeFact {
  const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: (STATUSES.has(c.status) ? c.status : 'Unknown') as NodeCondition['status'],
    lastTransitionTime: timestamp(c.lastTransitionTime) ?? timestamp(c.lastHeartbeatTime) ?? '',
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  }));
  const labelsFromMachine = node.metadata?.annotations?.[LABELS_FROM_MACHINE_ANNOTATION];
  const volumesAttached = (node.status?.volumesAttached ?? []).map((v) => v.name).filter((n) => typeof n === 'string' && n.length > 0);
  return {
    name: node.metadata?.name ?? '',
    ...(node.metadata?.uid ? { uid: node.metadata.uid } : {}),
    ...(node.spec?.providerID ? { providerID: node.spec.providerID } : {}),
    conditions,
    unschedulable: node.spec?.unschedulable === true,
    ...(node.status?.nodeInfo?.kubeletVersion ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
    labels: { ...node.metadata?.labels },
    ...(labelsFromMachine !== undefined ? { labelsFromMachine } : {}),
    ...(volumesAttached.length > 0 ? { volumesAttached } : {}),
  };
}

/**
 * Reads the nodes of a workload cluster through its API (kubeconfig from the resolver). Every failure to
 * read them (no kubeconfig yet, refused, timed out, TLS, 401/403, 5xx) is a NodeReaderUnavailableError:
 * the planners then leave node-based decisions (health checks) alone rather than act on no data.
 */
export class KubernetesNodeReader implements NodeReader {
  private readonly clients: WorkloadClients;

  /** A WorkloadClients of its own from the options, or one shared with the other workload adapters. */
  constructor(options: WorkloadClientOptions | WorkloadClients) {
    this.clients = options instanceof WorkloadClients ? options : new WorkloadClients(options);
  }

  async listNodes(namespace: string, clusterName: string): Promise<NodeFact[]> {
    const where = `the workload API of ${namespace}/${clusterName}`;
    let core: Awaited<ReturnType<typeof this.clients.core>>;
    try {
      core = await this.clients.core(namespace, clusterName);
    } catch (err) {
      throw new NodeReaderUnavailableError(`${where}: the kubeconfig cannot be read: ${errorMessage(err)}`, { cause: err });
    }
    if (!core) throw new NodeReaderUnavailableError(`${where}: no kubeconfig for the cluster yet`);
    const nodes: Node[] = [];
    try {
      let next: string | undefined;
      do {
        const page = await this.clients.withTimeout(where, core.get<List<Node>>(resourcePath('', 'v1', 'nodes'), { limit: 500, continue: next }));
        nodes.push(...(page.items ?? []));
        next = page.metadata?.continue || undefined;
      } while (next);
    } catch (err) {
      throw new NodeReaderUnavailableError(`${where} cannot be read: ${errorMessage(err)}`, { cause: err });
    }
    return nodes.map(nodeFact);
  }
}
