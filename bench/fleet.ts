/**
 * fleet: one FleetUpgrade of 200 topology Clusters of one ClusterClass (3 control-plane machines rolled one at a
 * time, maxSurge 1; 10 workers rolled with maxSurge 10, maxUnavailable 0), every machine 60 simulated seconds
 * from launch to a Ready node, to the next patch version: a canary of 1, then batches of 10 %, 30 % and 60 %
 * (1, 20, 60 and 119 clusters), a bake of 60 s between waves and maxInFlight 40 (the most the kind allows).
 *
 * The physical bound of that plan: no cluster can upgrade faster than its machines boot, one after another where
 * the rollout allows no more at once. One cluster takes controlPlane x boot (each control-plane machine waits for
 * the one before it to be Ready) + ceil(workers / maxSurge) x boot (the workers start once the control plane runs
 * the new version everywhere) = 3 x 60 + 1 x 60 = 240 s. A wave of n clusters at most maxInFlight at once needs
 * at least ceil(n / maxInFlight) such rounds, and the waves run one after another with a bake between two:
 *
 *   bound = sum over waves of ceil(n / maxInFlight) x perCluster + (waves - 1) x bake
 *         = (1 + 1 + 2 + 3) x 240 + 3 x 60 = 1,860 simulated s for 200 clusters.
 *
 * The ratio is the upgrade's simulated duration, from the FleetUpgrade's creationTimestamp to the completedAt of
 * its Succeeded phase (both written with the host's clock, at second resolution), over that bound.
 *
 * `npm run bench -- fleet`, or `npx tsx bench/fleet.ts [--clusters N] [--time-scale 10]`. The clock runs
 * --time-scale times faster than the wall clock (boots, Waits, polls, requeues all follow it); the code's own
 * run time is not scaled, so each wall millisecond of work counts as time-scale simulated milliseconds: on a
 * busy machine the ratio is, if anything, pessimistic. The fleet is made Ready first, on the same clock.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Condition } from '../functions/api/common.js';
import type { FleetUpgrade } from '../functions/api/fleet-upgrade.js';
import type { ApiObject } from '../functions/api/kind.js';
import type { Clock } from '../functions/ports.js';
import { MAX_FLEET_IN_FLIGHT, fleetUpgradeFinished } from '../functions/api/fleet-upgrade.js';
import { splitWaves } from '../functions/core/fleet/index.js';
import { scaledClock } from '../local/scaled-clock.js';
import { startBenchFleet } from './support/fleet.js';
import type { FleetTracker } from './support/tracker.js';
import { API_VERSION, CLUSTER_CLASS_NAME, clusterClass, machineClass, topologyCluster } from './support/manifests.js';
import { emit, flag, machineFacts, measureResources } from './support/output.js';

const CONTROL_PLANE = 3;
const WORKERS = 10;
/** All workers at once: the MachineDeployment rolls in one boot, with every old worker serving until then. */
const WORKER_MAX_SURGE = 10;
const BOOT_SECONDS = 60;
const BAKE_SECONDS = 60;
const WAVES = { canary: 1, batches: ['10%', '30%', '60%'] };
const MAX_IN_FLIGHT = MAX_FLEET_IN_FLIGHT;
const FROM_VERSION = 'v1.31.2';
const TARGET_VERSION = 'v1.31.3';
const TARGET_RATIO = 1.2;

const seconds = (from: string | undefined, to: string | undefined) => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : Number.NaN);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/**
 * `--trace NAME`: one cluster's upgrade as it happens, on stderr, in simulated seconds: where the time goes
 * between the boots (its Cluster's topology and condition, the ControlPlane and MachineDeployment, each Machine's
 * phase and Ready).
 */
function traceCluster(tracker: FleetTracker, clock: Clock, name: string): void {
  const t0 = clock.now().getTime();
  const last = new Map<string, string>();
  tracker.onWrite((obj) => {
    const o = obj as ApiObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
    const mine = o.kind === 'Cluster' ? o.metadata.name === name : (o.spec?.['clusterName'] as string | undefined) === name;
    if (!mine) return;
    const conditions = (o.status?.['conditions'] as Condition[] | undefined) ?? [];
    const cond = (type: string) => conditions.find((c) => c.type === type);
    let line: string;
    if (o.kind === 'Cluster') {
      const t = cond('TopologyReconciled');
      line = `version ${(o.spec?.['topology'] as { version?: string })?.version} TopologyReconciled ${t?.status}/${t?.reason} gen ${o.metadata.generation} observed ${t?.observedGeneration}`;
    } else if (o.kind === 'Machine') {
      line = `${o.status?.['phase']} Ready=${cond('Ready')?.status}${o.metadata.deletionTimestamp ? ` deleting ${cond('Deleting')?.reason}` : ''}`;
    } else if (o.kind === 'ControlPlane' || o.kind === 'MachineDeployment') {
      const st = o.status ?? {};
      line = `spec ${JSON.stringify((o.spec?.['version'] ?? (o.spec?.['template'] as { spec?: { version?: string } })?.spec?.version) as string)} status ${JSON.stringify({ v: st['version'], r: st['replicas'], u: st['updatedReplicas'], ready: st['readyReplicas'], a: st['availableReplicas'] })}`;
    } else return;
    const key = `${o.kind}/${o.metadata.name}`;
    if (last.get(key) === line) return;
    last.set(key, line);
    process.stderr.write(`${((clock.now().getTime() - t0) / 1000).toFixed(1).padStart(7)} ${key} ${line}\n`);
  });
}

export async function run(argv: string[] = []): Promise<void> {
  const scenario = 'fleet';
  const clusters = Number(flag(argv, 'clusters') ?? 200);
  const timeScale = Number(flag(argv, 'time-scale') ?? 10);
  if (!Number.isInteger(clusters) || clusters < 1) throw new Error('--clusters must be a positive integer');
  const clock = scaledClock({ timeScale });
  const fleet = await startBenchFleet({ clock, timeScale });
  const perCluster = CONTROL_PLANE + WORKERS;
  fleet.tracker.expectMachines(perCluster);

  const progress = setInterval(() => {
    process.stderr.write(
      `fleet: ${fleet.tracker.convergedClusters()}/${clusters} clusters converged, ${fleet.runtime.workflows.runningCount} executions running\n`,
    );
  }, 15_000);
  progress.unref();

  const names = Array.from({ length: clusters }, (_, i) => `c${String(i).padStart(4, '0')}`);
  const wallReady0 = performance.now();
  await fleet.apply([
    machineClass({ bootSeconds: BOOT_SECONDS, nodeReadySeconds: 0 }),
    clusterClass({
      controlPlane: CONTROL_PLANE,
      workerStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: WORKER_MAX_SURGE, maxUnavailable: 0 } },
    }),
    ...names.map((n) => topologyCluster(n, { version: FROM_VERSION, workers: WORKERS, labels: { fleet: 'bench' } })),
  ]);
  await fleet.tracker.until(() => fleet.tracker.convergedClusters() === clusters);
  await fleet.runtime.workflows.idle();
  const wallReady = (performance.now() - wallReady0) / 1000;
  fleet.meter.reset();
  const trace = flag(argv, 'trace');
  if (trace) traceCluster(fleet.tracker, clock, trace);

  const wall0 = performance.now();
  const resources = measureResources();
  const created = await fleet.service.create<FleetUpgrade>('FleetUpgrade', 'default', {
    apiVersion: API_VERSION,
    kind: 'FleetUpgrade',
    metadata: { name: 'bench-upgrade', namespace: 'default' },
    spec: { clusterClass: CLUSTER_CLASS_NAME, version: TARGET_VERSION, waves: WAVES, maxInFlight: MAX_IN_FLIGHT, bakeSeconds: BAKE_SECONDS },
  } as FleetUpgrade);
  // The phase is in the FleetUpgrade's status (it belongs to no cluster, so the tracker does not see it): one read
  // every half wall second costs nothing next to the work and does not enter the measure (completedAt does).
  let fu: FleetUpgrade | undefined = created;
  for (;;) {
    fu = await fleet.store.get<FleetUpgrade>('FleetUpgrade', 'default', 'bench-upgrade');
    if (fleetUpgradeFinished(fu?.status?.phase)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const wallSeconds = (performance.now() - wall0) / 1000;
  const use = resources.stop(wallSeconds);
  clearInterval(progress);
  await fleet.runtime.workflows.idle();
  const status = fu!.status!;
  if (status.phase !== 'Succeeded') throw new Error(`the fleet upgrade ended ${status.phase}: ${status.reason ?? ''} ${status.message ?? ''}`);
  const duration = seconds(created.metadata.creationTimestamp, status.completedAt);

  const perClusterBound = CONTROL_PLANE * BOOT_SECONDS + Math.ceil(WORKERS / WORKER_MAX_SURGE) * BOOT_SECONDS;
  const sizes = splitWaves(clusters, { canary: WAVES.canary, batches: WAVES.batches }).map((w) => w.size);
  const rounds = sizes.reduce((n, size) => n + Math.ceil(size / MAX_IN_FLIGHT), 0);
  const bound = rounds * perClusterBound + Math.max(sizes.length - 1, 0) * BAKE_SECONDS;
  const ratio = duration / bound;
  const report = fleet.meter.report();
  const upgraded = status.counts?.succeeded ?? 0;

  // Where the time went: each cluster's own upgrade (its topology set to the FleetUpgrade seeing it done), and
  // each wave from its start to its end.
  const perClusterSeconds = (status.clusters ?? []).map((c) => seconds(c.startedAt, c.completedAt));
  const waveSeconds = (status.waves ?? []).map((w) => seconds(w.startedAt, w.completedAt));

  emit(scenario, 'clusters', clusters, 'clusters');
  emit(scenario, 'machines', clusters * perCluster, 'machines');
  emit(scenario, 'waves', sizes.join('/'), 'clusters');
  emit(scenario, 'maxInFlight', MAX_IN_FLIGHT, 'clusters');
  emit(scenario, 'workerMaxSurge', WORKER_MAX_SURGE, 'machines');
  emit(scenario, 'perClusterBound', perClusterBound, 'simulated s');
  emit(scenario, 'bound', bound, 'simulated s');
  emit(scenario, 'duration', duration, 'simulated s');
  emit(scenario, 'ratio', ratio, 'x');
  emit(scenario, 'perCluster.meanUpgrade', mean(perClusterSeconds), 'simulated s');
  emit(scenario, 'perCluster.maxUpgrade', Math.max(...perClusterSeconds), 'simulated s');
  waveSeconds.forEach((s, i) => {
    emit(scenario, `wave.${status.waves![i]!.name}`, s, 'simulated s');
  });
  emit(scenario, 'wall', wallSeconds, 's');
  emit(scenario, 'wall.ready', wallReady, 's');
  emit(scenario, 'timeScale', timeScale, 'x');
  // Near 1 core, the process (one thread) is the bottleneck: its run time, scaled, is in the duration.
  emit(scenario, 'cpu.cores', use.cpuCores, 'cores');
  if (use.runQueueSeconds !== undefined) emit(scenario, 'cpu.runQueueWait', use.runQueueSeconds, 's');
  emit(scenario, 'memory.peakRss', use.peakRssMb, 'MiB');
  emit(scenario, 'perCluster.standardTransitions', report.standardTransitions / upgraded, 'transitions');
  emit(scenario, 'perCluster.cost', report.totalCost / upgraded, 'USD');
  emit(scenario, 'cost', report.totalCost, 'USD');
  for (const [workflow, byType] of Object.entries(fleet.meter.transitionsByState())) {
    emit(scenario, `executions.${workflow}`, fleet.meter.executionCount(workflow), 'executions');
    for (const [type, n] of Object.entries(byType)) emit(scenario, `transitions.${workflow}.${type}`, n, 'transitions');
  }
  for (const item of report.items.filter((i) => i.cost > 0.001)) emit(scenario, `cost.${item.service}.${item.operation}.${item.resource}`, item.cost, 'USD');
  console.log(
    `fleet: ${clusters} clusters x ${perCluster} machines to ${TARGET_VERSION} in waves ${sizes.join('/')} (maxInFlight ${MAX_IN_FLIGHT}, bake ${BAKE_SECONDS} s, ` +
      `worker maxSurge ${WORKER_MAX_SURGE}, boot ${BOOT_SECONDS} s): ${duration.toFixed(0)} simulated s for a bound of ${rounds} rounds x ${perClusterBound} s + ` +
      `${sizes.length - 1} bakes = ${bound} s, ratio ${ratio.toFixed(3)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}); ` +
      `mean cluster ${mean(perClusterSeconds).toFixed(0)} s; ${wallSeconds.toFixed(1)} s wall at time scale ${timeScale}, ${use.cpuCores.toFixed(2)} cores busy${use.runQueueSeconds !== undefined ? `, ${use.runQueueSeconds.toFixed(0)} s waiting for a CPU` : ''}; ` +
      `${(report.standardTransitions / upgraded).toFixed(1)} Standard transitions and $${(report.totalCost / upgraded).toFixed(4)} per upgraded cluster [${machineFacts()}]`,
  );
  await fleet.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
