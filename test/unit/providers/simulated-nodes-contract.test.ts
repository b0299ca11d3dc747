/** The NodeReader contract on SimulatedNodes (`--nodes sim`): nodes invented for any provider's instances. */
import { SimulatedNodes } from '../../../functions/adapters/sim/simulated-nodes.js';
import { runNodeReaderContract } from '../../support/node-reader-contract.js';
import { newSim, simSpec } from './sim-fixtures.js';

runNodeReaderContract('SimulatedNodes', async () => {
  const { clock, cloud, provider } = newSim();
  const reader = new SimulatedNodes({ provider, clock, readySeconds: 1 });
  const uids = new Map<string, string>();
  let clusters = 0;
  return {
    reader,
    newCluster: async () => ({ namespace: 'default', clusterName: `c${++clusters}` }),
    registerNode: async (cluster) => {
      const instance = await provider.create(simSpec({ ...cluster, machineClass: { sim: { bootSeconds: 1 } } }));
      clock.advance(3);
      uids.set(instance.providerID, instance.machineUid);
      return instance.providerID;
    },
    reportCondition: async (_cluster, providerID, condition) => {
      reader.setNodeCondition(providerID, condition);
    },
    removeNode: async (cluster, providerID) => {
      await provider.delete({ ...cluster, machineUid: uids.get(providerID)! });
      clock.advance(300);
    },
    // The instances cannot be described: the provider is throttled.
    breakReads: async () => {
      cloud.throttleNext(1_000);
      return async () => cloud.clearFaults();
    },
    // In the order the provider describes the instances (oldest first).
    sortedByName: false,
  };
});
