/**
 * Lambda entry point of the fleet-upgrade task function (statemachines/loader.ts TASK_FUNCTIONS): TASKS['fleet-upgrade'], imported
 * from its own module, not through workflows/index.ts, so that the bundle carries no other task's code.
 */
import { fleetUpgradeTask } from '../../workflows/fleet-upgrade.js';
import { taskHandler } from '../task-deps.js';

export const handler = taskHandler(fleetUpgradeTask, 'fleet-upgrade');
