/**
 * Which machines a MachineSet deletes first when it scales down.
 *
 * Learnt from cluster-api core/reconcilers/machineset/machineset_deletion_order.go (deletePriority
 * functions and getMachinesToDeletePrioritized) and its tests. The priority classes, highest first:
 *   1. machines already deleting: picking them costs nothing, they are going anyway. Cluster API's
 *      Note: without this, a scale-down would delete more machines while earlier ones are still deleting;
 *   2. machines with the clusterless.dev/delete-machine annotation: the user chose them;
 *   3. unhealthy machines (see machine-health.ts): deleting them first unblocks rollouts without touching
 *      availability;
 *   4. everything else, by the deletePolicy: Random (a stable pseudo-random order: a hash of the machine's
 *      uid, or name), Newest (youngest first) or Oldest (oldest first).
 * Within classes 2 to 4, machines are taken from the failure domain that has the most machines left, so
 * that scaling down keeps the set spread (the spreading Cluster API lacks for workers); the deletePolicy
 * breaks ties. Ties of the policy itself are broken by name, so the order is total and reproducible.
 *
 * Note: the order is built one pick at a time, so the first k machines of the full order are exactly the k
 * machines a scale-down by k deletes. The MachineDeployment planner relies on this to know how much
 * availability a scale-down of an old MachineSet really costs.
 */
import { Annotations } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { DeletePolicy } from '../../api/machine-deployment.js';
import { fnv1a32 } from './hash.js';
import type { MachineHealth } from './machine-health.js';
import { epochMillis } from './time.js';

export type DeletePriorityClass = 'Deleting' | 'DeleteAnnotation' | 'Unhealthy' | 'Policy';

export function deletePriorityClass(machine: Machine, health: MachineHealth): DeletePriorityClass {
  if (health.deleting) return 'Deleting';
  if (machine.metadata.annotations?.[Annotations.deleteMachine] !== undefined) return 'DeleteAnnotation';
  if (health.unhealthy) return 'Unhealthy';
  return 'Policy';
}

interface Candidate {
  machine: Machine;
  name: string;
  domain: string;
  /** The policy's sort key: smaller goes first. */
  key: number;
}

/** metadata.creationTimestamp; a machine without one sorts as the newest (Cluster API: mustNotDelete for Oldest). */
function createdAt(machine: Machine): number {
  return epochMillis(machine.metadata.creationTimestamp, Number.POSITIVE_INFINITY);
}

function policyKey(policy: DeletePolicy, machine: Machine): number {
  switch (policy) {
    case 'Newest':
      return -createdAt(machine);
    case 'Oldest':
      return createdAt(machine);
    case 'Random':
      return fnv1a32(machine.metadata.uid ?? machine.metadata.name);
  }
}

function byPolicy(a: Candidate, b: Candidate): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * All `machines` in the order a scale-down deletes them. `health` gives each machine's health (from
 * indexMachines). Runs in O(n log n + n·d) for n machines in d failure domains.
 */
export function deletionOrder(machines: readonly Machine[], policy: DeletePolicy, health: (m: Machine) => MachineHealth): Machine[] {
  const classes: Record<DeletePriorityClass, Candidate[]> = { Deleting: [], DeleteAnnotation: [], Unhealthy: [], Policy: [] };
  // Machines left per failure domain; deleting machines count as gone already. A counter object per domain, so
  // that each of the n picks below reads and updates it without a lookup by name.
  const left = new Map<string, { n: number }>();
  const counter = (domain: string) => {
    let c = left.get(domain);
    if (!c) {
      c = { n: 0 };
      left.set(domain, c);
    }
    return c;
  };
  for (const m of machines) {
    const h = health(m);
    const cls = deletePriorityClass(m, h);
    classes[cls].push({ machine: m, name: m.metadata.name, domain: h.failureDomain, key: cls === 'Deleting' ? 0 : policyKey(policy, m) });
    if (cls !== 'Deleting') counter(h.failureDomain).n++;
  }

  const out: Machine[] = classes.Deleting.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => c.machine);
  for (const cls of ['DeleteAnnotation', 'Unhealthy', 'Policy'] as const) {
    const queues = new Map<string, Candidate[]>();
    for (const c of classes[cls]) {
      const q = queues.get(c.domain);
      if (q) q.push(c);
      else queues.set(c.domain, [c]);
    }
    const heads = [...queues.entries()].map(([domain, q]) => ({ left: counter(domain), q: q.sort(byPolicy), i: 0 }));
    for (let remaining = classes[cls].length; remaining > 0; remaining--) {
      // The domain with the most machines left; the policy decides between equally crowded domains.
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.i >= h.q.length) continue;
        if (!best) {
          best = h;
          continue;
        }
        const dl = h.left.n - best.left.n;
        if (dl > 0 || (dl === 0 && byPolicy(h.q[h.i]!, best.q[best.i]!) < 0)) best = h;
      }
      const pick = best!.q[best!.i++]!;
      best!.left.n--;
      out.push(pick.machine);
    }
  }
  return out;
}

/** The `count` machines a scale-down by `count` deletes, in order (CAPI's getMachinesToDeletePrioritized). */
export function machinesToDelete(machines: readonly Machine[], count: number, policy: DeletePolicy, health: (m: Machine) => MachineHealth): Machine[] {
  if (count <= 0) return [];
  return deletionOrder(machines, policy, health).slice(0, count);
}

/** What fastDeletionOrder reads of the machines, by slot (machine-health.ts MachineIndex). */
export interface DeletionOrderFacts {
  machineAt(slot: number): Machine;
  deletingAt(slot: number): boolean;
  unhealthyAt(slot: number): string | undefined;
  failureDomainAt(slot: number): string;
  /** policyKey of the machine in `slot` (the index keeps it between reconciles: IndexMemo). */
  policyKeyAt(slot: number, policy: DeletePolicy): number;
}

/** The input policyKey reads of a machine: the same input, the same key. */
export function policyKeySource(policy: DeletePolicy, machine: Machine): string | undefined {
  return policy === 'Random' ? (machine.metadata.uid ?? machine.metadata.name) : machine.metadata.creationTimestamp;
}

/** policyKey from policyKeySource's input (written apart from policyKey, which the oracle test holds it to). */
export function policyKeyOf(policy: DeletePolicy, source: string | undefined): number {
  switch (policy) {
    case 'Newest':
      return -epochMillis(source, Number.POSITIVE_INFINITY);
    case 'Oldest':
      return epochMillis(source, Number.POSITIVE_INFINITY);
    case 'Random':
      return fnv1a32(source!);
  }
}

/** `queue` (slots) with their `keys`, sorted by key then name as byPolicy sorts, stably. */
function sortByPolicy(queue: readonly number[], keys: Float64Array, name: (slot: number) => string): { slots: number[]; keys: Float64Array } {
  const n = queue.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (k < min) min = k;
    if (k > max) max = k;
    if (!Number.isInteger(k)) integral = false;
  }
  const scale = 2 ** Math.ceil(Math.log2(Math.max(n, 2)));
  const order = new Int32Array(n);
  if (integral && (max - min + 1) * scale <= 2 ** 53) {
    // The key and the position packed in one number: a numeric sort, no comparator call per comparison. Equal keys
    // keep their order (the position), as a stable sort would.
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (keys[i]! - min) * scale + i;
    packed.sort();
    for (let i = 0; i < n; i++) order[i] = packed[i]! % scale;
  } else {
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => (keys[a]! !== keys[b]! ? (keys[a]! < keys[b]! ? -1 : 1) : 0));
    for (let i = 0; i < n; i++) order[i] = idx[i]!;
  }
  const slots: number[] = new Array(n);
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    slots[i] = queue[order[i]!]!;
    sorted[i] = keys[order[i]!]!;
  }
  // Runs of equal keys go by name (with Random, a hash collision; with Oldest or Newest, equal creation times).
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    if (j - i > 1) {
      const run = slots.slice(i, j).sort((a, b) => {
        const x = name(a);
        const y = name(b);
        return x < y ? -1 : x > y ? 1 : 0;
      });
      for (let r = 0; r < run.length; r++) slots[i + r] = run[r]!;
    }
    i = j;
  }
  return { slots, keys: sorted };
}

/**
 * deletionOrder over slots of an index (machine-health.ts): the same order, without an object per candidate and
 * with the policy's sort done on numbers. An oracle test compares the two over generated machines.
 */
export function fastDeletionOrder(slots: ArrayLike<number>, policy: DeletePolicy, facts: DeletionOrderFacts): number[] {
  const name = (slot: number) => facts.machineAt(slot).metadata.name;
  const n = slots.length;
  const deleting: number[] = [];
  // DeleteAnnotation, Unhealthy, Policy; the failure domains numbered in order of appearance. A set has a handful of
  // domains: found by a walk of their names, and each machine's domain number kept by position (not by slot: a
  // list's slots need not start at 0, and an array written from the middle is a slow dictionary).
  const byClass: number[][] = [[], [], []];
  const domainNames: string[] = [];
  const domainOf = new Int32Array(n);
  const left: { n: number }[] = [];
  for (let i = 0; i < n; i++) {
    const slot = slots[i]!;
    if (facts.deletingAt(slot)) {
      deleting.push(slot);
      continue;
    }
    const m = facts.machineAt(slot);
    const cls = m.metadata.annotations?.[Annotations.deleteMachine] !== undefined ? 0 : facts.unhealthyAt(slot) ? 1 : 2;
    byClass[cls]!.push(i);
    const domain = facts.failureDomainAt(slot);
    let id = 0;
    while (id < domainNames.length && domainNames[id] !== domain) id++;
    if (id === domainNames.length) {
      domainNames.push(domain);
      left.push({ n: 0 });
    }
    left[id]!.n++;
    domainOf[i] = id;
  }
  const out: number[] = deleting.sort((a, b) => {
    const x = name(a);
    const y = name(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (const cls of byClass) {
    // One queue per domain, in the order the domains first appear in this class (as deletionOrder's Map has them).
    const queueOf: (number[] | undefined)[] = [];
    const order: number[] = [];
    for (const i of cls) {
      const id = domainOf[i]!;
      const q = queueOf[id];
      if (q) q.push(slots[i]!);
      else {
        queueOf[id] = [slots[i]!];
        order.push(id);
      }
    }
    const heads = order.map((id) => {
      const q = queueOf[id]!;
      const keys = new Float64Array(q.length);
      for (let i = 0; i < q.length; i++) keys[i] = facts.policyKeyAt(q[i]!, policy);
      return { left: left[id]!, ...sortByPolicy(q, keys, name), i: 0 };
    });
    if (heads.length === 1) {
      const h = heads[0]!;
      for (const slot of h.slots) out.push(slot);
      h.left.n -= h.slots.length;
      continue;
    }
    for (let remaining = cls.length; remaining > 0; remaining--) {
      // The domain with the most machines left; the policy decides between equally crowded domains (byPolicy).
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.i >= h.slots.length) continue;
        if (!best) {
          best = h;
          continue;
        }
        const dl = h.left.n - best.left.n;
        if (dl > 0) best = h;
        else if (dl === 0) {
          const ka = h.keys[h.i]!;
          const kb = best.keys[best.i]!;
          if (ka < kb || (ka === kb && name(h.slots[h.i]!) < name(best.slots[best.i]!))) best = h;
        }
      }
      out.push(best!.slots[best!.i++]!);
      best!.left.n--;
    }
  }
  return out;
}
