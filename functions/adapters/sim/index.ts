/** The simulated cloud: machines and nodes in process, for the embedded host, tests and benchmarks. */
export {
  SimCloud,
  DEFAULT_SIM_INSTANCE_TYPE,
  DEFAULT_SIM_ZONE,
  providerIDOf,
  type CapacityFault,
  type InstanceStateChange,
  type NodeConditionInput,
  type SimCloudOptions,
  type SimInstanceRecord,
  type SimInstanceView,
  type SimPersistence,
  type SimScope,
  type SimSnapshot,
  type SimStateReason,
} from './sim-cloud.js';
export { SimMachineProvider, type SimMachineProviderOptions } from './sim-machine-provider.js';
export { SimNodeReader } from './sim-node-reader.js';
export { SimulatedNodes, type SimulatedNodesOptions } from './simulated-nodes.js';
export { JsonFileSimPersistence } from './persistence.js';
