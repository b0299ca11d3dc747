/** The ControlPlane planner: scale, rolling upgrade, remediation and deletion that never lose etcd quorum. */
export { planControlPlane } from './planner.js';
export { projectEtcdCluster, targetEtcdClusterHealthy, etcdMembersOf, type EtcdMember, type EtcdChange, type EtcdProjection } from './etcd.js';
export {
  isUpToDate,
  nextFailureDomainForScaleUp,
  machineInFailureDomainWithMostMachines,
  selectMachineForScaleDown,
  nextMachineName,
  newControlPlaneMachine,
  controlPlaneSelectorLabels,
} from './machines.js';
export {
  reconcileUnhealthyMachines,
  machineToBeRemediated,
  checkRetryLimits,
  remediationInProgress,
  safetyIssue,
  type LastRemediation,
  type RemediationOutcome,
  type RetryDecision,
} from './remediation.js';
export { ControlPlaneReason } from './status.js';
