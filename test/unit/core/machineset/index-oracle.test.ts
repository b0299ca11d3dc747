/**
 * The machine index (indexMachines: a table by slot, the deletion order sorted on numbers, the memo of where each
 * machine's node was) against the plain rules it speeds up: machineHealth with nodeLookup (the same health rules,
 * without the memo's node positions), deletionOrder, and countReplicas / machinesReadyCondition written out from
 * machineHealth, over generated machines and nodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_VERSION, Annotations, Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { DeletePolicy } from '../../../../functions/api/machine-deployment.js';
import type { NodeFact, Observed } from '../../../../functions/core/observed.js';
import { deletionOrder, selectSmallest } from '../../../../functions/core/machineset/deletion-order.js';
import { FEW_DOMAINS } from '../../../../functions/core/machineset/failure-domains.js';
import {
  IndexMemo,
  indexMachines,
  isAvailable,
  machineHealth,
  nodeLookup,
  secondsUntilAvailable,
  type MachineHealth,
  type MachineIndex,
} from '../../../../functions/core/machineset/machine-health.js';
import { compileFullyLabeled, countReplicas, machinesReadyCondition } from '../../../../functions/core/machineset/status.js';
import { LABELS_FROM_TEMPLATE } from '../../../../functions/core/machineset/in-place.js';
import { planMachineSet } from '../../../../functions/core/machineset/planner.js';
import { compileSelector } from '../../../../functions/core/machineset/selector.js';
import { machineName, newMachineNames } from '../../../../functions/core/machineset/machine-names.js';
import { T0, cluster, machine, machineClass, machineSet } from './fixtures.js';

const TIMES = [undefined, '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T11:59:30Z', '2026-03-01T11:59:59.500Z', 'not a time'];
const STATUSES = ['True', 'False', 'Unknown'] as const;
const SETS = ['ms-a', 'ms-b'];
const DOMAINS = ['zone-a', 'zone-b', 'zone-c'] as const;

/** One machine's traits, drawn; the machine and its node are built from them. */
const traits = fc.record({
  set: fc.integer({ min: 0, max: 2 }),
  deleting: fc.boolean(),
  failed: fc.constantFrom(undefined, 'phase', 'reason'),
  nodeRef: fc.boolean(),
  providerID: fc.boolean(),
  node: fc.constantFrom('none', 'ready', 'notReady', 'unknown', 'noReady', 'pressure', 'pressureFalse', 'twoReady', 'otherTrue'),
  nodeReady: fc.constantFrom(undefined, ...STATUSES),
  nodeHealthy: fc.constantFrom(undefined, ...STATUSES),
  healthCheck: fc.constantFrom(undefined, ...STATUSES),
  domain: fc.constantFrom<string | undefined>(undefined, 'zone-a', 'zone-b', 'zone-c'),
  zone: fc.constantFrom(undefined, 'zone-b'),
  deleteAnnotation: fc.boolean(),
  created: fc.constantFrom(...TIMES),
  readySince: fc.constantFrom(...TIMES.filter((t) => t !== undefined)),
  uid: fc.boolean(),
});
type Traits = typeof traits extends fc.Arbitrary<infer T> ? T : never;

function build(all: Traits[]): { machines: Machine[]; nodes: NodeFact[] } {
  const machines: Machine[] = [];
  const nodes: NodeFact[] = [];
  all.forEach((t, i) => {
    const name = `m${String(i).padStart(3, '0')}`;
    const cond = (type: string, status: string | undefined) => (status ? [{ type, status, lastTransitionTime: t.readySince }] : []);
    machines.push({
      apiVersion: API_VERSION,
      kind: 'Machine',
      metadata: {
        name,
        namespace: 'default',
        ...(t.uid ? { uid: `${name}-uid` } : {}),
        ...(t.created ? { creationTimestamp: t.created } : {}),
        ...(t.deleting ? { deletionTimestamp: '2026-03-01T11:00:00Z' } : {}),
        ...(t.deleteAnnotation ? { annotations: { [Annotations.deleteMachine]: '' } } : {}),
        ...(t.set < SETS.length
          ? { ownerReferences: [{ apiVersion: API_VERSION, kind: 'MachineSet', name: SETS[t.set]!, uid: `${SETS[t.set]}-uid`, controller: true }] }
          : {}),
      },
      spec: {
        clusterName: 'c1',
        version: 'v1.31.2',
        machineClassRef: { name: 'small' },
        ...(t.domain ? { failureDomain: t.domain } : {}),
        ...(t.providerID ? { providerID: `sim://${name}` } : {}),
      },
      status: {
        ...(t.failed === 'phase' ? { phase: 'Failed' } : { phase: 'Running' }),
        ...(t.failed === 'reason' ? { failureReason: 'CreateError' } : {}),
        ...(t.nodeRef ? { nodeRef: { name: `${name}-node` } } : {}),
        ...(t.zone ? { infrastructure: { availabilityZone: t.zone } } : {}),
        conditions: [...cond('NodeReady', t.nodeReady), ...cond('NodeHealthy', t.nodeHealthy), ...cond('HealthCheckSucceeded', t.healthCheck)],
      },
    } as Machine);
    if (t.node === 'none') return;
    const c = (type: string, status: (typeof STATUSES)[number]) => ({ type, status, lastTransitionTime: t.readySince });
    const conditions = {
      ready: [c('Ready', 'True')],
      notReady: [c('Ready', 'False')],
      unknown: [c('Ready', 'Unknown')],
      noReady: [c('MemoryPressure', 'False')],
      pressure: [c('Ready', 'True'), c('DiskPressure', 'True')],
      pressureFalse: [c('MemoryPressure', 'False'), c('Ready', 'True'), c('PIDPressure', 'False')],
      twoReady: [c('Ready', 'True'), c('Ready', 'False')],
      otherTrue: [c('Ready', 'True'), c('KernelDeadlock', 'True')],
    }[t.node];
    nodes.push({ name: `${name}-node`, ...(t.providerID ? { providerID: `sim://${name}` } : {}), conditions });
  });
  return { machines, nodes };
}

const plainHealth = (observed: Observed) => {
  const lookup = observed.nodes ? nodeLookup(observed.nodes) : undefined;
  return (m: Machine): MachineHealth => machineHealth(m, lookup);
};

/** countReplicas as it reads with one machineHealth per machine (isAvailable, secondsUntilAvailable). */
function plainCounts(machines: readonly Machine[], health: (m: Machine) => MachineHealth, minReadySeconds: number) {
  let ready = 0;
  let available = 0;
  let next: number | undefined;
  for (const m of machines) {
    const h = health(m);
    if (!h.ready) continue;
    ready++;
    if (isAvailable(h, minReadySeconds, T0.getTime())) available++;
    else {
      const s = secondsUntilAvailable(h, minReadySeconds, T0.getTime());
      if (s !== undefined && (next === undefined || s < next)) next = s;
    }
  }
  return { replicas: machines.length, readyReplicas: ready, availableReplicas: available, ...(next !== undefined ? { nextAvailableInSeconds: next } : {}) };
}

/** An index that answers by slot from machineHealth objects (the plain rules), for the status functions. */
function plainIndex(all: readonly Machine[], observed: Observed): MachineIndex {
  const health = plainHealth(observed);
  const machines = [...all];
  const slotOf = (m: Machine) => {
    const i = machines.indexOf(m);
    return i >= 0 ? i : machines.push(m) - 1;
  };
  const at = (slot: number) => health(machines[slot]!);
  return {
    ...indexMachines(all, observed, T0),
    slotsOf: (list) => list.map(slotOf),
    healthAt: at,
    deletingAt: (slot) => at(slot).deleting,
    readyAt: (slot) => at(slot).ready,
    readySinceAt: (slot) => at(slot).readySince ?? 0,
    unhealthyAt: (slot) => at(slot).unhealthy,
    failureDomainAt: (slot) => at(slot).failureDomain,
    machineAt: (slot) => machines[slot]!,
  };
}

const world = fc.record({
  machines: fc.array(traits, { minLength: 0, maxLength: 40 }),
  nodesReadable: fc.boolean(),
  shuffleNodes: fc.boolean(),
});

function observedOf(w: { machines: Traits[]; nodesReadable: boolean; shuffleNodes: boolean }) {
  const { machines, nodes } = build(w.machines);
  const ordered = w.shuffleNodes ? [...nodes].reverse() : nodes;
  return { machines, observed: (w.nodesReadable ? { instances: [], nodes: ordered } : { instances: [] }) as Observed };
}

describe('the machine index against the plain rules', () => {
  it('gives every machine the health machineHealth gives it, with or without the memo of an earlier, different reconcile', () => {
    fc.assert(
      fc.property(world, world, (before, now) => {
        // Prepare: a memo left by a reconcile of other machines and nodes
        const memo = new IndexMemo();
        const earlier = observedOf(before);
        indexMachines(earlier.machines, earlier.observed, T0, undefined, memo);
        const { machines, observed } = observedOf(now);
        const plain = plainHealth(observed);
        // Act
        const withMemo = indexMachines(machines, observed, T0, undefined, memo);
        const again = indexMachines(machines, observed, T0, undefined, memo);
        const without = indexMachines(machines, observed, T0);
        // Assess
        for (const index of [withMemo, again, without]) expect(machines.map((m) => index.health(m))).toEqual(machines.map(plain));
      }),
      { numRuns: 300 },
    );
  });

  it("lists each controller's machines and the orphans as filters of the machines do, with their slots", () => {
    fc.assert(
      fc.property(world, fc.array(fc.nat(), { maxLength: 8 }), (w, swaps) => {
        // Prepare: the machines of a set mostly together, some out of place
        const { machines: built, observed } = observedOf(w);
        const machines = [...built].sort((a, b) => (a.metadata.ownerReferences?.[0]?.uid ?? '').localeCompare(b.metadata.ownerReferences?.[0]?.uid ?? ''));
        for (const x of swaps)
          if (machines.length > 1) {
            const i = x % machines.length;
            const j = (x >> 3) % machines.length;
            [machines[i], machines[j]] = [machines[j]!, machines[i]!];
          }
        // Act
        const index = indexMachines(machines, observed, T0);
        // Assess
        for (const uid of ['ms-a-uid', 'ms-b-uid', 'other']) {
          const list = index.controlledBy(uid);
          expect(list).toEqual(machines.filter((m) => m.metadata.ownerReferences?.find((r) => r.controller)?.uid === uid));
          expect(Array.from(index.slotsOf(list))).toEqual(list.map((m) => machines.indexOf(m)));
        }
        const orphans = machines.filter((m) => !m.metadata.ownerReferences?.length && m.metadata.deletionTimestamp === undefined);
        expect(index.orphans).toEqual(orphans);
        expect(Array.from(index.slotsOf(index.orphans))).toEqual(orphans.map((m) => machines.indexOf(m)));
      }),
      { numRuns: 300 },
    );
  });

  it("hands out each controller's machines, slots, health and order as an index without a memo does, over reconciles that keep, change or replace the machines", () => {
    const UIDS = ['ms-a-uid', 'ms-b-uid', 'other'];
    const byOwner = (list: Machine[]) =>
      [...list].sort((a, b) => (a.metadata.ownerReferences?.[0]?.uid ?? '').localeCompare(b.metadata.ownerReferences?.[0]?.uid ?? ''));
    fc.assert(
      fc.property(
        world,
        // Each next reconcile: the very same machine objects (in a new array or the same), one machine replaced by
        // another object (another name, or the same content), or other machines altogether.
        fc.array(fc.record({ step: fc.constantFrom('same', 'sameArray', 'renamed', 'copied', 'other'), at: fc.nat(), next: world, grouped: fc.boolean() }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.constantFrom<DeletePolicy>('Random', 'Newest', 'Oldest'),
        (first, steps, policy) => {
          // Prepare: the machines of a set together, so that a controller's list is one run (the memo's lists)
          let { machines, observed } = observedOf(first);
          machines = byOwner(machines);
          const memo = new IndexMemo();
          let earlier: { index: MachineIndex; lists: Machine[][]; copies: Machine[][] } | undefined;
          for (const { step, at, next, grouped } of [{ step: 'same', at: 0, next: first, grouped: true }, ...steps]) {
            if (step === 'same') machines = [...machines];
            else if (step === 'renamed' || step === 'copied') {
              machines = [...machines];
              if (machines.length > 0) {
                const i = at % machines.length;
                const m = machines[i]!;
                machines[i] = { ...m, metadata: { ...m.metadata, name: step === 'renamed' ? `${m.metadata.name}x` : m.metadata.name } };
              }
            } else if (step === 'other') {
              ({ machines, observed } = observedOf(next));
              if (grouped) machines = byOwner(machines);
            }
            // Act
            const index = indexMachines(machines, observed, T0, undefined, memo);
            const plain = indexMachines(machines, observed, T0);
            // Assess: the very machine objects of this reconcile, by identity
            const lists = UIDS.map((uid) => index.controlledBy(uid) as Machine[]);
            UIDS.forEach((uid, u) => {
              const expected = plain.controlledBy(uid);
              expect(lists[u]!.length).toBe(expected.length);
              for (let i = 0; i < expected.length; i++) expect(lists[u]![i]).toBe(expected[i]);
              expect(Array.from(index.slotsOf(lists[u]!))).toEqual(Array.from(plain.slotsOf(expected)));
              expect(Array.from(index.deletionOrderSlots(lists[u]!, policy))).toEqual(Array.from(plain.deletionOrderSlots(expected, policy)));
            });
            expect(Array.from(index.slotsOf(machines))).toEqual(machines.map((_, i) => i));
            expect(machines.map((m) => index.health(m))).toEqual(machines.map((m) => plain.health(m)));
            // The index of the reconcile before still answers as it did (its lists were not changed under it).
            if (earlier) for (let u = 0; u < earlier.lists.length; u++) expect(earlier.lists[u]).toEqual(earlier.copies[u]);
            earlier = { index, lists, copies: lists.map((l) => [...l]) };
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders each set and all machines as deletionOrder does, for every policy', () => {
    fc.assert(
      fc.property(world, fc.constantFrom<DeletePolicy>('Random', 'Newest', 'Oldest'), (w, policy) => {
        // Prepare
        const { machines, observed } = observedOf(w);
        const plain = plainHealth(observed);
        const index = indexMachines(machines, observed, T0);
        // Act & Assess
        for (const list of [machines, index.controlledBy('ms-a-uid'), index.controlledBy('ms-b-uid'), index.orphans, machines.slice(1)]) {
          const order = index.deletionOrder(list, policy);
          expect(order.map((m) => m.metadata.name)).toEqual(deletionOrder(list, policy, plain).map((m) => m.metadata.name));
          const slots = index.deletionOrderSlots(list, policy);
          expect(Array.from(slots, (s) => index.machineAt(s))).toEqual(order);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('orders as deletionOrder does with the policy keys of a memo left by an earlier, different reconcile', () => {
    fc.assert(
      fc.property(world, world, fc.constantFrom<DeletePolicy>('Random', 'Newest', 'Oldest'), (before, now, policy) => {
        // Prepare: a memo whose keys were worked out for other machines in the same places
        const memo = new IndexMemo();
        const earlier = observedOf(before);
        const first = indexMachines(earlier.machines, earlier.observed, T0, undefined, memo);
        first.deletionOrderSlots(earlier.machines, policy);
        const { machines, observed } = observedOf(now);
        const plain = plainHealth(observed);
        // Act: twice, the second on the keys the first left
        const orders = [0, 1].map(() => indexMachines(machines, observed, T0, undefined, memo).deletionOrder(machines, policy));
        // Assess
        const expected = deletionOrder(machines, policy, plain).map((m) => m.metadata.name);
        for (const order of orders) expect(order.map((m) => m.metadata.name)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the first k of deletionOrder for every k asked, in any order of asks, on queues long enough to be selected, over few or many failure domains', () => {
    const VALID = TIMES.filter((t) => t !== undefined && t !== 'not a time');
    fc.assert(
      fc.property(
        // Mostly healthy machines spread over three domains (one long Policy class, domains often level), some drawn
        // freely; reversed, so that name order is not the order of the list.
        fc.array(
          fc.tuple(traits, fc.nat(9)).map(([t, r]) =>
            r < 8
              ? {
                  ...t,
                  deleting: false,
                  failed: undefined,
                  nodeRef: true,
                  node: 'ready' as const,
                  nodeHealthy: undefined,
                  healthCheck: undefined,
                  deleteAnnotation: r === 7 && t.deleteAnnotation,
                  zone: undefined,
                  domain: DOMAINS[r % 3],
                }
              : t,
          ),
          { maxLength: 400, size: 'max' },
        ),
        fc.boolean(),
        // Packable: every creation time a time, so Oldest and Newest keys pack into numbers (with long runs of ties).
        fc.boolean(),
        fc.constantFrom<DeletePolicy>('Random', 'Newest', 'Oldest'),
        // The lengths asked, in percent of the list (then one more, to cross each boundary).
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 6 }),
        // Machines over more failure domains than a walk of their names serves (FEW_DOMAINS: numbered by a map, merged
        // through a heap): each machine with a domain gets one of `domains`, interleaved.
        fc.constantFrom(0, FEW_DOMAINS + 1, 3 * FEW_DOMAINS),
        (drawn, reversed, packable, policy, asks, domains) => {
          // Prepare
          const spread = domains === 0 ? drawn : drawn.map((t, i) => (t.domain ? { ...t, domain: `zone-${(i * 7) % domains}` } : t));
          const all = packable
            ? spread.map((t, i) => ({ ...t, created: t.created && t.created !== 'not a time' ? t.created : VALID[i % VALID.length] }))
            : spread;
          const built = observedOf({ machines: all, nodesReadable: true, shuffleNodes: false });
          const machines = reversed ? built.machines.reverse() : built.machines;
          const observed = built.observed;
          const expected = deletionOrder(machines, policy, plainHealth(observed)).map((m) => m.metadata.name);
          const index = indexMachines(machines, observed, T0);
          // First just the deleting machines (a reconcile that finds a scale-down's machines still deleting asks no more:
          // the order reads the others only once a prefix passes them).
          const deleting = machines.filter((m) => plainHealth(observed)(m).deleting).length;
          for (const k of [deleting, ...asks.map(([p, more]) => Math.floor((p * machines.length) / 100) + (more ? 1 : 0)), machines.length]) {
            // Act
            const prefix = index.deletionOrderPrefix(machines, policy, k);
            // Assess
            const n = Math.min(k, machines.length);
            expect(Array.from(prefix, (s) => index.machineAt(s).metadata.name).slice(0, n)).toEqual(expected.slice(0, n));
          }
          expect(index.deletionOrder(machines, policy).map((m) => m.metadata.name)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('selects the m smallest of a range as a sort does, leaving the rest of the array as it was', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -1000, max: 100_000 }), { maxLength: 600, size: 'max' }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (values, a, b, c) => {
          // Prepare: a range [lo, hi) of the array and a count m within it
          const lo = values.length === 0 ? 0 : a % (values.length + 1);
          const hi = lo + (b % (values.length - lo + 1));
          const m = c % (hi - lo + 1);
          const array = Float64Array.from(values);
          // Act
          selectSmallest(array, lo, hi, m);
          // Assess
          const range = values.slice(lo, hi).sort((x, y) => x - y);
          expect([...array.subarray(lo, lo + m)].sort((x, y) => x - y)).toEqual(range.slice(0, m));
          expect([...array.subarray(lo, hi)].sort((x, y) => x - y)).toEqual(range);
          expect([...array.subarray(0, lo), ...array.subarray(hi)]).toEqual([...values.slice(0, lo), ...values.slice(hi)]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('names new machines as a walk of the ordinals against a set of every name does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 12 }),
        // Names as long as a candidate and ending as one does, but not one; and any short names.
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }),
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 200, size: 'max' }),
        (takenOrdinals, count, nearOrdinals, others) => {
          // Prepare: machines named as some of the set's first ordinals would be, and others
          const ms = machineSet({ name: 'ms-a', uid: 'ms-a-uid' });
          const { machines, observed } = observedOf({ machines: [], nodesReadable: false, shuffleNodes: false });
          const near = nearOrdinals.map((o) => `x${machineName(ms, T0, o).slice(1)}`);
          const named = [...takenOrdinals.map((o) => machineName(ms, T0, o)), 'ms-a-other', 'm', '', ...near, ...others].map(
            (name) => ({ ...machines[0], apiVersion: API_VERSION, kind: 'Machine', metadata: { name }, spec: { clusterName: 'c1' } }) as Machine,
          );
          const index = indexMachines(named, observed, T0);
          // Act
          const names = newMachineNames(ms, T0, count, index.namesTaken);
          // Assess: the plain walk, one ordinal at a time against the set of all names
          const all = new Set(named.map((m) => m.metadata.name));
          const plain: string[] = [];
          for (let o = 0; plain.length < count; o++) {
            const name = machineName(ms, T0, o);
            if (!all.has(name) && !plain.includes(name)) plain.push(name);
          }
          expect(names).toEqual(plain);
          expect(newMachineNames(ms, T0, count, index.names)).toEqual(plain);
          // namesTaken itself (an index whose set of every name is not built): which of the candidates are names of machines, no other.
          const candidates = [...Array.from({ length: 31 }, (_, o) => machineName(ms, T0, o)), ...others.slice(0, 5), 'm', ''];
          expect(indexMachines(named, observed, T0).namesTaken(candidates)).toEqual(new Set(candidates.filter((c) => all.has(c))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts replicas and sums MachinesReady as the plain loops over machineHealth do', () => {
    fc.assert(
      fc.property(world, fc.constantFrom(0, 10, 60, 86400), (w, minReadySeconds) => {
        // Prepare
        const { machines, observed } = observedOf(w);
        const plain = plainHealth(observed);
        const index = indexMachines(machines, observed, T0);
        const reference = plainIndex(machines, observed);
        // Act & Assess
        for (const list of [machines, index.controlledBy('ms-a-uid'), machines.filter((_, i) => i % 2 === 0)]) {
          expect(countReplicas(list, index, minReadySeconds)).toEqual(plainCounts(list, plain, minReadySeconds));
          // Counted once per list and minReadySeconds in a reconcile: asked again, or with another minReadySeconds.
          expect(countReplicas(list, index, minReadySeconds)).toEqual(plainCounts(list, plain, minReadySeconds));
          expect(countReplicas(list, index, minReadySeconds + 30)).toEqual(plainCounts(list, plain, minReadySeconds + 30));
          expect(machinesReadyCondition(list, index)).toEqual(machinesReadyCondition(list, reference));
          // An index built without these machines assesses each one it is asked about, in a slot of its own.
          expect(countReplicas(list, indexMachines([], observed, T0), minReadySeconds)).toEqual(plainCounts(list, plain, minReadySeconds));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the set planner's count of fully labeled machines against the plain count", () => {
  // The planner counts status.fullyLabeledReplicas in its in-place walk, taking a synced machine's labels as read
  // (CompiledInPlace.templateLabelsImplied); the plain count reads every template label of every machine.
  const label = fc.constantFrom('same', 'absent', 'other');
  const drawn = fc.record({
    // A template label an owner label overrides (the set name) with another value, or not.
    overridesOwner: fc.boolean(),
    machines: fc.array(
      fc.record({ tier: label, setName: label, zone: label, recorded: fc.boolean(), deleting: fc.boolean(), timeouts: fc.boolean(), matches: fc.boolean() }),
      { maxLength: 12 },
    ),
  });

  it('gives the count compileFullyLabeled gives over the machines the set keeps', () => {
    fc.assert(
      fc.property(drawn, (d) => {
        // Prepare
        const base = machineSet({ name: 'ms-a', uid: 'ms-a-uid', replicas: d.machines.length });
        const extra: Record<string, string> = { tier: 'web', zone: 'z1', ...(d.overridesOwner ? { [Labels.setName]: 'another-set' } : {}) };
        const ms = {
          ...base,
          spec: {
            ...base.spec,
            template: { ...base.spec.template, metadata: { ...base.spec.template.metadata, labels: { ...base.spec.template.metadata.labels, ...extra } } },
          },
        };
        const selectorLabels = base.spec.selector.matchLabels ?? {};
        const value = (choice: string, template: string, owner?: string) => (choice === 'same' ? template : choice === 'other' ? (owner ?? 'x') : undefined);
        const machines = d.machines.map((t, i) => {
          const m = machine(`m${i}`, { owner: ms, ...(t.deleting ? { deleting: true } : {}) });
          const labels: Record<string, string> = t.matches ? { ...selectorLabels } : {};
          const put = (k: string, v: string | undefined) => {
            if (v !== undefined) labels[k] = v;
          };
          put('tier', value(t.tier, 'web'));
          put('zone', value(t.zone, 'z1'));
          put(Labels.setName, value(t.setName, extra[Labels.setName] ?? 'ms-a', 'ms-a'));
          put(Labels.clusterName, 'c1');
          return {
            ...m,
            metadata: { ...m.metadata, labels, ...(t.recorded ? { annotations: { [LABELS_FROM_TEMPLATE]: 'tier,zone' } } : {}) },
            spec: { ...m.spec, nodeDrainTimeoutSeconds: t.timeouts ? ms.spec.template.spec.nodeDrainTimeoutSeconds : 7 },
          } as Machine;
        });
        const observed: Observed = { instances: [], nodes: machines.map((m) => ({ name: `${m.metadata.name}-node`, conditions: [] })) };
        // Act
        const plan = planMachineSet({ machineSet: ms, machines, cluster: cluster(), machineClass: machineClass(), observed, now: T0 });
        // Assess: the machines the set keeps are the ones it does not release (matching, or deleting)
        const matches = compileSelector(ms.spec.selector);
        const kept = machines.filter((m) => m.metadata.deletionTimestamp !== undefined || matches(m.metadata.labels));
        const labeled = compileFullyLabeled(ms);
        expect(plan.status?.fullyLabeledReplicas).toBe(kept.filter(labeled).length);
        expect(plan.status?.fullyLabeledReplicas).toBe(
          kept.filter((m) => Object.entries(ms.spec.template.metadata.labels ?? {}).every(([k, v]) => m.metadata.labels?.[k] === v)).length,
        );
      }),
      { numRuns: 300 },
    );
  });
});
