/** Lambda entry point of the fleet-upgrade task function (statemachines/loader.ts TASK_FUNCTIONS). */
import { TASKS } from '../../workflows/index.js';
import { taskHandler } from '../task-deps.js';

export const handler = taskHandler(TASKS['fleet-upgrade'], 'fleet-upgrade');
