/** revisionHistoryLimit (Kubernetes TestDeploymentController_cleanupDeployment). */
import { describe, expect, it } from 'vitest';
import { machineSetsBeyondHistoryLimit, type OldMachineSet } from '../../../../functions/core/machinedeployment/history.js';
import { machineSet } from '../machineset/fixtures.js';

function old(name: string, replicas: number, actual: number, opts: { deleting?: boolean; revision?: string; created?: string } = {}): OldMachineSet {
  const revision = opts.revision ?? name.replace(/\D/g, '');
  const ms = machineSet({
    name,
    annotations: { 'clusterless.dev/revision': revision },
    ...(opts.deleting ? { deleting: true } : {}),
    ...(opts.created ? { created: opts.created } : {}),
  });
  return { machineSet: ms, replicas, actual };
}

describe('machineSetsBeyondHistoryLimit', () => {
  it.each([
    { name: 'deletes the oldest beyond the limit', sets: [old('foo-3', 0, 0), old('foo-1', 0, 0), old('foo-2', 0, 0)], limit: 1, expected: ['foo-1', 'foo-2'] },
    {
      name: 'only sets with no replicas and no machines',
      sets: [old('foo-1', 0, 0), old('foo-2', 0, 1), old('foo-3', 1, 0), old('foo-4', 1, 1)],
      limit: 0,
      expected: ['foo-1'],
    },
    { name: 'limit 0 deletes every empty one', sets: [old('foo-1', 0, 0), old('foo-2', 0, 0)], limit: 0, expected: ['foo-1', 'foo-2'] },
    { name: 'never one with replicas', sets: [old('foo-1', 1, 1), old('foo-2', 1, 1)], limit: 0, expected: [] },
    { name: 'not one already deleting', sets: [old('foo-1', 0, 0, { deleting: true })], limit: 0, expected: [] },
    { name: 'a large limit keeps everything', sets: [old('foo-1', 0, 0), old('foo-2', 0, 0), old('foo-3', 0, 0)], limit: 2147483647, expected: [] },
    // Cluster API sorts the cleanable sets by creation time, then name (mdutil.MachineSetsByCreationTimestamp).
    {
      name: 'the same revision: the older set first',
      sets: [
        old('b', 0, 0, { revision: '1', created: '2026-01-02T00:00:00Z' }),
        old('a', 0, 0, { revision: '1', created: '2026-01-03T00:00:00Z' }),
        old('c', 0, 0, { revision: '2' }),
      ],
      limit: 2,
      expected: ['b'],
    },
    {
      name: 'the same revision and creation time: name order',
      sets: [old('b', 0, 0, { revision: '1', created: '2026-01-02T00:00:00Z' }), old('a', 0, 0, { revision: '1', created: '2026-01-02T00:00:00Z' })],
      limit: 1,
      expected: ['a'],
    },
  ])('$name', ({ sets, limit, expected }) => {
    // Act / Assess
    expect(machineSetsBeyondHistoryLimit(sets, limit).map((ms) => ms.metadata.name)).toEqual(expected);
  });
});

describe('machineSetsBeyondHistoryLimit, edges', () => {
  it('deletes nothing while there are fewer old sets than the limit', () => {
    expect(machineSetsBeyondHistoryLimit([old('foo-1', 0, 0), old('foo-2', 0, 0), old('foo-3', 0, 0)], 5)).toEqual([]);
  });

  it('of old sets of the same revision and age, takes the first by name, whatever order they are listed in', () => {
    const a = old('foo-a', 0, 0, { revision: '1' });
    const b = old('foo-b', 0, 0, { revision: '1' });
    const names = (sets: OldMachineSet[]) => machineSetsBeyondHistoryLimit(sets, 1).map((ms) => ms.metadata.name);
    expect([names([a, b]), names([b, a])]).toEqual([['foo-a'], ['foo-a']]);
  });
});
