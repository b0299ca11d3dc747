import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getCondition } from '../../../../functions/core/conditions.js';
import { isMarkedForRemediation } from '../../../../functions/core/healthcheck/planner.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, cluster, healthCheck, objects } from '../cluster/fixtures.js';
import { expectGolden, run } from '../controlplane/simulate.js';
import { World } from '../controlplane/world.js';

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function workers(world: World) {
  return world.objects.machines.filter((m) => m.metadata.labels?.role === 'worker');
}

function allHealthy(world: World): boolean {
  const ws = workers(world);
  return ws.length === 6 && ws.every((m) => !m.metadata.deletionTimestamp && world.nodeOf(m)?.conditions[0]?.status === 'True');
}

function remediationAllowed(world: World): string | undefined {
  return getCondition(world.objects.machineHealthChecks[0]?.status?.conditions, 'RemediationAllowed')?.status;
}

describe('a remediation storm is short-circuited (seeded simulation, golden log)', () => {
  it('replaces one broken worker, replaces nothing while 4 of 6 are NotReady, and resumes after', () => {
    // Prepare: 6 workers, at most 40% (2) unhealthy, one remediation in flight at a time.
    const world = new World(
      objects({ cluster: cluster(), machineHealthChecks: [healthCheck({ maxUnhealthy: '40%', maxInFlight: 1 })] }),
      { seed: 42, keepWorkers: 6 },
      T0,
    );
    world.advance(0);
    const replaced: string[] = [];
    const inFlightAtMostOne = (plan: Plan, w: World) => {
      const underWay = workers(w).filter((m) => m.metadata.deletionTimestamp || isMarkedForRemediation(m));
      expect(underWay.length).toBeLessThanOrEqual(1);
      replaced.push(...plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : [])));
    };

    // Act
    const up = run(world, { maxSteps: 200, done: allHealthy, check: inFlightAtMostOne }, T0);
    const first = workers(world)[0]!.metadata.name;
    world.sick.add(first);
    world.advance(0);
    world.log.push(`--- node of ${first} NotReady`);
    const healed = run(
      world,
      { maxSteps: 300, done: (w) => allHealthy(w) && !workers(w).some((m) => m.metadata.name === first), check: inFlightAtMostOne },
      T0,
    );
    const replacedBeforeStorm = [...new Set(replaced)];

    const partitioned = workers(world)
      .slice(0, 4)
      .map((m) => m.metadata.name);
    for (const n of partitioned) world.sick.add(n);
    world.advance(0);
    world.log.push(`--- network partition: nodes of ${partitioned.join(', ')} NotReady for 20 minutes`);
    const stormStart = world.now.getTime();
    const duringStorm: string[] = [];
    run(
      world,
      {
        maxSteps: 500,
        done: (w) => w.now.getTime() - stormStart >= 1200_000,
        check: (plan, w) => {
          inFlightAtMostOne(plan, w);
          duringStorm.push(...plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : [])));
        },
      },
      T0,
    );
    const allowedDuringStorm = remediationAllowed(world);
    world.sick.clear();
    world.advance(0);
    world.log.push('--- partition healed');
    const after = run(world, { maxSteps: 200, done: (w) => allHealthy(w) && remediationAllowed(w) === 'True', check: inFlightAtMostOne }, T0);

    // Assess
    expect([up.done, healed.done, after.done]).toEqual([true, true, true]);
    expect(replacedBeforeStorm).toEqual([first]);
    expect(duringStorm).toEqual([]);
    expect(allowedDuringStorm).toBe('False');
    expect(world.log.some((l) => l.includes('short-circuited'))).toBe(true);
    expectGolden(golden('remediation-storm.log'), world.log);
  });
});
