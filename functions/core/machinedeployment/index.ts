/** The MachineDeployment planner: rollouts, revisions, rollback and status, as pure functions. */
export { planMachineDeployment, type MachineDeploymentPlan, type MachineDeploymentPlanInput } from './rollout-planner.js';
export { reconcileMachineDeployment, machineCreates, NEW_MACHINE_SET_REQUEUE_SECONDS, type MachineDeploymentReconcile } from './reconcile.js';
export {
  rollbackMachineDeployment,
  templateOfMachineSet,
  RollbackError,
  PausedRollbackError,
  NoRolloutHistoryError,
  RevisionNotFoundError,
  InvalidRevisionError,
  type RollbackResult,
} from './rollback.js';
export {
  resolveFenceposts,
  maxSurge,
  maxUnavailable,
  newMSNewReplicas,
  totalReplicaSum,
  deploymentComplete,
  machineDeploymentRolloutComplete,
  type MachineSetReplicas,
  type Fenceposts,
} from './rollout-math.js';
export {
  newRolloutState,
  planRollingUpdate,
  planOnDelete,
  reconcileNewMachineSet,
  reconcileOldMachineSetsRollingUpdate,
  reconcileOldMachineSetsOnDelete,
  reconcileDeadlockBreaker,
  type RolloutState,
} from './rolling-update.js';
export { scaleProportionally, type ProportionalState } from './proportional-scaling.js';
export { machineSetsBeyondHistoryLimit } from './history.js';
export { revisionOf, maxRevision, newRevisionAnnotations, previousRevision } from './revisions.js';
export {
  templateHash,
  templateIdentity,
  rolloutFields,
  machineTemplateUpToDate,
  machineSetName,
  machineSetTemplate,
  templateDifferences,
} from './template-hash.js';
export { machineDeploymentStatus } from './status.js';
export { chainWrites } from './writes.js';
