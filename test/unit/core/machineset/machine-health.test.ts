/** Machine health, readiness and availability (cluster-api TestIsMachineHealthy, plus observed nodes and minReadySeconds). */
import { describe, expect, it } from 'vitest';
import { indexMachines, isAvailable, machineHealth, nodeLookup, secondsUntilAvailable } from '../../../../functions/core/machineset/machine-health.js';
import { deletionOrder } from '../../../../functions/core/machineset/deletion-order.js';
import { T0, at, daysAgo, machine, machineSet, node, nodesFor } from './fixtures.js';

const cond = (type: string, status: 'True' | 'False' | 'Unknown', since = daysAgo(1)) => [{ type, status, lastTransitionTime: since }];

describe('unhealthy, from the machine conditions when nodes cannot be read (cluster-api TestIsMachineHealthy)', () => {
  it.each([
    { name: 'when it has no NodeRef', m: machine('m', { node: undefined }), expect: 'NoNode' },
    { name: 'when nodeHealthyCondition is false', m: machine('m', { conditions: cond('NodeHealthy', 'False') }), expect: 'NodeUnhealthy' },
    { name: 'when nodeHealthyCondition is unknown', m: machine('m', { conditions: cond('NodeHealthy', 'Unknown') }), expect: undefined },
    { name: 'when healthCheckSucceeded is false', m: machine('m', { conditions: cond('HealthCheckSucceeded', 'False') }), expect: 'HealthCheckFailed' },
    { name: 'when healthCheckSucceeded is unknown', m: machine('m', { conditions: cond('HealthCheckSucceeded', 'Unknown') }), expect: undefined },
    { name: 'when all is well', m: machine('m'), expect: undefined },
    { name: 'when its phase is Failed', m: machine('m', { phase: 'Failed' }), expect: 'Failed' },
    { name: 'when its recorded NodeReady is False', m: machine('m', { conditions: cond('NodeReady', 'False') }), expect: 'NodeNotReady' },
  ])('$name', ({ m, expect: want }) => {
    // Act
    const h = machineHealth(m, undefined);
    // Assess
    expect(h.unhealthy).toBe(want);
  });

  it('trusts a recorded NodeReady True: ready since its transition, so it stays available through an API outage', () => {
    // Prepare
    const since = daysAgo(2);
    // Act
    const ready = machineHealth(machine('m', { conditions: cond('NodeReady', 'True', since) }), undefined);
    const unknown = machineHealth(machine('m', { conditions: cond('NodeReady', 'Unknown', since) }), undefined);
    // Assess
    expect([ready.ready, ready.readySince, ready.unhealthy]).toEqual([true, Date.parse(since), undefined]);
    expect(isAvailable(ready, 60, T0.getTime())).toBe(true);
    expect([unknown.ready, unknown.unhealthy]).toEqual([false, undefined]);
  });
});

describe('from observed nodes', () => {
  it.each([
    { name: 'Ready node: ready, healthy', nodes: [node('m-node')], ready: true, unhealthy: undefined },
    { name: 'NotReady node: unhealthy', nodes: [node('m-node', { ready: 'False' })], ready: false, unhealthy: 'NodeNotReady' },
    { name: 'Ready Unknown (kubelet gone): unhealthy', nodes: [node('m-node', { ready: 'Unknown' })], ready: false, unhealthy: 'NodeNotReady' },
    { name: 'node gone: unhealthy', nodes: [], ready: false, unhealthy: 'NoNode' },
  ])('$name', ({ nodes, ready, unhealthy }) => {
    // Act
    const h = machineHealth(machine('m'), nodeLookup(nodes));
    // Assess
    expect(h.ready).toBe(ready);
    expect(h.unhealthy).toBe(unhealthy);
  });

  it.each([
    { name: 'a Ready node overrides a NodeHealthy False recorded while it booted', node: node('m-node'), unhealthy: undefined },
    {
      name: 'a node under pressure is unhealthy whatever was recorded',
      node: {
        ...node('m-node'),
        conditions: [...node('m-node').conditions, { type: 'DiskPressure', status: 'True' as const, lastTransitionTime: daysAgo(1) }],
      },
      unhealthy: 'NodeUnhealthy',
    },
  ])('judges the node observed now, not the record of it: $name', ({ node: observed, unhealthy }) => {
    // Prepare
    const m = machine('m', { conditions: cond('NodeHealthy', 'False') });
    // Act
    const h = machineHealth(m, nodeLookup([observed]));
    // Assess
    expect(h.unhealthy).toBe(unhealthy);
  });

  it('finds the node by providerID before the nodeRef is recorded', () => {
    // Prepare
    const m = { ...machine('m', { node: undefined }), spec: { ...machine('m').spec, providerID: 'sim:///a/m' } };
    // Act
    const h = machineHealth(m, nodeLookup([{ ...node('whatever'), providerID: 'sim:///a/m' }]));
    // Assess
    expect(h.ready).toBe(true);
  });

  it('a deleting machine is neither ready nor available, even with a Ready node', () => {
    // Act
    const h = machineHealth(machine('m', { deleting: true }), nodeLookup([node('m-node')]));
    // Assess
    expect(h).toMatchObject({ deleting: true, ready: false });
    expect(isAvailable(h, 0, T0.getTime())).toBe(false);
  });
});

describe('available: Ready for at least minReadySeconds', () => {
  it.each([
    { name: 'minReadySeconds 0: available as soon as Ready', readyFor: 0, minReady: 0, available: true, wait: undefined },
    { name: 'Ready for 10s of 30s: not yet, 20s to go', readyFor: 10, minReady: 30, available: false, wait: 20 },
    { name: 'Ready for exactly 30s of 30s: available', readyFor: 30, minReady: 30, available: true, wait: undefined },
    { name: 'Ready for 0.5s of 1s: rounds the wait up', readyFor: 0.5, minReady: 1, available: false, wait: 1 },
  ])('$name', ({ readyFor, minReady, available, wait }) => {
    // Prepare
    const m = machine('m');
    const health = indexMachines([m], { instances: [], nodes: [node('m-node', { since: at(-readyFor) })] }, T0).health(m);
    // Act / Assess
    expect(health.ready).toBe(true);
    expect(isAvailable(health, minReady, T0.getTime())).toBe(available);
    expect(secondsUntilAvailable(health, minReady, T0.getTime())).toBe(wait);
  });
});

describe('machine health, edges', () => {
  const lookup = (...nodes: ReturnType<typeof node>[]) => nodeLookup(nodes);
  const statusless = () => {
    const m = machine('m');
    delete m.status;
    return m;
  };

  it('reads the Ready condition of a node whatever comes first, and a pressure condition only when True', () => {
    // Prepare
    const n = node('m-node');
    const withPressure = { ...n, conditions: [{ type: 'MemoryPressure', status: 'False' as const, lastTransitionTime: daysAgo(1) }, ...n.conditions] };
    // Act
    const h = machineHealth(machine('m'), lookup(withPressure));
    // Assess
    expect([h.ready, h.unhealthy]).toEqual([true, undefined]);
  });

  it('a node without a Ready condition is not Ready', () => {
    expect(machineHealth(machine('m'), lookup({ ...node('m-node'), conditions: [] })).unhealthy).toBe('NodeNotReady');
  });

  it('a machine without status (just created) has no node, whether the nodes were read or not', () => {
    expect([machineHealth(statusless(), lookup(node('m-node'))).unhealthy, machineHealth(statusless(), undefined).unhealthy]).toEqual(['NoNode', 'NoNode']);
  });

  it('a machine with a failureReason has failed, whatever its phase', () => {
    // Prepare
    const m = machine('m');
    m.status = { ...m.status!, failureReason: 'CreateError', failureMessage: 'no capacity' } as typeof m.status;
    // Act & Assess
    expect(machineHealth(m, lookup(node('m-node'))).unhealthy).toBe('Failed');
  });

  it('a deleting machine is not ready, even with a Ready node', () => {
    // Act
    const h = machineHealth(machine('m', { deleting: true }), lookup(node('m-node')));
    // Assess
    expect([h.ready, h.readySince]).toEqual([false, undefined]);
  });

  it("a machine in no failure domain is in ''", () => {
    expect(machineHealth(machine('m'), undefined).failureDomain).toBe('');
  });

  it('with minReadySeconds 0 a Ready machine is available at once, even with a node Ready since a moment ahead of the clock', () => {
    // Prepare: clocks of the node and of the planner differ by a few seconds.
    const h = machineHealth(machine('m'), lookup(node('m-node', { since: at(5) })));
    // Act & Assess
    expect([isAvailable(h, 0, T0.getTime()), secondsUntilAvailable(h, 0, T0.getTime())]).toEqual([true, undefined]);
  });
});

describe('the machine index at 50,000 machines: what it works out once per reconcile', () => {
  const owner = machineSet({ replicas: 6 });
  const machines = ['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) =>
    machine(n, { owner, failureDomain: `zone-${i % 2}`, created: daysAgo(10 - i), ...(n === 'c' ? { node: undefined } : {}) }),
  );

  it("gives deletionOrder's order, the same array again for the same machines and policy, and another for another policy", () => {
    // Prepare
    const index = indexMachines(machines, { instances: [], nodes: nodesFor(machines) }, T0);
    // Act
    const oldest = index.deletionOrder(machines, 'Oldest');
    const newest = index.deletionOrder(machines, 'Newest');
    // Assess
    expect(oldest).toEqual(deletionOrder(machines, 'Oldest', index.health));
    expect(newest).toEqual(deletionOrder(machines, 'Newest', index.health));
    expect(index.deletionOrder(machines, 'Oldest')).toBe(oldest);
    expect(newest).not.toEqual(oldest);
  });

  it('names every machine, whenever it is first asked', () => {
    // Act
    const index = indexMachines(machines, { instances: [], nodes: [] }, T0);
    // Assess
    expect([...index.names].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('finds a node by providerID for a machine without a nodeRef, among machines found by nodeRef', () => {
    // Prepare
    const joining = { ...machines[2]!, spec: { ...machines[2]!.spec, providerID: 'sim:///c' } };
    const nodes = [...nodesFor(machines.filter((m) => m !== machines[2])), { ...node('c-node'), providerID: 'sim:///c' }];
    // Act
    const index = indexMachines([...machines.filter((m) => m !== machines[2]), joining], { instances: [], nodes }, T0);
    // Assess
    expect(index.health(joining)).toMatchObject({ ready: true });
    expect(index.health(machines[0]!)).toMatchObject({ ready: true });
  });
});
