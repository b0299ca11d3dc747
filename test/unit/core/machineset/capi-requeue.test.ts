/**
 * When a MachineSet asks to be reconciled again while its machines wait for minReadySeconds, against Cluster
 * API (kubernetes-sigs/cluster-api): core/reconcilers/machine/machine_controller_status.go setAvailableCondition
 * with its TestAvailableCondition table (a Ready machine is available once Ready for minReadySeconds; the
 * controller requeues after what is left), and core/reconcilers/machineset/machineset_controller.go
 * shouldRequeueForReplicaCountersRefresh (all Ready, not all available: requeue after minReadySeconds; not
 * all Ready: every 15 s). `capi` is Cluster API's requeue in seconds, `want` clusterless's; where they differ,
 * `why` says why on purpose.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { planMachineSet } from '../../../../functions/core/machineset/planner.js';
import type { NodeFact } from '../../../../functions/core/observed.js';
import { T0, at, cluster, machine, machineClass, machineSet, node } from './fixtures.js';

/** A MachineSet of as many machines as `readyFor` has entries: each node Ready for that many seconds, or none. */
function plan(minReadySeconds: number, readyFor: (number | undefined)[]) {
  const ms = machineSet({ replicas: readyFor.length, minReadySeconds });
  const machines: Machine[] = readyFor.map((_, i) => machine(`m${i}`, { owner: ms }));
  const nodes: NodeFact[] = readyFor.flatMap((s, i) => (s === undefined ? [] : [node(`m${i}-node`, { since: at(-s) })]));
  return planMachineSet({ machineSet: ms, machines, cluster: cluster(), machineClass: machineClass(), observed: { instances: [], nodes }, now: T0 });
}

describe('requeue while machines wait for minReadySeconds', () => {
  it.each([
    {
      name: 'Ready and available (TestAvailableCondition): nothing to wait for',
      minReady: 30,
      readyFor: [40, 40],
      available: 2,
      capi: undefined,
      want: undefined,
    },
    { name: 'minReadySeconds 0: Ready is available at once', minReady: 0, readyFor: [1, 1], available: 2, capi: undefined, want: undefined },
    {
      name: 'Ready for exactly minReadySeconds is available (the Machine controller compares with >=)',
      minReady: 30,
      readyFor: [30],
      available: 1,
      capi: undefined,
      want: undefined,
    },
    {
      name: 'all Ready, one waiting 20 s more: wakes when that one becomes available',
      minReady: 30,
      readyFor: [40, 10],
      available: 1,
      // The Machine controller requeues after what is left (20 s); the MachineSet after the whole minReadySeconds.
      capi: 20,
      want: 20,
    },
    {
      name: 'two waiting: wakes for the first of them',
      minReady: 300,
      readyFor: [100, 250],
      available: 0,
      capi: 50,
      want: 50,
    },
    {
      name: 'a Ready time a fraction of a second ago rounds the wait up to whole seconds, never earlier',
      minReady: 1,
      readyFor: [0.5],
      available: 0,
      capi: 0.5,
      want: 1,
      why: 'requeues are asked for in whole seconds (one-time schedules); rounding up never wakes before the machine is available',
    },
    {
      name: 'a machine without a node: no poll',
      minReady: 30,
      readyFor: [40, undefined],
      available: 1,
      capi: 15,
      want: undefined,
      why: 'clusterless does not poll every 15 s: the provision-machine workflow polls for the node and records it (a write, so a reconcile), and the minute sweep reconciles a MachineDeployment whose rollout is not complete',
    },
  ])('$name', ({ minReady, readyFor, available, capi, want }) => {
    // Act
    const p = plan(minReady, readyFor);
    // Assess
    expect(p.status?.availableReplicas).toBe(available);
    expect(p.requeueAfterSeconds).toBe(want);
    if (capi !== want) expect(p.requeueAfterSeconds).not.toBe(capi);
  });

  it('a node Ready since a moment ahead of the clock with minReadySeconds 0 is available at once, where Cluster API waits for the clock (documented difference)', () => {
    // Why: with minReadySeconds 0, Ready means available (as noderefutil.IsNodeAvailable says); a transition time
    // ahead of the reconciler's clock is clock skew, and waiting for it would only delay a rollout.
    // Act
    const p = plan(0, [-10]);
    // Assess: Cluster API's TestAvailableCondition "Ready but still waiting for MinReadySeconds" requeues after 10 s.
    expect([p.status?.availableReplicas, p.requeueAfterSeconds]).toEqual([1, undefined]);
  });
});
