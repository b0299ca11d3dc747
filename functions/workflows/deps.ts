/**
 * What the workflow tasks need, built once per Lambda container (handlers/tasks) or once per embedded host
 * (local/). The tasks know only these ports, never which host runs them.
 */
import {
  AddonApplierUnavailableError,
  InvalidSpecError,
  type AddonApplier,
  type PayloadStore,
  noWorkloadsDrainer,
  noNodeLabels,
  type NodeLabeler,
  type Clock,
  type EtcdMembership,
  type EventRecorder,
  noEvents,
  type KubeadmObjects,
  type MachineBootstrapper,
  type MachineProvider,
  type ManagedLoadBalancers,
  type NodeDrainer,
  type NodeReader,
  type ReconcileRequeues,
  type Store,
  type TargetGroupRegistrations,
  type Timer,
  type UnavailableOfferings,
} from '../ports.js';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface WorkflowDeps {
  store: Store;
  provider: MachineProvider;
  nodes: NodeReader;
  drainer: NodeDrainer;
  /** Writes the labels synced from Machines onto their Nodes. `noNodeLabels` on a host whose nodes have no labels to read. */
  nodeLabels: NodeLabeler;
  clock: Clock;
  timer: Timer;
  log: Logger;
  /**
   * Who takes a cluster's lease for one reconcile: a fresh id on every call (invocationHolder), so that two
   * reconciles of one cluster in one process contend for the lease as two Lambdas do.
   */
  holder: () => string;
  /**
   * Carries out the requeue a reconcile asks for (reconcileTask). `noRequeues` on a host without it: only changes
   * and the sweep reconcile a cluster again.
   */
  requeues: ReconcileRequeues;
  /** How often the stepping workflows look again while waiting (seconds, before time-scaling). */
  pollSeconds?: number;
  /**
   * The kubeadm bootstrap of aws machines (certificates, bootstrap secrets, join tokens). `noBootstrap` on a host
   * without it (the simulator, tests of other things): machines launch with no user data.
   */
  bootstrap: MachineBootstrapper;
  /**
   * Registers control-plane instances into a cluster's target group (ELBv2), the one clusterless made or the one
   * the cluster names. `noTargetGroups` on a host without it: no instance is registered anywhere.
   */
  targetGroups: TargetGroupRegistrations;
  /**
   * The control-plane load balancers clusterless makes for aws clusters that name no target group
   * (controlPlaneLoadBalancer without targetGroupArn). `noManagedLoadBalancers` on a host without them: such
   * clusters wait for one.
   */
  managedLoadBalancers: ManagedLoadBalancers;
  /**
   * The etcd members of kubeadm control planes, read from etcd and changed before a control-plane machine goes.
   * `noEtcd` on a host without it: the planners infer the members from machines and nodes.
   */
  etcd: EtcdMembership;
  /**
   * kubeadm's own objects in workload clusters (kubeadm-config, kube-proxy, CoreDNS), brought to a control plane's
   * version as `kubeadm upgrade` does. `noKubeadmObjects` on a host without it: nothing is there to update.
   */
  kubeadmObjects: KubeadmObjects;
  /** Applies ClusterResourceSets to workload clusters. `noAddons` on a host that reaches no workload API: none is planned. */
  addons: AddonApplier;
  /** Where the manifests of ClusterResourceSets are kept. `noPayloads` on a host without: only inline manifests are applied. */
  payloads: PayloadStore;
  /** Records Kubernetes Events of what the workflows do (workflows/events.ts). `noEvents` by default: none is recorded. */
  events: EventRecorder;
  /**
   * The offerings launches of this installation found without capacity lately (shared through the store), which
   * later launches try last. `noUnavailableOfferings` on a host without: launches go in the class's order.
   */
  unavailableOfferings: UnavailableOfferings;
}

/**
 * The host bootstraps no machine. Never asked to while the hooks ask `hostBootstraps` first (which skips the store
 * reads a bootstrap needs); should it be, it prepares no user data and has nothing to release or renew.
 */
export const noBootstrap: MachineBootstrapper = {
  prepare: async () => ({ userData: '' }),
  bindToInstance: async () => {},
  release: async () => {},
  renew: async () => ({}),
  releaseCluster: async () => {},
  adminKubeconfig: async () => undefined,
};

/** The host registers no instance into any target group. */
export const noTargetGroups: TargetGroupRegistrations = {
  register: async () => {},
  deregister: async () => {},
};

/**
 * The host makes no load balancer: it sees none (so a cluster that needs one waits for it), makes and deletes
 * nothing, and refuses a target group a cluster names, whose tags it cannot read.
 */
export const noManagedLoadBalancers: ManagedLoadBalancers = {
  describe: async () => undefined,
  targetGroupArn: async () => undefined,
  hasLeftovers: async () => false,
  ensure: async () => {},
  delete: async () => {},
  checkTargetGroup: async (targetGroupArn, namespace, clusterName) => {
    throw new InvalidSpecError(
      `target group ${targetGroupArn} of ${namespace}/${clusterName}: this host cannot read its tags to check that it is the cluster's`,
    );
  },
};

/** The host reaches no etcd: nothing is read, and a member to remove or lead is left to its machine's end. */
export const noEtcd: EtcdMembership = {
  read: async () => undefined,
  forwardLeadership: async () => {},
  removeMember: async () => {},
};

/** The host reaches no workload cluster's kubeadm objects: each call finds none (and says so). */
export const noKubeadmObjects: KubeadmObjects = {
  updateClusterConfiguration: async (_target, version) => ({ version, objects: [] }),
  updateAddons: async (_target, version) => ({ version, objects: [] }),
};

/** The host reaches no workload API to apply addons to: the reconcile plans none (hostAppliesAddons). */
export const noAddons: AddonApplier = {
  apply: async (namespace, clusterName) => {
    throw new AddonApplierUnavailableError(`this host applies no addons (to ${namespace}/${clusterName})`);
  },
};

/** The host keeps no payloads: a set whose manifests are kept as payloads cannot be read. */
export const noPayloads: PayloadStore = {
  put: async () => {
    throw new Error('this host keeps no payloads');
  },
  get: async () => undefined,
  delete: async () => {},
};

/** The host remembers no missing capacity: every launch tries its attempts in the class's order. */
export const noUnavailableOfferings: UnavailableOfferings = { list: async () => [], mark: async () => {} };

/** The host keeps no requeue: changes and the sweep reconcile a cluster again. */
export const noRequeues: ReconcileRequeues = { requeue: async () => {} };

type Defaulted =
  | 'bootstrap'
  | 'targetGroups'
  | 'managedLoadBalancers'
  | 'etcd'
  | 'kubeadmObjects'
  | 'drainer'
  | 'nodeLabels'
  | 'log'
  | 'requeues'
  | 'addons'
  | 'payloads'
  | 'events'
  | 'unavailableOfferings';

/** What a host brings; the ports it lacks get their "none" implementations. */
export type WorkflowDepsParts = Omit<WorkflowDeps, Defaulted> & Partial<Pick<WorkflowDeps, Defaulted>>;

/**
 * The one way every host (handlers/task-deps.ts, local/embedded-host.ts) and every test harness builds the
 * workflows' dependencies: no port is optional afterwards, so no task asks whether it is there.
 */
export function workflowDeps(parts: WorkflowDepsParts): WorkflowDeps {
  return {
    ...parts,
    bootstrap: parts.bootstrap ?? noBootstrap,
    targetGroups: parts.targetGroups ?? noTargetGroups,
    managedLoadBalancers: parts.managedLoadBalancers ?? noManagedLoadBalancers,
    etcd: parts.etcd ?? noEtcd,
    kubeadmObjects: parts.kubeadmObjects ?? noKubeadmObjects,
    drainer: parts.drainer ?? noWorkloadsDrainer,
    nodeLabels: parts.nodeLabels ?? noNodeLabels,
    log: parts.log ?? silentLogger,
    requeues: parts.requeues ?? noRequeues,
    addons: parts.addons ?? noAddons,
    payloads: parts.payloads ?? noPayloads,
    events: parts.events ?? noEvents,
    unavailableOfferings: parts.unavailableOfferings ?? noUnavailableOfferings,
  };
}

/** Whether the host bootstraps machines at all: without it, the hooks skip even the reads they would need. */
export const hostBootstraps = (deps: WorkflowDeps): boolean => deps.bootstrap !== noBootstrap;

/** Whether the host applies addons at all: without it, the reconcile reads no ClusterResourceSet. */
export const hostAppliesAddons = (deps: WorkflowDeps): boolean => deps.addons !== noAddons;

/** Whether the host registers control-plane instances into target groups. */
export const hostRegistersTargets = (deps: WorkflowDeps): boolean => deps.targetGroups !== noTargetGroups;

/**
 * Lease holders, one per call: `{prefix}/1`, `{prefix}/2`, ... The prefix names the process (a Lambda
 * container, a host), the counter the invocation. A holder shared by a whole process would renew the lease
 * for a second reconcile of the same cluster instead of refusing it (base-store's acquireLease renews for the
 * same holder), and the two would plan over each other.
 */
export function invocationHolder(prefix: string): () => string {
  let invocation = 0;
  return () => `${prefix}/${++invocation}`;
}

/** A timer for hosts whose clock is the wall clock, sped up by `timeScale` (the embedded host's --time-scale). */
export function scaledTimer(timeScale = 1, realNow: () => number = Date.now): Timer {
  return { wakeAt: (seconds) => new Date(realNow() + (Math.max(0, seconds) * 1000) / timeScale).toISOString() };
}
