/**
 * Rollouts against a simulated world (world.ts), in the spirit of cluster-api's Test_RollingUpdateSequences:
 * property tests over random deployments and random world behaviour check the invariants at every
 * reconcile, and seeded scenarios are compared with golden logs (UPDATE_GOLDEN=1 rewrites them).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { rollbackMachineDeployment } from '../../../../functions/core/machinedeployment/rollback.js';
import { maxSurge, maxUnavailable } from '../../../../functions/core/machinedeployment/rollout-math.js';
import { machineDeployment, type MachineDeploymentOptions } from '../machineset/fixtures.js';
import { World, type StepObservation } from './world.js';

const upgrade =
  (version: string) =>
  (md: MachineDeployment): MachineDeployment => ({
    ...md,
    spec: { ...md.spec, template: { ...md.spec.template, spec: { ...md.spec.template.spec, version } } },
  });
const scale =
  (replicas: number) =>
  (md: MachineDeployment): MachineDeployment => ({ ...md, spec: { ...md.spec, replicas } });

const arbIntOrPercent = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom('0%', '10%', '25%', '34%', '50%', '100%'));
const arbRolling = fc
  .record({
    replicas: fc.integer({ min: 1, max: 10 }),
    maxSurge: arbIntOrPercent,
    maxUnavailable: arbIntOrPercent,
    minReadySeconds: fc.constantFrom(0, 0, 15, 45),
    deletePolicy: fc.constantFrom('Random' as const, 'Newest' as const, 'Oldest' as const),
  })
  // The API refuses 0 and 0 (both spelt as zero); 0% of a small deployment still resolves to 0, which
  // ResolveFenceposts turns into maxUnavailable 1.
  .filter((o) => !((o.maxSurge === 0 || o.maxSurge === '0%') && (o.maxUnavailable === 0 || o.maxUnavailable === '0%')));
const arbWorld = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  bootMax: fc.integer({ min: 10, max: 120 }),
  readyMax: fc.integer({ min: 0, max: 60 }),
  deleteMax: fc.integer({ min: 5, max: 90 }),
});

/** Creates the deployment at v1.30.5, lets it settle, then rolls it to v1.31.2, checking `check` at every reconcile. */
function rollout(
  opts: MachineDeploymentOptions,
  world: { seed: number; bootMax: number; readyMax: number; deleteMax: number; failureRate?: number; userDeletesOldPerStep?: number },
  check: (o: StepObservation, w: World) => void,
): { converged: boolean; world: World } {
  const w = new World({
    seed: world.seed,
    machineDeployment: machineDeployment({ ...opts, version: 'v1.30.5' }),
    bootSeconds: [5, world.bootMax],
    readySeconds: [0, world.readyMax],
    deleteSeconds: [5, world.deleteMax],
    failureRate: world.failureRate ?? 0,
    failuresUntilSeconds: 1200,
    userDeletesOldPerStep: world.userDeletesOldPerStep ?? 0,
  });
  if (!w.runUntilConverged(400)) return { converged: false, world: w };
  w.updateDeployment(upgrade('v1.31.2'));
  return { converged: w.runUntilConverged(2000, (o) => check(o, w)), world: w };
}

describe('properties of simulated rollouts', () => {
  it('RollingUpdate: machines <= replicas + maxSurge and available >= replicas - maxUnavailable at every step, and it converges', () => {
    fc.assert(
      fc.property(arbRolling, arbWorld, (opts, world) => {
        // Prepare
        const md = machineDeployment(opts);
        const limit = opts.replicas + maxSurge(md);
        const minAvailable = opts.replicas - maxUnavailable(md);
        // Act
        const r = rollout(opts, world, (o) => {
          // Assess (every step)
          expect(o.after.machines).toBeLessThanOrEqual(limit);
          expect(o.deadlockBroken).toBe(false);
          expect(o.after.available).toBeGreaterThanOrEqual(minAvailable);
        });
        // Assess
        expect(r.converged).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('RollingUpdate with failing machines: never above maxSurge, never takes availability below replicas - maxUnavailable (but for the deadlock breaker), and converges once failures stop', () => {
    fc.assert(
      fc.property(arbRolling, arbWorld, fc.double({ min: 0.05, max: 0.5, noNaN: true }), (opts, world, failureRate) => {
        // Prepare
        const md = machineDeployment(opts);
        const limit = opts.replicas + maxSurge(md);
        const minAvailable = opts.replicas - maxUnavailable(md);
        // Act
        const r = rollout(opts, { ...world, failureRate }, (o) => {
          // Assess (every step): failures may lower availability; the planner's deletions may not.
          expect(o.after.machines).toBeLessThanOrEqual(limit);
          if (o.after.available < o.before.available && !o.deadlockBroken) expect(o.after.available).toBeGreaterThanOrEqual(minAvailable);
        });
        // Assess
        expect(r.converged).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('RollingUpdate interrupted by another template change: the half-made machines become old, the invariants still hold', () => {
    fc.assert(
      fc.property(arbRolling, arbWorld, fc.integer({ min: 1, max: 15 }), (opts, world, after) => {
        // Prepare
        const md = machineDeployment(opts);
        const limit = opts.replicas + maxSurge(md);
        const minAvailable = opts.replicas - maxUnavailable(md);
        const check = (o: StepObservation) => {
          expect(o.after.machines).toBeLessThanOrEqual(limit);
          if (o.after.available < o.before.available && !o.deadlockBroken) expect(o.after.available).toBeGreaterThanOrEqual(minAvailable);
        };
        let step = 0;
        // Act
        const r = rollout({ ...opts, minReadySeconds: Math.max(opts.minReadySeconds, 30) }, world, (o, w) => {
          check(o);
          if (++step === after) w.updateDeployment(upgrade('v1.32.0'));
        });
        // Assess
        expect(r.converged).toBe(true);
        expect(r.world.md.spec.template.spec.version).toBe(step >= after ? 'v1.32.0' : 'v1.31.2');
      }),
      { numRuns: 60 },
    );
  });

  it('Recreate: old and new machines never run together, and it converges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), arbWorld, fc.constantFrom(0, 0.2), (replicas, world, failureRate) => {
        // Act
        const r = rollout({ replicas, strategy: 'Recreate' }, { ...world, failureRate }, (o) => {
          // Assess (every step)
          expect(o.after.newMachines === 0 || o.after.oldMachines === 0).toBe(true);
        });
        // Assess
        expect(r.converged).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('OnDelete: new machines only replace old ones users delete, never more than replicas, and it converges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), arbWorld, (replicas, world) => {
        // Act
        const r = rollout({ replicas, strategy: 'OnDelete' }, { ...world, userDeletesOldPerStep: 0.3 }, (o) => {
          // Assess (every step)
          expect(o.after.machines).toBeLessThanOrEqual(replicas);
        });
        // Assess
        expect(r.converged).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('never loses a write to a conflict: the plan is consistent with the objects it read', () => {
    fc.assert(
      fc.property(arbRolling, arbWorld, (opts, world) => {
        // Act / Assess: the world throws ConflictInWorld on a stale resourceVersion.
        expect(() => rollout(opts, { ...world, failureRate: 0.2 }, () => undefined)).not.toThrow();
      }),
      { numRuns: 20 },
    );
  });
});

const TESTDATA = join(import.meta.dirname, 'testdata');

function golden(name: string, log: string[]): void {
  const file = join(TESTDATA, `${name}.golden.log`);
  const text = `${log.join('\n')}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(TESTDATA, { recursive: true });
    writeFileSync(file, text);
  }
  expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 to write it`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('seeded rollouts, compared with golden logs', () => {
  it.each([
    {
      name: 'rolling update, 4 replicas, maxSurge 1, maxUnavailable 1, minReadySeconds 10',
      file: 'rolling-update',
      run(): World {
        const w = new World({
          seed: 7,
          machineDeployment: machineDeployment({ replicas: 4, maxSurge: 1, maxUnavailable: 1, minReadySeconds: 10, version: 'v1.30.5' }),
        });
        w.runUntilConverged(100);
        w.updateDeployment(upgrade('v1.31.2'));
        w.runUntilConverged(200);
        return w;
      },
    },
    {
      name: 'recreate, 3 replicas',
      file: 'recreate',
      run(): World {
        const w = new World({ seed: 11, machineDeployment: machineDeployment({ replicas: 3, strategy: 'Recreate', version: 'v1.30.5' }) });
        w.runUntilConverged(100);
        w.updateDeployment(upgrade('v1.31.2'));
        w.runUntilConverged(200);
        return w;
      },
    },
    {
      name: 'rollback in the middle of a rollout, 3 replicas, maxSurge 1, maxUnavailable 0',
      file: 'rollback',
      run(): World {
        const w = new World({ seed: 3, machineDeployment: machineDeployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0, version: 'v1.30.5' }) });
        w.runUntilConverged(100);
        w.updateDeployment(upgrade('v1.31.2'));
        for (let i = 0; i < 12; i++) w.reconcile();
        const undo = rollbackMachineDeployment(w.md, w.machineSets, 0);
        if (!undo.ok) throw undo.error;
        w.log.push(`[t=${w.elapsed()}s] user: kubectl rollout undo (${undo.message})`);
        w.updateDeployment(() => undo.machineDeployment);
        w.runUntilConverged(200);
        return w;
      },
    },
    {
      name: 'scale up and down during a rollout, 4 replicas, maxSurge 2, maxUnavailable 1',
      file: 'scale-during-rollout',
      run(): World {
        const w = new World({ seed: 5, machineDeployment: machineDeployment({ replicas: 4, maxSurge: 2, maxUnavailable: 1, version: 'v1.30.5' }) });
        w.runUntilConverged(100);
        w.updateDeployment(upgrade('v1.31.2'));
        for (let i = 0; i < 8; i++) w.reconcile();
        w.updateDeployment(scale(8));
        for (let i = 0; i < 8; i++) w.reconcile();
        w.updateDeployment(scale(3));
        w.runUntilConverged(200);
        return w;
      },
    },
  ])('$name', ({ file, run }) => {
    // Act
    const w = run();
    // Assess
    expect(w.converged()).toBe(true);
    golden(file, w.log);
  });
});
