/**
 * Spot interruption notices in the planners: the notice recorded once, the replacement made at once outside
 * maxSurge and only once, the warned machine deleted with a drain that ends before the termination time, and a
 * rebalance recommendation acted on only where the pool allows it.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { deletionStep } from '../../../../functions/core/machine/deletion.js';
import {
  DRAIN_MARGIN_SECONDS,
  InterruptionReason,
  cappedDrainTimeoutSeconds,
  drainBound,
  interruptionNoticeOf,
  withInterruptionNotice,
} from '../../../../functions/core/machine/interruption.js';
import { planMachineDeployment } from '../../../../functions/core/machinedeployment/rollout-planner.js';
import type { Write } from '../../../../functions/core/plan.js';
import { planClusterReconcile } from '../../../../functions/core/reconcile.js';
import { T0, at, cluster, daysAgo, iso, machine, machineClass, machineDeployment, node } from '../machineset/fixtures.js';

const ofType = <T extends Write['type']>(writes: Write[], type: T) => writes.filter((w): w is Extract<Write, { type: T }> => w.type === type);
const created = (writes: Write[]) => ofType(writes, 'Create').filter((w) => w.object.kind === 'Machine');

function withSpot(md: MachineDeployment, rebalance: 'Replace' | 'Ignore' | undefined): MachineDeployment {
  return rebalance === undefined ? md : { ...md, spec: { ...md.spec, spot: { rebalance } } };
}

/** The deployment's one set, as stored at its revision, controlled by the deployment. */
function storedSetOf(md: MachineDeployment, replicas: number): MachineSet {
  const ms = planMachineDeployment({
    machineDeployment: md,
    machineSets: [],
    machines: [],
    cluster: cluster(),
    machineClasses: [machineClass()],
    observed: { instances: [], nodes: [] },
    now: T0,
  }).machineSets[0]!;
  return {
    ...ms,
    metadata: {
      ...ms.metadata,
      uid: 'set-uid',
      resourceVersion: '9',
      generation: 1,
      creationTimestamp: daysAgo(20),
      annotations: { ...ms.metadata.annotations, 'clusterless.dev/revision': '1' },
    },
    spec: { ...ms.spec, replicas },
  };
}

function noticed(m: Machine, reason: InterruptionReason, when: Date): Machine {
  return { ...m, status: { ...m.status, conditions: withInterruptionNotice(m, reason, when)! } };
}

/** A steady pool of three spot machines, one of them under a notice sent at `when`. */
function pool(opts: {
  rebalance?: 'Replace' | 'Ignore';
  reason: InterruptionReason;
  when?: Date;
  deleting?: boolean;
  replacement?: 'none' | 'booting' | 'ready';
}) {
  const md = withSpot(machineDeployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0 }), opts.rebalance);
  const ms = storedSetOf(md, 3);
  const machines = [0, 1, 2].map((i) => machine(`m-${i}`, { owner: ms }));
  machines[0] = noticed(
    { ...machines[0]!, metadata: { ...machines[0]!.metadata, ...(opts.deleting ? { deletionTimestamp: iso(T0) } : {}) } },
    opts.reason,
    opts.when ?? T0,
  );
  const nodes = machines.map((m) => node(`${m.metadata.name}-node`));
  if (opts.replacement && opts.replacement !== 'none') {
    machines.push(machine('m-3', { owner: ms, created: iso(at(-30)), ...(opts.replacement === 'booting' ? { node: undefined } : {}) }));
    if (opts.replacement === 'ready') nodes.push(node('m-3-node'));
  }
  const objects = {
    cluster: cluster(),
    machineDeployments: [md],
    machineSets: [ms],
    machines,
    machineHealthChecks: [],
    machineClasses: [machineClass()],
  };
  return { objects, observed: { instances: [], nodes } };
}

describe('recording a notice', () => {
  it('writes InterruptionNotice True with the reason and the time EC2 sent it; the termination time is two minutes later', () => {
    // Act
    const m = noticed(machine('m'), InterruptionReason.SpotInterruptionWarning, at(-10));
    // Assess
    expect(interruptionNoticeOf(m)).toEqual({ reason: 'SpotInterruptionWarning', noticedAt: iso(at(-10)), terminationTime: iso(at(110)) });
    expect(m.status?.conditions?.find((c) => c.type === 'InterruptionNotice')?.message).toContain(iso(at(110)));
  });

  it.each([
    ['the same warning again', InterruptionReason.SpotInterruptionWarning, InterruptionReason.SpotInterruptionWarning],
    ['a later warning (the first time counts)', InterruptionReason.SpotInterruptionWarning, InterruptionReason.SpotInterruptionWarning],
    ['a recommendation after a warning', InterruptionReason.SpotInterruptionWarning, InterruptionReason.RebalanceRecommendation],
    ['the same recommendation again', InterruptionReason.RebalanceRecommendation, InterruptionReason.RebalanceRecommendation],
  ])('changes nothing for %s', (_name, first, second) => {
    const m = noticed(machine('m'), first, T0);
    expect(withInterruptionNotice(m, second, at(30))).toBeUndefined();
  });

  it('a warning after a recommendation replaces it, with the warning time', () => {
    const m = noticed(noticed(machine('m'), InterruptionReason.RebalanceRecommendation, at(-600)), InterruptionReason.SpotInterruptionWarning, T0);
    expect(interruptionNoticeOf(m)).toMatchObject({ reason: 'SpotInterruptionWarning', noticedAt: iso(T0) });
    expect(m.status?.conditions?.filter((c) => c.type === 'InterruptionNotice')).toHaveLength(1);
  });
});

describe('a spot interruption warning', () => {
  it('starts the replacement at once, outside maxSurge, and deletes the warned machine in the same pass', () => {
    // Act
    const { objects, observed } = pool({ reason: InterruptionReason.SpotInterruptionWarning });
    const plan = planClusterReconcile(objects, observed, T0);
    // Assess: one new machine although the pool already has replicas + 0 surge in use and maxUnavailable 0.
    expect(created(plan.writes)).toHaveLength(1);
    expect(ofType(plan.writes, 'Delete').map((w) => w.ref.name)).toEqual(['m-0']);
  });

  it('never makes a second replacement for the same machine: once it exists, or while the warned machine is deleting', () => {
    for (const replacement of ['booting', 'ready'] as const) {
      const { objects, observed } = pool({ reason: InterruptionReason.SpotInterruptionWarning, deleting: true, replacement });
      const plan = planClusterReconcile(objects, observed, T0);
      expect(created(plan.writes)).toEqual([]);
      expect(ofType(plan.writes, 'Delete')).toEqual([]);
    }
  });

  it('caps the drain so that it ends before the termination time, under the machine own nodeDrainTimeout', () => {
    // Prepare: warned 30 s ago, drain starting now: 90 s are left, minus the margin for the termination.
    const m = noticed(machine('m', { deleting: true }), InterruptionReason.SpotInterruptionWarning, at(-30));
    expect(m.spec.nodeDrainTimeoutSeconds).toBe(300);
    // Act
    const step = deletionStep({
      machine: m,
      ref: { kind: 'Machine', namespace: 'default', name: 'm' },
      instance: { machineUid: 'm-uid', instanceId: 'i-m', state: 'running', providerID: 'sim:///m' },
      lookup: { known: true, node: node('m-node') },
      now: T0,
      controlPlane: false,
      teardown: false,
    });
    // Assess
    expect(step.actions).toEqual([
      { type: 'DrainNode', machine: { kind: 'Machine', namespace: 'default', name: 'm' }, nodeName: 'm-node', timeoutSeconds: 90 - DRAIN_MARGIN_SECONDS },
    ]);
    expect(step.requeueAfterSeconds).toBe(90 - DRAIN_MARGIN_SECONDS);
  });

  it('gives the drain up once the capped timeout has passed, and terminates the instance before EC2 reclaims it', () => {
    const m = noticed(machine('m', { deleting: true }), InterruptionReason.SpotInterruptionWarning, at(-100));
    const started = { ...m, status: { ...m.status, deletion: { nodeDrainStartTime: iso(at(-100)) } } };
    const step = deletionStep({
      machine: started,
      ref: { kind: 'Machine', namespace: 'default', name: 'm' },
      instance: { machineUid: 'm-uid', instanceId: 'i-m', state: 'running', providerID: 'sim:///m' },
      lookup: { known: true, node: node('m-node') },
      now: T0,
      controlPlane: false,
      teardown: false,
    });
    expect(step.actions.map((a) => a.type)).toEqual(['TerminateInstance']);
  });

  it.each([
    ['a longer own timeout', 300, 90 - DRAIN_MARGIN_SECONDS],
    ['no own timeout (0: forever)', 0, 90 - DRAIN_MARGIN_SECONDS],
    ['a shorter own timeout', 20, 20],
  ])('capped drain timeout with %s', (_name, own, expected) => {
    const m = noticed(machine('m'), InterruptionReason.SpotInterruptionWarning, at(-30));
    expect(cappedDrainTimeoutSeconds({ ...m, spec: { ...m.spec, nodeDrainTimeoutSeconds: own } }, iso(T0))).toBe(expected);
  });

  it('leaves the drain of a machine without a warning to its own nodeDrainTimeout', () => {
    expect(cappedDrainTimeoutSeconds(noticed(machine('m'), InterruptionReason.RebalanceRecommendation, T0), iso(T0))).toBeUndefined();
    expect(cappedDrainTimeoutSeconds(machine('m'), iso(T0))).toBeUndefined();
  });

  it.each([
    ['a longer own timeout: the warning', 300, { by: 'SpotInterruptionWarning', seconds: 90 - DRAIN_MARGIN_SECONDS, terminationTime: iso(at(90)) }],
    ['no own timeout: the warning', 0, { by: 'SpotInterruptionWarning', seconds: 90 - DRAIN_MARGIN_SECONDS, terminationTime: iso(at(90)) }],
    ['a shorter own timeout: nodeDrainTimeout', 20, { by: 'nodeDrainTimeout', seconds: 20 }],
  ])('names what bounded a drain given up, with %s', (_name, own, expected) => {
    const m = noticed(machine('m'), InterruptionReason.SpotInterruptionWarning, at(-30));
    expect(drainBound({ ...m, spec: { ...m.spec, nodeDrainTimeoutSeconds: own } }, iso(T0))).toEqual(expected);
  });

  it('names nodeDrainTimeout as the bound of a drain no warning capped', () => {
    const m = noticed(machine('m'), InterruptionReason.RebalanceRecommendation, T0);
    expect(drainBound({ ...m, spec: { ...m.spec, nodeDrainTimeoutSeconds: 120 } }, iso(T0))).toEqual({ by: 'nodeDrainTimeout', seconds: 120 });
  });
});

describe('a rebalance recommendation', () => {
  it.each([['Ignore' as const], [undefined]])('changes nothing in a pool whose spec.spot.rebalance is %s', (rebalance) => {
    const { objects, observed } = pool({ reason: InterruptionReason.RebalanceRecommendation, ...(rebalance ? { rebalance } : {}) });
    const plan = planClusterReconcile(objects, observed, T0);
    expect(created(plan.writes)).toEqual([]);
    expect(ofType(plan.writes, 'Delete')).toEqual([]);
    expect(ofType(plan.writes, 'Update').filter((w) => w.object.kind === 'MachineSet')).toEqual([]);
  });

  it('with Replace, starts the replacement at once and keeps the machine until the replacement is available', () => {
    const first = pool({ reason: InterruptionReason.RebalanceRecommendation, rebalance: 'Replace' });
    const plan = planClusterReconcile(first.objects, first.observed, T0);
    expect(created(plan.writes)).toHaveLength(1);
    expect(ofType(plan.writes, 'Delete')).toEqual([]);

    const booting = pool({ reason: InterruptionReason.RebalanceRecommendation, rebalance: 'Replace', replacement: 'booting' });
    const waiting = planClusterReconcile(booting.objects, booting.observed, T0);
    expect(created(waiting.writes)).toEqual([]);
    expect(ofType(waiting.writes, 'Delete')).toEqual([]);

    const ready = pool({ reason: InterruptionReason.RebalanceRecommendation, rebalance: 'Replace', replacement: 'ready' });
    const done = planClusterReconcile(ready.objects, ready.observed, T0);
    expect(created(done.writes)).toEqual([]);
    expect(ofType(done.writes, 'Delete').map((w) => w.ref.name)).toEqual(['m-0']);
  });
});
