/** The fleet-upgrade definition on the local engine, its tasks faked: the paths a real upgrade rarely takes. */
import { describe, expect, it } from 'vitest';
import { LocalWorkflows, type TaskHandler } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import { FLEET_CHECK_SECONDS, checkInterval } from '../../../functions/workflows/fleet-upgrade.js';
import { FLEET_WAITS_PER_EXECUTION } from '../../../statemachines/fleet-upgrade.js';
import { waitUntil } from '../../support/wait.js';

const done: TaskHandler = async () => ({ done: true, next: 'Done' });
const now = () => new Date(Date.now() - 1000).toISOString();
const INPUT = { namespace: 'default', name: 'to-1-32', uid: '0b7c5a52-2f0c-4d36-9d43-7a4f5e7e6c11' };

function engine(fleet: TaskHandler) {
  return new LocalWorkflows({
    timeScale: 1000,
    handlers: { reconcile: done, provision: done, rollout: done, remediate: done, teardown: done, 'fleet-upgrade': fleet },
  });
}

describe('fleet-upgrade on the local engine', () => {
  it(`continues as a new execution, fleet-{uid}-c1, after ${FLEET_WAITS_PER_EXECUTION} waits between waves (a long pause or bake)`, async () => {
    // Prepare: the upgrade waits (a pause) as long as one execution may, and then one step more.
    let calls = 0;
    const wf = engine(async () => (++calls <= FLEET_WAITS_PER_EXECUTION ? { next: 'Paused', wakeAt: now() } : { next: 'Done' }));
    try {
      // Act
      await wf.start('fleet-upgrade', `fleet-${INPUT.uid}`, INPUT);
      await waitUntil('the continuation ended', async () => wf.list('fleet-upgrade').filter((e) => e.status === 'SUCCEEDED').length === 2, 60_000, 25);
      // Assess
      expect(wf.list('fleet-upgrade').map((e) => e.name)).toEqual([`fleet-${INPUT.uid}`, `fleet-${INPUT.uid}-c1`]);
      expect(wf.list('fleet-upgrade')[1]!.input).toEqual({ ...INPUT, continuation: 1 });
      expect(calls).toBe(FLEET_WAITS_PER_EXECUTION + 1);
    } finally {
      await wf.stop();
    }
  });

  it("runs the wave's clusters at most maxInFlight at once, each looping Wait + check until its task says End", async () => {
    let inFlight = 0;
    let most = 0;
    const checks = new Map<string, number>();
    let waves = 0;
    const wf = engine(async (input) => {
      const cluster = String(input['cluster']);
      switch (input['step']) {
        case 'nextWave':
          return waves++ === 0 ? { next: 'RunWave', wave: 0, maxInFlight: 2, clusters: ['a', 'b', 'c', 'd', 'e'] } : { next: 'Done' };
        case 'startCluster':
          most = Math.max(most, ++inFlight);
          return { next: 'Wait', wakeAt: now() };
        case 'checkCluster': {
          const n = (checks.get(cluster) ?? 0) + 1;
          checks.set(cluster, n);
          if (n < 3) return { next: 'Wait', wakeAt: now() };
          inFlight--;
          return { next: 'End' };
        }
        default:
          return { next: 'NextWave' };
      }
    });
    try {
      await wf.start('fleet-upgrade', `fleet-${INPUT.uid}`, INPUT);
      await waitUntil('the execution ended', async () => wf.list('fleet-upgrade')[0]?.status === 'SUCCEEDED', 60_000, 25);
      expect(most).toBe(2);
      expect([...checks.entries()].sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map((c) => [c, 3]));
    } finally {
      await wf.stop();
    }
  });
});

describe('checkInterval', () => {
  const at = (seconds: number) =>
    checkInterval({ name: 'a', wave: 0, phase: 'InFlight', startedAt: '2026-01-01T00:00:00Z' }, new Date(Date.parse('2026-01-01T00:00:00Z') + seconds * 1000));

  it('looks at a cluster every 10 s at first, then at a twentieth of its time in flight, at most every 10 minutes', () => {
    // A cluster done after 4 minutes is seen done within 10 s of it, not 30.
    expect(FLEET_CHECK_SECONDS).toBe(10);
    expect(at(0)).toBe(10);
    expect(at(240)).toBe(12);
    expect(at(1200)).toBe(60);
    expect(at(7 * 24 * 3600)).toBe(600);
  });

  it('keeps a 7-day clusterTimeoutSeconds within about 1,200 looks (the history of one Distributed Map item)', () => {
    let t = 0;
    let looks = 0;
    while (t < 7 * 24 * 3600) {
      t += at(t);
      looks++;
    }
    expect(looks).toBeLessThan(1300);
  });
});
