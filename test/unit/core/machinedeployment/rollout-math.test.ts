/** Cluster API's mdutil arithmetic, with the cases of its util_test.go. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byCreation,
  deploymentComplete,
  machineDeploymentRolloutComplete,
  maxSurge,
  maxUnavailable,
  newMSNewReplicas,
  resolveFenceposts,
  totalReplicaSum,
  type MachineSetReplicas,
} from '../../../../functions/core/machinedeployment/rollout-math.js';
import { machineDeployment } from '../machineset/fixtures.js';

const ms = (name: string, replicas: number, actual = replicas, available = actual): MachineSetReplicas => ({ name, createdAt: 0, replicas, actual, available });

describe('resolveFenceposts (TestResolveFenceposts, and the ResolveFenceposts doc examples)', () => {
  it.each([
    { maxSurge: '0%', maxUnavailable: '0%', desired: 0, surge: 0, unavailable: 1 },
    { maxSurge: '39%', maxUnavailable: '39%', desired: 10, surge: 4, unavailable: 3 },
    { maxSurge: '0%', maxUnavailable: '1%', desired: 2, surge: 0, unavailable: 1 },
    { maxSurge: '1%', maxUnavailable: '25%', desired: 2, surge: 1, unavailable: 0 },
    { maxSurge: '1%', maxUnavailable: '0%', desired: 1, surge: 1, unavailable: 0 },
    { maxSurge: 2, maxUnavailable: 0, desired: 5, surge: 2, unavailable: 0 },
    { maxSurge: '10%', maxUnavailable: '10%', desired: 3, surge: 1, unavailable: 0 },
    { maxSurge: '0%', maxUnavailable: '10%', desired: 3, surge: 0, unavailable: 1 },
  ])(
    'maxSurge=$maxSurge maxUnavailable=$maxUnavailable desired=$desired -> $surge/$unavailable',
    ({ maxSurge: s, maxUnavailable: u, desired, surge, unavailable }) => {
      // Act / Assess
      expect(resolveFenceposts(s, u, desired)).toEqual({ surge, unavailable });
    },
  );

  it('never resolves both to 0, rounds surge up and unavailability down', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 500 }), (s, u, desired) => {
        // Act
        const r = resolveFenceposts(`${s}%`, `${u}%`, desired);
        // Assess
        const down = Math.floor((u * desired) / 100);
        expect(r.surge).toBe(Math.ceil((s * desired) / 100));
        expect(r.unavailable).toBe(r.surge === 0 && down === 0 ? 1 : down);
        expect(r.surge + r.unavailable).toBeGreaterThan(0);
      }),
    );
  });
});

describe('maxUnavailable (TestMaxUnavailable)', () => {
  it.each([
    { name: 'maxUnavailable less than replicas', replicas: 10, maxUnavailable: 5, expected: 5 },
    { name: 'maxUnavailable equal replicas', replicas: 10, maxUnavailable: 10, expected: 10 },
    { name: 'maxUnavailable greater than replicas', replicas: 5, maxUnavailable: 10, expected: 5 },
    { name: 'maxUnavailable with replicas is 0', replicas: 0, maxUnavailable: 10, expected: 0 },
    { name: 'maxUnavailable less than replicas with percents', replicas: 10, maxUnavailable: '50%', expected: 5 },
    { name: 'maxUnavailable equal replicas with percents', replicas: 10, maxUnavailable: '100%', expected: 10 },
    { name: 'maxUnavailable greater than replicas with percents', replicas: 5, maxUnavailable: '100%', expected: 5 },
  ])('$name', ({ replicas, maxUnavailable: u, expected }) => {
    // Prepare
    const md = machineDeployment({ replicas, maxSurge: 1, maxUnavailable: u });
    // Act / Assess
    expect(maxUnavailable(md)).toBe(expected);
  });

  it.each([
    { name: 'Recreate', strategy: 'Recreate' as const },
    { name: 'OnDelete', strategy: 'OnDelete' as const },
  ])('is 0, as maxSurge, for $name', ({ strategy }) => {
    // Prepare
    const md = machineDeployment({ replicas: 5, strategy });
    // Act / Assess
    expect(maxUnavailable(md)).toBe(0);
    expect(maxSurge(md)).toBe(0);
  });

  it('maxSurge rounds up', () => {
    // Act / Assess
    expect(maxSurge(machineDeployment({ replicas: 10, maxSurge: '25%', maxUnavailable: 0 }))).toBe(3);
  });
});

describe('newMSNewReplicas (TestNewMSNewReplicas)', () => {
  it.each([
    {
      name: 'RollingUpdate strategy can not scale up',
      strategy: 'RollingUpdate' as const,
      replicas: 1,
      surge: 2,
      old: 5,
      cur: 4,
      expected: 4,
      note: '9 current Machines >= 1 MachineDeployment spec.replicas + 2 maxSurge',
    },
    {
      name: 'RollingUpdate strategy scale up to deploymentReplicas',
      strategy: 'RollingUpdate' as const,
      replicas: 6,
      surge: 3,
      old: 5,
      cur: 2,
      expected: 4,
      note: '7 current Machines < 6 MachineDeployment spec.replicas + 3 maxSurge',
    },
    {
      name: 'OnDeleteMachine strategy can not scale up',
      strategy: 'OnDelete' as const,
      replicas: 1,
      surge: 2,
      old: 3,
      cur: 5,
      expected: 5,
      note: '8 current Machines >= 1 MachineDeployment spec.replicas',
    },
    {
      name: 'OnDeleteMachine strategy scale up to deploymentReplicas',
      strategy: 'OnDelete' as const,
      replicas: 6,
      surge: 10,
      old: 1,
      cur: 2,
      expected: 5,
      note: '3 current Machines < 6 MachineDeployment spec.replicas',
    },
  ])('$name', ({ strategy, replicas, surge, old, cur, expected, note }) => {
    // Act
    const r = newMSNewReplicas(strategy, replicas, surge, [ms('old', old), ms('new', cur)], cur);
    // Assess
    expect(r).toEqual({ replicas: expected, note });
  });

  it('counts machines still deleting (spec 0, actual 1) against maxSurge', () => {
    // Act
    const r = newMSNewReplicas('RollingUpdate', 1, 0, [ms('old', 0, 1, 0), ms('new', 0, 0)], 0);
    // Assess
    expect(r.replicas).toBe(0);
  });
});

describe('totalReplicaSum', () => {
  it('takes the larger of spec and actual per set', () => {
    // Act / Assess
    expect(totalReplicaSum([ms('a', 3, 5), ms('b', 4, 1)])).toBe(9);
  });
});

describe('deploymentComplete (TestDeploymentComplete)', () => {
  it.each([
    { name: 'not complete: min but not all machines become available', desired: 5, current: 5, upToDate: 5, available: 4, expected: false },
    { name: 'not complete: min availability is not honored', desired: 5, current: 5, upToDate: 5, available: 3, expected: false },
    { name: 'complete', desired: 5, current: 5, upToDate: 5, available: 5, expected: true },
    { name: 'not complete: all machines are available but not updated', desired: 5, current: 5, upToDate: 4, available: 5, expected: false },
    { name: 'not complete: still running old machines', desired: 1, current: 2, upToDate: 1, available: 1, expected: false },
    { name: 'not complete: one replica deployment never comes up', desired: 1, current: 1, upToDate: 1, available: 0, expected: false },
  ])('$name', ({ desired, current, upToDate, available, expected }) => {
    // Act / Assess
    expect(deploymentComplete(desired, { replicas: current, updatedReplicas: upToDate, availableReplicas: available })).toBe(expected);
  });
});

// What the sweep and the rolling-upgrade workflow ask of a stored MachineDeployment: mdutil's DeploymentComplete
// over a status that observes the current generation (util.go, DeploymentComplete; machinedeployment_sync.go).
describe('machineDeploymentRolloutComplete', () => {
  const md = machineDeployment({ replicas: 3 });
  const status = { observedGeneration: md.metadata.generation ?? 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  it.each([
    { name: 'complete: every replica updated and available, the generation observed', status, complete: true },
    { name: 'not complete without a status', status: undefined, complete: false },
    { name: 'not complete while the status observes an older generation', status: { ...status, observedGeneration: 0 }, complete: false },
    {
      name: 'not complete while a counter is missing',
      status: { observedGeneration: status.observedGeneration, replicas: 3, updatedReplicas: 3 },
      complete: false,
    },
    { name: 'not complete while a replica is not available', status: { ...status, availableReplicas: 2 }, complete: false },
    { name: 'not complete while an old replica remains', status: { ...status, replicas: 4 }, complete: false },
  ])('$name', ({ status: s, complete }) => {
    expect(machineDeploymentRolloutComplete({ ...md, metadata: { ...md.metadata, generation: md.metadata.generation ?? 1 }, status: s })).toBe(complete);
  });
});

describe('newMSNewReplicas at the limit', () => {
  it.each([
    { strategy: 'RollingUpdate' as const, surge: 1, note: '4 current Machines >= 3 MachineDeployment spec.replicas + 1 maxSurge' },
    { strategy: 'OnDelete' as const, surge: 0, note: '3 current Machines >= 3 MachineDeployment spec.replicas' },
  ])('$strategy: exactly at the most machines allowed, the new set does not grow and the note says so', ({ strategy, surge, note }) => {
    // Act
    const r = newMSNewReplicas(strategy, 3, surge, [ms('old', 3 + surge - 1), ms('new', 1)], 1);
    // Assess
    expect(r).toEqual({ replicas: 1, note });
  });
});

describe('maxSurge without rollingUpdate parameters', () => {
  it("a RollingUpdate strategy without parameters takes Cluster API's defaults: maxSurge 1, maxUnavailable 0", () => {
    // Prepare
    const md = machineDeployment({ replicas: 3 });
    md.spec.strategy = { type: 'RollingUpdate' } as typeof md.spec.strategy;
    // Act & Assess
    expect([maxSurge(md), maxUnavailable(md)]).toEqual([1, 0]);
  });
});

describe('byCreation (MachineSetsByCreationTimestamp)', () => {
  const at = (name: string, createdAt: number): MachineSetReplicas => ({ ...ms(name, 1), createdAt });
  it.each([
    { name: 'the older first, whatever the names', a: at('b', 1), b: at('a', 2), sign: -1 },
    { name: 'the newer after', a: at('a', 2), b: at('b', 1), sign: 1 },
    { name: 'of the same age, by name', a: at('a', 1), b: at('b', 1), sign: -1 },
    { name: 'of the same age, by name, the other way', a: at('b', 1), b: at('a', 1), sign: 1 },
    { name: 'the same set', a: at('a', 1), b: at('a', 1), sign: 0 },
  ])('$name', ({ a, b, sign }) => {
    // Act & Assess
    expect(Math.sign(byCreation(a, b))).toBe(sign);
  });
});
