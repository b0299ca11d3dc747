import type { V1Node } from '@kubernetes/client-node';
import type { NodeCondition, NodeFact } from '../../core/observed.js';
import { NodeReaderUnavailableError, type NodeReader } from '../../ports.js';
import { errorMessage } from '../kubernetes-client/client.js';
import { WorkloadClients, timestamp, type WorkloadClientOptions } from './workload.js';

const STATUSES = new Set(['True', 'False', 'Unknown']);

/** A Node as the planners see it. */
export function nodeFact(node: V1Node): NodeFact {
  const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: (STATUSES.has(c.status) ? c.status : 'Unknown') as NodeCondition['status'],
    lastTransitionTime: timestamp(c.lastTransitionTime) ?? timestamp(c.lastHeartbeatTime) ?? '',
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  }));
  return {
    name: node.metadata?.name ?? '',
    ...(node.metadata?.uid ? { uid: node.metadata.uid } : {}),
    ...(node.spec?.providerID ? { providerID: node.spec.providerID } : {}),
    conditions,
    unschedulable: node.spec?.unschedulable === true,
    ...(node.status?.nodeInfo?.kubeletVersion ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
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
    let core;
    try {
      core = await this.clients.core(namespace, clusterName);
    } catch (err) {
      throw new NodeReaderUnavailableError(`${where}: the kubeconfig cannot be read: ${errorMessage(err)}`, { cause: err });
    }
    if (!core) throw new NodeReaderUnavailableError(`${where}: no kubeconfig for the cluster yet`);
    const nodes: V1Node[] = [];
    try {
      let _continue: string | undefined;
      do {
        const page = await this.clients.withTimeout(where, core.listNode({ limit: 500, ...(_continue ? { _continue } : {}) }));
        nodes.push(...page.items);
        _continue = page.metadata?._continue || undefined;
      } while (_continue);
    } catch (err) {
      throw new NodeReaderUnavailableError(`${where} cannot be read: ${errorMessage(err)}`, { cause: err });
    }
    return nodes.map(nodeFact);
  }
}
