/** The code the state machines' tasks run, over the ports only: the same on AWS and in the embedded host. */
import type { TaskFunctionName } from '../../statemachines/loader.js';
import type { WorkflowDeps } from './deps.js';
import { fleetUpgradeTask } from './fleet-upgrade.js';
import { provisionTask } from './provision-machine.js';
import { reconcileTask } from './reconcile-task.js';
import { steppingTask } from './stepping.js';

export * from './deps.js';
export * from './providers.js';
export * from './errors.js';
export * from './apply-plan.js';
export * from './reconcile-cluster.js';
export * from './provision-machine.js';
export * from './stepping.js';
export * from './events.js';
export { fleetUpgradeExecutionName, startFleetUpgrade, type FleetRef } from './fleet-upgrade-start.js';
export { reconcileTask } from './reconcile-task.js';

/** Every task function, by the name statemachines/loader.ts gives it. */
export const TASKS: Record<TaskFunctionName, (deps: WorkflowDeps, input: Record<string, unknown>) => Promise<unknown>> = {
  reconcile: reconcileTask,
  provision: provisionTask,
  rollout: steppingTask('rolloutStep'),
  remediate: steppingTask('remediateStep'),
  teardown: steppingTask('teardownStep'),
  'fleet-upgrade': fleetUpgradeTask,
};
