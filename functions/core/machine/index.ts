/** The Machine planner: phase, providerID, nodeRef and conditions from facts; launch and the deletion flow. */
export { planMachine, planMachines, MachineReadyReason, type MachinePlanContext } from './planner.js';
export { MachinePlanMemo } from './plan-memo.js';
export { machinePhase, detectFailure, infrastructureCondition, launchRequested, InfrastructureReason, FailureReason } from './phase.js';
export {
  deletionStep,
  withTeardownTimeouts,
  DeletingReason,
  InfrastructureOwnedCondition,
  InfrastructureOwnedReason,
  VOLUME_DETACH_RETRY_SECONDS,
  NODE_DELETION_RETRY_SECONDS,
  type DeletionStep,
  type TeardownTimeouts,
} from './deletion.js';
export { nodeConditions, NodeConditionReason } from './node-conditions.js';
export {
  instanceOf,
  nodeOf,
  ownInstanceOf,
  ownInstancesOf,
  ownNodeOf,
  nodeCondition,
  isNodeReady,
  isInstanceGone,
  failureDomainOf,
  GONE_STATES,
  type NodeLookup,
} from './facts.js';
export {
  launchAttempts,
  sameAttempt,
  zonesFor,
  type LaunchAttempt,
  type LaunchPlacement,
  type PlacementRequest,
  type SeededUnit,
  type ZonePlacement,
} from './placement.js';
export {
  InterruptionNoticeCondition,
  InterruptionReason,
  SPOT_INTERRUPTION_NOTICE_SECONDS,
  DRAIN_MARGIN_SECONDS,
  interruptionNoticeOf,
  withInterruptionNotice,
  cappedDrainTimeoutSeconds,
  drainBound,
  interruptionsToAct,
  planInterruptions,
  type DrainBound,
  type Interruption,
  type InterruptionNotice,
} from './interruption.js';
