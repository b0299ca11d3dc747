export { applyPatches, type PatchResult, type PatchTarget } from './patches.js';
export { builtinVariables, desiredControlPlane, desiredHealthChecks, desiredMachineDeployment } from './desired.js';
export { controlPlaneStable, decideVersions, nextStep, upgradeConcurrency, type VersionDecision } from './upgrade.js';
export { TopologyReason, planTopology, type TopologyObjects } from './planner.js';
export { clustersUsingClass } from './trigger.js';
