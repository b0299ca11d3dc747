import type { NodeFact } from '../../core/observed.js';
import { NodeReaderUnavailableError, type NodeReader } from '../../ports.js';
import type { SimCloud } from './sim-cloud.js';

/** NodeReader over a SimCloud: the nodes its instances register (see SimCloud for their lifecycle). */
export class SimNodeReader implements NodeReader {
  constructor(readonly cloud: SimCloud) {}

  async listNodes(namespace: string, clusterName: string): Promise<NodeFact[]> {
    if (this.cloud.takeNodeReadFailure()) throw new NodeReaderUnavailableError(`simulated outage of the workload API of ${namespace}/${clusterName}`);
    return this.cloud.nodes(namespace, clusterName);
  }
}
