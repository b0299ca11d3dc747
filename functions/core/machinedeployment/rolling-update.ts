/**
 * RollingUpdate and OnDelete: the scale intents of one reconcile. A port of cluster-api
 * core/reconcilers/machinedeployment/machinedeployment_rollout_rollingupdate.go (reconcileNewMachineSet,
 * reconcileOldMachineSetsRollingUpdate, scaleDownOldMSs, reconcileDeadlockBreaker) and
 * machinedeployment_rollout_ondelete.go (reconcileOldMachineSetsOnDelete), notes included.
 *
 * One difference, on purpose. Cluster API cannot know which machines the MachineSet controller will delete
 * (it is another controller, with its own view), so it assumes every deletion removes an available
 * machine. Here the MachineSet planner runs in the same reconcile, with the same facts and the same pure
 * deletion order, so when every set provides `availableRemovedAt` the planner counts exactly the available
 * machines a scale-down removes. Worked scenario: replicas 3, maxSurge 1, maxUnavailable 0; the old set has
 * 3 machines of which 1 has a NotReady node; the new set has 1 available machine. Cluster API may not scale
 * the old set 3 -> 2 (an available machine might go) and needs its deadlock breaker, which breaches
 * maxUnavailable; here 3 -> 2 deletes the unhealthy machine first (deletion order), availability stays 3,
 * and the rollout moves on. Without `availableRemovedAt` the worst case of Cluster API applies unchanged,
 * which is how its own test tables run here.
 */
import { byCreation, newMSNewReplicas, type MachineSetReplicas, type StrategyType } from './rollout-math.js';

export interface RolloutState {
  strategy: StrategyType;
  /** The deployment's spec.replicas. */
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
  newMS: MachineSetReplicas;
  /** Old sets; sorted oldest first by the planner. */
  oldMSs: MachineSetReplicas[];
  /** spec.replicas this plan gives each set, by name. */
  intents: Map<string, number>;
  /** Why, by set name (deduplicated, in order). */
  notes: Map<string, string[]>;
  /** Set when the deadlock breaker scaled an old set down regardless of maxUnavailable. */
  deadlockBroken?: boolean;
}

export function newRolloutState(init: Omit<RolloutState, 'intents' | 'notes'>): RolloutState {
  return { ...init, oldMSs: [...init.oldMSs].sort(byCreation), intents: new Map(), notes: new Map() };
}

export function addNote(s: { notes: Map<string, string[]> }, ms: { name: string }, note: string): void {
  const list = s.notes.get(ms.name);
  if (!list) s.notes.set(ms.name, [note]);
  else if (!list.includes(note)) list.push(note);
}

/** The replicas a set will have after this plan. */
export function intentOf(s: RolloutState, ms: MachineSetReplicas): number {
  return s.intents.get(ms.name) ?? ms.replicas;
}

function sum(sets: readonly MachineSetReplicas[], f: (ms: MachineSetReplicas) => number): number {
  let t = 0;
  for (const ms of sets) t += f(ms);
  return t;
}

/**
 * The new set: scaled down to the deployment's replicas when above, otherwise up within replicas + maxSurge
 * (RollingUpdate) or replicas (OnDelete). Cluster API's note: scaling the new set down does not look at
 * availability, as a user scaling the deployment down expects.
 */
export function reconcileNewMachineSet(s: RolloutState): void {
  const ms = s.newMS;
  if (ms.replicas === s.replicas) return;
  if (ms.replicas > s.replicas) {
    addNote(s, ms, 'scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas');
    s.intents.set(ms.name, s.replicas);
    return;
  }
  const { replicas, note } = newMSNewReplicas(s.strategy, s.replicas, s.maxSurge, [...s.oldMSs, ms], ms.replicas);
  if (replicas !== ms.replicas) {
    addNote(s, ms, note);
    s.intents.set(ms.name, replicas);
  }
}

/** Are exact availability counts available for every set (see the file comment)? */
function exact(s: RolloutState): boolean {
  return s.newMS.availableRemovedAt !== undefined && s.oldMSs.every((ms) => ms.availableRemovedAt !== undefined);
}

/** Old sets down, oldest first, unavailable replicas first, never below replicas - maxUnavailable available. */
export function reconcileOldMachineSetsRollingUpdate(s: RolloutState): void {
  const all = [...s.oldMSs, s.newMS];
  if (sum(s.oldMSs, (ms) => ms.replicas) === 0) return;

  const minAvailable = Math.max(s.replicas - s.maxUnavailable, 0);
  const totalSpecReplicas = sum(all, (ms) => ms.replicas);
  let totalAvailable = sum(all, (ms) => ms.available);

  // Scale-downs already under way (from an earlier reconcile, or from this one) take their share first.
  let totalPendingScaleDown = 0;
  for (const ms of all) {
    const intent = Math.min(ms.replicas, s.intents.get(ms.name) ?? ms.replicas);
    if (intent < ms.actual) totalPendingScaleDown += ms.actual - intent;
  }
  // Note: in exact mode the availability those pending deletions remove is known, so it is deducted now;
  // the worst case of Cluster API only deducts their number (totalPendingScaleDown below).
  if (exact(s)) for (const ms of all) totalAvailable -= ms.availableRemovedAt!(Math.min(ms.replicas, s.intents.get(ms.name) ?? ms.replicas));

  // Unavailable machines on the new set slow the rollout down: a broken template must not replace everything.
  const newMSUnavailable = Math.max(s.newMS.replicas - s.newMS.available, 0);
  let totalScaleDownCount = Math.max(totalSpecReplicas - totalPendingScaleDown - minAvailable - newMSUnavailable, 0);
  if (totalScaleDownCount <= 0) return;

  s.oldMSs.sort(byCreation);
  [totalScaleDownCount, totalAvailable] = scaleDownOldMSs(s, totalScaleDownCount, totalAvailable, minAvailable, true);
  scaleDownOldMSs(s, totalScaleDownCount, totalAvailable, minAvailable, false);
}

/**
 * How far `ms` may go down from `replicas` by `scaleDown` without taking availability below minAvailable,
 * and how much availability that costs.
 */
function limitScaleDown(
  ms: MachineSetReplicas,
  replicas: number,
  scaleDown: number,
  totalAvailable: number,
  minAvailable: number,
  exactMode: boolean,
): { scaleDown: number; availableRemoved: number } {
  if (exactMode) {
    const removedAt = ms.availableRemovedAt!;
    const already = removedAt(replicas);
    const budget = Math.max(totalAvailable - minAvailable, 0);
    // removedAt only grows as replicas shrink: find the lowest replicas within budget.
    let lo = Math.max(replicas - scaleDown, 0);
    let hi = replicas;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (removedAt(mid) - already <= budget) hi = mid;
      else lo = mid + 1;
    }
    return { scaleDown: replicas - lo, availableRemoved: removedAt(lo) - already };
  }
  // Cluster API's worst case: deleting an existing replica removes an available one.
  let newSpecReplicas = Math.max(replicas - scaleDown, 0);
  let existingToDelete = Math.max(ms.actual - newSpecReplicas, 0);
  if (existingToDelete === 0) return { scaleDown, availableRemoved: 0 };
  if (totalAvailable - minAvailable < existingToDelete) {
    const maxCanDelete = Math.max(totalAvailable - minAvailable, 0);
    newSpecReplicas = Math.min(ms.actual - maxCanDelete, replicas);
    scaleDown = Math.max(replicas - newSpecReplicas, 0);
    existingToDelete = Math.max(ms.actual - newSpecReplicas, 0);
  }
  return { scaleDown, availableRemoved: Math.min(ms.available, existingToDelete) };
}

function scaleDownOldMSs(
  s: RolloutState,
  totalScaleDownCount: number,
  totalAvailable: number,
  minAvailable: number,
  onlyUnavailable: boolean,
): [number, number] {
  const exactMode = exact(s);
  for (const ms of s.oldMSs) {
    if (totalScaleDownCount <= 0) break;
    const replicas = intentOf(s, ms);
    if (replicas <= 0) continue;
    const before = totalAvailable;
    // First pass: only as many replicas as are unavailable (replicas without machines included).
    const maxScaleDown = onlyUnavailable ? Math.max(replicas - ms.available, 0) : replicas;
    let scaleDown = Math.min(maxScaleDown, totalScaleDownCount);
    if (scaleDown === 0) continue;
    if (ms.available > 0) {
      const r = limitScaleDown(ms, replicas, scaleDown, totalAvailable, minAvailable, exactMode);
      scaleDown = r.scaleDown;
      totalAvailable -= r.availableRemoved;
    }
    if (scaleDown > 0) {
      addNote(
        s,
        ms,
        before === totalAvailable
          ? 'scale down to align to existing Machines or scale down by removing unavailable replicas (and no available replicas exist on the MachineSet)'
          : `${before} available replicas > ${minAvailable} minimum available replicas`,
      );
      s.intents.set(ms.name, Math.max(replicas - scaleDown, 0));
      totalScaleDownCount = Math.max(totalScaleDownCount - scaleDown, 0);
    }
  }
  return [totalScaleDownCount, totalAvailable];
}

/**
 * Cluster API's deadlock breaker. When nothing else moves (no scaling under way, none planned), the new set
 * is fully available and an old set still has unavailable machines, scale that old set down by one even if
 * availability then dips below replicas - maxUnavailable. Its Note: old machines are not remediated by a
 * MachineHealthCheck of the new template, and the scale-down most likely removes the unavailable machine.
 * The only place where maxUnavailable may be breached; `deadlockBroken` records it.
 */
export function reconcileDeadlockBreaker(s: RolloutState): void {
  const all = [...s.oldMSs, s.newMS];
  const oldActual = sum(s.oldMSs, (ms) => ms.actual);
  if (oldActual === 0) return;
  if (oldActual === sum(s.oldMSs, (ms) => ms.available)) return;
  for (const ms of all) if (ms.replicas !== ms.actual || s.intents.has(ms.name)) return;
  if (s.newMS.available !== s.newMS.actual) return;
  for (const ms of s.oldMSs) {
    if (ms.available === ms.actual || ms.replicas === 0) continue;
    addNote(s, s.newMS, 'scaling down by 1 to unblock rollout stuck due to unavailable Machine on oldMS');
    s.intents.set(ms.name, Math.max(ms.replicas - 1, 0));
    s.deadlockBroken = true;
    return;
  }
}

/** One RollingUpdate step: new set up, old sets down, then the deadlock breaker. */
export function planRollingUpdate(s: RolloutState): void {
  reconcileNewMachineSet(s);
  reconcileOldMachineSetsRollingUpdate(s);
  reconcileDeadlockBreaker(s);
}

/**
 * OnDelete: old sets follow the machines users delete (spec aligned to the machines left), and lose more
 * replicas only when the deployment has more than it wants; the new set grows into the room left.
 */
export function reconcileOldMachineSetsOnDelete(s: RolloutState): void {
  const oldReplicas = sum(s.oldMSs, (ms) => ms.replicas);
  if (oldReplicas === 0) return;
  let totalScaleDownCount = Math.max(oldReplicas + intentOf(s, s.newMS) - s.replicas, 0);
  s.oldMSs.sort(byCreation);
  for (const ms of s.oldMSs) {
    if (ms.replicas <= 0) continue;
    const scaleDown = Math.max(ms.replicas - ms.actual, 0);
    if (scaleDown > 0) {
      addNote(s, ms, 'scale down to align to existing Machines');
      s.intents.set(ms.name, Math.max(ms.replicas - scaleDown, 0));
      totalScaleDownCount -= scaleDown;
    }
  }
  for (const ms of s.oldMSs) {
    if (totalScaleDownCount <= 0) break;
    const intent = intentOf(s, ms);
    if (intent <= 0) continue;
    const scaleDown = Math.min(intent, totalScaleDownCount);
    addNote(s, ms, 'scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas');
    // Note: from the intent of the first loop, not from spec.replicas as Cluster API writes it: spec 5 with 4
    // machines left, deployment 2 too big, must end at 2 (5 - 1 - 2), not at 3.
    s.intents.set(ms.name, Math.max(intent - scaleDown, 0));
    totalScaleDownCount -= scaleDown;
  }
}

export function planOnDelete(s: RolloutState): void {
  reconcileNewMachineSet(s);
  reconcileOldMachineSetsOnDelete(s);
}
