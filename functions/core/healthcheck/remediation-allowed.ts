/**
 * The short-circuit and the in-flight limit of a MachineHealthCheck.
 *
 * Short-circuit, learnt from core/reconcilers/machinehealthcheck/machinehealthcheck_controller.go
 * (isAllowedRemediation, getMaxUnhealthy, getUnhealthyRange, unhealthyMachineCount): when more machines are
 * unhealthy than maxUnhealthy (an int, or a percentage of the expected machines rounded down), or their number
 * lies outside unhealthyRange, nothing is remediated at all. It protects a cluster from an outage that is not
 * the machines' fault (a network partition makes every node NotReady at once: replacing them all would turn a
 * blip into a full rebuild).
 *
 * In-flight limit, learnt from core/reconcilers/machineset/machineset_controller.go
 * (reconcileUnhealthyMachines: maxInFlight scaled rounding up, remediations already in progress subtracted).
 */
import { UNHEALTHY_RANGE, type MachineHealthCheck } from '../../api/machine-health-check.js';
import { scaledValue } from '../../api/common.js';

export interface RemediationAllowance {
  allowed: boolean;
  /** How many more machines may become unhealthy before the short-circuit trips (status.remediationsAllowed). */
  remediationsAllowed: number;
  message?: string;
}

export function remediationAllowance(mhc: MachineHealthCheck, expected: number, healthy: number): RemediationAllowance {
  const unhealthy = expected - healthy;
  const range = mhc.spec.unhealthyRange ? UNHEALTHY_RANGE.exec(mhc.spec.unhealthyRange) : null;
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    const allowed = unhealthy >= lo && unhealthy <= hi;
    return {
      allowed,
      remediationsAllowed: allowed ? hi - unhealthy : 0,
      ...(allowed
        ? {}
        : {
            message: `Remediation is not allowed, the number of not started or unhealthy machines does not fall within the range (total: ${expected}, unhealthy: ${unhealthy}, unhealthyRange: ${mhc.spec.unhealthyRange})`,
          }),
    };
  }
  const maxUnhealthy = scaledValue(mhc.spec.maxUnhealthy, expected, false);
  const allowed = unhealthy <= maxUnhealthy;
  return {
    allowed,
    remediationsAllowed: allowed ? maxUnhealthy - unhealthy : 0,
    ...(allowed
      ? {}
      : {
          message: `Remediation is not allowed, the number of not started or unhealthy machines exceeds maxUnhealthy (total: ${expected}, unhealthy: ${unhealthy}, maxUnhealthy: ${mhc.spec.maxUnhealthy})`,
        }),
  };
}

/** How many remediations may run at once; unset means no limit. A percentage is of the expected machines, rounded up. */
export function maxInFlight(mhc: MachineHealthCheck, expected: number): number {
  return mhc.spec.maxInFlight === undefined ? Number.POSITIVE_INFINITY : scaledValue(mhc.spec.maxInFlight, expected, true);
}
