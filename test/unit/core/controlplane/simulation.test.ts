import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { failureDomainOf } from '../../../../functions/core/machine/facts.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import { isUpToDate } from '../../../../functions/core/controlplane/machines.js';
import { Labels, T0, cluster, controlPlane, healthCheck, objects } from '../cluster/fixtures.js';
import { checkQuorum, etcdOf, expectGolden, run } from './simulate.js';
import { World } from './world.js';

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

/** Every control-plane machine up to date, with a Ready node, as many as asked for, none deleting. */
function settled(world: World): boolean {
  const cp = world.objects.controlPlane;
  if (!cp) return false;
  const machines = world.controlPlaneMachines();
  const { healthy } = etcdOf(world);
  return machines.length === cp.spec.replicas && machines.every((m) => !m.metadata.deletionTimestamp && isUpToDate(m, cp) && healthy.has(m.metadata.name));
}

function setSpec(world: World, spec: Partial<ControlPlane['spec']>): void {
  const cp = world.objects.controlPlane!;
  world.objects.controlPlane = { ...cp, metadata: { ...cp.metadata, generation: (cp.metadata.generation ?? 1) + 1 }, spec: { ...cp.spec, ...spec } };
}

function newWorld(seed: number, cp: ControlPlane): World {
  const start = T0;
  const o = objects({ cluster: cluster({ initialized: false }), controlPlane: cp });
  o.controlPlane = { ...cp, status: {} };
  return new World(o, { seed }, start);
}

describe('control-plane rolling upgrade (seeded simulation, golden log)', () => {
  it.each([
    { name: 'maxSurge 1', maxSurge: 1 as const, file: 'rolling-upgrade-max-surge-1.log' },
    { name: 'maxSurge 0', maxSurge: 0 as const, file: 'rolling-upgrade-max-surge-0.log' },
  ])('creates 3 machines then upgrades them one at a time: $name', ({ maxSurge, file }) => {
    // Prepare
    const world = newWorld(7, controlPlane({ version: 'v1.30.4', rollout: { maxSurge } }, { initialized: false }));
    const maxMachines: number[] = [];
    const check = (plan: Parameters<typeof checkQuorum>[0], w: World) => {
      checkQuorum(plan, w);
      maxMachines.push(w.controlPlaneMachines().length);
    };
    // Act
    const created = run(world, { maxSteps: 300, done: settled, check }, T0);
    world.log.push('--- spec.version v1.30.4 -> v1.31.0');
    setSpec(world, { version: 'v1.31.0' });
    const upgraded = run(world, { maxSteps: 400, done: settled, check }, T0);
    // Assess
    expect(created.done).toBe(true);
    expect(upgraded.done).toBe(true);
    expect(world.controlPlaneMachines().map((m) => m.spec.version)).toEqual(['v1.31.0', 'v1.31.0', 'v1.31.0']);
    expect(new Set(world.controlPlaneMachines().map((m) => failureDomainOf(m)))).toEqual(new Set(['zone-a', 'zone-b', 'zone-c']));
    expect(Math.max(...maxMachines)).toBe(3 + maxSurge);
    expectGolden(golden(file), world.log);
  });
});

describe('control-plane quorum (property over random control planes and random health)', () => {
  const scenario = fc.record({
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    replicas: fc.constantFrom(1, 3, 5),
    maxSurge: fc.constantFrom<0 | 1>(0, 1),
    /** Later edits: a new replica count and whether the version is bumped. */
    edits: fc.array(fc.record({ atStep: fc.integer({ min: 0, max: 120 }), replicas: fc.constantFrom(1, 3, 5), upgrade: fc.boolean() }), { maxLength: 3 }),
    faultRate: fc.double({ min: 0.02, max: 0.2, noNaN: true }),
  });

  it('never starts a removal that leaves etcd without a healthy majority, and settles once the faults stop', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare
        const maxSurge = s.replicas < 3 ? 1 : s.maxSurge;
        const world = newWorld(
          s.seed,
          controlPlane({ replicas: s.replicas, version: 'v1.30.0', rollout: { maxSurge }, remediation: { retryPeriodSeconds: 120 } }, { initialized: false }),
        );
        world.objects.machineHealthChecks = [healthCheck({ selector: { matchExpressions: [{ key: Labels.controlPlane, operator: 'Exists' }] } }, 'cp-mhc')];
        let version = 30;
        let faultUntil = 0;
        const events = (w: World, step: number): string[] => {
          const out: string[] = [];
          for (const e of s.edits.filter((x) => x.atStep === step)) {
            const replicas = e.replicas;
            if (e.upgrade) version++;
            setSpec(w, { replicas, version: `v1.${version}.0`, rollout: { maxSurge: replicas < 3 ? 1 : maxSurge } });
            out.push(`replicas ${replicas}, version v1.${version}.0`);
          }
          // One fault at a time (a fault lasts until every machine is a healthy member again, so a terminated
          // instance lasts until its machine is replaced), and none after step 200: the control plane must then
          // settle. More at once can break a quorum for real, which no planner can repair.
          if (w.now.getTime() >= faultUntil) w.sick.clear();
          const { members, healthy } = etcdOf(w);
          const machines = w.controlPlaneMachines();
          const allHealthy = machines.every((m) => m.metadata.deletionTimestamp || healthy.has(m.metadata.name));
          // So a remediation's fault lasts until its machine is gone and a replacement was created since. Note: a
          // second fault before that (fast-check seed -701418179: a machine terminated while the remediated one
          // was gone and not yet replaced) leaves the planner waiting for ever, as Cluster API's KCP would: the
          // replacement cannot join safely with a dead member, and that member's remediation waits for the
          // replacement. A known limit of the planner, not a case this one-fault model covers.
          const last = w.objects.controlPlane?.status?.lastRemediation;
          const remediating =
            last !== undefined &&
            (machines.some((m) => m.metadata.name === last.machine) ||
              !machines.some((m) => Date.parse(m.metadata.creationTimestamp ?? '') > Date.parse(last.timestamp)));
          if (step < 200 && w.sick.size === 0 && allHealthy && !remediating && w.random() < s.faultRate) {
            const victim = members[Math.floor(w.random() * members.length)];
            if (victim) {
              const cp = w.objects.controlPlane!;
              if (w.random() < 0.3 && cp.spec.replicas >= 3 && members.length >= 3) {
                const i = w.instanceOf(victim)!;
                w.instances.set(i.instanceId, { ...i, state: 'terminated' });
                w.nodes.delete(`node-${victim.metadata.name}`);
                out.push(`instance of ${victim.metadata.name} terminated`);
              } else {
                w.sick.add(victim.metadata.name);
                faultUntil = w.now.getTime() + (60 + Math.floor(w.random() * 840)) * 1000;
                out.push(`node of ${victim.metadata.name} NotReady`);
              }
            }
          }
          return out;
        };
        // Act: edits and faults first, then the faults heal and the control plane must settle.
        run(world, { maxSteps: 250, check: checkQuorum, events }, T0);
        world.sick.clear();
        world.log.push('--- faults over');
        const settling = run(world, { maxSteps: 1500, check: checkQuorum, done: settled }, T0);
        // Assess
        expect(settling.done, world.log.slice(-30).join('\n')).toBe(true);
      }),
      { numRuns: 150 },
    );
    // 150 whole simulations: 20 s on a quiet core, over a minute on a loaded one.
  }, 300_000);
});
