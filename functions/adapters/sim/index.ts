/** The simulated cloud: machines, nodes and load balancers in process, for the embedded host, tests and benchmarks. */
export {
  SimCloud,
  DEFAULT_SIM_INSTANCE_TYPE,
  DEFAULT_SIM_ZONE,
  providerIDOf,
  SIM_INTERRUPTION_NOTICE_SECONDS,
  type CapacityFault,
  type SimInterruptionNotice,
  type InstanceStateChange,
  type NodeConditionInput,
  type SimCloudOptions,
  type SimInstanceRecord,
  type SimInstanceView,
  type SimLoadBalancerRecord,
  type SimPersistence,
  type SimScope,
  type SimSnapshot,
  type SimStateReason,
  type SimTargetGroupRecord,
} from './sim-cloud.js';
export { SimMachineProvider, type SimMachineProviderOptions } from './sim-machine-provider.js';
export {
  SimManagedLoadBalancers,
  SimTargetGroupRegistrations,
  simLoadBalancerDnsName,
  simLoadBalancerName,
  type SimLoadBalancersOptions,
} from './sim-load-balancers.js';
export { SimNodeReader } from './sim-node-reader.js';
export { SimulatedNodes, type SimulatedNodesOptions } from './simulated-nodes.js';
export { JsonFileSimPersistence } from './persistence.js';
