/**
 * Writes the labels synced from Machines onto Nodes of a workload cluster: one JSON merge patch of the Node's
 * labels and the record annotation, as Cluster API's machine controller patches them
 * (internal/controllers/machine/machine_controller_noderef.go: patchNode). What to write is core's
 * (core/machine/node-labels.ts); nothing else of the Node is touched.
 */
import type { NodeLabelPatch } from '../../core/machine/node-labels.js';
import { NodeReaderUnavailableError, type NodeLabeler } from '../../ports.js';
import { errorMessage, httpStatusOf, resourcePath } from '../kubernetes-client/rest-client.js';
import type { Node } from '../kubernetes-client/types.js';
import { WorkloadClients, type WorkloadClientOptions } from './workload.js';

export class KubernetesNodeLabeler implements NodeLabeler {
  private readonly clients: WorkloadClients;

  /** A WorkloadClients of its own from the options, or one shared with the other workload adapters. */
  constructor(options: WorkloadClientOptions | WorkloadClients) {
    this.clients = options instanceof WorkloadClients ? options : new WorkloadClients(options);
  }

  async patchLabels(namespace: string, clusterName: string, nodeName: string, patch: NodeLabelPatch): Promise<void> {
    const where = `the workload API of ${namespace}/${clusterName}`;
    const core = await this.clients.core(namespace, clusterName).catch((err: unknown) => {
      throw new NodeReaderUnavailableError(`${where}: the kubeconfig cannot be read: ${errorMessage(err)}`, { cause: err });
    });
    if (!core) throw new NodeReaderUnavailableError(`${where}: no kubeconfig for the cluster yet`);
    // Note: no resourceVersion precondition. The kubelet writes its Node every few seconds, so one would conflict
    // often; a merge patch names only the keys it sets or removes, so it overwrites nobody else's labels.
    const body = { metadata: { labels: patch.labels, annotations: patch.annotations } };
    try {
      await this.clients.withTimeout(
        `patch node ${nodeName} in ${where}`,
        core.patch<Node>(resourcePath('', 'v1', 'nodes', { name: nodeName }), body, 'merge'),
      );
    } catch (err) {
      // Gone since it was read: the next reconcile sees the Node that replaced it, if any.
      if (httpStatusOf(err) === 404) return;
      throw new NodeReaderUnavailableError(`cannot patch the labels of node ${nodeName} in ${where}: ${errorMessage(err)}`, { cause: err });
    }
  }
}
