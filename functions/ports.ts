/**
 * The ports: what functions/ needs from the world. Adapters in functions/adapters implement them; the
 * embedded host (local/) and the AWS host (infra/) choose which. Nothing here imports an SDK.
 */
import type { ApiObject } from './api/kind.js';
import type { KindName, StoredKindName } from './api/kinds.js';
import type { ClusterSpec } from './api/cluster.js';
import type { EventInput } from './api/event.js';
import type { MachineClassSpec } from './api/machine-class.js';
import type { NodeTaint } from './api/taint.js';
import type { LaunchAttempt } from './core/machine/placement.js';
import type { EtcdFact, InstanceFact, NodeFact } from './core/observed.js';
import type { NodeLabelPatch } from './core/machine/node-labels.js';
import type { LaunchCapacity } from './core/machineset/capacity.js';
import type { Offering, UnavailableOffering } from './core/machine/offerings.js';

/** Time, passed in so that core and tests never read the wall clock themselves. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ObjectKey {
  kind: StoredKindName;
  namespace: string;
  name: string;
}

/** Base class of the errors every Store adapter throws; match on the class, never on the message. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** The object does not exist (or no longer exists). */
export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
  constructor(
    readonly key: ObjectKey,
    options?: ErrorOptions,
  ) {
    super(`${key.kind} ${key.namespace}/${key.name} not found`, options);
  }
}

/** An object of that kind, namespace and name exists already. */
export class AlreadyExistsError extends StoreError {
  override name = 'AlreadyExistsError';
  constructor(
    readonly key: ObjectKey,
    options?: ErrorOptions,
  ) {
    super(`${key.kind} ${key.namespace}/${key.name} already exists`, options);
  }
}

/**
 * A conditional write lost: the object changed since the caller read it. Carries the current object, when
 * there is one, so that the caller can retry from it (or report its resourceVersion).
 */
export class ConflictError extends StoreError {
  override name = 'ConflictError';
  constructor(
    readonly key: ObjectKey,
    readonly current: ApiObject | undefined,
    message?: string,
    options?: ErrorOptions,
  ) {
    super(
      message ??
        `the object ${key.kind} ${key.namespace}/${key.name} has been modified; please apply your changes to the latest version (resourceVersion ${current?.metadata.resourceVersion ?? 'none'}) and try again`,
      options,
    );
  }
}

/**
 * The preconditions of a write or delete (a uid, a resourceVersion) held to the stored object, as every Store holds
 * them: a ConflictError when one does not hold (Kubernetes' wording for a uid).
 */
export function checkPreconditions(key: ObjectKey, current: ApiObject, pre: { resourceVersion?: string | undefined; uid?: string | undefined }): void {
  if (pre.uid && pre.uid !== current.metadata.uid)
    throw new ConflictError(key, current, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError(key, current);
}

/** The backing service refused for load (throttling) and the adapter's own retries gave up. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
}

/**
 * A continue token that is not one this store handed out for this list (another kind or namespace, or not a
 * token at all). Kubernetes answers 400 for it.
 */
export class InvalidContinueTokenError extends StoreError {
  override name = 'InvalidContinueTokenError';
}

/** A continue token this store can no longer resume from (made by another version of it). Kubernetes: 410 Expired. */
export class ExpiredContinueTokenError extends StoreError {
  override name = 'ExpiredContinueTokenError';
}

/** One page of a list, as Kubernetes' ListOptions asks for it. */
export interface ListPageOptions {
  /** At most this many objects (1 or more). */
  limit: number;
  /** The `continue` of the previous page: this page starts after where that one stopped. */
  continue?: string;
  /**
   * Keeps only the objects it returns true for (label and field selectors), while paging: a page may then
   * hold fewer than `limit` objects, even none, and still have a `continue`, as kube-apiserver allows.
   */
  filter?: (obj: ApiObject) => boolean;
  /**
   * Ends the page early, with a `continue`, before the object that would take the sum of `sizeOf` past
   * `maxBytes`; the first object of a page always fits. (A response must fit Lambda's 6 MB payload.)
   */
  budget?: { maxBytes: number; sizeOf(obj: ApiObject): number };
  /**
   * Told about every read of the backing store the page makes (one DynamoDB Query response, at most 1 MB), with
   * every object that read returned, kept by the filter or not: what the page cost, not only what it holds.
   */
  onRead?(objects: readonly ApiObject[]): void;
}

export interface ListPage<T extends ApiObject = ApiObject> {
  items: T[];
  /** Present while more objects may remain: pass it as `continue` to read the next page. */
  continue?: string;
}

export interface DeleteOptions {
  /** Precondition: the object must still be at this resourceVersion. */
  resourceVersion?: string;
  /** Precondition: the object must still have this uid. */
  uid?: string;
}

export interface DeleteResult {
  /** The object as it is now: with deletionTimestamp set, or as it was when removed. */
  object: ApiObject;
  /** True when the object is gone from the store (it had no finalizers left). */
  removed: boolean;
}

export interface Lease {
  /** The lease's name within its cluster, e.g. `reconcile`. */
  name: string;
  holder: string;
  expiresAt: string;
}

/**
 * One cluster's counted usage in one period (a UTC month, `YYYY-MM`): counters that only ever grow, each added to
 * atomically (functions/metering/cluster-usage.ts names them and says what each counts).
 */
/** A usage period's form: a UTC month, `YYYY-MM`. */
export const USAGE_PERIOD = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

export interface UsageRecord {
  namespace: string;
  clusterName: string;
  period: string;
  /** When the first add of the period landed (the store's clock). */
  since: string;
  counters: Record<string, number>;
}

/**
 * Declared and observed state, with Kubernetes semantics (DESIGN section 4):
 * - every write is one conditional write on resourceVersion; a lost race is a ConflictError;
 * - `update` writes spec and metadata and keeps status; `updateStatus` writes status only;
 *   generation goes up only when the spec changes;
 * - `delete` of an object with finalizers only sets deletionTimestamp; an update that removes the last
 *   finalizer of a deleting object removes it, as Kubernetes does.
 * All objects are stored with their defaults filled: the store does not validate, the API does.
 */
export interface Store {
  /** Stores a new object; sets uid, resourceVersion, generation 1 and creationTimestamp. */
  create<T extends ApiObject>(obj: T): Promise<T>;
  get<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace: string, name: string): Promise<T | undefined>;
  /**
   * Replaces spec and metadata. Guarded by `obj.metadata.resourceVersion` when it is set; without it the
   * write applies to whatever is current (last write wins, still atomic). Server fields (uid,
   * creationTimestamp, deletionTimestamp, generation) come from the stored object.
   */
  update<T extends ApiObject>(obj: T): Promise<T>;
  /** Replaces status only; guarded like update. */
  updateStatus<T extends ApiObject>(obj: T): Promise<T>;
  delete(kind: StoredKindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult>;
  /** Every object of one cluster, all kinds, read with one (paginated) query. */
  listCluster(namespace: string, clusterName: string): Promise<ApiObject[]>;
  /** Every object of one kind, in one namespace or in all, sorted by namespace then name (all pages read). */
  list<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace?: string): Promise<T[]>;
  /**
   * One page of `list`, in the same order. Pages read the store as it is when each is read, not a snapshot:
   * an object that exists throughout is listed exactly once, one created or deleted meanwhile may or may not
   * be. Throws InvalidContinueTokenError or ExpiredContinueTokenError for a `continue` it cannot resume from.
   */
  listPage<T extends ApiObject = ApiObject>(kind: StoredKindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>>;
  /** Takes or renews a lease of a cluster; undefined when someone else holds an unexpired one. */
  acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined>;
  /** Gives a lease back; a no-op if the holder no longer holds it. */
  releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void>;
  /**
   * Adds to a cluster's usage counters of a period, creating the record: one atomic write, so concurrent adds all
   * count. Counter names are letters and digits starting with a letter; values finite and not negative.
   */
  addUsage(namespace: string, clusterName: string, period: string, counters: Readonly<Record<string, number>>): Promise<void>;
  /** The usage records of a period, of one namespace or of all, sorted by namespace then cluster. */
  listUsage(period: string, namespace?: string): Promise<UsageRecord[]>;
}

// ---------------------------------------------------------------------------------------------------------
// Machines and nodes

export type MachineRole = 'control-plane' | 'worker';

/** Everything a provider needs to launch one Machine's instance. Plain data: it crosses workflow steps. */
export interface LaunchSpec {
  namespace: string;
  clusterName: string;
  machineName: string;
  machineUid: string;
  role: MachineRole;
  version: string;
  /** Idempotency token recorded on the Machine before the launch (DESIGN section 4: intent before action). */
  clientToken: string;
  /** The MachineClass spec the machine was cloned from. */
  machineClass: MachineClassSpec;
  /** The cluster's provider settings (subnets and zones, security groups, or the sim's zones). */
  clusterProvider: ClusterSpec['provider'];
  /** Pins the instance to one zone; otherwise the provider picks, falling back across zones on capacity. */
  failureDomain?: string;
  /** Without a pin: the zone to try first (where the MachineSet spread the machine). */
  preferredFailureDomain?: string;
  /** Bootstrap user data (for ec2: a small boothook that fetches the real data; never secrets themselves). */
  userData?: string;
  /**
   * What the machine's kubeadm bootstrap does: `init` the cluster (its first control-plane machine) or `join` it.
   * Set when the cluster bootstraps with kubeadm; for a provider that plays kubeadm itself (process), where init
   * starts a new etcd and join adds a member.
   */
  bootstrap?: 'init' | 'join';
  /**
   * The attempt recorded on the Machine before an earlier launch request of this machine (its
   * status.infrastructure instanceType and availabilityZone: the request in flight, or the one that made the
   * recorded instance). The provider tries it first, with the same token and parameters, so that a request that
   * succeeded before a crash gets its own instance back from EC2's idempotency instead of a second one from another
   * attempt.
   */
  recordedAttempt?: LaunchAttempt;
  /** Taints the Node registers with (Machine spec.taints, then its class's), besides kubeadm's control-plane taint. */
  taints?: NodeTaint[];
  /** Labels the Node registers with (its MachineClass's nodeRegistration.labels). */
  nodeLabels?: Record<string, string>;
  /**
   * The market the MachineSet planner chose for the machine (core/machineset/capacity.ts, from the Machine's
   * clusterless.dev/capacity-type label); unset: as the MachineClass says.
   */
  capacity?: LaunchCapacity;
  /**
   * Offerings (type, zone, market) a launch of this installation found without capacity lately, unexpired
   * (UnavailableOfferings): the provider tries them after the others, the recorded attempt still first.
   */
  unavailableOfferings?: Offering[];
}

/** One (instance type, zone) attempt of a launch's capacity fallback, as core orders them (core/machine/placement.ts). */
export type { LaunchAttempt } from './core/machine/placement.js';
/** A pool EC2 launches from (instance type, zone, market), and one marked without capacity until its expiry. */
export type { Offering, UnavailableOffering } from './core/machine/offerings.js';

/** What a launch tells its caller while it runs (not plain data: it does not cross workflow steps). */
export interface LaunchHooks {
  /**
   * Called before each launch request the provider makes for an attempt other than the recorded one, and awaited:
   * the caller records it on the Machine (intent before action). A throw stops the launch before the request.
   */
  recordAttempt(attempt: LaunchAttempt): Promise<void>;
  /**
   * Called, and awaited, when EC2 had no capacity for an offering (not for a price cap too low, which is the
   * machine's own): the caller marks it for every later launch of the installation (UnavailableOfferings).
   * @default - nothing is marked
   */
  offeringUnavailable?(offering: Offering, reason: string): Promise<void>;
}

/**
 * The offerings launches found without capacity, shared by every host and Lambda of an installation (a few items
 * of the store, each with its expiry; written by the provisioning task alone). A hint, not a record: losing one
 * costs a refused request, so a reader or writer that fails is logged and the launch goes on in the class's order.
 */
export interface UnavailableOfferings {
  /** The offerings still unavailable at `now`. */
  list(now: Date): Promise<UnavailableOffering[]>;
  /** Marks an offering unavailable until `expiresAt`; an existing later expiry is kept. */
  mark(offering: UnavailableOffering): Promise<void>;
}

/** What a delete did not do. */
export interface InstanceDeletion {
  /**
   * Instance ids the caller named (from Machine status, which any writer of /status can set) that exist but do not
   * carry this machine's uid, cluster and installation: left running. Empty when every named id was the machine's
   * or gone.
   */
  refused: string[];
}

/** Base class of provider errors; workflows retry or catch them by class (and by `name` in ASL). */
export class ProviderError extends Error {
  override name = 'ProviderError';
}
/** The provider throttled us; retry later with jitter. */
export class ThrottledError extends ProviderError {
  override name = 'ThrottledError';
}
/** No capacity for any instance type and zone allowed; retry later. */
export class InsufficientCapacityError extends ProviderError {
  override name = 'InsufficientCapacityError';
}
/** An account limit (vCPU quota, instance limit) stops the launch. */
export class QuotaExceededError extends ProviderError {
  override name = 'QuotaExceededError';
}
/** The request can never succeed as it is (bad AMI, bad subnet, bad instance type): do not retry. */
export class InvalidSpecError extends ProviderError {
  override name = 'InvalidSpecError';
}
/** The instance does not exist (or not yet, as EC2's eventual consistency allows right after a launch). */
export class InstanceNotFoundError extends ProviderError {
  override name = 'InstanceNotFoundError';
}

/**
 * Where machines run: EC2, or the simulator. Every method is idempotent, so that a workflow step that is
 * retried or resumed after a crash never makes a second instance.
 */
export interface MachineProvider {
  /**
   * Launches the Machine's instance, or returns the one already tagged with its uid (adoption: EC2's
   * ClientToken alone is not enough, since emulators ignore it and it expires).
   */
  create(spec: LaunchSpec, hooks?: LaunchHooks): Promise<InstanceFact>;
  /**
   * Every instance of one cluster made by this installation, with one call (filtered by the cluster and
   * installation tags): another installation's instances of a same-named cluster are never seen.
   */
  describe(namespace: string, clusterName: string): Promise<InstanceFact[]>;
  /**
   * Terminates the instances of a Machine: those tagged with its uid, its cluster and this installation, and the
   * given `instanceId` only once it is found to carry those tags too. A given id that exists but is not the
   * machine's is never terminated; it is reported in `refused`. No error for what is already gone.
   */
  delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<InstanceDeletion>;
}

/** Reads the nodes of a workload cluster. */
export interface NodeReader {
  /** The cluster's nodes; throws NodeReaderUnavailableError when the workload API cannot be reached. */
  listNodes(namespace: string, clusterName: string): Promise<NodeFact[]>;
}

export class NodeReaderUnavailableError extends Error {
  override name = 'NodeReaderUnavailableError';
}

/** Whose etcd: the cluster, its spec (its CAs are found by it), and the control-plane instances its provider lists. */
export interface EtcdTarget {
  namespace: string;
  clusterName: string;
  clusterSpec: ClusterSpec;
  /** The instances of the cluster's control-plane machines, as the provider described them (any state). */
  instances: InstanceFact[];
}

/**
 * The etcd members of a kubeadm control plane (stacked etcd: one member per control-plane machine, named after its
 * node), reached with a client certificate from the cluster's etcd CA, as Cluster API's KubeadmControlPlane does
 * (controlplane/kubeadm/internal/workload_cluster_etcd.go).
 */
export interface EtcdMembership {
  /**
   * Every member with its health, leadership and alarms. Undefined when the provider runs no etcd the host can
   * reach (the simulator); throws EtcdUnavailableError when no member answers.
   */
  read(target: EtcdTarget): Promise<EtcdFact | undefined>;
  /** When the named member leads, hands leadership to another healthy voting member; otherwise does nothing. */
  forwardLeadership(target: EtcdTarget, memberName: string): Promise<void>;
  /**
   * Removes the member of that name; a name no member has is removed already. Refuses (EtcdUnavailableError) to
   * remove the last member.
   */
  removeMember(target: EtcdTarget, memberName: string): Promise<void>;
}

export class EtcdUnavailableError extends Error {
  override name = 'EtcdUnavailableError';
}

// ---------------------------------------------------------------------------------------------------------
// Workflows

/** The state machines of statemachines/, by file name. */
export type WorkflowName = 'reconcile-cluster' | 'provision-machine' | 'rolling-upgrade' | 'remediate' | 'delete-cluster' | 'fleet-upgrade';

/**
 * Starts executions of the state machines: Step Functions on AWS, the local ASL engine on one machine.
 * Executions are named deterministically by the caller, so that a repeated start is a no-op.
 */
export interface Workflows {
  /**
   * `started: false` when Step Functions refuses the name (ExecutionAlreadyExists: it was used by a closed
   * execution, or by a running one with another input). The same name and input as a running execution is
   * accepted, as Step Functions Standard does, and starts nothing new.
   */
  start(workflow: WorkflowName, executionName: string, input: Record<string, unknown>): Promise<{ started: boolean }>;
}

/**
 * Reconciles a cluster again after a while when nothing else would: what a reconcile's `requeueAfterSeconds` asks
 * for (core/trigger/requeue.ts). Timers on the embedded host; EventBridge Scheduler one-time schedules on AWS,
 * where a requeue due before the next sweep is left to the sweep.
 */
export interface ReconcileRequeues {
  /**
   * Asks for a reconcile of the cluster `afterSeconds` from now. When one is already due earlier, that one stands:
   * the earliest wins, whatever order two reconciles ask in.
   */
  requeue(namespace: string, clusterName: string, afterSeconds: number): Promise<void>;
}

/**
 * Turns "wait N seconds" into the timestamp a Wait state (TimestampPath) sleeps until. The embedded host
 * divides by its --time-scale; on AWS it is now + N.
 */
export interface Timer {
  wakeAt(seconds: number): string;
}

/** Evicts the pods of a node before its machine goes (eviction API, PodDisruptionBudgets respected). */
export interface NodeDrainer {
  /**
   * One pass: cordons the node and asks to evict what is left on it. `drained` once nothing evictable is left;
   * the caller decides when the node drain timeout has passed.
   */
  drain(namespace: string, clusterName: string, nodeName: string): Promise<{ drained: boolean; message: string }>;
  /**
   * Deletes the Node object of a machine whose instance is gone (Cluster API's machine controller does it after the
   * infrastructure). `deleted` once the delete is accepted or the Node is gone already; like drain, an API that
   * refuses or cannot be reached is an answer (`deleted: false` and why), never a throw: the planner asks again
   * until its node deletion timeout.
   */
  deleteNode(namespace: string, clusterName: string, nodeName: string): Promise<{ deleted: boolean; message: string }>;
}

/**
 * Writes the labels clusterless syncs from Machines onto their Nodes (core/machine/node-labels.ts decides the patch).
 * Throws NodeReaderUnavailableError when the workload API cannot be reached; a Node that is gone is no error.
 */
export interface NodeLabeler {
  /** Applies the patch to the Node's labels and annotations (a JSON merge patch: null removes). */
  patchLabels(namespace: string, clusterName: string, nodeName: string, patch: NodeLabelPatch): Promise<void>;
}

/** Nodes whose labels are not read (the simulator's) are never patched: nothing to write. */
export const noNodeLabels: NodeLabeler = { patchLabels: async () => {} };

/** A drainer for nodes that run no workloads (the simulator): every node is drained at once. */
export const noWorkloadsDrainer: NodeDrainer = {
  drain: async () => ({ drained: true, message: 'no workloads to evict' }),
  // Such nodes are derived from the instances: a terminated instance's node is gone with it.
  deleteNode: async () => ({ deleted: true, message: 'no Node object to delete' }),
};

// ---------------------------------------------------------------------------------------------------------
// Bootstrap: what turns an EC2 machine into a node. Optional in WorkflowDeps: the simulator needs none.

/**
 * Where secrets live (Secrets Manager under the control plane's KMS key on AWS): clusters' CAs and machines'
 * bootstrap data. Nothing stored here may ever reach the Store, logs, status or user data.
 */
export interface SecretStore {
  /** Creates the secret; false (and nothing written) when one of that name exists already. */
  create(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<boolean>;
  /** Creates the secret, or replaces the value of the one of that name. */
  put(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<void>;
  get(name: string): Promise<Uint8Array | undefined>;
  /** Deletes at once, without a recovery window; no error when it is gone. */
  delete(name: string): Promise<void>;
  /** Adds (or overwrites) tags of the secret; no error when it is gone (its node may have fetched and deleted it). */
  tag(name: string, tags: Record<string, string>): Promise<void>;
}

/** What a machine's bootstrap needs to know; plain data. */
export interface BootstrapRequest {
  namespace: string;
  clusterName: string;
  clusterUid?: string;
  machineName: string;
  machineUid: string;
  role: MachineRole;
  version: string;
  /** kubeadm init (the machine that initialises the control plane) rather than kubeadm join. */
  init: boolean;
  clusterSpec: ClusterSpec;
  /** Taints the Node registers with (Machine spec.taints, then its class's): kubeadm's nodeRegistration.taints. */
  taints?: NodeTaint[];
  /** Labels the Node registers with (its MachineClass's): the kubelet's node-labels. */
  nodeLabels?: Record<string, string>;
}

/**
 * The kubeadm bootstrap: the cluster's certificates, each machine's bootstrap secret and its user data, join
 * tokens kept alive while machines join, and the admin kubeconfig. Every method is idempotent.
 */
export interface MachineBootstrapper {
  /** Makes sure the cluster's certificates and the machine's bootstrap secret exist; the user data holds no secret. */
  prepare(request: BootstrapRequest): Promise<{ userData: string }>;
  /**
   * Binds the machine's bootstrap secret to its instance (tags it with the instance's ARN), so that only that
   * instance's role may read and delete it: the node-role policy requires the tag, so an unbound secret is readable
   * by no node (infra/constructs/bootstrap-secrets.ts). Idempotent; nothing to do when the secret is gone already,
   * or when the host cannot tell instance ARNs (then the secret stays unbound).
   */
  bindToInstance(target: { namespace: string; clusterName: string; machineUid: string }, instanceId: string): Promise<void>;
  /** Deletes what is left of a machine's bootstrap (its secret, its join tokens): its node joined, or it is gone. */
  release(target: { namespace: string; clusterName: string; machineUid: string; clusterSpec?: ClusterSpec }): Promise<void>;
  /**
   * Renews the join tokens (and uploaded control-plane certificates) of the machines still joining. Returns when
   * to look again while some still join. Never throws for an unreachable workload API (it is retried then).
   */
  renew(
    namespace: string,
    clusterName: string,
    clusterSpec: ClusterSpec,
    joining: readonly { machineUid: string; role: MachineRole }[],
  ): Promise<{ requeueAfterSeconds?: number }>;
  /** Deletes the cluster's own secrets (its certificates), the last step of its teardown. */
  releaseCluster(namespace: string, clusterName: string): Promise<void>;
  /**
   * An admin kubeconfig signed by the cluster CA, valid `validitySeconds` (an hour by default); undefined when the
   * cluster has no certificates or no endpoint.
   */
  adminKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec, validitySeconds?: number): Promise<string | undefined>;
}

/** What a cluster's own control-plane load balancer is made from (Cluster.spec.provider.aws). */
export interface ManagedLoadBalancerSpec {
  namespace: string;
  clusterName: string;
  scheme: 'internet-facing' | 'internal';
  /** The cluster's subnets, one per zone: the load balancer's nodes go there. */
  subnetIds: string[];
  /** The listener's and the targets' port (the API server's). */
  port: number;
}

/** The load balancer clusterless makes for a cluster that names no target group, as it is now. */
export interface ManagedLoadBalancerFact {
  name: string;
  dnsName?: string;
  /** The listener's port, when it is not the API server's 6443. */
  port?: number;
  state: 'provisioning' | 'active' | 'active_impaired' | 'failed';
}

/**
 * The control-plane load balancers clusterless makes (ELBv2 network load balancers), one per cluster, found by a
 * name derived from the cluster and tagged with it. Every method is idempotent.
 */
export interface ManagedLoadBalancers {
  /** The cluster's load balancer; undefined when there is none. */
  describe(namespace: string, clusterName: string): Promise<ManagedLoadBalancerFact | undefined>;
  /** The target group of the cluster's load balancer; undefined when either is not there. */
  targetGroupArn(namespace: string, clusterName: string): Promise<string | undefined>;
  /**
   * Whether the cluster's own target group (tagged by this installation) still exists. Asked after `describe`
   * found no load balancer, it tells a teardown that stopped halfway (a target group left behind) from one that is done.
   */
  hasLeftovers(namespace: string, clusterName: string): Promise<boolean>;
  /** Makes what is missing: the load balancer, its target group, the listener that forwards to it. */
  ensure(spec: ManagedLoadBalancerSpec): Promise<void>;
  /** Deletes the load balancer, then its target group; no error for what is already gone. */
  delete(namespace: string, clusterName: string): Promise<void>;
  /**
   * A target group the cluster names itself (not one made here): resolves once it carries this installation's tag
   * and the cluster's (`{namespace}/{cluster}`), and throws InvalidSpecError naming the group and the tags it lacks
   * otherwise, so that no cluster registers its instances into another cluster's target group. Positive answers
   * may be kept.
   */
  checkTargetGroup(targetGroupArn: string, namespace: string, clusterName: string): Promise<void>;
}

/**
 * Registrations in a cluster's control-plane target group (ELBv2), whether clusterless made the group
 * (ManagedLoadBalancers) or the cluster names it: control-plane instances are its targets.
 */
export interface TargetGroupRegistrations {
  /** Idempotent. */
  register(targetGroupArn: string, target: TargetGroupTarget): Promise<void>;
  /** No error when the target (or the instance) is gone. */
  deregister(targetGroupArn: string, target: TargetGroupTarget): Promise<void>;
}

/**
 * A control-plane instance as a target, with the cluster it serves: the target group is found by its ARN, the
 * cluster says whose provider holds it (workflows/providers.ts), as a MachineProvider's delete names its cluster.
 */
export interface TargetGroupTarget {
  namespace: string;
  clusterName: string;
  instanceId: string;
  port: number;
}

// ---------------------------------------------------------------------------------------------------------
// kubeadm's own objects in a workload cluster

/** Whose kubeadm objects: the cluster and its spec (its CA and endpoint give the admin credentials). */
export interface WorkloadTarget {
  namespace: string;
  clusterName: string;
  clusterSpec: ClusterSpec;
}

/**
 * What one call changed, for notes: each object it looked at (kube-system/{name}, its kind) and what became of it.
 * `updated` objects were written; `unchanged` already were at the version; `absent` objects the cluster does not have
 * (a cluster without kube-proxy); `skipped` ones were left alone on purpose, with why (a Corefile that cannot be
 * migrated leaves CoreDNS's image and Corefile as they are).
 */
export interface KubeadmObjectsChange {
  version: string;
  objects: { kind: 'ConfigMap' | 'DaemonSet' | 'Deployment'; name: string; result: 'updated' | 'unchanged' | 'absent' | 'skipped'; detail?: string }[];
}

/** kubeadm's own objects in a workload cluster, brought to a version as `kubeadm upgrade` does. */
export interface KubeadmObjects {
  /** ClusterConfiguration (kubeadm-config) and kubelet-config at the version: before the first machine of it joins. */
  updateClusterConfiguration(target: WorkloadTarget, version: string): Promise<KubeadmObjectsChange>;
  /** kube-proxy's image and CoreDNS (image, Corefile) for the version: once the control plane runs it. */
  updateAddons(target: WorkloadTarget, version: string): Promise<KubeadmObjectsChange>;
}

/** The workload API could not be reached or answered with a server error: try again later. */
export class KubeadmObjectsUnavailableError extends Error {
  override name = 'KubeadmObjectsUnavailableError';
}

// ---------------------------------------------------------------------------------------------------------
// Addons (ClusterResourceSets)

/**
 * Where addon manifests are kept, by content: a DynamoDB item holds at most 400 KB and a CNI's manifests are often
 * more, so the store keeps `{digest, size}` and this the bytes. Content-addressed: `digest` is `sha256:<64 hex>` of
 * the bytes, so a put is idempotent and two sets with the same manifests share one payload.
 */
export interface PayloadStore {
  /** Stores the bytes under their digest; refuses (PayloadDigestError) bytes whose digest is not `digest`. */
  put(digest: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, checked against the digest (PayloadDigestError if they do not match); undefined when absent. */
  get(digest: string): Promise<Uint8Array | undefined>;
  /** Removes the payload; removing what is absent is no error. */
  delete(digest: string): Promise<void>;
}

/** Bytes that do not hash to the digest they are stored or read under, or a digest that is not `sha256:<hex>`. */
export class PayloadDigestError extends Error {
  override name = 'PayloadDigestError';
}

/**
 * Applies addon manifests to a workload cluster, document by document in order, by server-side apply (field
 * manager `clusterless`, force), as `kubectl apply --server-side --force-conflicts` does.
 */
export interface AddonApplier {
  /** Throws AddonApplierUnavailableError when the cluster's API cannot be reached, any other error when a document is refused. */
  apply(namespace: string, clusterName: string, manifests: string): Promise<void>;
}

export class AddonApplierUnavailableError extends Error {
  override name = 'AddonApplierUnavailableError';
}

// ---------------------------------------------------------------------------------------------------------
// Watch

/** What happened to an object, in a watch's words (kube's watch.EventType, without BOOKMARK and ERROR). */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One successful write. `object` is the object as written (for DELETED, as it was when removed); its
 * `metadata.resourceVersion` is the change's version, and versions are decimal counters, so changes order by
 * `Number(resourceVersion)`. `previous` is the object before the write, when the feed knows it: a watch with a
 * selector needs it to tell an object leaving the selection (a DELETED for that watch).
 */
export interface Change {
  type: ChangeType;
  object: ApiObject;
  previous?: ApiObject;
}

/**
 * The recent changes of the store, for watches (`?watch=true`). A feed keeps a window of recent changes; a
 * version older than the window is `expired` (kube-apiserver: 410 Gone, "too old resource version").
 */
export interface ChangeFeed {
  /** A version every later change is newer than, and no earlier change is missing after: what a list is "at". */
  currentVersion(): Promise<string>;
  /** The changes of one kind (in one namespace, or in all) newer than `after`, oldest first; `expired` when the window no longer reaches back to it. */
  changesSince(kind: KindName, namespace: string | undefined, after: string): Promise<Change[] | 'expired'>;
  /** Resolves once a change newer than `after` may be there, or when `signal` aborts (never rejects). */
  waitForChange(after: string, signal: AbortSignal): Promise<void>;
  /**
   * How far behind the newest version (in version units) a change may still be logged, for a feed filled from a
   * stream that delivers late (the AWS watch log): watches read that far back behind their cursor, sending each
   * object's changes once and never an older one after a newer. Absent: changes are never late (the embedded feed).
   */
  readonly lateArrivalWindow?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Events (events.k8s.io)

/**
 * Records Kubernetes Events of what the workflows did (functions/api/event.ts builds them). Never fails its caller:
 * an event that cannot be written is logged and dropped, since what happened happened whether or not it is told.
 */
export interface EventRecorder {
  record(event: EventInput): Promise<void>;
}

/** The host records no events. */
export const noEvents: EventRecorder = { record: async () => {} };
