/**
 * The MachineSet planner: keeps spec.replicas machines, no more, no fewer.
 *
 * Learnt from cluster-api core/reconcilers/machineset/machineset_controller.go: adopt orphans that match
 * the selector (getAndAdoptMachinesForMachineSet), count deleting machines until they are gone so that a
 * replacement is created only then (syncReplicas; cluster-api PR 3434), create missing machines from the
 * template with a controller ownerReference (computeDesiredMachine), delete the surplus in deletion order
 * (deleteMachines), delete every machine before letting a deleted set go (reconcileDelete). Plus what
 * Cluster API lacks: release of owned machines that no longer match (Kubernetes' ClaimObject) and spreading
 * new machines across failure domains.
 *
 * Pure: objects, observed facts and the time in; writes, notes and the next requeue out. Launching an
 * instance for a new Machine is the Machine planner's business once the Machine exists.
 */
import { API_VERSION, Annotations, Finalizers } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { ControlPlane } from '../../api/control-plane.js';
import { bootstrapsWithKubeadm } from '../../api/providers/index.js';
import { canonicalJson } from '../../api/kind.js';
import type { Machine } from '../../api/machine.js';
import type { MachineClass } from '../../api/machine-class.js';
import type { MachineSet, MachineSetStatus } from '../../api/machine-set.js';
import { setConditions } from '../conditions.js';
import type { Observed } from '../observed.js';
import { emptyPlan, refOf, type Plan } from '../plan.js';
import { withTeardownTimeouts } from '../machine/deletion.js';
import type { MachineDeploymentCapacity } from '../../api/capacity.js';
import {
  capacityCounts,
  capacityMetadata,
  capacityScaleDown,
  capacityTypeOf,
  instancesByMachine,
  newMachineCapacities,
  type LaunchCapacity,
} from './capacity.js';
import { deletePriorityClass } from './deletion-order.js';
import { DomainNumbers, failureDomainPlacement, spreadNewMachines } from './failure-domains.js';
import { compileInPlace, templateMetadata } from './in-place.js';
import { indexMachines, notLeaving, type MachineIndex } from './machine-health.js';
import { newMachineNames } from './machine-names.js';
import { adopted, controllerReference, released } from './ownership.js';
import { listNames, listNamesAt, pausedBy, pausedCondition } from './paused.js';
import { compileSelector } from './selector.js';
import { PREFLIGHT_FAILED_REQUEUE_SECONDS, preflightChecks } from './preflight.js';
import { compileFullyLabeled, machineSetStatus } from './status.js';

/**
 * Machines one reconcile pass may create in a cluster, all its MachineSets together; the rest come in the next
 * pass, asked for at once (requeue 0). Kubernetes' ReplicaSet controller bounds the creates of one sync the same
 * way (burstReplicas, 500: pkg/controller/replicaset/replica_set.go manageReplicas, which then waits for the
 * next sync); Cluster API's MachineSet controller creates every missing machine at once
 * (core/reconcilers/machineset/machineset_controller.go syncReplicas), which is fine where replicas stay small.
 * Here nothing bounds spec.replicas, and a MachineSet of 100,000 replicas must not become 100,000 writes (and
 * names to hash) in one pass, nor one plan too big to carry out within a task's time.
 *
 * Note: a fixed cap rather than ReplicaSet's slow start (1, 2, 4, ... while creates succeed): the planner does
 * not make the creates, it only plans them, and a lost race is already retried on the next pass.
 */
export const MAX_MACHINE_CREATES_PER_PASS = 100;

export interface MachineSetPlanInput {
  machineSet: MachineSet;
  /** Machines of the cluster, whoever owns them: the planner finds its own and the orphans it may adopt. */
  machines: readonly Machine[];
  cluster: Cluster;
  /** The MachineClass of the template; undefined when it does not exist (machine creation then waits). */
  machineClass: MachineClass | undefined;
  /** The cluster's ControlPlane, for the preflight checks (preflight.ts); without one they pass. */
  controlPlane?: ControlPlane | undefined;
  observed: Observed;
  now: Date;
  /** The machines indexed once per reconcile (indexMachines); built from machines, observed and now if absent. */
  index?: MachineIndex;
  /**
   * How many machines this plan may create: what is left of the pass's budget once the sets planned before it in
   * the same pass took theirs. @default MAX_MACHINE_CREATES_PER_PASS
   */
  createBudget?: number;
  /**
   * The owning MachineDeployment's spec.capacity and every machine of that deployment (all its sets): new machines
   * get their market from the set's counts, a scale-down removes the side above its share first (capacity.ts).
   */
  capacity?: { spec: MachineDeploymentCapacity; deploymentMachines: readonly Machine[] };
}

export interface MachineSetPlan extends Plan {
  /** The status as this plan leaves it (written only when it changed). */
  status: MachineSetStatus | undefined;
}

export function planMachineSet(input: MachineSetPlanInput): MachineSetPlan {
  const { machineSet: ms, cluster, now } = input;
  const index = input.index ?? indexMachines(input.machines, input.observed, now);
  const plan = emptyPlan();
  const who = `MachineSet ${ms.metadata.name}`;

  if (!ms.metadata.uid) {
    plan.notes.push(`${who}: not created yet, its machines are planned once it exists`);
    return { ...plan, status: ms.status };
  }

  const paused = pausedBy(cluster, ms);
  if (paused.length > 0) {
    const conditions = setConditions(ms.status?.conditions, [pausedCondition(paused)], now, ms.metadata.generation);
    const status = { ...ms.status, conditions };
    if (conditions !== ms.status?.conditions) plan.writes.push({ type: 'UpdateStatus', object: { ...ms, status } });
    plan.notes.push(`${who}: reconciliation paused (${paused.join(', ')})`);
    return { ...plan, status };
  }

  // Ownership: release what no longer matches, adopt matching orphans (never deleting ones). The machines kept
  // get the template's in-place fields (in-place.ts), in the same write as an adoption.
  const matches = compileSelector(ms.spec.selector);
  const inPlace: string[] = [];
  const machineInPlace = compileInPlace(ms);
  const controlled = index.controlledBy(ms.metadata.uid);
  // What the set owns: the very list it controls (then the index's slots and deletion order of it are shared), or a
  // copy once a machine is released or adopted.
  let ownedCopy: Machine[] | undefined;
  // status.fullyLabeledReplicas of the machines kept, counted in this walk: a machine the in-place check found
  // synced has the template's labels (CompiledInPlace.templateLabelsImplied), the others are read.
  const fullyLabeledOf = compileFullyLabeled(ms);
  let fullyLabeled = 0;
  for (let i = 0; i < controlled.length; i++) {
    const m = controlled[i]!;
    if (m.metadata.deletionTimestamp === undefined && !matches(m.metadata.labels)) {
      ownedCopy ??= controlled.slice(0, i);
      plan.writes.push({ type: 'Update', object: released(m, ms) });
      plan.notes.push(`${who}: releasing machine ${m.metadata.name}, its labels no longer match the selector`);
      continue;
    }
    ownedCopy?.push(m);
    const synced = machineInPlace(m);
    if (synced) {
      plan.writes.push({ type: 'Update', object: synced });
      inPlace.push(m.metadata.name);
    }
    if (synced === undefined && m.metadata.deletionTimestamp === undefined && machineInPlace.templateLabelsImplied) fullyLabeled++;
    else if (fullyLabeledOf(m)) fullyLabeled++;
  }
  for (const m of index.orphans) {
    if (m.spec.clusterName !== ms.spec.clusterName || m.metadata.namespace !== ms.metadata.namespace) continue;
    if (!matches(m.metadata.labels)) continue;
    const adoptedMachine = adopted(m, ms);
    plan.writes.push({ type: 'Update', object: machineInPlace(adoptedMachine) ?? adoptedMachine });
    plan.notes.push(`${who}: adopting machine ${m.metadata.name}`);
    ownedCopy ??= [...controlled];
    ownedCopy.push(m);
  }
  const owned: readonly Machine[] = ownedCopy ?? controlled;
  if (inPlace.length > 0) plan.notes.push(`${who}: updating ${listNames(inPlace)} in place (template labels, annotations, teardown timeouts)`);

  let scaleUpBlocked: string | undefined;
  let failure: { reason: string; message: string } | undefined;
  let capped = false;
  let preflight: string[] = [];

  if (ms.metadata.deletionTimestamp) {
    const going = owned.filter((m) => !index.health(m).deleting);
    for (const m of going) plan.writes.push({ type: 'Delete', ref: refOf(m), reason: `MachineSet ${ms.metadata.name} is being deleted` });
    if (owned.length === 0) {
      if (ms.metadata.finalizers?.includes(Finalizers.machineSet))
        plan.writes.push({ type: 'RemoveFinalizer', ref: refOf(ms), finalizer: Finalizers.machineSet });
      plan.notes.push(`${who}: deleted, no machines left`);
    } else
      plan.notes.push(
        `${who}: deleting, waiting for ${owned.length} machine(s) to go${going.length ? `; deleting ${listNames(going.map((m) => m.metadata.name))}` : ''}`,
      );
  } else {
    // A machine leaving on an interruption notice is not counted: its replacement is made now, outside maxSurge
    // (the deployment's rollout does not count it either), and only once.
    const counted = notLeaving(owned, index);
    const diff = counted.length - ms.spec.replicas;
    const placement = failureDomainPlacement(cluster, input.machineClass, ms.spec.template.spec.failureDomain);
    if (!input.machineClass) scaleUpBlocked = `MachineClass ${ms.spec.template.spec.machineClassRef.name} does not exist`;
    else if (!placement.ok) {
      scaleUpBlocked = placement.message;
      failure = { reason: placement.reason, message: placement.message };
    }
    // Cluster API runs the preflight checks only when machines are to be created (createMachines).
    if (diff < 0 && !scaleUpBlocked)
      preflight = preflightChecks({ machineSet: ms, controlPlane: input.controlPlane, kubeadm: bootstrapsWithKubeadm(cluster.spec.provider) });
    if (diff < 0 && scaleUpBlocked) plan.notes.push(`${who}: cannot create ${-diff} machine(s): ${scaleUpBlocked}`);
    else if (diff < 0 && preflight.length > 0) plan.notes.push(`${who}: scale up on hold: ${preflight.join('; ')}`);
    else if (diff < 0 && placement.ok) {
      const missing = -diff;
      const count = Math.min(missing, Math.max(0, input.createBudget ?? MAX_MACHINE_CREATES_PER_PASS));
      // Machines per failure domain, in order of first appearance (DomainNumbers: a walk of a few names, not a map
      // read and written per machine).
      const numbers = new DomainNumbers();
      const domainCounts: number[] = [];
      const slots = index.slotsOf(counted);
      for (let i = 0; i < slots.length; i++) {
        if (index.deletingAt(slots[i]!)) continue;
        const id = numbers.idOf(index.failureDomainAt(slots[i]!));
        if (id === domainCounts.length) domainCounts.push(0);
        domainCounts[id]!++;
      }
      const perDomain = new Map<string, number>(numbers.names.map((domain, id) => [domain, domainCounts[id]!]));
      const domains = spreadNewMachines(placement, perDomain, count);
      const names = newMachineNames(ms, now, count, index.namesTaken);
      const markets = input.capacity ? newMarkets(input.capacity, counted, input.observed.instances, count) : [];
      for (const [i, name] of names.entries()) plan.writes.push({ type: 'Create', object: newMachine(ms, name, domains[i], markets[i]) });
      const where = placement.domains.length > 0 ? ` in ${[...new Set(domains)].join(', ')}` : '';
      if (count > 0) plan.notes.push(`${who}: scaling up from ${counted.length} to ${ms.spec.replicas} replicas, creating ${listNames(names)}${where}`);
      if (count < missing) {
        plan.notes.push(`${who}: ${missing - count} more machine(s) to create in the next pass (at most ${MAX_MACHINE_CREATES_PER_PASS} per pass)`);
        capped = true;
      }
    } else if (diff > 0) {
      const reason = `scale down of MachineSet ${ms.metadata.name} from ${counted.length} to ${ms.spec.replicas} replicas (deletePolicy ${ms.spec.deletePolicy})`;
      // The Delete writes made straight from the order, without a list of the machines first (25,000 at 50,000).
      const first = plan.writes.length;
      if (input.capacity) {
        for (const m of scaleDownByMarket(input.capacity.spec, counted, diff, ms, index, input.observed.instances))
          if (!index.health(m).deleting) plan.writes.push({ type: 'Delete', ref: refOf(m), reason });
      } else {
        // The order the deployment planner counted availability on (the same array when the set owns just what it
        // controls): worked out once.
        const order = index.deletionOrderPrefix(counted, ms.spec.deletePolicy, diff);
        for (let i = 0; i < Math.min(diff, order.length); i++)
          if (!index.deletingAt(order[i]!)) plan.writes.push({ type: 'Delete', ref: refOf(index.machineAt(order[i]!)), reason });
      }
      const deletes = plan.writes.length - first;
      plan.notes.push(
        deletes > 0
          ? `${who}: scaling down from ${counted.length} to ${ms.spec.replicas} replicas, deleting ${listNamesAt(deletes, (i) => {
              const w = plan.writes[first + i]!;
              return w.type === 'Delete' ? w.ref.name : '';
            })}`
          : `${who}: scaling down from ${counted.length} to ${ms.spec.replicas} replicas, waiting for deleting machines to go`,
      );
    }
  }

  const statused = notLeaving(owned, index);
  const { status, counts } = machineSetStatus({
    machineSet: ms,
    machines: statused,
    index,
    // The walk above counted the very list the status counts (nothing adopted, released or leaving).
    ...(statused === controlled ? { fullyLabeledReplicas: fullyLabeled } : {}),
    now,
    ...(scaleUpBlocked ? { scaleUpBlocked } : {}),
    ...(failure ? { failure } : {}),
    preflightFailures: preflight,
  });
  if (canonicalJson(status) !== canonicalJson(ms.status ?? {})) plan.writes.push({ type: 'UpdateStatus', object: { ...ms, status } });
  if (counts.nextAvailableInSeconds !== undefined) plan.requeueAfterSeconds = counts.nextAvailableInSeconds;
  if (preflight.length > 0) plan.requeueAfterSeconds = Math.min(plan.requeueAfterSeconds ?? PREFLIGHT_FAILED_REQUEUE_SECONDS, PREFLIGHT_FAILED_REQUEUE_SECONDS);
  // The creates left over: at once, in the next pass.
  if (capped) plan.requeueAfterSeconds = 0;
  return { ...plan, status };
}

/**
 * A new Machine of `ms`: the template's labels and annotations, the cluster and set name labels (and the
 * deployment name when the set has one), a controller ownerReference, the Machine finalizer (the store does
 * not add it: only the API does), and the template's spec.
 */
export function newMachine(ms: MachineSet, name: string, failureDomain: string | undefined, capacity?: LaunchCapacity): Machine {
  const t = ms.spec.template;
  // Note: a zone chosen by spreading is a preference, not a pin. With a pin, a zone out of capacity would keep
  // the machine from ever launching; as a preference the provider falls back to another zone, and the spread
  // counts the zone the instance really got (status.infrastructure.availabilityZone).
  const pinned = t.spec.failureDomain;
  const preferred: Record<string, string> = pinned === undefined && failureDomain !== undefined ? { [Annotations.preferredFailureDomain]: failureDomain } : {};
  const template = templateMetadata(ms, undefined, preferred);
  // The market is the planner's decision for this machine, not the template's: not recorded as a template key.
  const market = capacity ? capacityMetadata(capacity) : { labels: {}, annotations: {} };
  const labels = { ...template.labels, ...market.labels };
  const annotations = { ...template.annotations, ...market.annotations };
  return {
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: {
      name,
      namespace: ms.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [controllerReference(ms)],
      finalizers: [Finalizers.machine],
    },
    spec: {
      clusterName: ms.spec.clusterName,
      version: t.spec.version,
      machineClassRef: { name: t.spec.machineClassRef.name },
      ...(pinned !== undefined ? { failureDomain: pinned } : {}),
      ...withTeardownTimeouts({ nodeDrainTimeoutSeconds: 0 }, t.spec),
      ...(t.spec.taints !== undefined ? { taints: t.spec.taints } : {}),
    },
  };
}

/** The markets of `count` new machines: the split from the set's own machines, the fallback bound the deployment's. */
function newMarkets(
  capacity: NonNullable<MachineSetPlanInput['capacity']>,
  owned: readonly Machine[],
  instances: Observed['instances'],
  count: number,
): LaunchCapacity[] {
  const byMachine = instancesByMachine(instances);
  const counts = capacityCounts(owned, byMachine);
  const { fallbackHeld } = capacityCounts(capacity.deploymentMachines, byMachine);
  return newMachineCapacities(capacity.spec, { ...counts, fallbackHeld }, count);
}

function scaleDownByMarket(
  capacity: MachineDeploymentCapacity,
  owned: readonly Machine[],
  count: number,
  ms: MachineSet,
  index: MachineIndex,
  instances: Observed['instances'],
): Machine[] {
  const byMachine = instancesByMachine(instances);
  return capacityScaleDown(
    // The index's order (the same as deletionOrder's, an oracle holds it), worked out once per list and policy.
    index.deletionOrder(owned, ms.spec.deletePolicy),
    count,
    capacity,
    capacityCounts(owned, byMachine),
    (m) => capacityTypeOf(m, byMachine.get(m.metadata.uid ?? '')),
    (m) => ['Deleting', 'DeleteAnnotation'].includes(deletePriorityClass(m, index.health(m))),
  );
}
