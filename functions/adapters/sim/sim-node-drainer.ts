import type { NodeDrainer } from '../../ports.js';
import type { SimCloud } from './sim-cloud.js';

/**
 * NodeDrainer over a SimCloud: simulated nodes run no workloads, so a drain is done at once; a Node is deleted
 * in the simulator as through a workload API (SimCloud.deleteNode). Without it, a deleting machine's node stayed
 * until the cloud node lifecycle controller's delay, and every machine deletion waited out its
 * nodeDeletionTimeoutSeconds: seconds a real cluster, whose API server deletes the Node at once, does not spend.
 */
export class SimNodeDrainer implements NodeDrainer {
  constructor(readonly cloud: SimCloud) {}

  async drain(): Promise<{ drained: boolean; message: string }> {
    return { drained: true, message: 'no workloads on a simulated node' };
  }

  async deleteNode(namespace: string, clusterName: string, nodeName: string): Promise<{ deleted: boolean; message: string }> {
    const found = this.cloud.deleteNode(namespace, clusterName, nodeName);
    return { deleted: true, message: found ? `Node ${nodeName} deleted` : `Node ${nodeName} is gone already` };
  }
}
