/**
 * The pure core of clusterless: planners that read a cluster's declared objects, the observed facts and the
 * time, and return what to write and do next (DESIGN section 5). Nothing here performs I/O.
 *
 * The reconcile workflow calls, for one cluster: planCluster, planControlPlane, planMachineDeployment /
 * planMachineSet (per object), planMachines and planMachineHealthChecks, and merges their plans (mergePlans).
 */
export * from './plan.js';
export * from './observed.js';
export * from './conditions.js';
export * from './cluster/index.js';
export * from './machine/index.js';
export * from './controlplane/index.js';
export * from './healthcheck/index.js';
export * from './machinedeployment/index.js';
export * from './machineset/index.js';
export * from './coalesce.js';
export * from './trigger/index.js';
export * from './topology/index.js';
export * from './reconcile.js';
