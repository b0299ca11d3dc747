/** The NodeReader contract on SimNodeReader: the nodes the simulated cloud's instances register. */
import { SimNodeReader } from '../../../functions/adapters/sim/sim-node-reader.js';
import { runNodeReaderContract } from '../../support/node-reader-contract.js';
import { newSim, simSpec } from './sim-fixtures.js';

runNodeReaderContract('SimNodeReader', async () => {
  const { clock, cloud, provider } = newSim();
  const uids = new Map<string, string>();
  let clusters = 0;
  return {
    reader: new SimNodeReader(cloud),
    newCluster: async () => ({ namespace: 'default', clusterName: `c${++clusters}` }),
    registerNode: async (cluster) => {
      const instance = await provider.create(simSpec({ ...cluster, machineClass: { sim: { bootSeconds: 1, nodeReadySeconds: 1 } } }));
      clock.advance(3);
      uids.set(instance.providerID, instance.machineUid);
      return instance.providerID;
    },
    reportCondition: async (cluster, providerID, condition) => {
      cloud.setNodeCondition(providerID, condition, cluster.namespace);
    },
    removeNode: async (cluster, providerID) => {
      await provider.delete({ ...cluster, machineUid: uids.get(providerID)! });
      // Past the termination and the node lifecycle controller's deletion of the node.
      clock.advance(300);
    },
    breakReads: async () => {
      cloud.failNodeReads(1_000);
      return async () => cloud.clearFaults();
    },
    sortedByName: true,
  };
});
