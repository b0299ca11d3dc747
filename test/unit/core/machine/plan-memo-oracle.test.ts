/**
 * The Machine planner's memo (plan-memo.ts) against planning every machine afresh: a sequence of reconciles with
 * random changes between them (machines edited, deleted, added; instances and nodes changing, appearing, going,
 * reordered; the nodes unreadable; the cluster paused, deleting, not ready; time passing the drain, volume-detach
 * and node-deletion timeouts; the plan's writes and actions carried out as the store and the provider would), each
 * planned with the memo the last one left and without it: the plans must be the same, field for field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../../../functions/api/common.js';
import type { Cluster } from '../../../../functions/api/cluster.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { MachinePlanMemo } from '../../../../functions/core/machine/plan-memo.js';
import { planMachines } from '../../../../functions/core/machine/planner.js';
import type { InstanceFact, InstanceState, NodeFact, Observed } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, cluster, condition, controlPlane, cpMachine, etcdMember, instance, iso, machine, node, objects } from '../cluster/fixtures.js';

interface World {
  machines: Machine[];
  instances: InstanceFact[];
  nodes: NodeFact[];
  nodesKnown: boolean;
  cluster: Cluster;
  cpDeleting: boolean;
  etcdMembers: string[];
  now: Date;
  rv: number;
  /** The next read hands out fresh copies (as a real store and the observers do). */
  fresh: boolean;
}

const STATES: InstanceState[] = ['pending', 'running', 'stopping', 'shutting-down', 'terminated'];

const command = fc.oneof(
  // Most reconciles find their last plan carried out and little else changed, as in a steady cluster.
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('apply' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fresh' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('time' as const), seconds: fc.constantFrom(0, 1, 2, 15, 30, 200, 400, 3600) }) },
  fc.record({
    kind: fc.constant('editMachine' as const),
    i: fc.nat(),
    edit: fc.constantFrom('delete', 'pause', 'unpause', 'label', 'drainTimeout', 'volumeTimeout', 'forgetStatus', 'noProviderID', 'moveProviderID'),
  }),
  fc.record({ kind: fc.constant('addMachine' as const), controlPlane: fc.boolean(), launched: fc.boolean() }),
  fc.record({ kind: fc.constant('dropMachine' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('instanceState' as const), i: fc.nat(), state: fc.constantFrom(...STATES) }),
  // A second instance for a machine, launched now or (a tie the planner breaks by position) with no launch time.
  fc.record({ kind: fc.constant('duplicateInstance' as const), i: fc.nat(), launched: fc.boolean() }),
  // An instance of another machine's uid with a machine's providerID (its spec.providerID moved, it ties with the
  // machine's own instance: the planner breaks the tie by position).
  fc.record({ kind: fc.constant('foreignInstance' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('dropInstance' as const), i: fc.nat() }),
  fc.record({
    kind: fc.constant('node' as const),
    i: fc.nat(),
    edit: fc.constantFrom('ready', 'notReady', 'unknown', 'pressure', 'volumes', 'noVolumes', 'drop', 'label'),
  }),
  fc.record({ kind: fc.constant('addNode' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('reorder' as const), what: fc.constantFrom('instances', 'nodes', 'machines') }),
  fc.record({ kind: fc.constant('nodesKnown' as const), known: fc.boolean() }),
  fc.record({ kind: fc.constant('cluster' as const), edit: fc.constantFrom('paused', 'notReady', 'uninitialized', 'deleting', 'normal') }),
  fc.record({ kind: fc.constant('controlPlane' as const), deleting: fc.boolean() }),
  fc.record({ kind: fc.constant('etcd' as const), drop: fc.boolean() }),
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

const stored = (w: World, m: Machine): Machine => ({ ...m, metadata: { ...m.metadata, resourceVersion: String(++w.rv) } });

function initial(count: number, seed: number): World {
  const w: World = {
    machines: [],
    instances: [],
    nodes: [],
    nodesKnown: true,
    cluster: cluster(),
    cpDeleting: false,
    etcdMembers: [],
    now: T0,
    rv: 0,
    fresh: false,
  };
  for (let i = 0; i < count; i++) addMachine(w, (seed + i) % 3 === 0, (seed + i) % 4 !== 3);
  return w;
}

let made = 0;
function addMachine(w: World, controlPlaneMachine: boolean, launched: boolean): void {
  const name = `m${made++}`;
  const m = stored(w, controlPlaneMachine ? cpMachine(name, { launched }) : machine(name, { launched, drainTimeout: 300 }));
  w.machines.push(m);
  if (!launched) return;
  w.instances.push(instance(m));
  w.nodes.push(node(m, 'True', iso(new Date(w.now.getTime() - 3000_000))));
  if (controlPlaneMachine) w.etcdMembers.push(`node-${name}`);
}

const pickIndex = (i: number, length: number): number | undefined => (length === 0 ? undefined : i % length);

function change(w: World, c: Command, lastPlan: Plan | undefined): void {
  const now = iso(w.now);
  switch (c.kind) {
    case 'apply':
      if (lastPlan) apply(w, lastPlan);
      return;
    case 'fresh':
      w.fresh = true;
      return;
    case 'time':
      w.now = new Date(w.now.getTime() + c.seconds * 1000);
      return;
    case 'editMachine': {
      const i = pickIndex(c.i, w.machines.length);
      if (i === undefined) return;
      const m = w.machines[i]!;
      const annotations = { ...m.metadata.annotations };
      let next: Machine = m;
      if (c.edit === 'delete') next = m.metadata.deletionTimestamp ? m : { ...m, metadata: { ...m.metadata, deletionTimestamp: now } };
      else if (c.edit === 'pause') next = { ...m, metadata: { ...m.metadata, annotations: { ...annotations, [Annotations.paused]: '' } } };
      else if (c.edit === 'unpause') {
        delete annotations[Annotations.paused];
        next = { ...m, metadata: { ...m.metadata, annotations } };
      } else if (c.edit === 'label') next = { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, touched: now } } };
      else if (c.edit === 'drainTimeout') next = { ...m, spec: { ...m.spec, nodeDrainTimeoutSeconds: m.spec.nodeDrainTimeoutSeconds === 300 ? 10 : 300 } };
      else if (c.edit === 'volumeTimeout') next = { ...m, spec: { ...m.spec, nodeVolumeDetachTimeoutSeconds: 20 } };
      else if (c.edit === 'forgetStatus') next = { ...m, status: { conditions: [] } };
      else if (c.edit === 'moveProviderID') next = { ...m, spec: { ...m.spec, providerID: `sim:///zone/moved-${m.metadata.name}` } };
      else {
        const { providerID: _, ...spec } = m.spec;
        next = { ...m, spec };
      }
      w.machines[i] = stored(w, next);
      return;
    }
    case 'addMachine':
      addMachine(w, c.controlPlane, c.launched);
      return;
    case 'dropMachine': {
      const i = pickIndex(c.i, w.machines.length);
      if (i !== undefined) w.machines.splice(i, 1);
      return;
    }
    case 'instanceState': {
      const i = pickIndex(c.i, w.instances.length);
      if (i !== undefined) w.instances[i] = { ...w.instances[i]!, state: c.state };
      return;
    }
    case 'duplicateInstance': {
      const i = pickIndex(c.i, w.instances.length);
      if (i !== undefined)
        w.instances.push({ ...w.instances[i]!, instanceId: `${w.instances[i]!.instanceId}-again`, ...(c.launched ? { launchTime: now } : {}) });
      return;
    }
    case 'foreignInstance': {
      const i = pickIndex(c.i, w.machines.length);
      const m = i === undefined ? undefined : w.machines[i]!;
      if (m?.spec.providerID) w.instances.push({ ...instance(m), machineUid: 'uid-elsewhere', instanceId: `i-foreign-${w.rv}`, providerID: m.spec.providerID });
      return;
    }
    case 'dropInstance': {
      const i = pickIndex(c.i, w.instances.length);
      if (i !== undefined) w.instances.splice(i, 1);
      return;
    }
    case 'node': {
      const i = pickIndex(c.i, w.nodes.length);
      if (i === undefined) return;
      const n = w.nodes[i]!;
      const ready = (status: 'True' | 'False' | 'Unknown') => [{ ...n.conditions[0]!, status, lastTransitionTime: now }, ...n.conditions.slice(1)];
      if (c.edit === 'drop') w.nodes.splice(i, 1);
      else if (c.edit === 'ready') w.nodes[i] = { ...n, conditions: ready('True') };
      else if (c.edit === 'notReady') w.nodes[i] = { ...n, conditions: ready('False') };
      else if (c.edit === 'unknown') w.nodes[i] = { ...n, conditions: ready('Unknown') };
      else if (c.edit === 'pressure')
        w.nodes[i] = { ...n, conditions: [...n.conditions, { type: 'DiskPressure', status: 'True', lastTransitionTime: now, message: 'full' }] };
      else if (c.edit === 'volumes') w.nodes[i] = { ...n, volumesAttached: ['vol-1'] };
      else if (c.edit === 'noVolumes') w.nodes[i] = { ...n, volumesAttached: [] };
      else w.nodes[i] = { ...n, labels: { ...n.labels, touched: now } };
      return;
    }
    case 'addNode': {
      const i = pickIndex(c.i, w.machines.length);
      if (i !== undefined && w.machines[i]!.spec.providerID) w.nodes.push(node(w.machines[i]!, 'True', now));
      return;
    }
    case 'reorder':
      if (c.what === 'instances') w.instances.reverse();
      else if (c.what === 'nodes') w.nodes.reverse();
      else w.machines.reverse();
      return;
    case 'nodesKnown':
      w.nodesKnown = c.known;
      return;
    case 'cluster':
      w.cluster =
        c.edit === 'paused'
          ? cluster({ paused: true })
          : c.edit === 'notReady'
            ? cluster({ ready: false })
            : c.edit === 'uninitialized'
              ? cluster({ initialized: false })
              : c.edit === 'deleting'
                ? cluster({ deleting: true })
                : cluster();
      return;
    case 'controlPlane':
      w.cpDeleting = c.deleting;
      return;
    case 'etcd':
      if (c.drop) w.etcdMembers.shift();
      else w.etcdMembers = w.machines.filter((m) => m.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined).map((m) => `node-${m.metadata.name}`);
      return;
  }
}

/** What the store and the provider make of a plan: its writes stored (each a new resourceVersion), its actions done. */
function apply(w: World, plan: Plan): void {
  for (const write of plan.writes) {
    if (write.type !== 'UpdateStatus' && write.type !== 'Update' && write.type !== 'RemoveFinalizer') continue;
    const name = write.type === 'RemoveFinalizer' ? write.ref.name : write.object.metadata.name;
    const i = w.machines.findIndex((m) => m.metadata.name === name);
    if (i < 0) continue;
    if (write.type === 'RemoveFinalizer') w.machines.splice(i, 1);
    else w.machines[i] = stored(w, write.object as Machine);
  }
  for (const action of plan.actions) {
    if (action.type === 'LaunchInstance') {
      const m = w.machines.find((x) => x.metadata.name === action.machine.name);
      if (m && !w.instances.some((x) => x.machineUid === m.metadata.uid)) w.instances.push(instance(m, 'pending'));
    } else if (action.type === 'TerminateInstance') {
      w.instances = w.instances.map((x) => (x.providerID === action.providerID ? { ...x, state: 'shutting-down' } : x));
    } else if (action.type === 'DeleteNode') w.nodes = w.nodes.filter((n) => n.name !== action.nodeName);
    else if (action.type === 'RemoveEtcdMember') w.etcdMembers = w.etcdMembers.filter((x) => x !== action.member);
  }
}

/** One reconcile's plan of the world as it reads now, with `memo` (none: afresh). */
function planWorld(w: World, memo?: MachinePlanMemo): Plan {
  const { objects: input, observed } = read(w);
  return planMachines(input, observed, w.now, memo);
}

function read(w: World): { objects: ReturnType<typeof objects>; observed: Observed } {
  const observed: Observed = {
    instances: w.instances,
    ...(w.nodesKnown ? { nodes: w.nodes } : {}),
    etcd: { members: w.etcdMembers.map((name) => etcdMember(name)) },
  };
  const all = objects({ cluster: w.cluster, controlPlane: controlPlane({}, { deleting: w.cpDeleting }), machines: w.machines });
  if (!w.fresh) return { objects: all, observed };
  w.fresh = false;
  return structuredClone({ objects: all, observed });
}

describe('the Machine planner with its memo plans as without it', () => {
  it('over random sequences of reconciles and changes', () => {
    let reused = 0;
    let planned = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.nat(), fc.array(command, { minLength: 1, maxLength: 40 }), (count, seed, commands) => {
        const w = initial(count, seed);
        const memo = new MachinePlanMemo();
        let last: Plan | undefined;
        for (const c of [{ kind: 'apply' as const }, ...commands]) {
          change(w, c, last);
          const { objects: input, observed } = read(w);
          const withMemo = planMachines(input, observed, w.now, memo);
          const without = planMachines(input, observed, w.now);
          expect(withMemo).toStrictEqual(without);
          reused += memo.reused;
          planned += memo.planned;
          last = without;
        }
      }),
      { numRuns: 300 },
    );
    // The sequences reach steady machines: many plans are reused (about as many as are made), so the comparison
    // above tests the reuse.
    expect(reused).toBeGreaterThan(planned / 4);
  });
});

describe('MachinePlanMemo', () => {
  const steady = () => {
    // Three launched machines: a control-plane one, then two workers.
    const w = initial(3, 0);
    const memo = new MachinePlanMemo();
    // Two passes: the first one's status writes stored, the second plans nothing.
    for (let i = 0; i < 2; i++) apply(w, planWorld(w, memo));
    return { w, memo };
  };

  it('reuses every steady machine read afresh from the store, whatever the time', () => {
    const { w, memo } = steady();
    w.fresh = true;
    w.now = new Date(w.now.getTime() + 86400_000);
    const { objects: input, observed } = read(w);
    expect(planMachines(input, observed, w.now, memo).writes).toEqual([]);
    expect([memo.reused, memo.planned]).toEqual([3, 0]);
  });

  it('plans again only the machine whose node changed, and the one whose Machine changed', () => {
    const { w, memo } = steady();
    change(w, { kind: 'node', i: 1, edit: 'notReady' }, undefined);
    change(w, { kind: 'editMachine', i: 2, edit: 'label' }, undefined);
    const { objects: input, observed } = read(w);
    const plan = planMachines(input, observed, w.now, memo);
    expect([memo.reused, memo.planned]).toEqual([1, 2]);
    expect(plan.writes.map((x) => (x.type === 'UpdateStatus' ? x.object.metadata.name : x.type))).toEqual([w.machines[1]!.metadata.name]);
  });

  it('keeps no plan of a deleting machine: its drain time left changes with every second', () => {
    const { w, memo } = steady();
    change(w, { kind: 'editMachine', i: 1, edit: 'delete' }, undefined);
    let plan = planWorld(w, memo);
    apply(w, plan);
    plan = planWorld(w, memo);
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'DrainNode', timeoutSeconds: 300 })]);
    w.now = new Date(w.now.getTime() + 100_000);
    plan = planWorld(w, memo);
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'DrainNode', timeoutSeconds: 200 })]);
    expect(memo.planned).toBe(1);
  });

  it('moves a machine listed twice once when an instance launches before it, so that a later change of its instance is seen', () => {
    // Prepare: a steady cluster whose store lists one machine twice, then an instance of another machine listed first
    // (every position moves: the lists shifted)
    const { w, memo } = steady();
    const twice = w.machines[1]!;
    w.machines.splice(2, 0, twice);
    w.instances.unshift(instance(machine('elsewhere')));
    const reconcile = () => {
      const { objects: input, observed } = read(w);
      const plan = planMachines(input, observed, w.now, memo);
      expect(plan).toStrictEqual(planMachines(input, observed, w.now));
      return plan;
    };
    reconcile();
    // Act: the machine's own instance stops (the lists keep their keys: each machine's positions are checked)
    const at = w.instances.findIndex((x) => x.machineUid === twice.metadata.uid);
    w.instances[at] = { ...w.instances[at]!, state: 'stopping' };
    const plan = reconcile();
    // Assess: both listings of the machine are planned again, with the stopped instance
    expect(memo.planned).toBe(2);
    expect(plan.writes.filter((x) => x.type === 'UpdateStatus' && x.object.metadata.name === twice.metadata.name)).toHaveLength(2);
  });

  it('plans again a machine whose two instances (one found by uid, one by providerID) swapped places', () => {
    const w = initial(1, 1);
    const memo = new MachinePlanMemo();
    const reconcile = () => {
      const { objects: input, observed } = read(w);
      const plan = planMachines(input, observed, w.now, memo);
      expect(plan).toStrictEqual(planMachines(input, observed, w.now));
      apply(w, plan);
      return plan;
    };
    reconcile();
    change(w, { kind: 'editMachine', i: 0, edit: 'moveProviderID' }, undefined);
    change(w, { kind: 'foreignInstance', i: 0 }, undefined);
    reconcile();
    expect(reconcile().writes).toEqual([]);
    // The tie between the two (both running, no launch time) goes to the first in the observed order.
    change(w, { kind: 'reorder', what: 'instances' }, undefined);
    expect(reconcile().writes).toHaveLength(1);
    expect(memo.planned).toBe(1);
  });

  it('drops every plan when what the machines read of the cluster changes', () => {
    const { w, memo } = steady();
    w.cluster = { ...w.cluster, status: { ...w.cluster.status, conditions: [condition('ControlPlaneInitialized', 'False')] } };
    planWorld(w, memo);
    expect([memo.reused, memo.planned]).toEqual([0, 3]);
  });
});
