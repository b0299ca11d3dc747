/**
 * A simulated cloud in process: instances that boot, nodes that register and become Ready, failures, and
 * out-of-band kills, all driven by an injected Clock. States are computed from recorded times (launch, running,
 * node ready, terminated) rather than advanced by timers, so a fake clock, a time-scaled clock or a restart
 * from a snapshot all see the same world, and there is nothing to stop.
 *
 * Semantics follow EC2 where the workflows depend on them:
 * - a launch is pending for bootSeconds, then running; its node registers NotReady when the instance runs and
 *   becomes Ready nodeReadySeconds later;
 * - a ClientToken seen before returns the same instance (whatever its state), as RunInstances does; the
 *   machine-uid adoption (a live instance of the same uid is returned) is checked first, as the ec2 adapter does;
 * - instances carry the installation that launched them, like the ec2 adapter's tag: a provider of one
 *   installation neither sees, adopts nor terminates another's, and terminates an instance named by id only
 *   when it is the machine's own (its uid, cluster and installation);
 * - `failureRate` makes a launch succeed and the instance then terminate while booting (StateReason
 *   Server.InternalError), which is what a real failed boot looks like: the workflow has to notice a dead
 *   instance, not just retry a call. Capacity errors are a separate fault (failCapacity);
 * - a terminated instance stays visible (state terminated) for terminatedRetentionSeconds, then vanishes;
 *   its node's conditions go Unknown at once (the kubelet stopped posting) and the node is deleted
 *   nodeDeletionSeconds later, as the cloud node lifecycle controller does.
 *
 * - spot interruptions: `interrupt` sends the "EC2 Spot Instance Interruption Warning" now and terminates the
 *   instance 120 seconds later (StateReason Server.SpotInstanceTermination), `recommendRebalance` sends the
 *   "EC2 Instance Rebalance Recommendation" only; a class's `interruptionsPerHour` draws, at launch, when the
 *   instance will be interrupted (exponentially distributed, seeded), and `deliverDueNotices` (the host's timer)
 *   sends the warnings whose time has come. The termination follows from the recorded time, as every state does.
 *
 * Load balancers and target groups (SimManagedLoadBalancers, SimTargetGroupRegistrations) are kept here too, as
 * ELBv2 keeps them: found by name or ARN, tagged, a target group deleted apart from its load balancer (so a
 * teardown can stop between the two), and targets that leave a group once their instance is gone.
 */
import type { MachineRole, LaunchAttempt, LaunchSpec, Clock } from '../../ports.js';
import { InvalidSpecError, ThrottledError } from '../../ports.js';
import type { InstanceFact, InstanceState, NodeCondition, NodeFact } from '../../core/observed.js';
import { seededHex, seededUnit } from '../../seeded-random.js';

/** The zone of machines of a cluster that declares no failure domains. */
export const DEFAULT_SIM_ZONE = 'sim-zone';
/** The instance type of machines whose class names none (sim classes do not). */
export const DEFAULT_SIM_INSTANCE_TYPE = 'sim.standard';
// The MachineClass schema's defaults, for classes without a sim section (an aws class run in the simulator).
const DEFAULT_BOOT_SECONDS = 5;
const DEFAULT_NODE_READY_SECONDS = 2;

/** Why an instance stopped, with EC2's StateReason codes. */
export type SimStateReason = 'Server.InternalError' | 'Client.UserInitiatedShutdown' | 'Sim.Killed' | 'Server.SpotInstanceTermination';

/** How long EC2 waits between the interruption warning and reclaiming a spot instance. */
export const SIM_INTERRUPTION_NOTICE_SECONDS = 120;

/** One instance as the simulator keeps it (and persists it). Times are ISO 8601. */
export interface SimInstanceRecord {
  instanceId: string;
  /** The installation that launched it (the ec2 adapter's installation tag); absent for the default one. */
  installationId?: string;
  machineUid: string;
  machineName: string;
  namespace: string;
  clusterName: string;
  role: MachineRole;
  version: string;
  zone: string;
  instanceType: string;
  clientToken: string;
  privateIp: string;
  launchTime: string;
  runningAt: string;
  nodeReadyAt: string;
  /** When the instance terminates: in the past once killed or deleted, in the future for a doomed boot. */
  terminatedAt?: string;
  stateReason?: SimStateReason;
  /** Node conditions set by setNodeCondition; they replace the simulated ones while the node lives. */
  nodeConditions?: NodeCondition[];
  /** When a random interruption (the class's interruptionsPerHour) sends its warning; cleared once sent. */
  interruptAt?: string;
  /** When the interruption warning was sent; terminatedAt is 120 s later. */
  interruptionNoticeAt?: string;
}

/** A simulated load balancer (ELBv2's network load balancer) with its listener. */
export interface SimLoadBalancerRecord {
  name: string;
  dnsName: string;
  tags: Record<string, string>;
  createdAt: string;
  /** The listener: the port it listens on and the target group it forwards to. */
  listener?: { port: number; targetGroupArn: string };
}

/** A simulated target group and its registered targets. */
export interface SimTargetGroupRecord {
  arn: string;
  name: string;
  port: number;
  tags: Record<string, string>;
  targets: { instanceId: string; port: number }[];
}

/** What toJSON writes and fromJSON reads. */
export interface SimSnapshot {
  version: 1;
  seed: number;
  instances: SimInstanceRecord[];
  /** Absent in files written before the simulator had load balancers. */
  loadBalancers?: SimLoadBalancerRecord[];
  targetGroups?: SimTargetGroupRecord[];
}

/** Where a SimCloud keeps its state across restarts (see JsonFileSimPersistence). */
export interface SimPersistence {
  load(): SimSnapshot | undefined;
  save(snapshot: SimSnapshot): void;
}

export interface SimCloudOptions {
  clock: Clock;
  /**
   * Seed of every random draw (launch failures, instance ids, addresses). Draws are keyed by machine uid and
   * ClientToken, so the same seed gives the same outcomes whatever the order of launches.
   * @default - the snapshot's seed, else 1
   */
  seed?: number;
  /** @default 3600 - EC2 shows terminated instances for about an hour */
  terminatedRetentionSeconds?: number;
  /** How long the node of a terminated instance stays (conditions Unknown) before it is deleted. @default 40 */
  nodeDeletionSeconds?: number;
  /** @default DEFAULT_SIM_INSTANCE_TYPE */
  instanceType?: string;
  /** Loaded at construction, saved after every change. @default - state in memory only */
  persistence?: SimPersistence;
  /** Initial state (fromJSON); wins over what persistence loads. */
  snapshot?: SimSnapshot;
  /**
   * Told when instances terminate by kill or terminate, after the change is recorded: the local stand-in for
   * EC2's state-change events on EventBridge (a host reconciles the instance's cluster). Changes that only
   * follow from time passing (a boot that ends in running, or fails) are not told. Must not throw.
   */
  onInstanceStateChange?: (change: InstanceStateChange) => void;
  /**
   * Told of each spot notice, as EventBridge tells the instance-events function on AWS (the host records it on the
   * machine). Must not throw.
   */
  onInterruptionNotice?: (notice: SimInterruptionNotice) => void;
}

/** A spot notice with the tags EC2's event lacks filled in. */
export interface SimInterruptionNotice {
  instanceId: string;
  machineUid: string;
  machineName: string;
  namespace: string;
  clusterName: string;
  kind: 'SpotInterruptionWarning' | 'RebalanceRecommendation';
  /** When it was sent (ISO 8601). */
  at: string;
}

/** An instance's state change, with the tags EC2's event lacks (the cluster, the machine) filled in. */
export interface InstanceStateChange {
  instanceId: string;
  machineUid: string;
  machineName: string;
  namespace: string;
  clusterName: string;
  state: InstanceState;
  reason: SimStateReason;
}

/** An instance with its state now, for listings (`clusterless get` of the simulator, tests). */
export interface SimInstanceView extends SimInstanceRecord {
  state: InstanceState;
}

export interface CapacityFault {
  zone?: string;
  instanceType?: string;
  /** How many launch attempts it refuses before it lifts itself. @default - until removed */
  launches?: number;
}

/** Which instances a provider may act on: its installation's, of one cluster. */
export interface SimScope {
  namespace: string;
  clusterName: string;
  /** @default - the default installation (records without one) */
  installationId?: string;
}

export interface NodeConditionInput {
  type: string;
  status: NodeCondition['status'];
  reason?: string;
  message?: string;
}

const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => new Date(t).toISOString();

export class SimCloud {
  private readonly clock: Clock;
  readonly seed: number;
  private readonly retentionMs: number;
  private readonly nodeDeletionMs: number;
  /** The instance type of machines whose class names none. */
  readonly defaultInstanceType: string;
  private readonly persistence: SimPersistence | undefined;
  private readonly onInstanceStateChange: SimCloudOptions['onInstanceStateChange'];
  private readonly onInterruptionNotice: SimCloudOptions['onInterruptionNotice'];
  /** Records with a random interruption still to send. */
  private readonly interrupting = new Set<SimInstanceRecord>();
  private readonly records = new Map<string, SimInstanceRecord>();
  private readonly byCluster = new Map<string, Set<SimInstanceRecord>>();
  private readonly byUid = new Map<string, Set<SimInstanceRecord>>();
  private readonly byToken = new Map<string, SimInstanceRecord>();
  private readonly ending = new Set<SimInstanceRecord>();
  private index(r: SimInstanceRecord): void {
    this.records.set(r.instanceId, r);
    const k = `${r.namespace}/${r.clusterName}`;
    (this.byCluster.get(k) ?? this.byCluster.set(k, new Set()).get(k)!).add(r);
    (this.byUid.get(r.machineUid) ?? this.byUid.set(r.machineUid, new Set()).get(r.machineUid)!).add(r);
    this.byToken.set(r.clientToken, r);
    if (r.terminatedAt !== undefined) this.ending.add(r);
    if (r.interruptAt !== undefined) this.interrupting.add(r);
  }
  private unindex(r: SimInstanceRecord): void {
    this.records.delete(r.instanceId);
    this.byCluster.get(`${r.namespace}/${r.clusterName}`)?.delete(r);
    this.byUid.get(r.machineUid)?.delete(r);
    if (this.byToken.get(r.clientToken) === r) this.byToken.delete(r.clientToken);
    this.ending.delete(r);
    this.interrupting.delete(r);
  }
  private readonly loadBalancers = new Map<string, SimLoadBalancerRecord>();
  private readonly targetGroups = new Map<string, SimTargetGroupRecord>();
  private throttledCalls = 0;
  private failedNodeReads = 0;
  private failedTargetGroupDeletes = 0;
  private capacityFaults: CapacityFault[] = [];

  constructor(options: SimCloudOptions) {
    this.clock = options.clock;
    this.persistence = options.persistence;
    this.onInstanceStateChange = options.onInstanceStateChange;
    this.onInterruptionNotice = options.onInterruptionNotice;
    const snapshot = options.snapshot ?? options.persistence?.load();
    if (snapshot && snapshot.version !== 1) throw new Error(`unsupported simulator snapshot version ${String(snapshot.version)}`);
    this.seed = options.seed ?? snapshot?.seed ?? 1;
    this.retentionMs = (options.terminatedRetentionSeconds ?? 3600) * 1000;
    this.nodeDeletionMs = (options.nodeDeletionSeconds ?? 40) * 1000;
    this.defaultInstanceType = options.instanceType ?? DEFAULT_SIM_INSTANCE_TYPE;
    for (const r of snapshot?.instances ?? []) this.index(structuredClone(r));
    for (const lb of snapshot?.loadBalancers ?? []) this.loadBalancers.set(lb.name, structuredClone(lb));
    for (const tg of snapshot?.targetGroups ?? []) this.targetGroups.set(tg.arn, structuredClone(tg));
  }

  static fromJSON(snapshot: SimSnapshot, options: Omit<SimCloudOptions, 'snapshot'>): SimCloud {
    return new SimCloud({ ...options, snapshot });
  }

  toJSON(): SimSnapshot {
    return {
      version: 1,
      seed: this.seed,
      instances: [...this.records.values()].map((r) => structuredClone(r)),
      ...(this.loadBalancers.size ? { loadBalancers: [...this.loadBalancers.values()].map((lb) => structuredClone(lb)) } : {}),
      ...(this.targetGroups.size ? { targetGroups: [...this.targetGroups.values()].map((tg) => structuredClone(tg)) } : {}),
    };
  }

  // --- the cloud's API (used by SimMachineProvider and SimNodeReader) --------------------------------------

  /** The live instance of the machine uid in the installation, or the one its ClientToken made; else undefined. */
  adopt(spec: LaunchSpec, installationId?: string): InstanceFact | undefined {
    const now = this.now();
    const live = this.liveRecordsOf(spec.machineUid, now).filter((r) => r.installationId === installationId);
    if (live[0]) return this.fact(live[0], now);
    const byToken = this.byToken.get(spec.clientToken);
    if (!byToken) return undefined;
    if (byToken.machineUid !== spec.machineUid)
      throw new InvalidSpecError(`ClientToken ${spec.clientToken} was used for another machine (IdempotentParameterMismatch)`);
    return this.fact(byToken, now);
  }

  /** One attempt: the new instance, or undefined when a capacity fault refuses it. */
  tryLaunch(spec: LaunchSpec, attempt: LaunchAttempt, installationId?: string): InstanceFact | undefined {
    const now = this.now();
    if (this.takeCapacityFault(attempt.availabilityZone, attempt.instanceType)) return undefined;
    const record = this.newRecord(spec, attempt.availabilityZone, attempt.instanceType, now);
    if (installationId !== undefined) record.installationId = installationId;
    this.index(record);
    this.save();
    return this.fact(record, now);
  }

  /**
   * Terminates the live instances of a machine uid, and the given instance id if it is the machine's own. With a
   * scope, only instances of that cluster and installation count as the machine's. A given id that exists and is
   * not the machine's is left alone and returned in `refused`; nothing happens for what is gone.
   */
  terminate(machineUid: string, instanceId?: string, scope?: SimScope): { refused: string[] } {
    const now = this.now();
    const mine = (r: SimInstanceRecord) =>
      r.machineUid === machineUid &&
      (scope === undefined || (r.namespace === scope.namespace && r.clusterName === scope.clusterName && r.installationId === scope.installationId));
    const targets = this.liveRecordsOf(machineUid, now).filter(mine);
    const byId = instanceId !== undefined ? this.records.get(instanceId) : undefined;
    const refused = byId && !mine(byId) ? [byId.instanceId] : [];
    if (byId && mine(byId) && !targets.includes(byId) && this.isLive(byId, now)) targets.push(byId);
    this.stop(targets, 'Client.UserInitiatedShutdown', now);
    return { refused };
  }

  /** Every instance of the cluster in the installation (terminated ones too, while they are retained), oldest first. */
  describe(namespace: string, clusterName: string, installationId?: string): InstanceFact[] {
    const now = this.now();
    return this.sorted(this.byCluster.get(`${namespace}/${clusterName}`) ?? [])
      .filter((r) => r.installationId === installationId)
      .map((r) => this.fact(r, now));
  }

  /** The nodes of the cluster's instances, sorted by name as a kube-apiserver lists them. */
  nodes(namespace: string, clusterName: string): NodeFact[] {
    const now = this.now();
    return this.sorted(this.byCluster.get(`${namespace}/${clusterName}`) ?? [])
      .flatMap((r) => {
        const node = this.node(r, now);
        return node ? [node] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  // --- out-of-band events (the CLI's `sim kill`, health-check tests, chaos) ---------------------------------

  /**
   * Terminates out of band the live instance(s) of a machine, named by machine name, instance id or
   * providerID; `namespace` narrows a machine name. Returns what was killed (nothing when no live match).
   */
  kill(target: string, namespace?: string): InstanceFact[] {
    const now = this.now();
    const targets = this.resolve(target, namespace, now);
    this.stop(targets, 'Sim.Killed', now);
    return targets.map((r) => this.fact(r, now));
  }

  /**
   * Sends the spot interruption warning for the live instance(s) of a machine (named as for kill) and has each
   * terminate SIM_INTERRUPTION_NOTICE_SECONDS later; an instance already warned keeps its first warning.
   * Returns the instances warned now.
   */
  interrupt(target: string, namespace?: string): InstanceFact[] {
    const now = this.now();
    const warned = this.resolve(target, namespace, now).filter((r) => r.interruptionNoticeAt === undefined);
    this.warn(warned, now);
    return warned.map((r) => this.fact(r, now));
  }

  /** Sends the rebalance recommendation for the live instance(s) of a machine; nothing else changes. */
  recommendRebalance(target: string, namespace?: string): InstanceFact[] {
    const now = this.now();
    const targets = this.resolve(target, namespace, now);
    for (const r of targets) this.notify(r, 'RebalanceRecommendation', now);
    return targets.map((r) => this.fact(r, now));
  }

  /** Sends the random interruptions whose time has come (a host calls it on a timer); returns how many. */
  deliverDueNotices(): number {
    const now = this.now();
    const due = [...this.interrupting].filter((r) => ms(r.interruptAt!) <= now);
    for (const r of due) {
      this.interrupting.delete(r);
      delete r.interruptAt;
    }
    // Sent when delivered: the two minutes count from then, as from the time EC2's event carries.
    const live = due.filter((r) => this.isLive(r, now) && r.interruptionNoticeAt === undefined);
    for (const r of live) this.warnAt(r, now);
    if (due.length) this.save();
    for (const r of live) this.notify(r, 'SpotInterruptionWarning', ms(r.interruptionNoticeAt!));
    return live.length;
  }

  /** When the next random interruption is due (epoch ms), for a host's timer; undefined when none is. */
  nextNoticeAt(): number | undefined {
    let next: number | undefined;
    for (const r of this.interrupting) next = next === undefined ? ms(r.interruptAt!) : Math.min(next, ms(r.interruptAt!));
    return next;
  }

  /**
   * Sets a condition of a live machine's node (e.g. Ready False or Unknown), replacing the simulated one
   * until cleared. The transition time moves only when the status changes, as a kubelet reports it.
   */
  setNodeCondition(target: string, condition: NodeConditionInput, namespace?: string): NodeFact[] {
    const now = this.now();
    const targets = this.resolve(target, namespace, now);
    for (const r of targets) {
      const current = this.node(r, now)?.conditions.find((c) => c.type === condition.type);
      const next: NodeCondition = {
        type: condition.type,
        status: condition.status,
        lastTransitionTime: current && current.status === condition.status ? current.lastTransitionTime : iso(now),
        ...(condition.reason !== undefined ? { reason: condition.reason } : {}),
        ...(condition.message !== undefined ? { message: condition.message } : {}),
      };
      r.nodeConditions = [...(r.nodeConditions ?? []).filter((c) => c.type !== condition.type), next];
    }
    if (targets.length) this.save();
    return targets.flatMap((r) => this.node(r, now) ?? []);
  }

  /** Removes overrides (one type, or all) so that the node reports its simulated conditions again. */
  clearNodeCondition(target: string, type?: string, namespace?: string): void {
    const targets = this.resolve(target, namespace, this.now());
    for (const r of targets) {
      r.nodeConditions = type === undefined ? undefined : r.nodeConditions?.filter((c) => c.type !== type);
      if (r.nodeConditions?.length === 0) delete r.nodeConditions;
    }
    if (targets.length) this.save();
  }

  /** Every retained instance of every cluster, with its state now. */
  instances(): SimInstanceView[] {
    const now = this.now();
    return this.sorted().map((r) => ({ ...structuredClone(r), state: stateOf(r, now) }));
  }

  // --- load balancers and target groups (used by SimManagedLoadBalancers and SimTargetGroupRegistrations) ----

  /** The load balancer of that name; undefined when there is none. */
  loadBalancer(name: string): SimLoadBalancerRecord | undefined {
    const lb = this.loadBalancers.get(name);
    return lb && structuredClone(lb);
  }

  /** Makes the load balancer, or returns the one of that name (ELBv2's CreateLoadBalancer is idempotent by name). */
  createLoadBalancer(name: string, dnsName: string, tags: Record<string, string>): SimLoadBalancerRecord {
    if (!this.loadBalancers.has(name)) {
      this.loadBalancers.set(name, { name, dnsName, tags: { ...tags }, createdAt: iso(this.clock.now().getTime()) });
      this.save();
    }
    return this.loadBalancer(name)!;
  }

  /** Sets the load balancer's listener (one per load balancer here: the API server's port). */
  setListener(name: string, listener: { port: number; targetGroupArn: string }): void {
    const lb = this.loadBalancers.get(name);
    if (!lb) throw new InvalidSpecError(`load balancer ${name} does not exist (LoadBalancerNotFound)`);
    lb.listener = { ...listener };
    this.save();
  }

  /** Deletes the load balancer and its listener; nothing happens when it is gone. */
  deleteLoadBalancer(name: string): void {
    if (this.loadBalancers.delete(name)) this.save();
  }

  /** The target group of that name; undefined when there is none. */
  targetGroupNamed(name: string): SimTargetGroupRecord | undefined {
    const tg = [...this.targetGroups.values()].find((t) => t.name === name);
    return tg && structuredClone(tg);
  }

  /** The target group of that ARN; undefined when there is none. */
  targetGroup(arn: string): SimTargetGroupRecord | undefined {
    const tg = this.targetGroups.get(arn);
    return tg && structuredClone(tg);
  }

  /** Makes a target group, or returns the one of that name; its ARN is drawn from the seed and the name. */
  createTargetGroup(name: string, port: number, tags: Record<string, string>): SimTargetGroupRecord {
    const existing = this.targetGroupNamed(name);
    if (existing) return existing;
    const arn = `arn:sim:elasticloadbalancing:sim-local:000000000000:targetgroup/${name}/${seededHex(this.seed, `tg/${name}`, 16)}`;
    this.targetGroups.set(arn, { arn, name, port, tags: { ...tags }, targets: [] });
    this.save();
    return this.targetGroup(arn)!;
  }

  /**
   * Deletes the target group; nothing happens when it is gone. A group a listener still forwards to is in use
   * (ELBv2's ResourceInUse), and a pending failTargetGroupDeletes fault refuses it too: both throw ThrottledError.
   */
  deleteTargetGroup(arn: string): void {
    if (!this.targetGroups.has(arn)) return;
    if ([...this.loadBalancers.values()].some((lb) => lb.listener?.targetGroupArn === arn))
      throw new ThrottledError(`target group ${arn} is in use by a listener (ResourceInUse)`);
    if (this.failedTargetGroupDeletes > 0) {
      this.failedTargetGroupDeletes--;
      throw new ThrottledError(`simulated failure to delete target group ${arn} (ResourceInUse)`);
    }
    this.targetGroups.delete(arn);
    this.save();
  }

  /** Registers a target (idempotent); InvalidSpecError when the group does not exist (TargetGroupNotFound). */
  registerTarget(arn: string, target: { instanceId: string; port: number }): void {
    const tg = this.existingTargetGroup(arn);
    if (tg.targets.some((t) => t.instanceId === target.instanceId && t.port === target.port)) return;
    tg.targets.push({ instanceId: target.instanceId, port: target.port });
    this.save();
  }

  /** Deregisters a target; no error when it is not registered. InvalidSpecError when the group does not exist. */
  deregisterTarget(arn: string, target: { instanceId: string; port: number }): void {
    const tg = this.existingTargetGroup(arn);
    const kept = tg.targets.filter((t) => !(t.instanceId === target.instanceId && t.port === target.port));
    if (kept.length === tg.targets.length) return;
    tg.targets = kept;
    this.save();
  }

  /**
   * The group's targets whose instances still run (pending or running), by instance id: a terminated instance
   * (or one this cloud does not know) leaves its target groups, as ELBv2 drains and drops it.
   */
  targetsOf(arn: string): { instanceId: string; port: number }[] {
    const now = this.now();
    return (this.targetGroups.get(arn)?.targets ?? [])
      .filter((t) => {
        const r = this.records.get(t.instanceId);
        return r !== undefined && this.isLive(r, now);
      })
      .map((t) => ({ ...t }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  // --- faults for tests and chaos -----------------------------------------------------------------------

  /**
   * The next `calls` deletes of a target group fail (ThrottledError, as ELBv2's ResourceInUse is retried): a
   * teardown that deletes the load balancer and then stops, leaving its target group behind.
   */
  failTargetGroupDeletes(calls: number): void {
    this.failedTargetGroupDeletes += calls;
  }

  /** The next `calls` provider calls (create, describe, delete) fail with ThrottledError. */
  throttleNext(calls: number): void {
    this.throttledCalls += calls;
  }

  /** The next `calls` node reads fail with NodeReaderUnavailableError (the workload API is unreachable). */
  failNodeReads(calls: number): void {
    this.failedNodeReads += calls;
  }

  /** Launches in a zone and/or of an instance type get no capacity; returns a function that lifts the fault. */
  failCapacity(fault: CapacityFault): () => void {
    const f = { ...fault };
    this.capacityFaults.push(f);
    return () => {
      this.capacityFaults = this.capacityFaults.filter((x) => x !== f);
    };
  }

  clearFaults(): void {
    this.throttledCalls = 0;
    this.failedNodeReads = 0;
    this.failedTargetGroupDeletes = 0;
    this.capacityFaults = [];
  }

  /** Consumes one throttled call, if any is pending. */
  takeThrottle(): boolean {
    if (this.throttledCalls <= 0) return false;
    this.throttledCalls--;
    return true;
  }

  /** Consumes one failed node read, if any is pending. */
  takeNodeReadFailure(): boolean {
    if (this.failedNodeReads <= 0) return false;
    this.failedNodeReads--;
    return true;
  }

  // --- internals ------------------------------------------------------------------------------------------

  private now(): number {
    const now = this.clock.now().getTime();
    // Terminated instances vanish after the retention; pruning is derivable, so it is not saved by itself.
    for (const r of this.ending) if (ms(r.terminatedAt!) + this.retentionMs <= now) this.unindex(r);
    return now;
  }

  private existingTargetGroup(arn: string): SimTargetGroupRecord {
    const tg = this.targetGroups.get(arn);
    if (!tg) throw new InvalidSpecError(`target group ${arn} does not exist (TargetGroupNotFound)`);
    return tg;
  }

  private save(): void {
    this.persistence?.save(this.toJSON());
  }

  private sorted(of: Iterable<SimInstanceRecord> = this.records.values()): SimInstanceRecord[] {
    return [...of].sort((a, b) => a.launchTime.localeCompare(b.launchTime) || a.instanceId.localeCompare(b.instanceId));
  }

  private isLive(r: SimInstanceRecord, now: number): boolean {
    return r.terminatedAt === undefined || ms(r.terminatedAt) > now;
  }

  private liveRecordsOf(machineUid: string, now: number): SimInstanceRecord[] {
    return this.sorted(this.byUid.get(machineUid) ?? []).filter((r) => this.isLive(r, now));
  }

  private warnAt(r: SimInstanceRecord, at: number): void {
    r.interruptionNoticeAt = iso(at);
    const end = at + SIM_INTERRUPTION_NOTICE_SECONDS * 1000;
    // A boot that fails sooner, or a termination already under way, keeps its earlier end.
    if (r.terminatedAt === undefined || ms(r.terminatedAt) > end) {
      r.terminatedAt = iso(end);
      r.stateReason = 'Server.SpotInstanceTermination';
    }
    this.ending.add(r);
  }

  private warn(targets: SimInstanceRecord[], now: number): void {
    for (const r of targets) this.warnAt(r, now);
    if (targets.length) this.save();
    for (const r of targets) this.notify(r, 'SpotInterruptionWarning', now);
  }

  private notify(r: SimInstanceRecord, kind: SimInterruptionNotice['kind'], at: number): void {
    this.onInterruptionNotice?.({
      instanceId: r.instanceId,
      machineUid: r.machineUid,
      machineName: r.machineName,
      namespace: r.namespace,
      clusterName: r.clusterName,
      kind,
      at: iso(at),
    });
  }

  private stop(targets: SimInstanceRecord[], reason: SimStateReason, now: number): void {
    for (const r of targets) {
      r.terminatedAt = iso(now);
      r.stateReason = reason;
      this.ending.add(r);
    }
    if (targets.length) this.save();
    for (const r of targets)
      this.onInstanceStateChange?.({
        instanceId: r.instanceId,
        machineUid: r.machineUid,
        machineName: r.machineName,
        namespace: r.namespace,
        clusterName: r.clusterName,
        state: stateOf(r, now),
        reason,
      });
  }

  private resolve(target: string, namespace: string | undefined, now: number): SimInstanceRecord[] {
    const matches = this.sorted().filter(
      (r) =>
        this.isLive(r, now) &&
        (namespace === undefined || r.namespace === namespace) &&
        (r.instanceId === target || r.machineName === target || providerIDOf(r) === target),
    );
    const namespaces = new Set(matches.map((r) => r.namespace));
    if (namespaces.size > 1) throw new Error(`${target} names machines in several namespaces (${[...namespaces].sort().join(', ')}); give the namespace`);
    return matches;
  }

  private takeCapacityFault(zone: string, instanceType: string): boolean {
    const fault = this.capacityFaults.find(
      (f) => (f.zone === undefined || f.zone === zone) && (f.instanceType === undefined || f.instanceType === instanceType),
    );
    if (!fault) return false;
    if (fault.launches !== undefined && --fault.launches <= 0) this.capacityFaults = this.capacityFaults.filter((f) => f !== fault);
    return true;
  }

  private newRecord(spec: LaunchSpec, zone: string, instanceType: string, now: number): SimInstanceRecord {
    const sim = spec.machineClass.sim;
    const bootMs = (sim?.bootSeconds ?? DEFAULT_BOOT_SECONDS) * 1000;
    const readyMs = (sim?.nodeReadySeconds ?? DEFAULT_NODE_READY_SECONDS) * 1000;
    const key = `${spec.machineUid}/${spec.clientToken}`;
    const ip = seededHex(this.seed, `ip/${key}`, 6);
    const record: SimInstanceRecord = {
      instanceId: `i-${seededHex(this.seed, `id/${key}`, 17)}`,
      machineUid: spec.machineUid,
      machineName: spec.machineName,
      namespace: spec.namespace,
      clusterName: spec.clusterName,
      role: spec.role,
      version: spec.version,
      zone,
      instanceType,
      clientToken: spec.clientToken,
      privateIp: `10.${parseInt(ip.slice(0, 2), 16)}.${parseInt(ip.slice(2, 4), 16)}.${(parseInt(ip.slice(4, 6), 16) % 254) + 1}`,
      launchTime: iso(now),
      runningAt: iso(now + bootMs),
      nodeReadyAt: iso(now + bootMs + readyMs),
    };
    // A failed boot: the instance dies at a random point while pending (before it would run).
    const failureRate = sim?.failureRate ?? 0;
    if (failureRate > 0 && seededUnit(this.seed, `fail/${key}`) < failureRate) {
      record.terminatedAt = iso(now + Math.floor(bootMs * seededUnit(this.seed, `failAt/${key}`)));
      record.stateReason = 'Server.InternalError';
    }
    // A spot instance's interruption: exponentially distributed from its launch (a Poisson process per instance).
    const perHour = sim?.interruptionsPerHour ?? 0;
    if (perHour > 0 && record.terminatedAt === undefined) {
      const u = seededUnit(this.seed, `interrupt/${key}`);
      record.interruptAt = iso(now + Math.floor((-Math.log(1 - u) / perHour) * 3600 * 1000));
    }
    return record;
  }

  private fact(r: SimInstanceRecord, now: number): InstanceFact {
    return {
      machineUid: r.machineUid,
      instanceId: r.instanceId,
      providerID: providerIDOf(r),
      state: stateOf(r, now),
      availabilityZone: r.zone,
      instanceType: r.instanceType,
      launchTime: r.launchTime,
      addresses: [
        { type: 'InternalIP', address: r.privateIp },
        { type: 'Hostname', address: r.machineName },
      ],
    };
  }

  private node(r: SimInstanceRecord, now: number): NodeFact | undefined {
    const runningAt = ms(r.runningAt);
    const terminatedAt = r.terminatedAt !== undefined ? ms(r.terminatedAt) : undefined;
    if (now < runningAt) return undefined;
    // Never ran (failed boot), or deleted by the cloud node lifecycle controller after termination.
    if (terminatedAt !== undefined && (terminatedAt <= runningAt || now >= terminatedAt + this.nodeDeletionMs)) return undefined;
    return {
      name: r.machineName,
      uid: `node-${r.instanceId}`,
      providerID: providerIDOf(r),
      kubeletVersion: r.version,
      conditions: terminatedAt !== undefined && now >= terminatedAt ? lostNodeConditions(iso(terminatedAt)) : this.liveNodeConditions(r, now),
    };
  }

  private liveNodeConditions(r: SimInstanceRecord, now: number): NodeCondition[] {
    const ready = now >= ms(r.nodeReadyAt);
    const simulated: NodeCondition[] = [
      ready
        ? { type: 'Ready', status: 'True', lastTransitionTime: r.nodeReadyAt, reason: 'KubeletReady', message: 'kubelet is posting ready status' }
        : {
            type: 'Ready',
            status: 'False',
            lastTransitionTime: r.runningAt,
            reason: 'KubeletNotReady',
            message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady',
          },
      { type: 'MemoryPressure', status: 'False', lastTransitionTime: r.runningAt, reason: 'KubeletHasSufficientMemory' },
      { type: 'DiskPressure', status: 'False', lastTransitionTime: r.runningAt, reason: 'KubeletHasNoDiskPressure' },
      { type: 'PIDPressure', status: 'False', lastTransitionTime: r.runningAt, reason: 'KubeletHasSufficientPID' },
    ];
    const overrides = r.nodeConditions ?? [];
    return [...simulated.map((c) => overrides.find((o) => o.type === c.type) ?? c), ...overrides.filter((o) => !simulated.some((c) => c.type === o.type))];
  }
}

export function providerIDOf(r: Pick<SimInstanceRecord, 'zone' | 'instanceId'>): string {
  return `sim:///${r.zone}/${r.instanceId}`;
}

function stateOf(r: SimInstanceRecord, now: number): InstanceState {
  if (r.terminatedAt !== undefined && now >= ms(r.terminatedAt)) return 'terminated';
  return now < ms(r.runningAt) ? 'pending' : 'running';
}

/** What the node lifecycle controller sets when a kubelet stops posting status (every condition Unknown). */
function lostNodeConditions(since: string): NodeCondition[] {
  return ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
    type,
    status: 'Unknown' as const,
    lastTransitionTime: since,
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
  }));
}
