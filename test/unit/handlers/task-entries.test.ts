/**
 * The task functions' entry points (functions/handlers/tasks) import their task from its own module rather than
 * through workflows/index.ts (so that a bundle carries one task): each runs what TASKS, the embedded host's table,
 * runs for the same name (the stepping tasks are steppingTask of their step in both places).
 */
import { describe, expect, it } from 'vitest';
import { TASKS, reconcileTask, provisionTask } from '../../../functions/workflows/index.js';
import { fleetUpgradeTask } from '../../../functions/workflows/fleet-upgrade.js';

describe('the task entries', () => {
  it('run the functions of TASKS', () => {
    expect(TASKS.reconcile).toBe(reconcileTask);
    expect(TASKS.provision).toBe(provisionTask);
    expect(TASKS['fleet-upgrade']).toBe(fleetUpgradeTask);
  });
});
