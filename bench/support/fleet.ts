/**
 * The control plane the scenarios run: the embedded host's runtime (the real state machines on the local ASL
 * engine, the real task code) over the memory store and the simulated cloud, with the cost meter wired in, and
 * the objects applied through the API's ObjectService, the apply a user's `clusterless apply` reaches. A tracker follows every
 * write to tell when clusters are Ready without polling the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import {
  SimCloud,
  SimMachineProvider,
  SimNodeDrainer,
  SimNodeReader,
  type SimCloudOptions,
  type SimInterruptionNotice,
} from '../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest } from '../../functions/api/http/index.js';
import { ObjectService, keyOf } from '../../functions/api/service/index.js';
import { CostMeter } from '../../functions/metering/index.js';
import type { Store, Clock, LaunchHooks, LaunchSpec, MachineProvider } from '../../functions/ports.js';
import { invocationHolder, scaledTimer, silentLogger, workflowDeps } from '../../functions/workflows/index.js';
import { type NoticeOutcome, recordInterruptionNotice } from '../../functions/workflows/interruption.js';
import { startEmbeddedStore } from '../../local/embedded-dynamodb.js';
import { openEmbeddedSqliteStore } from '../../local/embedded-sqlite.js';
import { ControlPlaneRuntime } from '../../local/runtime.js';
import { FleetTracker } from './tracker.js';
import type { Manifest } from './manifests.js';

export const API_ROOT = '/apis/clusterless.dev/v1alpha1/namespaces';

export interface BenchFleetOptions {
  timeScale: number;
  clock: Clock;
  /** Seconds between the runtime's own sweeps (before scaling). @default - practically never (1e6 s) */
  sweepSeconds?: number;
  /** Wire the simulator's instance state changes to a reconcile, as EC2's events do on AWS. @default true */
  instanceEvents?: boolean;
  /** Told of every launch request, before the provider sees it. */
  onLaunch?: (spec: LaunchSpec) => void;
  /** @default 5 */
  pollSeconds?: number;
  /** Wire the cost meter in (false measures what metering itself costs). @default true */
  meter?: boolean;
  /**
   * The store under the runtime: 'memory'; 'dynalite', the embedded DynamoDB (dynalite over the DynamoDB wire
   * protocol, signed requests, LevelDB); or 'sqlite', the embedded SQLite file. The embedded ones in a fresh
   * temporary folder removed at stop. @default 'memory'
   */
  store?: BenchStoreKind;
  /** Told of each spot notice once it is recorded on its machine (as the embedded host records them). */
  onInterruptionNotice?: (notice: SimInterruptionNotice, outcome: NoticeOutcome) => void;
}

export const BENCH_STORES = ['memory', 'dynalite', 'sqlite'] as const;
export type BenchStoreKind = (typeof BENCH_STORES)[number];

export interface BenchFleet {
  runtime: ControlPlaneRuntime;
  store: Store;
  cloud: SimCloud;
  clock: Clock;
  meter: CostMeter;
  tracker: FleetTracker;
  /** The API's operations over the runtime's store (its writes trigger reconciles, as the API's do). */
  service: ObjectService;
  /** Applies the objects (the API's apply); throws the first refusal's ApiError. */
  apply(manifests: readonly Manifest[]): Promise<void>;
  /** One request through the HTTP router, for a scenario that measures or shows the HTTP form. */
  // biome-ignore lint/suspicious/noExplicitAny: a scenario reads the answer's JSON as it shows it, field by field
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

/** A provider that reports each launch request before passing it on. */
class ObservedProvider implements MachineProvider {
  constructor(
    private readonly inner: MachineProvider,
    private readonly onLaunch: (spec: LaunchSpec) => void,
  ) {}
  create(spec: LaunchSpec, hooks?: LaunchHooks) {
    this.onLaunch(spec);
    return this.inner.create(spec, hooks);
  }
  describe(namespace: string, clusterName: string) {
    return this.inner.describe(namespace, clusterName);
  }
  delete(target: Parameters<MachineProvider['delete']>[0]) {
    return this.inner.delete(target);
  }
}

export async function startBenchFleet(options: BenchFleetOptions): Promise<BenchFleet> {
  const { clock, timeScale } = options;
  let store: Store;
  let closeStore = async () => {};
  const kind = options.store ?? 'memory';
  if (kind === 'memory') store = new MemoryStore({ clock });
  else {
    const dir = await mkdtemp(join(tmpdir(), 'clusterless-bench-'));
    const embedded =
      kind === 'dynalite'
        ? await startEmbeddedStore(join(dir, 'dynamodb'), { tableName: 'clusterless', clock })
        : await openEmbeddedSqliteStore(join(dir, 'store'), { clock });
    store = embedded.store;
    closeStore = async () => {
      await embedded.close();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const tracker = new FleetTracker();
  let trigger: ((namespace: string, clusterName: string) => void) | undefined;
  const cloudOptions: SimCloudOptions = { clock, seed: 1 };
  if (options.instanceEvents ?? true) cloudOptions.onInstanceStateChange = (c) => trigger?.(c.namespace, c.clusterName);
  let runtimeRef: ControlPlaneRuntime | undefined;
  let notices = 0;
  cloudOptions.onInterruptionNotice = (n) => {
    if (!runtimeRef) return;
    const { store: s, workflows } = runtimeRef;
    void recordInterruptionNotice({ store: s, workflows }, n, n.kind, new Date(n.at), `notice-${++notices}`).then(
      (outcome) => options.onInterruptionNotice?.(n, outcome),
      (err: unknown) => console.error(`spot notice for ${n.machineName} not recorded: ${(err as Error).message}`),
    );
  };
  const cloud = new SimCloud(cloudOptions);
  const sim = new SimMachineProvider(cloud);
  const meter = new CostMeter({ now: () => clock.now() });
  const deps = workflowDeps({
    store,
    provider: options.onLaunch ? new ObservedProvider(sim, options.onLaunch) : sim,
    nodes: new SimNodeReader(cloud),
    drainer: new SimNodeDrainer(cloud),
    clock,
    timer: scaledTimer(timeScale),
    holder: invocationHolder('bench-host'),
    pollSeconds: options.pollSeconds ?? 5,
    log: silentLogger,
  });
  const runtime = new ControlPlaneRuntime({
    deps,
    ...(options.meter === false ? {} : { meter }),
    timeScale,
    sweepSeconds: options.sweepSeconds ?? 1e6,
    onChange: (_ns, _cluster, obj) => tracker.seen(obj),
  });
  trigger = (namespace, clusterName) => runtime.trigger(namespace, clusterName);
  runtimeRef = runtime;
  await runtime.start();
  // The runtime's timers do not hold the process open; a scenario waiting on them must.
  const keepAlive = setInterval(() => {}, 60_000);

  const service = new ObjectService({ store: runtime.store });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await handleRequest(jsonRequest(method, path, body), { store: runtime.store });
    return { status: res.status, json: res.body ? JSON.parse(res.body) : undefined };
  };

  return {
    runtime,
    store,
    cloud,
    clock,
    meter,
    tracker,
    service,
    api,
    async apply(manifests) {
      for (const m of manifests) await service.apply(keyOf(m.object), m.object);
    },
    async stop() {
      clearInterval(keepAlive);
      await runtime.stop();
      await closeStore();
    },
  };
}
