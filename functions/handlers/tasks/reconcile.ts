/**
 * Lambda entry point of the reconcile task function (statemachines/loader.ts TASK_FUNCTIONS): TASKS.reconcile, imported
 * from its own module, not through workflows/index.ts, so that the bundle carries no other task's code.
 */
import { reconcileTask } from '../../workflows/reconcile-task.js';
import { taskHandler } from '../task-deps.js';

export const handler = taskHandler(reconcileTask, 'reconcile');
