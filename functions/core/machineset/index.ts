/** The MachineSet planner and the machine-level rules the MachineDeployment planner reuses. */
export { planMachineSet, newMachine, MAX_MACHINE_CREATES_PER_PASS, type MachineSetPlan, type MachineSetPlanInput } from './planner.js';
export { deletionOrder, machinesToDelete, deletePriorityClass, type DeletePriorityClass } from './deletion-order.js';
export { failureDomainPlacement, clusterFailureDomains, spreadNewMachines, type FailureDomainPlacement } from './failure-domains.js';
export {
  indexMachines,
  machineHealth,
  nodeLookup,
  isAvailable,
  secondsUntilAvailable,
  type MachineHealth,
  type MachineIndex,
  type UnhealthyReason,
} from './machine-health.js';
export { machineName, newMachineNames } from './machine-names.js';
export { controllerOf, isControlledBy, controllerReference, adopted, released } from './ownership.js';
export { countReplicas, machineSetStatus, machinesReadyCondition, PreflightCheckFailedReason, type ReplicaCounts } from './status.js';
export { preflightChecks, skippedPreflightChecks, PreflightCheck, PREFLIGHT_FAILED_REQUEUE_SECONDS, type PreflightInput } from './preflight.js';
export { pausedBy, pausedCondition } from './paused.js';
export { machineInPlace, templateMetadata, ownerLabels, LABELS_FROM_TEMPLATE, ANNOTATIONS_FROM_TEMPLATE } from './in-place.js';
