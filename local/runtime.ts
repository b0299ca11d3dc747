/**
 * The control plane on one machine: the real state machines on the local ASL engine, every task bound to its
 * handler in process, and the triggers the cloud has: a write to the store starts reconcile-cluster (as the
 * DynamoDB stream does on AWS), requeues and a sweep on timers (as EventBridge Scheduler does). The sweep and the
 * requeue rules are the AWS host's (functions/workflows/sweep.ts, core/trigger/).
 */
import { kindByName } from '../functions/api/kinds.js';
import type { ApiObject } from '../functions/api/kind.js';
import type { Cluster } from '../functions/api/cluster.js';
import { clustersUsingClass } from '../functions/core/topology/trigger.js';
import type { KindName } from '../functions/api/kinds.js';
import { LocalWorkflows, type EventLog, type ExecutionRecord } from '../functions/adapters/stepfunctions/local-workflows.js';
import { ForwardingStore } from '../functions/adapters/store/index.js';
import type { DeleteOptions, DeleteResult, Lease, ReconcileRequeues, Store, WorkflowName, Workflows } from '../functions/ports.js';
import { FAILED_RECONCILE_RETRY_SECONDS, replacesRequeue } from '../functions/core/trigger/requeue.js';
import { sweep } from '../functions/workflows/sweep.js';
import { TASKS, hostAppliesAddons, startFleetUpgrade, type WorkflowDeps } from '../functions/workflows/index.js';
import { fleetUpgradeFinished, type FleetUpgrade } from '../functions/api/fleet-upgrade.js';
import { MeteredProvider, MeteredStore, meteredInvocation, type CostMeter } from '../functions/metering/index.js';
import type { TaskFunctionName } from '../statemachines/loader.js';

/** The lease every reconcile of a cluster takes (functions/workflows/reconcile-cluster.ts), stepping steps' included. */
const RECONCILE_LEASE = 'reconcile';

/** Tells which cluster a write touched, after it succeeded: the local stand-in for the DynamoDB stream. */
export class TriggeringStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly onChange: (namespace: string, clusterName: string, obj: ApiObject) => void,
    /** Told of the Clusters a ClusterClass write concerns: those whose topology names it. */
    private readonly onClusterClassChange?: (namespace: string, clusterNames: readonly string[]) => void,
    /** A FleetUpgrade created: its execution starts (the stream's INSERT on AWS). */
    private readonly onFleetUpgradeCreated: (obj: ApiObject) => void = () => {},
    /** Told who holds a cluster's reconcile lease after each take and release (undefined: released). */
    private readonly onReconcileLease: (namespace: string, clusterName: string, holder: string | undefined) => void = () => {},
  ) {
    super(inner);
  }

  override async acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined> {
    const lease = await this.inner.acquireLease(namespace, clusterName, name, holder, ttlSeconds);
    if (lease && name === RECONCILE_LEASE) this.onReconcileLease(namespace, clusterName, holder);
    return lease;
  }
  override async releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    await this.inner.releaseLease(namespace, clusterName, name, holder);
    if (name === RECONCILE_LEASE) this.onReconcileLease(namespace, clusterName, undefined);
  }

  private changed<T extends ApiObject>(obj: T): T {
    const cluster = kindByName(obj.kind)?.clusterNameOf(obj as never);
    if (cluster) this.onChange(obj.metadata.namespace, cluster, obj);
    else if (obj.kind === 'ClusterClass' && this.onClusterClassChange) {
      const { namespace, name } = obj.metadata;
      // After the write, like the stream; a failed read leaves it to the next change or sweep.
      void this.inner.list<Cluster>('Cluster', namespace).then(
        (clusters) => this.onClusterClassChange!(namespace, clustersUsingClass(clusters, name)),
        () => undefined,
      );
    }
    return obj;
  }

  override async create<T extends ApiObject>(obj: T): Promise<T> {
    const created = this.changed(await this.inner.create(obj));
    if (created.kind === 'FleetUpgrade') this.onFleetUpgradeCreated(created);
    return created;
  }
  override async update<T extends ApiObject>(obj: T): Promise<T> {
    return this.changed(await this.inner.update(obj));
  }
  override async updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    return this.changed(await this.inner.updateStatus(obj));
  }
  override async delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    const r = await this.inner.delete(kind, namespace, name, options);
    this.changed(r.object);
    return r;
  }
}

export interface RuntimeOptions {
  /** Everything the tasks need; its store is wrapped so that writes trigger reconciles. */
  deps: WorkflowDeps;
  timeScale?: number;
  /** Seconds between sweeps (before time-scaling). @default 60 */
  sweepSeconds?: number;
  /** Every state transition and execution event (cost meter, tests). */
  onEvent?: (workflow: WorkflowName, event: EventLog) => void;
  /** Told of every write after it succeeded (the mirror pushes it to the management cluster). */
  onChange?: (namespace: string, clusterName: string, obj: ApiObject) => void;
  /** Wraps every task invocation: fault injection (a task that crashes) in tests and the chaos soak. */
  taskMiddleware?: (task: TaskFunctionName, input: Record<string, unknown>, run: () => Promise<unknown>) => Promise<unknown>;
  /** Counts what this work would cost on AWS: transitions, task invocations, store and provider calls. */
  meter?: CostMeter;
}

interface ClusterTrigger {
  running: boolean;
  /** The running reconcile-cluster execution: the one whose end runs the changes asked for meanwhile. */
  current?: string;
  dirty: boolean;
  /** The running reconcile's last Reconcile attempt was refused the lease: it waits out its Retry interval. */
  waitingOnLease?: boolean;
  /** Who holds the cluster's reconcile lease, as this host saw it taken and released. */
  leaseHolder?: string;
  requeue?: NodeJS.Timeout;
  /** When `requeue` fires (real time, ms): a later ask leaves it, an earlier one replaces it. */
  requeueAt?: number;
}

export class ControlPlaneRuntime {
  readonly store: Store;
  readonly workflows: LocalWorkflows;
  readonly deps: WorkflowDeps;
  private readonly triggers = new Map<string, ClusterTrigger>();
  private readonly timeScale: number;
  private sweepTimer?: NodeJS.Timeout;
  private counter = 0;
  private readonly executionKeys = new Map<string, string>();
  private stopped = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: RuntimeOptions) {
    this.timeScale = options.timeScale ?? 1;
    const meter = options.meter;
    this.store = new TriggeringStore(
      meter ? new MeteredStore(options.deps.store, meter) : options.deps.store,
      (ns, cluster, obj) => {
        this.trigger(ns, cluster);
        options.onChange?.(ns, cluster, obj);
      },
      (ns, clusters) => {
        for (const c of clusters) this.trigger(ns, c);
      },
      (obj) => this.startFleetUpgrade(obj),
      (ns, cluster, holder) => this.leaseChanged(ns, cluster, holder),
    );
    const requeues: ReconcileRequeues = { requeue: async (namespace, clusterName, afterSeconds) => this.requeue(namespace, clusterName, afterSeconds) };
    this.deps = { ...options.deps, store: this.store, requeues, ...(meter ? { provider: new MeteredProvider(options.deps.provider, meter) } : {}) };
    const invoke = (name: TaskFunctionName, task: (typeof TASKS)[TaskFunctionName], input: Record<string, unknown>): Promise<unknown> => {
      const started = performance.now();
      // Each invocation adds what it cost to its cluster's usage record, as the Lambda functions do (taskHandler).
      const counted = () =>
        meteredInvocation(this.deps, name, input, (deps) => task(deps, input), {
          now: () => this.deps.clock.now(),
          onUsageError: (err) => this.deps.log.warn('task usage not counted', { task: name, error: String(err) }),
        });
      const call = options.taskMiddleware ? options.taskMiddleware(name, input, counted) : counted();
      if (name === 'reconcile' && input['step'] === 'reconcile') this.watchReconcileAttempt(input, call);
      // An aborted execution does not stop its running task: stop() waits for these before the store closes.
      this.inFlight.add(call);
      void call.then(
        () => this.inFlight.delete(call),
        () => this.inFlight.delete(call),
      );
      // The Lambda's billed duration: the task's wall time here (in a busy process, queueing included).
      return meter ? call.finally(() => meter.recordLambda(name, performance.now() - started)) : call;
    };
    const handlers = Object.fromEntries(
      Object.entries(TASKS).map(([name, task]) => [name, (input: Record<string, unknown>) => invoke(name as TaskFunctionName, task, input)]),
    ) as Record<TaskFunctionName, (input: Record<string, unknown>) => Promise<unknown>>;
    const onEvent = options.onEvent;
    this.workflows = new LocalWorkflows({
      handlers,
      timeScale: this.timeScale,
      ...(meter || onEvent
        ? {
            onEvent: (workflow: WorkflowName, event: EventLog) => {
              meter?.onWorkflowEvent(workflow, event);
              onEvent?.(workflow, event);
            },
          }
        : {}),
      onExecutionEnded: (record) => this.ended(record),
    });
  }

  /**
   * Starts the periodic sweep, and a first reconcile of every cluster: a restarted host resumes every workflow
   * (their deterministic names make a running one's start a no-op), which drift alone would not find.
   */
  async start(): Promise<void> {
    const sweepMs = ((this.options.sweepSeconds ?? 60) * 1000) / this.timeScale;
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(50, sweepMs));
    this.sweepTimer.unref();
    await this.track(
      this.store.list('Cluster').then(
        (clusters) => {
          for (const c of clusters) this.trigger(c.metadata.namespace, c.metadata.name);
        },
        (err: unknown) => this.deps.log.warn('first sweep could not list clusters', { error: (err as Error).message }),
      ),
    );
    // This engine forgets its executions when the host stops: a FleetUpgrade not finished starts again, from its status.
    await this.track(
      this.store.list<FleetUpgrade>('FleetUpgrade').then(
        (upgrades) => {
          for (const fu of upgrades) if (!fleetUpgradeFinished(fu.status?.phase) && !fu.metadata.deletionTimestamp) this.startFleetUpgrade(fu);
        },
        (err: unknown) => this.deps.log.warn('could not list fleet upgrades', { error: (err as Error).message }),
      ),
    );
  }

  private startFleetUpgrade(obj: ApiObject): void {
    if (this.stopped || !obj.metadata.uid) return;
    const started = startFleetUpgrade(this.workflows, { namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid });
    this.pending.add(started);
    void started.then(
      () => this.pending.delete(started),
      (err: unknown) => {
        this.pending.delete(started);
        this.deps.log.error('could not start fleet-upgrade', { fleetUpgrade: `${obj.metadata.namespace}/${obj.metadata.name}`, error: (err as Error).message });
      },
    );
  }

  /**
   * One sweep, the AWS host's (functions/workflows/sweep.ts): reconciles the clusters that show drift, probing the
   * nodes of those whose only drift is their health checks; each reconcile goes through `trigger`.
   */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    const workflows: Workflows = {
      start: async (_workflow, _name, input) => {
        this.trigger(String(input['namespace']), String(input['clusterName']));
        return { started: true };
      },
    };
    const log = this.deps.log;
    await this.track(
      sweep({
        store: this.store,
        workflows,
        nodes: this.deps.nodes,
        addons: hostAppliesAddons(this.deps),
        log: { debug: () => {}, info: () => {}, error: (message, fields) => log.error(message, fields) },
      }).then(
        () => undefined,
        (err: unknown) => log.warn('sweep could not read the fleet', { error: (err as Error).message }),
      ),
    );
  }

  private async track(task: Promise<void>): Promise<void> {
    this.pending.add(task);
    await task.finally(() => this.pending.delete(task));
  }

  /**
   * The ReconcileRequeues of this host: one timer per cluster, the earliest ask wins. A reconcile that starts
   * clears it (it plans again and asks anew).
   */
  requeue(namespace: string, clusterName: string, afterSeconds: number): void {
    if (this.stopped) return;
    const key = `${namespace}/${clusterName}`;
    const t = this.clusterTrigger(key);
    const now = Date.now();
    const at = now + Math.max(1, (afterSeconds * 1000) / this.timeScale);
    if (t.requeue && !replacesRequeue(t.requeueAt === undefined ? undefined : new Date(t.requeueAt), new Date(at), new Date(now))) return;
    if (t.requeue) clearTimeout(t.requeue);
    t.requeueAt = at;
    t.requeue = setTimeout(() => {
      t.requeue = undefined;
      t.requeueAt = undefined;
      this.trigger(namespace, clusterName);
    }, at - now);
    t.requeue.unref();
  }

  private clusterTrigger(key: string): ClusterTrigger {
    let t = this.triggers.get(key);
    if (!t) {
      t = { running: false, dirty: false };
      this.triggers.set(key, t);
    }
    return t;
  }

  /**
   * Asks for a reconcile of one cluster: one runs at a time per cluster, and changes meanwhile run one more once
   * it ends. Except when the running one waits out a lease another reconcile held (a stepping workflow's step,
   * whose writes then follow its release: a remediation's delete), and that lease is free again: the changes run
   * their reconcile now, as the stream starts one per change on AWS, instead of after the Retry interval (up to
   * 1 s, jittered). The waiting one retries as it would have, no longer the cluster's running reconcile.
   */
  trigger(namespace: string, clusterName: string): void {
    if (this.stopped) return;
    const key = `${namespace}/${clusterName}`;
    const t = this.clusterTrigger(key);
    if (t.running && !(t.waitingOnLease && t.leaseHolder === undefined)) {
      t.dirty = true;
      return;
    }
    this.startReconcile(namespace, clusterName, t);
  }

  private startReconcile(namespace: string, clusterName: string, t: ClusterTrigger): void {
    const key = `${namespace}/${clusterName}`;
    t.running = true;
    t.dirty = false;
    // The one started now takes the lease or waits for it itself.
    t.waitingOnLease = false;
    if (t.requeue) clearTimeout(t.requeue);
    t.requeue = undefined;
    t.requeueAt = undefined;
    const name = `reconcile-${namespace}-${clusterName}-${++this.counter}`;
    this.executionKeys.set(name, key);
    t.current = name;
    const started = this.workflows.start('reconcile-cluster', name, { namespace, clusterName, trigger: 'change' });
    this.pending.add(started);
    void started.finally(() => this.pending.delete(started));
  }

  private ended(record: ExecutionRecord): void {
    this.options.meter?.recordExecutionEnded(record.workflow, (record.stoppedAt ?? new Date()).getTime() - record.startedAt.getTime());
    if (record.workflow !== 'reconcile-cluster') return;
    const key = this.executionKeys.get(record.name);
    this.executionKeys.delete(record.name);
    const t = key ? this.triggers.get(key) : undefined;
    // A reconcile superseded while it waited out a held lease: the one started after it carries the changes.
    if (!key || !t || t.current !== record.name) return;
    const [namespace, clusterName] = key.split('/') as [string, string];
    t.running = false;
    t.current = undefined;
    t.waitingOnLease = false;
    if (this.stopped) return;
    if (t.dirty) {
      this.trigger(namespace, clusterName);
      return;
    }
    // The reconcile task asked for its own requeue (ReconcileRequeues); an execution that failed without
    // reaching RecordFailure (which asks too) is tried again as soon.
    if (record.status !== 'SUCCEEDED') this.requeue(namespace, clusterName, FAILED_RECONCILE_RETRY_SECONDS);
  }

  /** A Reconcile attempt of the cluster's reconcile-cluster: refused the lease, it waits out its Retry interval. */
  private watchReconcileAttempt(input: Record<string, unknown>, attempt: Promise<unknown>): void {
    const t = this.triggers.get(`${String(input['namespace'])}/${String(input['clusterName'])}`);
    if (!t?.running) return;
    t.waitingOnLease = false;
    attempt.catch((err: unknown) => {
      if ((err as Error | undefined)?.name === 'LeaseHeldError' && t.running) t.waitingOnLease = true;
    });
  }

  /** The cluster's reconcile lease taken or released: changes that waited behind a refused reconcile run now. */
  private leaseChanged(namespace: string, clusterName: string, holder: string | undefined): void {
    const t = this.clusterTrigger(`${namespace}/${clusterName}`);
    t.leaseHolder = holder;
    if (holder === undefined && t.dirty && t.waitingOnLease && t.running && !this.stopped) this.startReconcile(namespace, clusterName, t);
  }

  /** True while a reconcile is running or asked for. */
  get busy(): boolean {
    return this.workflows.runningCount > 0 || [...this.triggers.values()].some((t) => t.running || t.dirty);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.triggers.values()) if (t.requeue) clearTimeout(t.requeue);
    await Promise.allSettled([...this.pending]);
    await this.workflows.stop();
    await Promise.allSettled([...this.inFlight]);
  }
}
