/** Mixed capacity: the market of new machines and of the machines a scale-down removes (core/machineset/capacity.ts). */
import { describe, expect, it } from 'vitest';
import { CapacityAnnotations, CapacityLabels, machineDeploymentCapacity, type MachineDeploymentCapacity } from '../../../../functions/api/capacity.js';
import { Annotations } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { launchCapacityOf, newMachineCapacities, spotShare } from '../../../../functions/core/machineset/capacity.js';
import { planMachineSet } from '../../../../functions/core/machineset/planner.js';
import type { InstanceFact } from '../../../../functions/core/observed.js';
import type { Write } from '../../../../functions/core/plan.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { World } from '../machinedeployment/world.js';
import { T0, cluster, machine, machineClass, machineDeployment, machineSet, nodesFor } from './fixtures.js';

const cap = (c: Partial<MachineDeploymentCapacity> & { spotPercentageAboveBase: number }) => machineDeploymentCapacity.parse(c);
const typeOf = (m: Machine) => m.metadata.labels?.[CapacityLabels.capacityType];

/** One set's world: the planner's creates become machines (with a uid) and its deletes remove them, until it rests. */
function settle(ms: MachineSet, capacity: MachineDeploymentCapacity, start: Machine[], instances: InstanceFact[] = []) {
  let machines = start;
  let serial = machines.length;
  for (let pass = 0; pass < 20; pass++) {
    const plan = planMachineSet({
      machineSet: ms,
      machines,
      cluster: cluster(),
      machineClass: machineClass(),
      observed: { instances, nodes: nodesFor(machines) },
      now: T0,
      capacity: { spec: capacity, deploymentMachines: machines },
    });
    const creates = plan.writes.filter((w): w is Extract<Write, { type: 'Create' }> => w.type === 'Create').map((w) => w.object as Machine);
    const deletes = new Set(plan.writes.filter((w) => w.type === 'Delete').map((w) => (w as Extract<Write, { type: 'Delete' }>).ref.name));
    if (creates.length === 0 && deletes.size === 0) return machines;
    machines = [
      ...machines.filter((m) => !deletes.has(m.metadata.name)),
      ...creates.map((m) => ({ ...m, metadata: { ...m.metadata, uid: `uid-${serial++}`, creationTimestamp: T0.toISOString() } })),
    ];
  }
  throw new Error('the planner did not come to rest');
}

const split = (machines: readonly Machine[]) => ({
  onDemand: machines.filter((m) => typeOf(m) !== 'spot').length,
  spot: machines.filter((m) => typeOf(m) === 'spot').length,
});

describe('the split', () => {
  it.each([
    { base: 0, pct: 100, total: 5, spot: 5 },
    { base: 2, pct: 100, total: 5, spot: 3 },
    { base: 2, pct: 100, total: 2, spot: 0 },
    { base: 0, pct: 50, total: 3, spot: 1 },
    { base: 1, pct: 70, total: 4, spot: 2 },
    { base: 0, pct: 0, total: 9, spot: 0 },
  ])('base $base, $pct% spot above: $spot of $total machines on spot (a fraction goes to on-demand)', ({ base, pct, total, spot }) => {
    expect(spotShare(total, cap({ onDemandBase: base, spotPercentageAboveBase: pct }))).toBe(spot);
  });
});

describe('counts hold through scale up and scale down', () => {
  it.each([
    { name: 'base 2, 50% spot above', capacity: cap({ onDemandBase: 2, spotPercentageAboveBase: 50 }) },
    { name: 'no base, 75% spot', capacity: cap({ spotPercentageAboveBase: 75 }) },
    { name: 'base 1, all spot above', capacity: cap({ onDemandBase: 1, spotPercentageAboveBase: 100 }) },
  ])('$name: after every resize the set holds the split of its size', ({ capacity }) => {
    let machines: Machine[] = [];
    for (const replicas of [10, 3, 7, 1, 0, 5, 12, 4]) {
      const ms = machineSet({ replicas });
      machines = settle(ms, capacity, machines);
      const spot = spotShare(replicas, capacity);
      expect({ replicas, ...split(machines) }).toEqual({ replicas, onDemand: replicas - spot, spot });
    }
  });

  it('a scale-down removes the side above its share first, and on the on-demand side the machines that fell back from spot', () => {
    // Prepare: 6 machines decided spot (50% above no base), two of which run on-demand by fallback.
    const ms = machineSet({ replicas: 4 });
    const machines = Array.from({ length: 6 }, (_, i) =>
      machine(`m${i}`, { owner: ms, labels: { ...ms.spec.template.metadata.labels, [CapacityLabels.capacityType]: i < 3 ? 'on-demand' : 'spot' } }),
    );
    const instances: InstanceFact[] = machines.map((m, i) => ({
      machineUid: m.metadata.uid!,
      instanceId: `i-${i}`,
      providerID: `aws:///us-east-1a/i-${i}`,
      state: 'running',
      capacityType: i === 3 || i === 4 ? 'on-demand' : i < 3 ? 'on-demand' : 'spot',
    }));
    // Act
    const plan = planMachineSet({
      machineSet: ms,
      machines,
      cluster: cluster(),
      machineClass: machineClass(),
      observed: { instances, nodes: nodesFor(machines) },
      now: T0,
      capacity: { spec: cap({ spotPercentageAboveBase: 50 }), deploymentMachines: machines },
    });
    // Assess: 5 on-demand and 1 spot; the 4 left must be 2 and 2, so two on-demand machines go: the fallen-back m3, m4.
    const gone = plan.writes.filter((w) => w.type === 'Delete').map((w) => (w as Extract<Write, { type: 'Delete' }>).ref.name);
    expect(gone.sort()).toEqual(['m3', 'm4']);
  });

  it('a machine marked for deletion goes whatever its market', () => {
    const ms = machineSet({ replicas: 3 });
    const labels = (t: string) => ({ ...ms.spec.template.metadata.labels, [CapacityLabels.capacityType]: t });
    const machines = [
      machine('od1', { owner: ms, labels: labels('on-demand') }),
      machine('od2', { owner: ms, labels: labels('on-demand') }),
      machine('sp1', { owner: ms, labels: labels('spot'), annotations: { [Annotations.deleteMachine]: '' } }),
      machine('sp2', { owner: ms, labels: labels('spot') }),
    ];
    const plan = planMachineSet({
      machineSet: ms,
      machines,
      cluster: cluster(),
      machineClass: machineClass(),
      observed: { instances: [], nodes: nodesFor(machines) },
      now: T0,
      capacity: { spec: cap({ spotPercentageAboveBase: 50 }), deploymentMachines: machines },
    });
    expect(plan.writes.filter((w) => w.type === 'Delete').map((w) => (w as Extract<Write, { type: 'Delete' }>).ref.name)).toEqual(['sp1']);
  });

  it('a spot machine that fell back to on-demand counts as on-demand: the next new machine is spot', () => {
    const ms = machineSet({ replicas: 3 });
    const labels = { ...ms.spec.template.metadata.labels, [CapacityLabels.capacityType]: 'spot' };
    const machines = [machine('a', { owner: ms, labels }), machine('b', { owner: ms, labels })];
    const instances: InstanceFact[] = [
      { machineUid: 'a-uid', instanceId: 'i-a', providerID: 'aws:///z/i-a', state: 'running', capacityType: 'on-demand' },
      { machineUid: 'b-uid', instanceId: 'i-b', providerID: 'aws:///z/i-b', state: 'running', capacityType: 'on-demand' },
    ];
    const after = settle(ms, cap({ spotPercentageAboveBase: 100 }), machines, instances);
    expect(after.slice(2).map(typeOf)).toEqual(['spot']);
  });
});

describe('the on-demand fallback is bounded', () => {
  it('grants it to at most maxMachines spot machines that are not yet seen on spot', () => {
    const capacity = cap({ spotPercentageAboveBase: 100, onDemandFallback: { maxMachines: 2 } });
    const decided = newMachineCapacities(capacity, { onDemand: 0, spot: 0, fallbackHeld: 0 }, 5);
    expect(decided.map((d) => d.onDemandFallback === true)).toEqual([true, true, false, false, false]);
    // One grant held (its machine fell back, or has not launched): one more.
    expect(newMachineCapacities(capacity, { onDemand: 1, spot: 0, fallbackHeld: 1 }, 3).filter((d) => d.onDemandFallback)).toHaveLength(1);
    // Without onDemandFallback no spot machine may fall back.
    expect(newMachineCapacities(cap({ spotPercentageAboveBase: 100 }), { onDemand: 0, spot: 0, fallbackHeld: 0 }, 3).some((d) => d.onDemandFallback)).toBe(
      false,
    );
  });

  it('counts the grants over the whole deployment: a grant seen on spot frees its place, one seen on-demand keeps it', () => {
    const ms = machineSet({ replicas: 4 });
    const grant = { [CapacityAnnotations.onDemandFallback]: 'true' };
    const labels = { ...ms.spec.template.metadata.labels, [CapacityLabels.capacityType]: 'spot' };
    const other = machine('other-set', { labels: { [CapacityLabels.capacityType]: 'spot' }, annotations: grant });
    const onSpot = machine('on-spot', { owner: ms, labels, annotations: grant });
    const run = (capacityType: 'spot' | 'on-demand') =>
      planMachineSet({
        machineSet: ms,
        machines: [onSpot],
        cluster: cluster(),
        machineClass: machineClass(),
        observed: {
          instances: [{ machineUid: 'on-spot-uid', instanceId: 'i-1', providerID: 'aws:///z/i-1', state: 'running', capacityType }],
          nodes: nodesFor([onSpot]),
        },
        now: T0,
        capacity: { spec: cap({ spotPercentageAboveBase: 100, onDemandFallback: { maxMachines: 2 } }), deploymentMachines: [onSpot, other] },
      })
        .writes.filter((w) => w.type === 'Create')
        .map((w) => (w as Extract<Write, { type: 'Create' }>).object.metadata.annotations?.[CapacityAnnotations.onDemandFallback] === 'true');
    // The other set's pending grant holds one place; on-spot's instance runs on spot, so one grant is left.
    expect(run('spot')).toEqual([true, false, false]);
    // on-spot fell back: both places are held, no new grant.
    expect(run('on-demand')).toEqual([false, false, false]);
  });
});

describe('what the launch is told', () => {
  it('reads the market, the price cap and the fallback grant the planner wrote on the machine', () => {
    const ms = machineSet({ replicas: 2 });
    const after = settle(ms, cap({ onDemandBase: 1, spotPercentageAboveBase: 100, spotMaxPrice: '0.04', onDemandFallback: { maxMachines: 1 } }), []);
    expect(after.map(launchCapacityOf)).toEqual([{ capacityType: 'on-demand' }, { capacityType: 'spot', spotMaxPrice: '0.04', onDemandFallback: true }]);
    // A machine of a deployment without spec.capacity: as its class says.
    expect(launchCapacityOf(machine('plain'))).toBeUndefined();
  });
});

describe('through the deployment', () => {
  it('a rolling upgrade and a resize keep the split: the new set reaches it by itself, and the old set is gone', () => {
    // Prepare: 6 machines, an on-demand base of 1 and half the other 5 on spot, the half machine on-demand: 4 and 2.
    const capacity = cap({ onDemandBase: 1, spotPercentageAboveBase: 50 });
    const md = machineDeployment({ replicas: 6, maxSurge: 2, maxUnavailable: 1, version: 'v1.30.5' });
    const w = new World({ seed: 5, machineDeployment: { ...md, spec: { ...md.spec, capacity } } });
    const live = () => w.machines.filter((m) => m.metadata.deletionTimestamp === undefined);
    const withVersion = (version: string) => (d: MachineDeployment) => ({
      ...d,
      spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, version } } },
    });
    // Act / Assess
    expect(w.runUntilConverged(300)).toBe(true);
    expect(split(live())).toEqual({ onDemand: 4, spot: 2 });
    w.updateDeployment(withVersion('v1.31.2'));
    expect(w.runUntilConverged(600)).toBe(true);
    expect(new Set(live().map((m) => m.spec.version))).toEqual(new Set(['v1.31.2']));
    expect(split(live())).toEqual({ onDemand: 4, spot: 2 });
    w.updateDeployment((d) => ({ ...d, spec: { ...d.spec, replicas: 11 } }));
    expect(w.runUntilConverged(600)).toBe(true);
    expect(split(live())).toEqual({ onDemand: 6, spot: 5 });
    w.updateDeployment((d) => ({ ...d, spec: { ...d.spec, replicas: 3 } }));
    expect(w.runUntilConverged(600)).toBe(true);
    expect(split(live())).toEqual({ onDemand: 2, spot: 1 });
  });
});
