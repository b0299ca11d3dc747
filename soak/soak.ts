/**
 * The chaos soak: the embedded host's runtime (real state machines on the local ASL engine, the
 * real task code, the API's ObjectService: the code under the HTTP router) over one store and the simulated cloud, with a time-scaled clock. A seeded
 * stream of user operations (applies, scales, upgrades, rollbacks, pauses, deletes, writers racing on one
 * object) meets a seeded stream of faults (tasks crashing before or after their effect, store throttling and
 * lost races, provider throttling and capacity errors, machines killed, nodes NotReady, the workload API
 * unreachable, the host stopped and started again). At checkpoints the faults stop and the fleet must settle;
 * then a false alarm and a real failure of one machine are staged and the fleet must settle again; then every
 * invariant is checked. Everything is reported as JSON lines.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader, type SimInterruptionNotice } from '../functions/adapters/sim/index.js';
import { ApiError, ObjectService, type ObjectKey } from '../functions/api/service/index.js';
import type { ApiObject } from '../functions/api/kind.js';
import type { KindName } from '../functions/api/kinds.js';
import type { MachineHealthCheck } from '../functions/api/machine-health-check.js';
import type { Machine } from '../functions/api/machine.js';
import { noWorkloadsDrainer, type MachineProvider, type Store } from '../functions/ports.js';
import { invocationHolder, scaledTimer, type Logger, workflowDeps } from '../functions/workflows/index.js';
import { recordInterruptionNotice } from '../functions/workflows/interruption.js';
import { startEmbeddedStore } from '../local/embedded-dynamodb.js';
import { ControlPlaneRuntime } from '../local/runtime.js';
import { scaledClock } from '../local/scaled-clock.js';
import type { TaskFunctionName } from '../statemachines/loader.js';
import { withContext } from './context.js';
import { FaultStore, type StoreFault } from './fault-store.js';
import { Fence } from './fence.js';
import { WriteLedger } from './ledger.js';
import { API_VERSION, NAMESPACE, clusterManifests, nextPatch, randomShape, type ClusterShape } from './manifests.js';
import { instanceViolations, notConverged, notGone } from './convergence.js';
import { Random } from './random.js';
import { FleetWatch, type Violation } from './watch.js';

export interface FaultRates {
  /** Per task invocation: the task throws before it runs. */
  taskCrashBefore: number;
  /** Per task invocation: the task runs, then throws (its effect happened; the workflow sees a failure). */
  taskCrashAfter: number;
  /** Per store write made by a task. */
  storeThrottleBefore: number;
  storeThrottleAfter: number;
  storeLostRace: number;
  /** Share of the stream's steps that inject a fault rather than make a user operation. */
  faultSteps: number;
}

export const DEFAULT_RATES: FaultRates = {
  taskCrashBefore: 0.03,
  taskCrashAfter: 0.03,
  storeThrottleBefore: 0.01,
  storeThrottleAfter: 0.01,
  storeLostRace: 0.01,
  faultSteps: 0.35,
};

export interface SoakOptions {
  seed: number;
  /** Steps of the stream (each one operation or one fault). */
  ops: number;
  /** Wall-clock bound of the stream; settling at checkpoints is bounded separately by settleSeconds. */
  minutes: number;
  /** Live clusters at most. */
  clusters?: number;
  timeScale?: number;
  store?: 'memory' | 'dynalite';
  /** Wall-clock seconds a checkpoint waits for the fleet to converge before it reports a violation. */
  settleSeconds?: number;
  /** Checkpoints during the stream, besides the final one. */
  checkpoints?: number;
  /** Real milliseconds between steps, at most. */
  pauseMs?: number;
  rates?: Partial<FaultRates>;
  /** Every JSON line: operations, faults, checkpoints, violations, the summary. */
  emit?: (line: Record<string, unknown>) => void;
}

export interface SoakSummary {
  seed: number;
  steps: number;
  operations: Record<string, number>;
  faults: Record<string, number>;
  accepted: number;
  refused: number;
  restarts: number;
  checkpoints: number;
  violations: Violation[];
  watched: FleetWatch['counts'];
  /**
   * Spot interruption warnings (random, the workers' class, and the fault stream's) and what came of their
   * instances: terminated by the control plane before EC2's reclaim time (replaced and drained in time), or
   * reclaimed. Reported, not an invariant: an injected host restart or crashed task may eat the two minutes.
   */
  interruptions: { warned: number; terminatedBeforeReclaim: number; reclaimed: number };
  durationSeconds: number;
}

class InjectedTaskCrash extends Error {
  override name = 'InjectedTaskCrash';
}

interface Host {
  generation: number;
  fence: Fence;
  cloud: SimCloud;
  runtime: ControlPlaneRuntime;
}

interface ClusterModel {
  shape: ClusterShape;
  deleted: boolean;
}

const key = (kind: KindName, name: string): ObjectKey => ({ kind, namespace: NAMESPACE, name });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const emit = options.emit ?? (() => {});
  const rates = { ...DEFAULT_RATES, ...options.rates };
  const timeScale = options.timeScale ?? 40;
  const maxClusters = options.clusters ?? 3;
  const settleMs = (options.settleSeconds ?? 120) * 1000;
  const checkpoints = options.checkpoints ?? 2;
  const pauseMs = options.pauseMs ?? 250;
  const deadline = started + options.minutes * 60_000;
  // Two streams: the script (operations and discrete faults) replays from the seed; the per-call faults are
  // drawn as calls happen, whose number depends on timing, so they must not shift the script.
  // Each step draws from a stream of its own, seeded by the script: a step that finds nothing to act on (no
  // running machine to kill yet) draws less, and must not shift the steps after it.
  const script = new Random(options.seed);
  let rng = new Random(options.seed);
  const callRng = new Random(options.seed ^ 0x5bd1e995);

  const operations: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const violations: Violation[] = [];
  let refused = 0;
  let restarts = 0;
  let checkpointsDone = 0;
  let step = 0;
  let faultsOn = true;

  const violation = (v: Violation) => {
    violations.push(v);
    emit({ type: 'violation', step, ...v });
  };
  const fault = (name: string, detail: Record<string, unknown> = {}) => {
    bump(faults, name);
    emit({ type: 'fault', step, fault: name, ...detail });
  };

  const clock = scaledClock({ timeScale });
  let cloudNow: SimCloud | undefined;
  // The world's view of a machine: its instance alive and its node Ready in the simulated cloud now.
  const nodeReady = (m: Machine): boolean => {
    const cloud = cloudNow;
    if (!cloud) return false;
    if (!cloud.instances().some((i) => i.machineUid === m.metadata.uid && i.state === 'running')) return false;
    const node = cloud.nodes(m.metadata.namespace, m.spec.clusterName).find((n) => n.name === m.metadata.name);
    return node?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  };
  const watch = new FleetWatch(violation, nodeReady);
  const ledger = new WriteLedger();

  // The store: memory, or dynalite (the embedded host's) in a temporary directory.
  let base: Store;
  const cleanups: (() => Promise<void>)[] = [];
  if ((options.store ?? 'memory') === 'dynalite') {
    const dir = await mkdtemp(join(tmpdir(), 'clusterless-soak-'));
    const embedded = await startEmbeddedStore(join(dir, 'dynamodb'), { tableName: 'clusterless-soak', clock });
    base = embedded.store;
    cleanups.push(async () => {
      await embedded.close();
      await rm(dir, { recursive: true, force: true });
    });
  } else base = new MemoryStore({ clock });

  const store = new FaultStore(base, {
    onWrite: (e) => watch.seen(e),
    fault: (op, _key, ctx): StoreFault | undefined => {
      if (!faultsOn || ctx?.actor !== 'task') return undefined;
      const r = callRng.next();
      if (r < rates.storeThrottleBefore) return 'throttle-before';
      if (r < rates.storeThrottleBefore + rates.storeThrottleAfter) return 'throttle-after';
      if (r < rates.storeThrottleBefore + rates.storeThrottleAfter + rates.storeLostRace && op !== 'create') return 'lost-race';
      return undefined;
    },
    onFault: (f, op, key) => fault(`store-${f}`, { op, object: `${key.kind}/${key.name}` }),
  });

  const logCounts = { warn: 0, error: 0 };
  const log: Logger = { info: () => {}, warn: () => logCounts.warn++, error: () => logCounts.error++ };

  // The remediation of one machine, held before each step while the soak stages a false alarm (falseAlarm).
  let heldRemediation: { machineUid: string; waiting: number; released: Promise<void> } | undefined;

  const taskMiddleware = (task: TaskFunctionName, input: Record<string, unknown>, run: () => Promise<unknown>) =>
    withContext({ actor: 'task', task, step: String(input.step ?? ''), startedAt: Date.now() }, async () => {
      const held = heldRemediation;
      if (held && task === 'remediate' && input.step === 'remediateStep' && input.machineUid === held.machineUid) {
        held.waiting++;
        await held.released;
        held.waiting--;
      }
      const r = faultsOn ? callRng.next() : 1;
      if (r < rates.taskCrashBefore) {
        fault('task-crash-before', { task, taskStep: input.step });
        throw new InjectedTaskCrash(`injected crash before ${task}:${String(input.step)}`);
      }
      const result = await run();
      if (r < rates.taskCrashBefore + rates.taskCrashAfter) {
        fault('task-crash-after', { task, taskStep: input.step });
        throw new InjectedTaskCrash(`injected crash after ${task}:${String(input.step)}`);
      }
      return result;
    });

  /** A provider that checks, after every launch, that the machine has one live instance only. */
  const checkedProvider = (cloud: SimCloud): MachineProvider => {
    const inner = new SimMachineProvider(cloud);
    return {
      create: async (spec, hooks) => {
        const fact = await inner.create(spec, hooks);
        const liveOfUid = cloud.instances().filter((i) => i.machineUid === spec.machineUid && i.state !== 'terminated');
        if (liveOfUid.length > 1)
          violation({
            invariant: 'one-instance-per-machine',
            message: `machine ${spec.machineName} has ${liveOfUid.length} live instances after a launch`,
            detail: { machine: spec.machineName, instances: liveOfUid.map((i) => i.instanceId) },
          });
        return fact;
      },
      describe: (ns, cluster) => inner.describe(ns, cluster),
      delete: (target) => inner.delete(target),
    };
  };

  const startHost = async (generation: number, cloud: SimCloud): Promise<Host> => {
    const fence = new Fence(generation);
    const deps = workflowDeps({
      store: fence.guard<Store>(store),
      provider: fence.guard(checkedProvider(cloud)),
      nodes: fence.guard(new SimNodeReader(cloud)),
      drainer: noWorkloadsDrainer,
      clock,
      timer: scaledTimer(timeScale),
      holder: invocationHolder(`soak-host-${generation}-${randomUUID().slice(0, 8)}`),
      pollSeconds: 5,
      log,
    });
    const runtime = new ControlPlaneRuntime({ deps, timeScale, sweepSeconds: 30, taskMiddleware });
    cloudNow = cloud;
    await runtime.start();
    return { generation, fence, cloud, runtime };
  };

  // Spot notices: recorded on the machine through the host's store, as the embedded host does; the warned
  // instances are followed until they end, by us (terminated before the reclaim time) or by EC2 (reclaimed).
  const interruptions = { warned: 0, terminatedBeforeReclaim: 0, reclaimed: 0 };
  const warnedInstances = new Set<string>();
  const onInterruptionNotice = (n: SimInterruptionNotice) => {
    if (n.kind === 'SpotInterruptionWarning' && !warnedInstances.has(n.instanceId)) {
      warnedInstances.add(n.instanceId);
      interruptions.warned++;
    }
    void recordInterruptionNotice({ store: host.runtime.store, workflows: host.runtime.workflows }, n, n.kind, new Date(n.at), `notice-${randomUUID()}`).catch(
      () => {}, // a host cut off by a restart: the warning is lost, as a lost EventBridge delivery; the reclaim is then a kill
    );
  };
  const followInterruptions = (cloud: SimCloud) => {
    if (warnedInstances.size === 0) return;
    for (const i of cloud.instances()) {
      if (!warnedInstances.has(i.instanceId) || i.state !== 'terminated') continue;
      warnedInstances.delete(i.instanceId);
      if (i.stateReason === 'Server.SpotInstanceTermination') interruptions.reclaimed++;
      else interruptions.terminatedBeforeReclaim++;
    }
  };

  let host = await startHost(0, new SimCloud({ clock, seed: options.seed, onInterruptionNotice }));
  // The host's timer for the random interruptions: faults like the others, so none is sent while a checkpoint settles.
  const noticeTimer = setInterval(
    () => {
      if (faultsOn) host.cloud.deliverDueNotices();
      followInterruptions(host.cloud);
    },
    Math.max(10, 1000 / timeScale),
  );

  /** The host stops as if it crashed: cut off first, then its executions aborted; a new one starts over the same state. */
  const restartHost = async () => {
    const old = host;
    old.fence.drop();
    await old.runtime.stop();
    // The new host reads the simulated cloud from its saved state, as the embedded host does from its file.
    const cloud = SimCloud.fromJSON(old.cloud.toJSON(), { clock, onInterruptionNotice });
    host = await startHost(old.generation + 1, cloud);
    restarts++;
  };

  /** An answer as the API would give it: the object (or Status) and its HTTP code, a refusal's Status and code. */
  type Answer = { status: number; json: (ApiObject & Record<string, unknown>) | undefined };
  /** One call of the API's operations on the current host's store; a 5xx or a bug is a violation. */
  const api = (what: string, op: (service: ObjectService) => Promise<{ status: number; json: unknown }>): Promise<Answer> =>
    withContext({ actor: 'api', startedAt: Date.now() }, async () => {
      let answer: Answer;
      try {
        const r = await op(new ObjectService({ store: host.runtime.store }));
        answer = { status: r.status, json: r.json as Answer['json'] };
      } catch (err) {
        if (!(err instanceof ApiError)) {
          violation({ invariant: 'no-internal-error', message: `${what}: ${(err as Error).stack ?? String(err)}` });
          return { status: 500, json: undefined };
        }
        answer = { status: err.code, json: err.status as unknown as Answer['json'] };
      }
      if (answer.status >= 500)
        violation({ invariant: 'no-internal-error', message: `${what} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}` });
      return answer;
    });
  const ok = async (json: Promise<unknown>, status = 200) => ({ status, json: await json });

  const record = (op: string, detail: Record<string, unknown>) => {
    bump(operations, op);
    emit({ type: 'op', step, op, ...detail });
  };

  /** A write answered: 2xx goes to the ledger, anything else counts as refused. */
  const write = async (
    what: string,
    k: ObjectKey,
    op: (service: ObjectService) => Promise<{ status: number; json: unknown }>,
    cluster: string | undefined,
    isDelete = false,
  ) => {
    const r = await api(what, op);
    if (r.status < 300 && r.json) {
      // A deleted machine is replaced under a new name: only a cluster's deletion is a lasting intent.
      if (isDelete) {
        if (k.kind === 'Cluster') ledger.acceptDelete('Cluster', NAMESPACE, k.name);
      } else ledger.accept(r.json, cluster);
    } else if (r.status >= 300) refused++;
    return r;
  };
  const patch = (kind: KindName, name: string, body: Record<string, unknown>, cluster: string) =>
    write(`patch ${kind} ${name}`, key(kind, name), (s) => ok(s.mergePatch(key(kind, name), body)), cluster);
  const apply = (kind: KindName, name: string, body: Record<string, unknown>, cluster: string | undefined) =>
    write(
      `apply ${kind} ${name}`,
      key(kind, name),
      async (s) => {
        const applied = await s.apply(key(kind, name), body);
        return { status: applied.result === 'created' ? 201 : 200, json: applied.object };
      },
      cluster,
    );
  const remove = (kind: KindName, name: string, cluster: string) =>
    write(
      `delete ${kind} ${name}`,
      key(kind, name),
      async (s) => {
        const deleted = await s.delete(key(kind, name));
        return { status: 200, json: deleted.removed ? deleted.status : deleted.object };
      },
      cluster,
      true,
    );

  // --- the model of what the soak declared ---------------------------------------------------------------
  const clusters = new Map<string, ClusterModel>();
  let clusterCounter = 0;
  const liveClusters = () => [...clusters.entries()].filter(([, c]) => !c.deleted).map(([n]) => n);

  const createCluster = async () => {
    const name = `s${options.seed}-c${++clusterCounter}`;
    const shape = randomShape(rng, name);
    clusters.set(name, { shape, deleted: false });
    const statuses: number[] = [];
    for (const m of clusterManifests(shape)) {
      const r = await apply(
        m.object.kind as KindName,
        (m.object.metadata as { name: string }).name,
        m.object,
        m.plural === 'machineclasses' ? undefined : name,
      );
      statuses.push(r.status);
    }
    record('create-cluster', { cluster: name, shape, statuses });
  };

  const get = async (kind: KindName, name: string) => {
    const r = await api(`get ${kind} ${name}`, (s) => ok(s.get(key(kind, name))));
    // biome-ignore lint/suspicious/noExplicitAny: the soak edits specs of every kind by path
    return r.status === 200 ? (r.json as ApiObject & { spec: Record<string, any> }) : undefined;
  };

  const userOperation = async () => {
    const live = liveClusters();
    if (live.length === 0 || (live.length < maxClusters && rng.chance(0.25))) return createCluster();
    const c = rng.pick(live);
    const md = `${c}-md`;
    const op = rng.weighted({
      scale: 4,
      'scale-control-plane': 1,
      upgrade: 3,
      'upgrade-control-plane': 1,
      rollback: 2,
      pause: 1,
      resume: 2,
      apply: 2,
      'race-replace': 2,
      'race-patch': 2,
      'delete-machine': 1,
      'delete-cluster': live.length > 1 ? 1 : 0.2,
    });
    switch (op) {
      case 'scale': {
        const replicas = rng.int(0, 5);
        const r = await patch('MachineDeployment', md, { spec: { replicas } }, c);
        return record(op, { cluster: c, replicas, status: r.status });
      }
      case 'scale-control-plane': {
        const cp = await get('ControlPlane', `${c}-cp`);
        const replicas = cp?.spec.replicas === 3 ? 1 : 3;
        const r = await patch('ControlPlane', `${c}-cp`, { spec: { replicas } }, c);
        return record(op, { cluster: c, replicas, status: r.status });
      }
      case 'upgrade': {
        const cur = await get('MachineDeployment', md);
        const version = nextPatch(String(cur?.spec.template?.spec?.version ?? ''));
        const r = await patch('MachineDeployment', md, { spec: { template: { spec: { version } } } }, c);
        return record(op, { cluster: c, version, status: r.status });
      }
      case 'upgrade-control-plane': {
        const cur = await get('ControlPlane', `${c}-cp`);
        const version = nextPatch(String(cur?.spec.version ?? ''));
        const r = await patch('ControlPlane', `${c}-cp`, { spec: { version } }, c);
        return record(op, { cluster: c, version, status: r.status });
      }
      case 'rollback': {
        const r = await write(`rollback ${md}`, key('MachineDeployment', md), (s) => ok(s.rollback(key('MachineDeployment', md), { toRevision: 0 })), c);
        return record(op, { cluster: c, status: r.status });
      }
      case 'pause':
      case 'resume': {
        const r = await patch('MachineDeployment', md, { spec: { paused: op === 'pause' } }, c);
        return record(op, { cluster: c, status: r.status });
      }
      case 'apply': {
        // `clusterless apply` of an edited manifest (the object read, replicas changed): the API's apply.
        const cur = await get('MachineDeployment', md);
        if (!cur) return record(op, { cluster: c, status: 404 });
        const replicas = rng.int(0, 5);
        const { status: _s, ...rest } = cur as ApiObject & Record<string, unknown>;
        const r = await apply('MachineDeployment', md, { ...rest, spec: { ...cur.spec, replicas } }, c);
        return record(op, { cluster: c, replicas, status: r.status });
      }
      case 'race-replace': {
        // Two clients replace the same object from the same resourceVersion: exactly one may win.
        const cur = await get('MachineDeployment', md);
        if (!cur) return record(op, { cluster: c, status: 404 });
        const { status: _s, ...rest } = cur as ApiObject & Record<string, unknown>;
        const [a, b] = [rng.int(0, 5), rng.int(0, 5)];
        const rs = await Promise.all(
          [a, b].map((replicas) =>
            write(
              `replace ${md}`,
              key('MachineDeployment', md),
              (s) => ok(s.replace(key('MachineDeployment', md), { ...rest, spec: { ...cur.spec, replicas } })),
              c,
            ),
          ),
        );
        // A replace that changes nothing writes nothing (as kube-apiserver): it succeeds when it is checked before the
        // other write lands, and is a 409 after. Of the replaces that change the object, exactly one may win.
        const changes = [a, b].map((replicas) => replicas !== (cur.spec as { replicas?: number }).replicas);
        const changing = changes.filter(Boolean).length;
        const changingWins = rs.filter((r, i) => changes[i] && r.status < 300).length;
        const answered = rs.every((r) => r.status < 300 || r.status === 409);
        if (!answered || changingWins !== Math.min(1, changing) || (changing === 2 && rs.filter((r) => r.status === 409).length !== 1))
          violation({
            invariant: 'optimistic-concurrency',
            message: `two replaces from resourceVersion ${cur.metadata.resourceVersion} (replicas ${a} and ${b}, ${changing} of them a change): ${rs.map((r) => r.status).join(', ')} (want exactly one change to win, the other 409 or a no-op)`,
          });
        return record(op, { cluster: c, replicas: [a, b], statuses: rs.map((r) => r.status) });
      }
      case 'race-patch': {
        // Two merge patches at once, no precondition: both apply, in some order; the ledger orders them by resourceVersion.
        const [a, b] = [rng.int(0, 5), rng.int(0, 5)];
        const rs = await Promise.all([a, b].map((replicas) => patch('MachineDeployment', md, { spec: { replicas } }, c)));
        return record(op, { cluster: c, replicas: [a, b], statuses: rs.map((r) => r.status) });
      }
      case 'delete-machine': {
        const machines = (await base.listCluster(NAMESPACE, c)).filter(
          (o): o is Machine => o.kind === 'Machine' && !o.metadata.deletionTimestamp && o.metadata.labels?.['clusterless.dev/deployment-name'] === md,
        );
        if (machines.length === 0) return record(op, { cluster: c, machine: null });
        const victim = rng.pick(machines).metadata.name;
        const r = await remove('Machine', victim, c);
        return record(op, { cluster: c, machine: victim, status: r.status });
      }
      case 'delete-cluster': {
        const r = await remove('Cluster', c, c);
        if (r.status < 300) clusters.get(c)!.deleted = true;
        return record(op, { cluster: c, status: r.status });
      }
    }
  };

  // Clusters that lost a control-plane machine since the last checkpoint: one at a time keeps etcd's quorum.
  const killedControlPlane = new Set<string>();
  const liveInstances = (cluster: string, role?: 'worker' | 'control-plane') =>
    host.cloud.instances().filter((i) => i.namespace === NAMESPACE && i.clusterName === cluster && i.state === 'running' && (!role || i.role === role));

  const isMarked = (m: Machine | undefined) =>
    m?.status?.conditions?.some((x) => x.type === 'OwnerRemediated' && x.status === 'False' && x.reason === 'WaitingForRemediation') ?? false;
  const until = async (check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await check()) return true;
    return check();
  };
  /**
   * Wall-clock bound of each wait of a false alarm (the health check's 60 s are 1.5 s at time scale 40).
   * Note: staged at checkpoints only, on a settled fleet: in the stream a scale-down or a rollout takes the
   * machine away as often as not, and the waits would only slow the stream down.
   */
  const FALSE_ALARM_WAIT_MS = 30_000;

  /**
   * A false alarm, then a real failure of the same machine. Its node goes NotReady until the machine is marked
   * for remediation and the remediation has started; that remediation is held before its first step while the
   * node is Ready again and the mark goes, so it ends without deleting (timing the sim cannot promise, so the
   * soak drives it). Then the machine is killed: the new failure must be remediated too (its replacement is
   * what the convergence checks look for), not refused as the name of the ended execution.
   */
  const falseAlarm = async (cluster: string, victim: { machineUid: string; machineName: string; instanceId: string }, detail: Record<string, unknown> = {}) => {
    let release = () => {};
    const held = { machineUid: victim.machineUid, waiting: 0, released: new Promise<void>((r) => (release = r)) };
    heldRemediation = held;
    const machine = () => base.get<Machine>('Machine', NAMESPACE, victim.machineName);
    // The machine may go for another reason meanwhile (a scale-down, a deleted cluster): then nothing is staged.
    const gone = async () => {
      const m = await machine();
      return m?.metadata.uid !== victim.machineUid || m.metadata.deletionTimestamp !== undefined;
    };
    const ofVictim = () => host.runtime.workflows.list('remediate').filter((e) => e.input?.machineUid === victim.machineUid);
    let marked = false;
    let cleared = false;
    try {
      watch.noteNodeNotReady(victim.machineUid);
      host.cloud.setNodeCondition(victim.instanceId, { type: 'Ready', status: 'False', reason: 'SoakFalseAlarm', message: 'injected by the soak' });
      marked = (await until(async () => held.waiting > 0 || (await gone()), FALSE_ALARM_WAIT_MS)) && held.waiting > 0;
      host.cloud.clearNodeCondition(victim.instanceId, 'Ready');
      watch.noteNodeReady(victim.machineUid);
      cleared = marked && (await until(async () => !isMarked(await machine()), FALSE_ALARM_WAIT_MS));
    } finally {
      heldRemediation = undefined;
      release();
    }
    const ended = await until(() => ofVictim().every((e) => e.status !== 'RUNNING'), FALSE_ALARM_WAIT_MS);
    const survived = !(await gone());
    watch.noteKill(victim.machineUid);
    host.cloud.kill(victim.instanceId);
    const staged = marked && cleared && ended && survived;
    fault('false-alarm', {
      cluster,
      machine: victim.machineName,
      ...detail,
      staged,
      marked,
      cleared,
      ended,
      survived,
      executions: ofVictim().map((e) => e.name),
    });
    return staged;
  };

  /** Running workers of a cluster one of which its health check may remediate now (one more unhealthy is allowed). */
  const remediableWorkers = async (cluster: string) => {
    const mhc = await base.get<MachineHealthCheck>('MachineHealthCheck', NAMESPACE, `${cluster}-workers`);
    const workers = liveInstances(cluster, 'worker');
    const max = mhc?.spec.maxUnhealthy;
    const allowed = typeof max === 'number' ? max : max === undefined ? workers.length : Math.floor((Number.parseInt(String(max), 10) * workers.length) / 100);
    const blocked = mhc?.status?.conditions?.some((x) => x.type === 'RemediationAllowed' && x.status === 'False');
    return !mhc || blocked || allowed < 1 ? [] : workers;
  };

  const injectFault = async () => {
    const live = liveClusters();
    const f = rng.weighted({
      kill: 4,
      'kill-many': 1,
      'kill-control-plane': 1,
      'node-not-ready': 2,
      throttle: 3,
      capacity: 2,
      'node-reads': 2,
      restart: 2,
      'spot-interrupt': 2,
      'spot-rebalance': 1,
    });
    const c = live.length ? rng.pick(live) : undefined;
    switch (f) {
      case 'kill': {
        const victims = c ? liveInstances(c, 'worker') : [];
        if (!victims.length) return;
        const v = rng.pick(victims);
        watch.noteKill(v.machineUid);
        host.cloud.kill(v.instanceId);
        return fault(f, { cluster: c, machine: v.machineName });
      }
      case 'kill-many': {
        // More than a health check may remediate at once, often: its short-circuit must hold.
        const victims = c ? liveInstances(c, 'worker') : [];
        if (victims.length < 2) return;
        const n = rng.int(2, victims.length);
        const chosen = [...victims].sort(() => rng.next() - 0.5).slice(0, n);
        for (const v of chosen) {
          watch.noteKill(v.machineUid);
          host.cloud.kill(v.instanceId);
        }
        return fault(f, { cluster: c, machines: chosen.map((v) => v.machineName) });
      }
      case 'kill-control-plane': {
        // One control-plane machine of three at most between checkpoints: etcd keeps quorum, remediation can act.
        if (!c) return;
        const cp = await get('ControlPlane', `${c}-cp`);
        const victims = liveInstances(c, 'control-plane');
        if (cp?.spec.replicas !== 3 || victims.length < 3 || killedControlPlane.has(c)) return;
        const v = rng.pick(victims);
        killedControlPlane.add(c);
        watch.noteKill(v.machineUid);
        host.cloud.kill(v.instanceId);
        return fault(f, { cluster: c, machine: v.machineName });
      }
      case 'spot-interrupt':
      case 'spot-rebalance': {
        // EC2's two-minute warning (the instance is reclaimed then), or its rebalance recommendation.
        const victims = c ? liveInstances(c, 'worker') : [];
        if (!victims.length) return;
        const v = rng.pick(victims);
        if (f === 'spot-interrupt') host.cloud.interrupt(v.instanceId);
        else host.cloud.recommendRebalance(v.instanceId);
        return fault(f, { cluster: c, machine: v.machineName });
      }
      case 'node-not-ready': {
        const victims = c ? liveInstances(c, 'worker') : [];
        if (!victims.length) return;
        const v = rng.pick(victims);
        watch.noteNodeNotReady(v.machineUid);
        host.cloud.setNodeCondition(v.instanceId, { type: 'Ready', status: 'False', reason: 'SoakNotReady', message: 'injected by the soak' });
        return fault(f, { cluster: c, machine: v.machineName });
      }
      case 'throttle': {
        const calls = rng.int(2, 12);
        host.cloud.throttleNext(calls);
        return fault(f, { calls });
      }
      case 'capacity': {
        const zone = rng.pick([undefined, 'zone-a', 'zone-b', 'zone-c']);
        const launches = rng.int(1, 6);
        host.cloud.failCapacity({ ...(zone ? { zone } : {}), launches });
        return fault(f, { zone: zone ?? 'all', launches });
      }
      case 'node-reads': {
        const calls = rng.int(1, 6);
        host.cloud.failNodeReads(calls);
        return fault(f, { calls });
      }
      case 'restart':
        await restartHost();
        return fault(f, { generation: host.generation });
    }
  };
  /** Faults off, paused deployments resumed; wait (bounded) for the fleet to converge, then check everything. */
  const checkpoint = async (final: boolean) => {
    faultsOn = false;
    host.cloud.clearFaults();
    for (const i of host.cloud.instances()) if (i.nodeConditions) host.cloud.clearNodeCondition(i.instanceId);
    watch.noteNodeConditionsCleared();
    killedControlPlane.clear();
    const t0 = Date.now();
    for (const c of liveClusters()) {
      const md = await get('MachineDeployment', `${c}-md`);
      if (md?.spec.paused) {
        const r = await patch('MachineDeployment', `${c}-md`, { spec: { paused: false } }, c);
        record('resume', { cluster: c, status: r.status, checkpoint: true });
      }
    }
    const handled = new Set<string>();
    const settle = async (since: number) => {
      let pending: Record<string, string> = {};
      for (;;) {
        pending = {};
        for (const [name, c] of clusters) {
          const why = c.deleted ? await notGone(base, host.cloud, name) : await notConverged(base, host.cloud, name);
          if (why) pending[name] = why;
        }
        if (Object.keys(pending).length === 0 || Date.now() - since > settleMs) return pending;
        await operatorStep(handled);
        await sleep(250);
      }
    };
    let pending = await settle(t0);
    // On the settled fleet (no fault fires now): a false alarm, then a real failure of the same machine, which
    // must be remediated like any other before the fleet settles again.
    if (Object.keys(pending).length === 0) {
      const candidates = (await Promise.all(liveClusters().map(async (c) => [c, await remediableWorkers(c)] as const))).filter(([, w]) => w.length > 0);
      if (candidates.length > 0) {
        const [c, workers] = rng.pick(candidates);
        if (await falseAlarm(c, rng.pick(workers), { checkpoint: true })) pending = await settle(Date.now());
      }
    }
    checkpointsDone++;
    for (const [name, why] of Object.entries(pending))
      violation({
        invariant: clusters.get(name)!.deleted ? 'deletion-completes' : 'status-converges',
        message: `${name} did not settle within ${settleMs / 1000}s: ${why}`,
        detail: { cluster: name },
      });
    for (const v of await instanceViolations(base, host.cloud, Object.keys(pending).length === 0)) violation(v);
    for (const v of await ledger.check(base)) violation(v);
    emit({
      type: 'checkpoint',
      step,
      final,
      settledSeconds: (Date.now() - t0) / 1000,
      unsettled: pending,
      clusters: liveClusters().length,
      violations: violations.length,
    });
    faultsOn = true;
  };

  /**
   * What an operator does when a health check short-circuits (Cluster API: "manual intervention"): delete
   * the dead machines by hand, so their MachineSet replaces them.
   */
  const operatorStep = async (handled: Set<string>) => {
    for (const c of liveClusters()) {
      const mhc = await base.get<MachineHealthCheck>('MachineHealthCheck', NAMESPACE, `${c}-workers`);
      const blocked = mhc?.status?.conditions?.some((x) => x.type === 'RemediationAllowed' && x.status === 'False');
      if (!blocked) continue;
      const alive = new Set(
        host.cloud
          .instances()
          .filter((i) => i.clusterName === c && i.state !== 'terminated')
          .map((i) => i.machineUid),
      );
      const machines = (await base.listCluster(NAMESPACE, c)).filter((o): o is Machine => o.kind === 'Machine' && !o.metadata.deletionTimestamp);
      for (const m of machines) {
        if (handled.has(m.metadata.uid!) || alive.has(m.metadata.uid!) || m.metadata.labels?.['clusterless.dev/deployment-name'] !== `${c}-md`) continue;
        if (m.status?.phase !== 'Failed' && !m.status?.infrastructure?.instanceId) continue; // still being provisioned
        handled.add(m.metadata.uid!);
        const r = await remove('Machine', m.metadata.name, c);
        record('operator-delete-machine', { cluster: c, machine: m.metadata.name, status: r.status });
      }
    }
  };

  try {
    const every = Math.max(1, Math.floor(options.ops / (checkpoints + 1)));
    for (step = 1; step <= options.ops && Date.now() < deadline; step++) {
      const isFault = script.chance(rates.faultSteps);
      const pause = script.int(0, pauseMs);
      rng = new Random(script.int(1, 2 ** 31 - 1));
      if (isFault) await injectFault();
      else await userOperation();
      if (step % every === 0 && step < options.ops && checkpointsDone < checkpoints) await checkpoint(false);
      await sleep(pause);
    }
    step = Math.min(step, options.ops);
    await checkpoint(true);
  } finally {
    clearInterval(noticeTimer);
    followInterruptions(host.cloud);
    host.fence.drop();
    await host.runtime.stop();
    for (const c of cleanups) await c();
  }
  const summary: SoakSummary = {
    seed: options.seed,
    steps: step,
    operations,
    faults,
    accepted: ledger.accepted,
    refused,
    restarts,
    checkpoints: checkpointsDone,
    violations,
    watched: watch.counts,
    interruptions,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  emit({ type: 'summary', ...summary, violations: violations.length, logs: logCounts, apiVersion: API_VERSION });
  return summary;
}
