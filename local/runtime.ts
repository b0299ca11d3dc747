/**
 * The control plane on one machine: the real state machines on the local ASL engine, every task bound to its
 * handler in process, and the triggers the cloud has: a write to the store starts reconcile-cluster (as the
 * DynamoDB stream does on AWS), requeues and a sweep on timers (as EventBridge Scheduler does).
 */
import { kindByName } from '../functions/api/kinds.js';
import type { ApiObject } from '../functions/api/kind.js';
import type { KindName } from '../functions/api/kinds.js';
import { LocalWorkflows, type EventLog, type ExecutionRecord } from '../functions/adapters/stepfunctions/local-workflows.js';
import { ForwardingStore } from '../functions/adapters/store/index.js';
import type { DeleteOptions, DeleteResult, Store, WorkflowName } from '../functions/ports.js';
import { TASKS, type WorkflowDeps } from '../functions/workflows/index.js';
import { MeteredProvider, MeteredStore, type CostMeter } from '../functions/metering/index.js';
import type { TaskFunctionName } from '../statemachines/loader.js';

/** Tells which cluster a write touched, after it succeeded: the local stand-in for the DynamoDB stream. */
export class TriggeringStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly onChange: (namespace: string, clusterName: string, obj: ApiObject) => void,
  ) {
    super(inner);
  }

  private changed<T extends ApiObject>(obj: T): T {
    const cluster = kindByName(obj.kind)?.clusterNameOf(obj as never);
    if (cluster) this.onChange(obj.metadata.namespace, cluster, obj);
    return obj;
  }

  override async create<T extends ApiObject>(obj: T): Promise<T> {
    return this.changed(await this.inner.create(obj));
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
  dirty: boolean;
  requeue?: NodeJS.Timeout;
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
    this.store = new TriggeringStore(meter ? new MeteredStore(options.deps.store, meter) : options.deps.store, (ns, cluster, obj) => {
      this.trigger(ns, cluster);
      options.onChange?.(ns, cluster, obj);
    });
    this.deps = { ...options.deps, store: this.store, ...(meter ? { provider: new MeteredProvider(options.deps.provider, meter) } : {}) };
    const invoke = (name: TaskFunctionName, task: (typeof TASKS)[TaskFunctionName], input: Record<string, unknown>): Promise<unknown> => {
      const started = performance.now();
      const call = options.taskMiddleware ? options.taskMiddleware(name, input, () => task(this.deps, input)) : task(this.deps, input);
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

  /** Starts the sweep, and a first reconcile of every cluster (what a restarted host must resume). */
  async start(): Promise<void> {
    const sweepMs = ((this.options.sweepSeconds ?? 60) * 1000) / this.timeScale;
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(50, sweepMs));
    this.sweepTimer.unref();
    await this.sweep();
  }

  /** Starts a reconcile of every cluster; reconciles of a settled cluster make no writes and cost nothing else. */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    const task = this.store.list('Cluster').then(
      (clusters) => clusters.forEach((c) => this.trigger(c.metadata.namespace, c.metadata.name)),
      (err: unknown) => this.deps.log.warn('sweep could not list clusters', { error: (err as Error).message }),
    );
    this.pending.add(task);
    await task.finally(() => this.pending.delete(task));
  }

  /** Asks for a reconcile of one cluster: one runs at a time per cluster, and changes meanwhile run one more. */
  trigger(namespace: string, clusterName: string): void {
    if (this.stopped) return;
    const key = `${namespace}/${clusterName}`;
    const t = this.triggers.get(key) ?? { running: false, dirty: false };
    this.triggers.set(key, t);
    if (t.running) {
      t.dirty = true;
      return;
    }
    t.running = true;
    t.dirty = false;
    if (t.requeue) clearTimeout(t.requeue);
    t.requeue = undefined;
    const name = `reconcile-${namespace}-${clusterName}-${++this.counter}`;
    this.executionKeys.set(name, key);
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
    if (!key || !t) return;
    const out = record.output as { result?: { requeueAfterSeconds?: number } } | undefined;
    // A failed reconcile is tried again soon (the sweep would, later).
    this.finish(key, t, record.status === 'SUCCEEDED' ? out?.result?.requeueAfterSeconds : 5);
  }

  private finish(key: string, t: ClusterTrigger, requeueAfterSeconds: number | undefined): void {
    const [namespace, clusterName] = key.split('/') as [string, string];
    t.running = false;
    if (this.stopped) return;
    if (t.dirty) return this.trigger(namespace, clusterName);
    if (requeueAfterSeconds !== undefined) {
      t.requeue = setTimeout(() => this.trigger(namespace, clusterName), Math.max(1, (requeueAfterSeconds * 1000) / this.timeScale));
      t.requeue.unref();
    }
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
