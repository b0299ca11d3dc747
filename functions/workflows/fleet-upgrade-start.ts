/**
 * How a FleetUpgrade's execution is started, apart from the tasks so that the stream function bundles nothing of
 * the API's schemas for it.
 */
import type { Workflows } from '../ports.js';

/** Which FleetUpgrade an execution is about: its uid too, so that a newer one of the same name is not it. */
export interface FleetRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Before the uid in every execution name of a FleetUpgrade; continuations add `-c{n}` (statemachines/fleet-upgrade.ts). */
export const FLEET_EXECUTION_PREFIX = 'fleet-';

/** The execution name of a FleetUpgrade's one execution: its uid, so that a repeated start is a no-op. */
export function fleetUpgradeExecutionName(uid: string): string {
  return `${FLEET_EXECUTION_PREFIX}${uid}`;
}

/**
 * Starts the execution of a FleetUpgrade: on its creation (the stream's INSERT on AWS, the store wrapper on the
 * embedded host) and, on the embedded host, again at start for one not finished (its engine forgets executions).
 * Named after the uid: a second start of a running or ended execution starts nothing.
 */
export function startFleetUpgrade(workflows: Workflows, ref: FleetRef): Promise<{ started: boolean }> {
  return workflows.start('fleet-upgrade', fleetUpgradeExecutionName(ref.uid), { namespace: ref.namespace, name: ref.name, uid: ref.uid });
}
