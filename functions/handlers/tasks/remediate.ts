/**
 * Lambda entry point of the remediate task function (statemachines/loader.ts TASK_FUNCTIONS): TASKS.remediate, imported
 * from its own module, not through workflows/index.ts, so that the bundle carries no other task's code.
 */
import { steppingTask } from '../../workflows/stepping.js';
import { taskHandler } from '../task-deps.js';

export const handler = taskHandler(steppingTask('remediateStep'), 'remediate');
