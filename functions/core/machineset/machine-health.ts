/**
 * What the MachineSet and MachineDeployment planners need to know of each Machine: is it going away, is it
 * healthy (for the deletion order), is it Ready and since when (for availability and minReadySeconds).
 *
 * Computed once per reconcile for every machine of a cluster (`indexMachines`) and shared by all the
 * planners of that reconcile, so that a 5,000-machine deployment is walked a handful of times, not once per
 * MachineSet per question.
 */
import type { Machine } from '../../api/machine.js';
import type { DeletePolicy } from '../../api/machine-deployment.js';
import { getCondition } from '../conditions.js';
import { failureDomainOf } from '../machine/facts.js';
import { NODE_HEALTH } from '../machine/node-conditions.js';
import type { NodeFact, Observed } from '../observed.js';
import { deletionOrder } from './deletion-order.js';
import { controllerOf } from './ownership.js';
import { epochMillis } from './time.js';

/** Why a machine is deleted before healthy ones when its MachineSet scales down. */
export type UnhealthyReason = 'Failed' | 'NoNode' | 'NodeNotReady' | 'NodeUnhealthy' | 'HealthCheckFailed';

export interface MachineHealth {
  /** deletionTimestamp is set: the machine is going away and counts as neither ready nor available. */
  deleting: boolean;
  unhealthy?: UnhealthyReason;
  /** The node is Ready (and the machine is neither deleting nor failed). */
  ready: boolean;
  /** Epoch milliseconds since when the node has been Ready; set when `ready`. */
  readySince?: number;
  /** The failure domain the machine runs in ('' when none). */
  failureDomain: string;
}

function nodeReadyCondition(node: NodeFact) {
  return node.conditions.find((c) => c.type === 'Ready');
}

/** The node conditions whose True means trouble: NodeHealthy's list without Ready, which must be True instead. */
const PRESSURE_CONDITIONS: ReadonlySet<string> = new Set(NODE_HEALTH.filter((type) => type !== 'Ready'));

/**
 * The health of one machine, from the observed node when the workload cluster could be read and from the
 * machine's own conditions otherwise.
 *
 * Unhealthy, as Cluster API's isMachineHealthy (core/reconcilers/machineset/machineset_deletion_order.go):
 * no node, NodeHealthy False, HealthCheckSucceeded False; plus what we observe directly: phase Failed (or a
 * failureReason) and a node whose Ready condition is not True.
 * Note: Cluster API does not count an Unknown *machine condition* as unhealthy, and neither do we; but an
 * observed node whose Ready is Unknown has stopped reporting (its kubelet is gone), which is not Ready.
 */
export function machineHealth(machine: Machine, nodes: NodeLookup | undefined): MachineHealth {
  const deleting = machine.metadata.deletionTimestamp !== undefined;
  // Where the machine is: its pin, else the zone its instance got, else the zone it was spread to.
  const failureDomain = failureDomainOf(machine) ?? '';
  const conditions = machine.status?.conditions;

  let unhealthy: UnhealthyReason | undefined;
  let ready = false;
  let readySince: number | undefined;
  const node = nodes?.find(machine);

  if (machine.status?.phase === 'Failed' || machine.status?.failureReason !== undefined) unhealthy = 'Failed';
  else if (nodes) {
    const readyCond = node && nodeReadyCondition(node);
    if (!node) unhealthy = 'NoNode';
    else if (readyCond?.status !== 'True') unhealthy = 'NodeNotReady';
    else {
      ready = true;
      readySince = epochMillis(readyCond.lastTransitionTime, 0);
    }
  } else if (!machine.status?.nodeRef) unhealthy = 'NoNode';
  else {
    // The workload cluster could not be read: trust what the machine last recorded of its node.
    const nodeReady = getCondition(conditions, 'NodeReady');
    if (nodeReady?.status === 'False') unhealthy = 'NodeNotReady';
    else if (nodeReady?.status === 'True') {
      ready = true;
      readySince = epochMillis(nodeReady.lastTransitionTime, 0);
    }
  }
  // Note: NodeHealthy is the machine's record of its node's conditions, written by the last reconcile. With the
  // node observed in this one, the observation counts: a record written while the node was still booting would
  // rank a machine whose node is Ready now for deletion together with ones whose node is NotReady, and a
  // scale-down from 3 to 1 could then delete the only available machine (found by the chaos soak, seed 1).
  const nodeUnhealthy = node
    ? node.conditions.some((c) => c.status === 'True' && PRESSURE_CONDITIONS.has(c.type))
    : getCondition(conditions, 'NodeHealthy')?.status === 'False';
  if (!unhealthy && nodeUnhealthy) unhealthy = 'NodeUnhealthy';
  if (!unhealthy && getCondition(conditions, 'HealthCheckSucceeded')?.status === 'False') unhealthy = 'HealthCheckFailed';
  if (deleting || unhealthy === 'Failed') {
    ready = false;
    readySince = undefined;
  }
  // One object, no spreads: this runs for every machine of every reconcile.
  if (unhealthy) return readySince !== undefined ? { deleting, unhealthy, ready, readySince, failureDomain } : { deleting, unhealthy, ready, failureDomain };
  return readySince !== undefined ? { deleting, ready, readySince, failureDomain } : { deleting, ready, failureDomain };
}

/**
 * Available, as Cluster API and Deployments mean it: Ready for at least minReadySeconds.
 * Learnt from cluster-api api/core/v1beta2 (Machine Available condition) and Kubernetes' podutil.IsPodAvailable.
 */
export function isAvailable(health: MachineHealth, minReadySeconds: number, now: number): boolean {
  if (!health.ready) return false;
  if (minReadySeconds <= 0) return true;
  return now - (health.readySince ?? 0) >= minReadySeconds * 1000;
}

/** Seconds until a Ready machine becomes available, or undefined when it is not Ready or already available. */
export function secondsUntilAvailable(health: MachineHealth, minReadySeconds: number, now: number): number | undefined {
  if (!health.ready || minReadySeconds <= 0) return undefined;
  const at = (health.readySince ?? 0) + minReadySeconds * 1000;
  return at > now ? Math.ceil((at - now) / 1000) : undefined;
}

/** Finds the node of a machine: by its nodeRef, or by providerID before the nodeRef is recorded. */
export interface NodeLookup {
  find(machine: Machine): NodeFact | undefined;
}

export function nodeLookup(nodes: readonly NodeFact[]): NodeLookup {
  const byName = new Map<string, NodeFact>();
  for (const n of nodes) byName.set(n.name, n);
  // Only a machine without a nodeRef (a node still joining) is looked up by providerID: built on first use.
  let byProviderID: Map<string, NodeFact> | undefined;
  return {
    find(machine) {
      const ref = machine.status?.nodeRef?.name;
      if (ref !== undefined) return byName.get(ref);
      if (machine.spec.providerID === undefined) return undefined;
      if (!byProviderID) {
        byProviderID = new Map();
        for (const n of nodes) if (n.providerID) byProviderID.set(n.providerID, n);
      }
      return byProviderID.get(machine.spec.providerID);
    },
  };
}

/**
 * Every machine of a reconcile, indexed once: health, machines by controller uid, orphans, names in use.
 * Build it with `indexMachines` and pass it to each planner of the same reconcile.
 */
export interface MachineIndex {
  readonly now: number;
  health(machine: Machine): MachineHealth;
  /** Machines whose controller ownerReference carries this uid. */
  controlledBy(uid: string | undefined): readonly Machine[];
  /** Machines without a controller, not deleting: candidates for adoption. */
  readonly orphans: readonly Machine[];
  /** Names of all machines, to keep generated names unique. */
  readonly names: ReadonlySet<string>;
  /**
   * deletionOrder of `machines` by `policy`, worked out once per array and policy in this reconcile: the
   * deployment planner's availability count of a scale-down and the set planner's scale-down walk the same order.
   */
  deletionOrder(machines: readonly Machine[], policy: DeletePolicy): readonly Machine[];
  /**
   * The machine is leaving on an interruption notice (core/machine/interruption.ts): it no longer counts towards
   * its set's replicas, so its replacement is made at once.
   */
  leaving(machine: Machine): boolean;
}

export function indexMachines(machines: readonly Machine[], observed: Observed, now: Date, leaving: ReadonlySet<Machine> = new Set()): MachineIndex {
  const nodes = observed.nodes ? nodeLookup(observed.nodes) : undefined;
  const health = new Map<Machine, MachineHealth>();
  const byController = new Map<string, Machine[]>();
  const orphans: Machine[] = [];
  for (const m of machines) {
    health.set(m, machineHealth(m, nodes));
    const ctrl = controllerOf(m);
    if (ctrl) {
      const list = byController.get(ctrl.uid);
      if (list) list.push(m);
      else byController.set(ctrl.uid, [m]);
    } else if (m.metadata.deletionTimestamp === undefined) orphans.push(m);
  }
  const none: readonly Machine[] = [];
  // The names are needed only to name new machines: a set of 50,000 strings is not built for a steady plan.
  let names: Set<string> | undefined;
  const orders = new Map<readonly Machine[], Map<DeletePolicy, readonly Machine[]>>();
  const healthOf = (m: Machine) => health.get(m) ?? machineHealth(m, nodes);
  return {
    now: now.getTime(),
    health: healthOf,
    deletionOrder(list, policy) {
      let byPolicy = orders.get(list);
      if (!byPolicy) {
        byPolicy = new Map();
        orders.set(list, byPolicy);
      }
      let order = byPolicy.get(policy);
      if (!order) {
        order = deletionOrder(list, policy, healthOf);
        byPolicy.set(policy, order);
      }
      return order;
    },
    controlledBy: (uid) => (uid === undefined ? none : (byController.get(uid) ?? none)),
    orphans,
    get names() {
      names ??= new Set(machines.map((m) => m.metadata.name));
      return names;
    },
    leaving: (m) => leaving.has(m),
  };
}

/**
 * `machines` without those leaving on an interruption notice: the same array when none is (the common case), so
 * that the index's deletion order of it is worked out once for both planners.
 */
export function notLeaving(machines: readonly Machine[], index: MachineIndex): readonly Machine[] {
  return machines.some((m) => index.leaving(m)) ? machines.filter((m) => !index.leaving(m)) : machines;
}
