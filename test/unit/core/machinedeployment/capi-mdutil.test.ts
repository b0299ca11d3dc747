/**
 * The rows of Cluster API's mdutil util_test.go (core/reconcilers/machinedeployment/mdutil,
 * kubernetes-sigs/cluster-api) that rollout-math.test.ts, revisions.test.ts, proportional-scaling.test.ts and
 * rollout-planner.test.ts do not already hold. clusterless keeps only the total (TotalMachineSetsReplicaSum):
 * the spec-only and status-only sums of that test have no use here.
 */
import { describe, expect, it } from 'vitest';
import { totalReplicaSum, type MachineSetReplicas } from '../../../../functions/core/machinedeployment/rollout-math.js';

const ms = (name: string, replicas: number, actual: number): MachineSetReplicas => ({ name, createdAt: 0, replicas, actual, available: actual });

describe('totalReplicaSum (TestGetReplicaCountForMachineSets, ExpectedTotal)', () => {
  it.each([
    { name: '1:2 Replicas', sets: [ms('foo', 1, 2)], total: 2 },
    { name: '6:5 Replicas', sets: [ms('foo', 1, 2), ms('bar', 5, 3)], total: 7 },
  ])('$name', ({ sets, total }) => {
    // Act & Assess: per set the larger of spec.replicas and the machines that exist.
    expect(totalReplicaSum(sets)).toBe(total);
  });
});
