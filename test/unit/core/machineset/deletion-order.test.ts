/**
 * Which machines go first on scale-down. The cases of cluster-api's machineset_deletion_order_test.go
 * (TestMachineRandomDelete, TestMachineNewestDelete, TestMachineOldestDelete,
 * TestMachineDeleteMultipleSamePriority), with named machines, plus failure-domain balancing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { deletePriorityClass, deletionOrder, machinesToDelete } from '../../../../functions/core/machineset/deletion-order.js';
import { indexMachines } from '../../../../functions/core/machineset/machine-health.js';
import { T0, daysAgo, machine } from './fixtures.js';

const nodeHealthy = (status: 'True' | 'False' | 'Unknown') => [{ type: 'NodeHealthy', status, lastTransitionTime: daysAgo(1) }];
const healthCheck = (status: 'True' | 'False' | 'Unknown') => [{ type: 'HealthCheckSucceeded', status, lastTransitionTime: daysAgo(1) }];

/** As in Cluster API's tests the machines' own conditions decide (the workload cluster is not read). */
function pick(machines: Machine[], diff: number, policy: 'Random' | 'Newest' | 'Oldest'): string[] {
  const index = indexMachines(machines, { instances: [] }, T0);
  return machinesToDelete(machines, diff, policy, index.health).map((m) => m.metadata.name);
}

function classes(machines: Machine[], names: string[]): string[] {
  const index = indexMachines(machines, { instances: [] }, T0);
  return names.map((n) => {
    const m = machines.find((x) => x.metadata.name === n)!;
    return deletePriorityClass(m, index.health(m));
  });
}

describe('deletePolicy Random (cluster-api TestMachineRandomDelete)', () => {
  const healthy = (n: string) => machine(n);
  const mustDelete = (n: string) => machine(n, { deleting: true });
  const betterDelete = (n: string) => machine(n, { conditions: nodeHealthy('False') });

  it.each([
    { name: 'diff=0', machines: [healthy('h1')], diff: 0, expectClasses: [] },
    { name: 'diff>len(machines)', machines: [healthy('h1')], diff: 2, expectClasses: ['Policy'] },
    { name: 'diff>betterDelete', machines: [healthy('h1'), betterDelete('b1'), healthy('h2')], diff: 2, expectClasses: ['Unhealthy', 'Policy'] },
    {
      name: 'diff<betterDelete',
      machines: [healthy('h1'), betterDelete('b1'), betterDelete('b2'), betterDelete('b3')],
      diff: 2,
      expectClasses: ['Unhealthy', 'Unhealthy'],
    },
    {
      name: 'diff<=mustDelete',
      machines: [healthy('h1'), mustDelete('d1'), betterDelete('b1'), mustDelete('d2')],
      diff: 2,
      expectClasses: ['Deleting', 'Deleting'],
    },
    {
      name: 'diff<=mustDelete+betterDelete',
      machines: [healthy('h1'), mustDelete('d1'), healthy('h2'), betterDelete('b1')],
      diff: 2,
      expectClasses: ['Deleting', 'Unhealthy'],
    },
    {
      name: 'diff<=mustDelete+betterDelete+couldDelete',
      machines: [healthy('h1'), mustDelete('d1'), healthy('h2')],
      diff: 2,
      expectClasses: ['Deleting', 'Policy'],
    },
    {
      name: 'DeleteMachineAnnotation, diff=1',
      machines: [betterDelete('b1'), machine('a1', { annotations: { 'clusterless.dev/delete-machine': '' } }), betterDelete('b2')],
      diff: 1,
      expectClasses: ['DeleteAnnotation'],
    },
    {
      name: 'MachineWithNoNodeRef, diff=1',
      machines: [healthy('h1'), machine('n1', { node: undefined }), healthy('h2')],
      diff: 1,
      expectClasses: ['Unhealthy'],
    },
    {
      name: 'NodeHealthyConditionFalseMachine, diff=1',
      machines: [healthy('h1'), machine('x', { conditions: nodeHealthy('False') }), healthy('h2')],
      diff: 1,
      expectClasses: ['Unhealthy'],
    },
    {
      name: 'NodeHealthyConditionUnknownMachine, diff=1',
      machines: [healthy('h1'), machine('x', { conditions: nodeHealthy('Unknown') }), healthy('h2')],
      diff: 1,
      expectClasses: ['Policy'],
    },
    {
      name: 'HealthCheckSucceededConditionFalseMachine, diff=1',
      machines: [healthy('h1'), machine('x', { conditions: healthCheck('False') }), healthy('h2')],
      diff: 1,
      expectClasses: ['Unhealthy'],
    },
    {
      name: 'HealthCheckSucceededConditionUnknownMachine, diff=1',
      machines: [healthy('h1'), machine('x', { conditions: healthCheck('Unknown') }), healthy('h2')],
      diff: 1,
      expectClasses: ['Policy'],
    },
    { name: 'Failed phase, diff=1', machines: [healthy('h1'), machine('f1', { phase: 'Failed' }), healthy('h2')], diff: 1, expectClasses: ['Unhealthy'] },
  ])('$name', ({ machines, diff, expectClasses }) => {
    // Act
    const picks = pick(machines, diff, 'Random');
    // Assess
    expect(classes(machines, picks)).toEqual(expectClasses);
  });

  it('orders healthy machines by a stable hash of their uid, not by name or input order', () => {
    // Prepare
    const machines = Array.from({ length: 20 }, (_, i) => machine(`m-${String(i).padStart(2, '0')}`));
    // Act
    const forward = pick(machines, 20, 'Random');
    const backward = pick([...machines].reverse(), 20, 'Random');
    // Assess
    expect(forward).toEqual(backward);
    expect(forward).not.toEqual([...forward].sort());
  });
});

describe('deletePolicy Newest (cluster-api TestMachineNewestDelete)', () => {
  const newest = machine('newest', { created: daysAgo(1) });
  const secondNewest = machine('second-newest', { created: daysAgo(5) });
  const secondOldest = machine('second-oldest', { created: daysAgo(10) });
  const oldest = machine('oldest', { created: daysAgo(10) });
  const mustDelete = machine('must-delete', { deleting: true });
  const annotated = machine('annotated', { created: daysAgo(10), annotations: { 'clusterless.dev/delete-machine': '' } });
  const unhealthy = machine('unhealthy', { created: daysAgo(10), conditions: nodeHealthy('False') });
  const noNode = machine('no-node', { created: daysAgo(1), node: undefined });
  const unknown = machine('unknown', { created: daysAgo(10), conditions: nodeHealthy('Unknown') });

  it.each([
    { name: 'diff=1', machines: [secondNewest, oldest, secondOldest, mustDelete, newest], diff: 1, expect: ['must-delete'] },
    { name: 'diff=2', machines: [secondNewest, oldest, mustDelete, secondOldest, newest], diff: 2, expect: ['must-delete', 'newest'] },
    { name: 'diff=3', machines: [secondNewest, mustDelete, oldest, secondOldest, newest], diff: 3, expect: ['must-delete', 'newest', 'second-newest'] },
    { name: 'diff=1 (DeleteMachineAnnotation)', machines: [secondNewest, oldest, secondOldest, newest, annotated], diff: 1, expect: ['annotated'] },
    { name: 'diff=1 (deleteMachineWithoutNodeRef)', machines: [secondNewest, oldest, secondOldest, newest, noNode], diff: 1, expect: ['no-node'] },
    { name: 'diff=1 (unhealthy)', machines: [secondNewest, oldest, secondOldest, newest, unhealthy], diff: 1, expect: ['unhealthy'] },
    { name: 'diff=1 (nodeHealthyConditionUnknownMachine)', machines: [secondNewest, oldest, secondOldest, newest, unknown], diff: 1, expect: ['newest'] },
  ])('$name', ({ machines, diff, expect: want }) => {
    // Act
    const picks = pick(machines, diff, 'Newest');
    // Assess
    expect(picks).toEqual(want);
  });
});

describe('deletePolicy Oldest (cluster-api TestMachineOldestDelete)', () => {
  const empty = (() => {
    const m = machine('empty');
    delete (m.metadata as { creationTimestamp?: string }).creationTimestamp;
    return m;
  })();
  const newest = machine('newest', { created: daysAgo(1) });
  const secondNewest = machine('second-newest', { created: daysAgo(5) });
  const secondOldest = machine('second-oldest', { created: daysAgo(10) });
  const oldest = machine('oldest', { created: daysAgo(10) });
  const annotated = machine('annotated', { created: daysAgo(10), annotations: { 'clusterless.dev/delete-machine': '' } });
  const unhealthy = machine('unhealthy', { created: daysAgo(10), conditions: nodeHealthy('False') });
  const noNode = machine('no-node', { created: daysAgo(10), node: undefined });
  const unknown = machine('unknown', { created: daysAgo(10), conditions: nodeHealthy('Unknown') });
  const mustDelete = machine('b', { deleting: true });
  const unhealthyA = machine('a-unhealthy', { created: daysAgo(10), conditions: nodeHealthy('False') });
  const unhealthyZ = machine('z', { created: daysAgo(10), conditions: nodeHealthy('False') });

  it.each([
    { name: 'diff=1', machines: [empty, secondNewest, oldest, secondOldest, newest], diff: 1, expect: ['oldest'] },
    { name: 'diff=2', machines: [secondNewest, oldest, secondOldest, newest, empty], diff: 2, expect: ['oldest', 'second-oldest'] },
    { name: 'diff=3', machines: [secondNewest, oldest, secondOldest, newest, empty], diff: 3, expect: ['oldest', 'second-oldest', 'second-newest'] },
    { name: 'diff=4', machines: [secondNewest, oldest, secondOldest, newest, empty], diff: 4, expect: ['oldest', 'second-oldest', 'second-newest', 'newest'] },
    { name: 'diff=1 (DeleteMachineAnnotation)', machines: [empty, secondNewest, oldest, secondOldest, newest, annotated], diff: 1, expect: ['annotated'] },
    { name: 'diff=1 (deleteMachineWithoutNodeRef)', machines: [empty, secondNewest, oldest, secondOldest, newest, noNode], diff: 1, expect: ['no-node'] },
    { name: 'diff=1 (unhealthy)', machines: [empty, secondNewest, oldest, secondOldest, newest, unhealthy], diff: 1, expect: ['unhealthy'] },
    {
      name: 'diff=1 (nodeHealthyConditionUnknownMachine)',
      machines: [empty, secondNewest, oldest, secondOldest, newest, unknown],
      diff: 1,
      expect: ['oldest'],
    },
    {
      name: 'diff=1 (unhealthyMachineA): deleting goes first whatever the names',
      machines: [empty, secondNewest, oldest, secondOldest, newest, mustDelete, unhealthyA],
      diff: 1,
      expect: ['b'],
    },
    {
      name: 'diff=1 (unhealthyMachineZ): deleting goes first whatever the names',
      machines: [empty, secondNewest, oldest, secondOldest, newest, mustDelete, unhealthyZ],
      diff: 1,
      expect: ['b'],
    },
  ])('$name', ({ machines, diff, expect: want }) => {
    // Act
    const picks = pick(machines, diff, 'Oldest');
    // Assess
    expect(picks).toEqual(want);
  });
});

describe('failure domains', () => {
  it.each([
    {
      name: 'takes from the most crowded domain first, oldest there (Oldest)',
      machines: [
        machine('a1', { failureDomain: 'a', created: daysAgo(1) }),
        machine('a2', { failureDomain: 'a', created: daysAgo(2) }),
        machine('a3', { failureDomain: 'a', created: daysAgo(3) }),
        machine('b1', { failureDomain: 'b', created: daysAgo(30) }),
        machine('c1', { failureDomain: 'c', created: daysAgo(4) }),
        machine('c2', { failureDomain: 'c', created: daysAgo(5) }),
      ],
      policy: 'Oldest' as const,
      // a: 3 -> a3 (a 2, c 2: tie, c2 is older) -> c2 -> then a 2, b 1, c 1 -> a2 -> a 1 b 1 c 1: b1 oldest.
      expect: ['a3', 'c2', 'a2', 'b1', 'c1', 'a1'],
    },
    {
      name: 'an unhealthy machine in the smallest domain still goes before healthy ones',
      machines: [
        machine('a1', { failureDomain: 'a' }),
        machine('a2', { failureDomain: 'a' }),
        machine('b1', { failureDomain: 'b', conditions: nodeHealthy('False') }),
      ],
      policy: 'Newest' as const,
      expect: ['b1'],
    },
  ])('$name', ({ machines, policy, expect: want }) => {
    // Act
    const picks = pick(machines, want.length, policy);
    // Assess
    expect(picks).toEqual(want);
  });

  it('keeps the spread: after any scale-down the domains differ by no more than before (or 1)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom('Random', 'Newest', 'Oldest'),
        (domains, k, policy) => {
          // Prepare
          const machines = domains.map((d, i) => machine(`m${i}`, { failureDomain: d, created: daysAgo(i + 1) }));
          const spread = (ms: Machine[]) => {
            const counts = ['a', 'b', 'c'].map((d) => ms.filter((m) => m.spec.failureDomain === d).length);
            return Math.max(...counts) - Math.min(...counts);
          };
          const count = k % (machines.length + 1);
          // Act
          const gone = new Set(pick(machines, count, policy as 'Random'));
          // Assess
          const left = machines.filter((m) => !gone.has(m.metadata.name));
          expect(spread(left)).toBeLessThanOrEqual(Math.max(spread(machines), 1));
        },
      ),
    );
  });
});

describe('properties of the order', () => {
  const arbMachine = fc.record({
    deleting: fc.boolean(),
    annotated: fc.boolean(),
    unhealthy: fc.boolean(),
    age: fc.integer({ min: 1, max: 100 }),
    domain: fc.constantFrom('', 'a', 'b'),
  });

  it('is a permutation, independent of input order, with classes in priority order (TestMachineDeleteMultipleSamePriority)', () => {
    fc.assert(
      fc.property(fc.array(arbMachine, { maxLength: 30 }), fc.constantFrom('Random', 'Newest', 'Oldest'), fc.nat(), (specs, policy, seed) => {
        // Prepare
        const machines = specs.map((s, i) =>
          machine(`m${i}`, {
            deleting: s.deleting,
            created: daysAgo(s.age),
            ...(s.annotated ? { annotations: { 'clusterless.dev/delete-machine': 'yes' } } : {}),
            ...(s.unhealthy ? { conditions: nodeHealthy('False') } : {}),
            ...(s.domain ? { failureDomain: s.domain } : {}),
          }),
        );
        const shuffled = [...machines].sort((a, b) => ((a.metadata.name.length * 31 + seed) % 7) - ((b.metadata.name.length * 17 + seed) % 5));
        const index = indexMachines(machines, { instances: [] }, T0);
        // Act
        const order = deletionOrder(machines, policy as 'Random', index.health).map((m) => m.metadata.name);
        const again = deletionOrder(shuffled, policy as 'Random', index.health).map((m) => m.metadata.name);
        // Assess
        expect([...order].sort()).toEqual(machines.map((m) => m.metadata.name).sort());
        expect(again).toEqual(order);
        const rank = { Deleting: 0, DeleteAnnotation: 1, Unhealthy: 2, Policy: 3 };
        const ranks = classes(machines, order).map((c) => rank[c as keyof typeof rank]);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      }),
    );
  });
});

describe('ties', () => {
  const order = (machines: Machine[], policy: 'Random' | 'Newest' | 'Oldest') => {
    const index = indexMachines(machines, { instances: [] }, T0);
    return deletionOrder(machines, policy, index.health).map((m) => m.metadata.name);
  };

  it('machines already deleting come first by name, whatever order they are listed in', () => {
    const a = machine('d-a', { deleting: true });
    const b = machine('d-b', { deleting: true });
    expect([order([b, a, machine('m')], 'Oldest'), order([a, b, machine('m')], 'Oldest')]).toEqual([
      ['d-a', 'd-b', 'm'],
      ['d-a', 'd-b', 'm'],
    ]);
  });

  it('machines of the same age in the same domain go by name, whatever order they are listed in', () => {
    const a = machine('m-a', { created: daysAgo(3) });
    const b = machine('m-b', { created: daysAgo(3) });
    expect([order([b, a], 'Oldest'), order([a, b], 'Oldest')]).toEqual([
      ['m-a', 'm-b'],
      ['m-a', 'm-b'],
    ]);
  });

  it('a machine already deleting does not count for its failure domain: the fuller domain gives first', () => {
    // Prepare: zone a has a deleting machine and the oldest healthy one; zone b two healthy ones.
    const machines = [
      machine('a-gone', { failureDomain: 'a', deleting: true }),
      machine('a1', { failureDomain: 'a', created: daysAgo(30) }),
      machine('b1', { failureDomain: 'b', created: daysAgo(2) }),
      machine('b2', { failureDomain: 'b', created: daysAgo(1) }),
    ];
    // Act & Assess
    expect(order(machines, 'Oldest').slice(0, 2)).toEqual(['a-gone', 'b1']);
  });

  it('a scale-down by a negative count deletes nothing', () => {
    expect(pick([machine('a'), machine('b')], -1, 'Oldest')).toEqual([]);
  });
});
