/**
 * idle: a settled fleet (100 clusters of 50 nodes: 3 control-plane and 47 workers) for one simulated day in
 * which nothing changes: the AWS API calls, the state transitions and the priced cost, extrapolated to a
 * month (30 days) and divided per cluster.
 *
 * The sweep is driven the AWS way, not the local runtime's way. On AWS (infra/: SweepSchedule) EventBridge
 * Scheduler invokes the sweep function every minute; it lists five kinds through the kind index and starts
 * reconcile-cluster only for clusters with drift (functions/handlers/sweep.ts: readFleet, clustersWithDrift).
 * The local runtime's sweep, in contrast, reconciles every cluster, so it is switched off here, and each
 * simulated minute this scenario runs readFleet and clustersWithDrift on the metered store, counts one
 * Scheduler invocation and one sweep Lambda invocation (its duration measured here), and starts a reconcile
 * for each drifting cluster as the sweep function would. The clock is frozen after the fleet converges and
 * advanced one minute per sweep, so a day takes as long as 1,440 sweeps take to run.
 *
 * On AWS the sweep function waits on DynamoDB pages; here it reads memory, so its measured duration is low.
 * The report also prices the sweep at 1 s per invocation to show how little that matters.
 *
 * `npm run bench -- idle` (100 clusters), `npm run bench -- idle-quick` (20), or
 * `npx tsx bench/idle.ts [--clusters N] [--minutes M] [--health-checks]`. With --health-checks every cluster
 * has a MachineHealthCheck, and the AWS sweep reconciles such clusters every minute (their timeouts pass
 * without a write to trigger on).
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { LAMBDA_MEMORY_MB } from '../functions/metering/index.js';
import { clustersWithDrift, readFleet } from '../functions/handlers/sweep.js';
import { BenchClock } from './support/clock.js';
import { startBenchFleet } from './support/fleet.js';
import { clusterManifests, machineClass } from './support/manifests.js';
import { emit, flag, machineFacts } from './support/output.js';

const CONTROL_PLANE = 3;
const WORKERS = 47;
const TARGET_PER_CLUSTER_MONTH = 0.05;
const TIME_SCALE = 100;

export async function run(argv: string[] = []): Promise<void> {
  const clusters = Number(flag(argv, 'clusters') ?? 100);
  const minutes = Number(flag(argv, 'minutes') ?? 1440);
  const healthChecks = argv.includes('--health-checks');
  const scenario = flag(argv, 'scenario') ?? `idle${clusters === 100 ? '' : `-${clusters}`}${healthChecks ? '-mhc' : ''}`;
  const perCluster = CONTROL_PLANE + WORKERS;
  const clock = new BenchClock(TIME_SCALE);
  const fleet = await startBenchFleet({ clock, timeScale: TIME_SCALE });
  fleet.tracker.expectMachines(perCluster);
  await fleet.apply([machineClass({ bootSeconds: 0, nodeReadySeconds: 0 })]);
  for (let i = 0; i < clusters; i++)
    await fleet.apply(clusterManifests(`idle${String(i).padStart(3, '0')}`, { controlPlane: CONTROL_PLANE, workers: WORKERS, healthCheck: healthChecks }));
  await fleet.tracker.until(() => fleet.tracker.convergedClusters() === clusters);
  await fleet.runtime.workflows.idle();
  clock.freeze();
  fleet.meter.reset();
  const executionsBefore = fleet.runtime.workflows.list().length;

  const t0 = performance.now();
  let sweepMs = 0;
  let drifting = 0;
  for (let minute = 0; minute < minutes; minute++) {
    clock.advance(60);
    fleet.meter.recordSchedulerInvocation();
    const started = performance.now();
    const snapshot = await readFleet(fleet.runtime.store);
    const drift = clustersWithDrift(snapshot);
    for (const d of drift) fleet.runtime.trigger(d.namespace, d.clusterName);
    const ms = performance.now() - started;
    sweepMs += ms;
    fleet.meter.recordLambda('sweep', ms);
    drifting += drift.length;
    if (drift.length) await fleet.runtime.workflows.idle();
  }
  const wall = (performance.now() - t0) / 1000;
  const report = fleet.meter.report();
  const toMonth = (30 * 1440) / minutes;
  const perClusterMonth = (x: number) => (x * toMonth) / clusters;
  const m = fleet.meter;
  const dynamoRequests = m.dynamoDb().requests;
  const executions = m.executionCount();
  const apiCalls = dynamoRequests + report.ec2ApiCalls + executions + report.lambdaInvocations + report.schedulerInvocations;
  const perDay = (x: number) => (x * 1440) / minutes / clusters;
  const monthly = perClusterMonth(report.totalCost);
  const sweepMean = sweepMs / minutes;
  // The sweep's Lambda duration priced at 1 s each instead of the measured in-memory time.
  const lambdaPrices = fleet.meter.prices.lambda;
  const sweepAt1s = perClusterMonth(minutes * ((LAMBDA_MEMORY_MB.sweep / 1024) * lambdaPrices.arm64PerGbSecond + lambdaPrices.perRequest));

  emit(scenario, 'clusters', clusters, 'clusters');
  emit(scenario, 'machines', clusters * perCluster, 'machines');
  emit(scenario, 'simulatedMinutes', minutes, 'min');
  emit(scenario, 'wall', wall, 's');
  emit(scenario, 'perClusterDay.apiCalls', perDay(apiCalls), 'calls');
  emit(scenario, 'perClusterDay.dynamoDbRequests', perDay(dynamoRequests), 'requests');
  emit(scenario, 'perClusterDay.ec2Calls', perDay(report.ec2ApiCalls), 'calls');
  emit(scenario, 'perClusterDay.executions', perDay(executions), 'executions');
  emit(scenario, 'perClusterDay.lambdaInvocations', perDay(report.lambdaInvocations), 'invocations');
  emit(scenario, 'perClusterDay.schedulerInvocations', perDay(report.schedulerInvocations), 'invocations');
  emit(scenario, 'perClusterDay.standardTransitions', perDay(report.standardTransitions), 'transitions');
  emit(scenario, 'perClusterDay.expressTransitions', perDay(report.expressTransitions), 'transitions');
  emit(scenario, 'perClusterDay.readUnits', perDay(report.readRequestUnits), 'RRU');
  emit(scenario, 'perClusterDay.writeUnits', perDay(report.writeRequestUnits), 'WRU');
  emit(scenario, 'driftingClusterSweeps', drifting, 'reconciles');
  emit(scenario, 'sweep.meanDuration', sweepMean, 'ms');
  emit(scenario, 'perClusterMonth.cost', monthly, 'USD');
  emit(scenario, 'perClusterMonth.dynamoDbCost', perClusterMonth(report.dynamoDbCost), 'USD');
  emit(scenario, 'perClusterMonth.lambdaCost', perClusterMonth(report.lambdaCost), 'USD');
  emit(scenario, 'perClusterMonth.stepFunctionsCost', perClusterMonth(report.stepFunctionsCost), 'USD');
  emit(scenario, 'perClusterMonth.schedulerCost', perClusterMonth(report.schedulerCost), 'USD');
  emit(scenario, 'perClusterMonth.sweepLambdaAt1s', sweepAt1s, 'USD');
  emit(scenario, 'unrequestedExecutions', fleet.runtime.workflows.list().length - executionsBefore - drifting, 'executions');
  console.log(
    `${scenario}: ${clusters} clusters x ${perCluster} nodes idle for ${minutes} simulated min (${wall.toFixed(0)} s wall): per cluster-day ${perDay(apiCalls).toFixed(1)} AWS API calls, ` +
      `${perDay(report.standardTransitions + report.expressTransitions).toFixed(1)} state transitions, ${drifting} drift reconciles; $${monthly.toFixed(4)} per cluster-month ` +
      `(target <= $${TARGET_PER_CLUSTER_MONTH}: ${monthly <= TARGET_PER_CLUSTER_MONTH ? 'met' : 'MISSED'}) [${machineFacts()}]`,
  );
  await fleet.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
