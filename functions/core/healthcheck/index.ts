/** The MachineHealthCheck planner: targets, timeouts, short-circuit, maxInFlight, and what to remediate. */
export {
  planMachineHealthCheck,
  planMachineHealthChecks,
  evaluateHealthCheck,
  machinesToRemediate,
  isMarkedForRemediation,
  remediationMarkedAt,
  RemediationAllowedReason,
  OwnerRemediatedReason,
  type HealthCheckEvaluation,
  type RemediationRequest,
} from './planner.js';
export { remediationAllowance, maxInFlight, type RemediationAllowance } from './remediation-allowed.js';
export {
  targetsOf,
  needsRemediation,
  healthCheckTargets,
  formatDuration,
  HealthCheckReason,
  type HealthCheckTarget,
  type RemediationNeed,
  type TargetHealth,
  type TargetsHealth,
  type TargetState,
} from './targets.js';
export { healthChecksNeedReconcile, NodeProbeReason, type NodeProbeInput, type NodeProbeVerdict, type NodeRead } from './node-probe.js';
