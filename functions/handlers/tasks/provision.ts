/**
 * Lambda entry point of the provision task function (statemachines/loader.ts TASK_FUNCTIONS): TASKS.provision, imported
 * from its own module, not through workflows/index.ts, so that the bundle carries no other task's code.
 */
import { provisionTask } from '../../workflows/provision-machine.js';
import { taskHandler } from '../task-deps.js';

export const handler = taskHandler(provisionTask, 'provision');
