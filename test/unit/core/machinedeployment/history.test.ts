/** revisionHistoryLimit (Kubernetes TestDeploymentController_cleanupDeployment). */
import { describe, expect, it } from 'vitest';
import { machineSetsBeyondHistoryLimit, type OldMachineSet } from '../../../../functions/core/machinedeployment/history.js';
import { machineSet } from '../machineset/fixtures.js';

function old(name: string, replicas: number, actual: number, opts: { deleting?: boolean } = {}): OldMachineSet {
  const revision = name.replace(/\D/g, '');
  return { machineSet: machineSet({ name, annotations: { 'clusterless.dev/revision': revision }, ...(opts.deleting ? { deleting: true } : {}) }), replicas, actual };
}

describe('machineSetsBeyondHistoryLimit', () => {
  it.each([
    { name: 'deletes the oldest beyond the limit', sets: [old('foo-3', 0, 0), old('foo-1', 0, 0), old('foo-2', 0, 0)], limit: 1, expected: ['foo-1', 'foo-2'] },
    { name: 'only sets with no replicas and no machines', sets: [old('foo-1', 0, 0), old('foo-2', 0, 1), old('foo-3', 1, 0), old('foo-4', 1, 1)], limit: 0, expected: ['foo-1'] },
    { name: 'limit 0 deletes every empty one', sets: [old('foo-1', 0, 0), old('foo-2', 0, 0)], limit: 0, expected: ['foo-1', 'foo-2'] },
    { name: 'never one with replicas', sets: [old('foo-1', 1, 1), old('foo-2', 1, 1)], limit: 0, expected: [] },
    { name: 'not one already deleting', sets: [old('foo-1', 0, 0, { deleting: true })], limit: 0, expected: [] },
    { name: 'a large limit keeps everything', sets: [old('foo-1', 0, 0), old('foo-2', 0, 0), old('foo-3', 0, 0)], limit: 2147483647, expected: [] },
  ])('$name', ({ sets, limit, expected }) => {
    // Act / Assess
    expect(machineSetsBeyondHistoryLimit(sets, limit).map((ms) => ms.metadata.name)).toEqual(expected);
  });
});
