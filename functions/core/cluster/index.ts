/** The Cluster planner, the cluster's object graph and the selectors every planner shares. */
export { planCluster, clusterPhase, ClusterPhaseReason } from './planner.js';
export { clusterDeletionStep, ClusterDeletingReason, type ClusterDeletionStep } from './deletion.js';
export { failureDomainsOf, failureDomainNames, type FailureDomains } from './failure-domains.js';
export { infrastructureState, managesLoadBalancer, type InfrastructureState } from './infrastructure.js';
export {
  isControlPlaneMachine,
  controlPlaneMachinesOf,
  workerMachinesOf,
  isDeleting,
  isPaused,
  hasAnnotation,
  timeOf,
  oldestFirst,
  statusWrite,
  type ClusterObjects,
} from './objects.js';
