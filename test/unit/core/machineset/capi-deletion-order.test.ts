/**
 * Cluster API's deletion-order tables, restated as data: the cases of
 * core/reconcilers/machineset/machineset_deletion_order_test.go (kubernetes-sigs/cluster-api) that
 * deletion-order.test.ts does not already hold, and every case where clusterless chooses differently on
 * purpose, with the reason in `why`. `capi` is what Cluster API picks, `want` what clusterless picks.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { machinesToDelete } from '../../../../functions/core/machineset/deletion-order.js';
import { indexMachines } from '../../../../functions/core/machineset/machine-health.js';
import { T0, daysAgo, machine, node } from './fixtures.js';

type Policy = 'Random' | 'Newest' | 'Oldest';

/** The machines' own conditions decide, as in Cluster API's tests (no workload cluster read). */
function pick(machines: readonly Machine[], diff: number, policy: Policy): string[] {
  const index = indexMachines(machines, { instances: [] }, T0);
  return machinesToDelete(machines, diff, policy, index.health).map((m) => m.metadata.name);
}

const nodeHealthyFalse = [{ type: 'NodeHealthy', status: 'False' as const, lastTransitionTime: daysAgo(1) }];
const withoutCreationTimestamp = (m: Machine): Machine => {
  delete (m.metadata as { creationTimestamp?: string }).creationTimestamp;
  return m;
};

describe('TestMachineDeleteMultipleSamePriority: ten machines with the delete annotation, no creation time, shuffled', () => {
  const names = Array.from({ length: 10 }, (_, i) => `machine-${i}`);
  const annotated = names.map((n) => withoutCreationTimestamp(machine(n, { annotations: { 'clusterless.dev/delete-machine': 'true' } })));
  // Three fixed shuffles stand in for Cluster API's rand.Perm.
  const shuffles = [
    [3, 7, 0, 9, 1, 5, 8, 2, 6, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    [5, 0, 6, 1, 7, 2, 8, 3, 9, 4],
  ].map((order) => order.map((i) => annotated[i]!));

  it.each([
    { policy: 'Oldest' as const, diff: 1 },
    { policy: 'Oldest' as const, diff: 5 },
    { policy: 'Oldest' as const, diff: 7 },
    { policy: 'Newest' as const, diff: 1 },
    { policy: 'Newest' as const, diff: 5 },
    { policy: 'Newest' as const, diff: 7 },
  ])('func=$policy, diff=$diff: the first machines by name, whatever the input order', ({ policy, diff }) => {
    // Act
    const picks = shuffles.map((s) => pick(s, diff, policy));
    // Assess
    expect(picks).toEqual(shuffles.map(() => names.slice(0, diff)));
  });

  it.each([1, 5, 7])('func=Random, diff=%i: a stable order whatever the input order, but by a hash of the uid, not by name (documented difference)', (diff) => {
    // Why: clusterless's Random is a stable pseudo-random order (a hash of the uid), so that which machine goes is
    // spread over the set; Cluster API gives every healthy machine the same priority, so its Random is name order.
    // Act
    const picks = shuffles.map((s) => pick(s, diff, 'Random'));
    const byHash = pick(annotated, 10, 'Random');
    // Assess
    expect(picks).toEqual(shuffles.map(() => byHash.slice(0, diff)));
    expect(byHash).not.toEqual(names);
    expect([...byHash].sort()).toEqual(names);
  });
});

describe('cases where clusterless chooses differently on purpose', () => {
  const healthy = (name: string, days: number) => machine(name, { created: daysAgo(days) });
  const unhealthy = (name: string, days: number) => machine(name, { created: daysAgo(days), conditions: nodeHealthyFalse });
  const annotated = (name: string, days: number) => machine(name, { created: daysAgo(days), annotations: { 'clusterless.dev/delete-machine': '' } });

  it.each([
    {
      name: 'Oldest: a healthy machine over a year old and a young unhealthy one',
      machines: [healthy('a-old', 400), unhealthy('z-sick', 1)],
      policy: 'Oldest' as Policy,
      diff: 1,
      capi: ['a-old'],
      want: ['z-sick'],
      why: "Cluster API's age priority 50·(1−e^(−age/10d)) rounds to exactly 50 after about 374 days, the unhealthy class's priority, and the tie falls to the name; clusterless keeps the classes apart",
    },
    {
      name: 'Oldest: two machines over a year old',
      machines: [healthy('a-400d', 400), healthy('b-800d', 800)],
      policy: 'Oldest' as Policy,
      diff: 1,
      capi: ['a-400d'],
      want: ['b-800d'],
      why: 'the same rounding makes every machine over a year old tie in Cluster API; clusterless compares creation times exactly',
    },
    {
      name: 'Oldest: two unhealthy machines of different ages',
      machines: [unhealthy('a-young', 1), unhealthy('b-old', 10), healthy('c', 30)],
      policy: 'Oldest' as Policy,
      diff: 1,
      capi: ['a-young'],
      want: ['b-old'],
      why: 'within a priority class clusterless still follows the deletePolicy; Cluster API gives the class one priority and orders it by name',
    },
    {
      name: 'Newest: two machines with the delete annotation of different ages',
      machines: [annotated('a-old', 10), annotated('b-young', 1), healthy('c', 0.5)],
      policy: 'Newest' as Policy,
      diff: 1,
      capi: ['a-old'],
      want: ['b-young'],
      why: 'within a priority class clusterless still follows the deletePolicy; Cluster API orders the class by name',
    },
    {
      name: 'Random: healthy machines of equal priority',
      machines: ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f'].map((n) => healthy(n, 5)),
      policy: 'Random' as Policy,
      diff: 6,
      capi: ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f'],
      want: ['m-d', 'm-c', 'm-e', 'm-f', 'm-a', 'm-b'], // fnv1a32 of the uids, fixed once for all
      why: 'Random is a stable hash of the uid in clusterless (a machine named first alphabetically is not always the victim)',
    },
    {
      name: 'Oldest: the failure domain with the most machines gives first',
      machines: [
        machine('a1', { failureDomain: 'a', created: daysAgo(1) }),
        machine('a2', { failureDomain: 'a', created: daysAgo(2) }),
        machine('b-oldest', { failureDomain: 'b', created: daysAgo(30) }),
      ],
      policy: 'Oldest' as Policy,
      diff: 1,
      capi: ['b-oldest'],
      want: ['a2'],
      why: "a scale-down keeps the set spread over failure domains (Cluster API spreads only KubeadmControlPlane's machines); the policy decides within the domain",
    },
  ])('$name', ({ machines, policy, diff, want, capi }) => {
    // Act
    const picks = pick(machines, diff, policy);
    // Assess: clusterless's pick, and a reminder that it is not Cluster API's.
    expect(picks).toEqual(want);
    expect(picks).not.toEqual(capi);
  });

  it('a machine whose observed node reports Ready Unknown goes first, although its NodeHealthy would be Unknown in Cluster API (documented difference)', () => {
    // Why: Cluster API makes no assumption about an Unknown NodeHealthy; clusterless reads the node itself, and a
    // node whose Ready is Unknown has stopped reporting (its kubelet is gone): that machine is not Ready.
    // Prepare
    const machines = [healthy('a', 1), machine('z-silent', { created: daysAgo(30) }), healthy('b', 2)];
    const nodes = [node('a-node'), node('z-silent-node', { ready: 'Unknown' }), node('b-node')];
    const index = indexMachines(machines, { instances: [], nodes }, T0);
    // Act
    const picks = machinesToDelete(machines, 1, 'Newest', index.health).map((m) => m.metadata.name);
    // Assess
    expect(picks).toEqual(['z-silent']);
  });
});
