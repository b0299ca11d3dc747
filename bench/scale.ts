/**
 * scale: N clusters of 3 control-plane and 10 worker machines, from nothing to all Ready, with zero simulated
 * boot time, on the embedded host's runtime (real state machines on the local ASL engine, the real task code)
 * over a store (memory by default; `--store` picks the embedded host's SQLite or dynalite) and the simulated
 * cloud, in this one process.
 *
 * `npm run bench -- scale` (1,000 clusters), `npm run bench -- scale-quick` (50), `npm run bench -- scale-10k`
 * (10,000, through the SQLite store `npm start` uses), or
 * `npx tsx bench/scale.ts --clusters N [--store memory|dynalite|sqlite] [--no-meter] [--target-seconds S] [--target-rss-mib M]`. Reports wall time and CPU from the first create to the last cluster
 * Ready, peak memory, and the work per machine the cost meter counted once everything has settled.
 *
 * Reference: Cluster API with its in-memory provider brought 1,000 single-node clusters to Ready in about
 * 15 minutes on a 12-core laptop. Target here: under 10 minutes for 1,000 x 13 machines on 2 cores.
 *
 * Triggers are the runtime's: every write starts a reconcile of its cluster (the DynamoDB stream's job on
 * AWS). The runtime's own sweep is off, so every execution counted is one the writes asked for.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { scaledClock } from '../local/scaled-clock.js';
import { BENCH_STORES, startBenchFleet, type BenchStoreKind } from './support/fleet.js';
import { clusterManifests, machineClass } from './support/manifests.js';
import { emit, flag, machineFacts, measureResources } from './support/output.js';

const CONTROL_PLANE = 3;
const WORKERS = 10;
const TARGET_SECONDS_AT_1000 = 600;
const TIME_SCALE = 100;

export async function run(argv: string[] = []): Promise<void> {
  const clusters = Number(flag(argv, 'clusters') ?? 1000);
  const scenario = flag(argv, 'scenario') ?? (clusters === 1000 ? 'scale' : `scale-${clusters}`);
  const perCluster = CONTROL_PLANE + WORKERS;
  const machines = clusters * perCluster;
  const clock = scaledClock({ timeScale: TIME_SCALE });
  const metered = !argv.includes('--no-meter');
  const storeKind = (flag(argv, 'store') ?? 'memory') as BenchStoreKind;
  if (!BENCH_STORES.includes(storeKind)) throw new Error(`--store must be one of ${BENCH_STORES.join(', ')}, not ${storeKind}`);
  const fleet = await startBenchFleet({ clock, timeScale: TIME_SCALE, meter: metered, store: storeKind });
  fleet.tracker.expectMachines(perCluster);
  await fleet.apply([machineClass({ bootSeconds: 0, nodeReadySeconds: 0 })]);
  fleet.meter.reset();

  const progress = setInterval(() => {
    process.stderr.write(
      `scale: ${fleet.tracker.convergedClusters()}/${clusters} clusters, ${fleet.tracker.readyMachines()}/${machines} machines Ready, ${fleet.runtime.workflows.runningCount} executions running\n`,
    );
  }, 15_000);
  progress.unref();

  const resources = measureResources();
  const t0 = performance.now();
  for (let i = 0; i < clusters; i++) {
    await fleet.apply(clusterManifests(`c${String(i).padStart(4, '0')}`, { controlPlane: CONTROL_PLANE, workers: WORKERS }));
    // A client's requests reach a host as separate events; applied in one chain of promises, the clusters would
    // starve the runtime's timers (waits, retries, requeues) until the last was in, and pile up in memory.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const applied = (performance.now() - t0) / 1000;
  await fleet.tracker.until(() => fleet.tracker.convergedClusters() === clusters);
  const wall = (performance.now() - t0) / 1000;
  const use = resources.stop(wall);
  // The last writes start a few more reconciles (which find nothing to do): count them too.
  await fleet.runtime.workflows.idle();
  clearInterval(progress);
  const settled = (performance.now() - t0) / 1000;

  if (!metered) {
    emit(scenario, 'unmetered.wall.ready', wall, 's');
    emit(scenario, 'unmetered.cpu', use.cpuSeconds, 's');
    console.log(
      `${scenario} (no meter): ${clusters} clusters x ${perCluster} machines Ready in ${wall.toFixed(1)} s, CPU ${use.cpuSeconds.toFixed(0)} s [${machineFacts()}]`,
    );
    return fleet.stop();
  }
  const m = fleet.meter;
  const report = m.report();
  const objectWrites = m.dynamoDb('PutItem', 'object').requests + m.dynamoDb('DeleteItem', 'object').requests;
  emit(scenario, 'store', storeKind, 'store');
  emit(scenario, 'clusters', clusters, 'clusters');
  emit(scenario, 'machines', machines, 'machines');
  emit(scenario, 'wall', wall, 's');
  emit(scenario, 'wall.ready', wall, 's');
  emit(scenario, 'wall.applied', applied, 's');
  emit(scenario, 'wall.settled', settled, 's');
  emit(scenario, 'cpu', use.cpuSeconds, 's');
  emit(scenario, 'cpu.cores', use.cpuCores, 'cores');
  emit(scenario, 'memory.peakRss', use.peakRssMb, 'MiB');
  emit(scenario, 'memory.peakHeap', use.peakHeapMb, 'MiB');
  emit(scenario, 'throughput', machines / wall, 'machines/s');
  emit(scenario, 'perMachine.standardTransitions', report.standardTransitions / machines, 'transitions');
  emit(scenario, 'perMachine.provisionTransitions', m.transitionCount('provision-machine') / machines, 'transitions');
  emit(scenario, 'perMachine.allTransitions', (report.standardTransitions + report.expressTransitions) / machines, 'transitions');
  emit(scenario, 'perMachine.taskInvocations', report.lambdaInvocations / machines, 'invocations');
  emit(scenario, 'perMachine.storeWrites', objectWrites / machines, 'writes');
  emit(scenario, 'perMachine.writeUnits', report.writeRequestUnits / machines, 'WRU');
  emit(scenario, 'perMachine.readUnits', report.readRequestUnits / machines, 'RRU');
  emit(scenario, 'perMachine.ec2Calls', report.ec2ApiCalls / machines, 'calls');
  emit(scenario, 'perCluster.reconcileExecutions', m.executionCount('reconcile-cluster') / clusters, 'executions');
  emit(scenario, 'perMachine.cost', report.totalCost / machines, 'USD');
  for (const [workflow, byType] of Object.entries(m.transitionsByState()))
    for (const [type, n] of Object.entries(byType)) emit(scenario, `transitions.${workflow}.${type}`, n, 'transitions');

  const target = Number(flag(argv, 'target-seconds') ?? (TARGET_SECONDS_AT_1000 * clusters) / 1000);
  const rssTarget = flag(argv, 'target-rss-mib');
  const rssVerdict = rssTarget ? `; peak RSS <= ${rssTarget} MiB: ${use.peakRssMb <= Number(rssTarget) ? 'met' : 'MISSED'}` : '';
  const perMachine = report.standardTransitions / machines;
  console.log(
    `${scenario}: ${clusters} clusters x ${perCluster} machines Ready in ${wall.toFixed(1)} s (${(machines / wall).toFixed(0)} machines/s, ` +
      `CPU ${use.cpuSeconds.toFixed(0)} s, peak RSS ${use.peakRssMb.toFixed(0)} MiB); per machine ${perMachine.toFixed(2)} Standard transitions ` +
      `(${((report.standardTransitions + report.expressTransitions) / machines).toFixed(2)} with Express), ${(report.lambdaInvocations / machines).toFixed(2)} task invocations, ` +
      `${(objectWrites / machines).toFixed(2)} store writes, $${(report.totalCost / machines).toFixed(6)}; ` +
      `store ${storeKind}; target < ${target.toFixed(0)} s: ${wall < target ? 'met' : 'MISSED'}${rssVerdict}; <= 12 transitions/machine: ${perMachine <= 12 ? 'met' : 'MISSED'} [${machineFacts()}]`,
  );
  await fleet.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
