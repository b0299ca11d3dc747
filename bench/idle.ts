/**
 * idle: a settled fleet (100 clusters of 50 nodes: 3 control-plane and 47 workers) for one simulated day in
 * which nothing changes: the AWS API calls, the state transitions and the priced cost, extrapolated to a
 * month (30 days) and divided per cluster.
 *
 * The sweep is driven the AWS way, not the local runtime's way. On AWS (infra/: SweepSchedule) EventBridge
 * Scheduler invokes the sweep function every minute; it lists four kinds through the kind index and starts
 * reconcile-cluster only for clusters with drift (functions/handlers/sweep.ts). The local runtime's sweep, in
 * contrast, reconciles every cluster, so it is switched off here, and each simulated minute this scenario runs
 * the sweep function's `sweep` on the metered store, counts one Scheduler invocation and one sweep Lambda
 * invocation (its duration measured here), and turns each reconcile it starts into a trigger of the runtime.
 * The clock is frozen after the fleet converges and advanced one minute per sweep, so a day takes as long as
 * 1,440 sweeps take to run.
 *
 * On AWS the sweep function waits on DynamoDB pages; here it reads memory, so its measured duration is low.
 * The report also prices the sweep at 1 s per invocation to show how little that matters.
 *
 * `npm run bench -- idle` (100 clusters), `npm run bench -- idle-quick` (20), or
 * `npx tsx bench/idle.ts [--clusters N] [--minutes M] [--health-checks [--no-probe]]`. With --health-checks
 * every cluster has a MachineHealthCheck. The sweep then lists each such cluster's nodes (the fleet's node
 * reader, the simulated cloud's) and reconciles it only when a node calls for it; a list is not an AWS call
 * and is metered as nothing, but the Cluster read that kubeconfigFor makes on AWS before it is metered (kept
 * as the sweep keeps it, KUBECONFIG_KEEP_SECONDS), and the probes' time is part of the sweep's measured
 * duration. The Secrets Manager reads behind a kubeconfig on AWS (one per cluster per 30 min) are not in the
 * meter's price table: they are estimated on their own line. --no-probe drives the sweep without a node
 * reader, as before: every health-checked cluster is reconciled every minute.
 *
 * After the idle day a trial (not metered) checks that a node going NotReady is still picked up: one worker
 * node of the first cluster reports Ready=False, and the next sweep must start a reconcile of that cluster and
 * of no other; the bench fails otherwise.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { LAMBDA_MEMORY_MB } from '../functions/metering/index.js';
import { WORKLOAD_CREDENTIALS_SECONDS } from '../functions/adapters/kubeadm/index.js';
import type { Machine } from '../functions/api/machine.js';
import { keptKubeconfigs, sweep, type SweepDeps } from '../functions/handlers/sweep.js';
import { NodeReaderUnavailableError, type NodeReader, type Workflows } from '../functions/ports.js';
import { BenchClock } from './support/clock.js';
import { startBenchFleet } from './support/fleet.js';
import { clusterManifests, machineClass } from './support/manifests.js';
import { emit, flag, machineFacts } from './support/output.js';

const CONTROL_PLANE = 3;
const WORKERS = 47;
const TARGET_PER_CLUSTER_MONTH = 0.05;
const TIME_SCALE = 100;
/**
 * Outside the meter's price table (functions/metering/prices.ts), list prices of us-east-1 as published on
 * https://aws.amazon.com/secrets-manager/pricing/ ($0.05 per 10,000 API calls) and
 * https://aws.amazon.com/kms/pricing/ ($0.03 per 10,000 symmetric requests); not re-read for this estimate.
 */
const SECRETS_MANAGER_PER_CALL = 0.05 / 10_000;
const KMS_PER_REQUEST = 0.03 / 10_000;

export async function run(argv: string[] = []): Promise<void> {
  const clusters = Number(flag(argv, 'clusters') ?? 100);
  const minutes = Number(flag(argv, 'minutes') ?? 1440);
  const healthChecks = argv.includes('--health-checks');
  const probe = healthChecks && !argv.includes('--no-probe');
  const scenario = flag(argv, 'scenario') ?? `idle${clusters === 100 ? '' : `-${clusters}`}${healthChecks ? '-mhc' : ''}${healthChecks && !probe ? '-noprobe' : ''}`;
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

  // The sweep function's reconcile starts become the runtime's triggers (one reconcile at a time per cluster).
  let started: string[] = [];
  const workflows: Workflows = {
    start: async (_workflow, _name, input) => {
      const namespace = String(input['namespace']);
      const clusterName = String(input['clusterName']);
      started.push(`${namespace}/${clusterName}`);
      fleet.runtime.trigger(namespace, clusterName);
      return { started: true };
    },
  };
  // On AWS kubeconfigFor reads the Cluster (its spec names the endpoint) before the list, and the sweep keeps
  // what it answers for KUBECONFIG_KEEP_SECONDS: the same keeping here, over a metered read of the Cluster.
  const simNodes = fleet.runtime.deps.nodes;
  const kubeconfigFor = keptKubeconfigs(async (namespace, clusterName) => ((await fleet.runtime.store.get('Cluster', namespace, clusterName)) ? 'sim' : undefined), clock);
  const nodes: NodeReader = {
    listNodes: async (namespace, clusterName) => {
      if (!(await kubeconfigFor(namespace, clusterName))) throw new NodeReaderUnavailableError(`no kubeconfig for ${namespace}/${clusterName}`);
      return simNodes.listNodes(namespace, clusterName);
    },
  };
  const quiet = { debug: () => {}, info: () => {}, error: () => {} };
  const deps: SweepDeps = { store: fleet.runtime.store, workflows, log: quiet, ...(probe ? { nodes } : {}) };

  const t0 = performance.now();
  let sweepMs = 0;
  let drifting = 0;
  let probed = 0;
  for (let minute = 0; minute < minutes; minute++) {
    clock.advance(60);
    fleet.meter.recordSchedulerInvocation();
    started = [];
    const begun = performance.now();
    const result = await sweep(deps);
    const ms = performance.now() - begun;
    sweepMs += ms;
    fleet.meter.recordLambda('sweep', ms);
    drifting += result.started;
    probed += result.probed;
    if (result.started) await fleet.runtime.workflows.idle();
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
  emit(scenario, 'probedClusterSweeps', probed, 'probes');
  // Not metered: each kubeconfig behind a probe costs one GetSecretValue (and its KMS Decrypt) per cluster per
  // half credential lifetime, in a warm sweep; cold starts add one each.
  const credentials = probe ? ((30 * 86_400) / (WORKLOAD_CREDENTIALS_SECONDS / 2)) * (SECRETS_MANAGER_PER_CALL + KMS_PER_REQUEST) : 0;
  emit(scenario, 'perClusterMonth.probeCredentialsEstimate', credentials, 'USD');

  // The trial (with health checks): a worker node of the first cluster goes NotReady; the next sweep must
  // reconcile that cluster, and with the probe no other.
  const victimCluster = 'idle000';
  let trialFailure: string | undefined;
  if (healthChecks) {
    const victim = (await fleet.store.list<Machine>('Machine', 'default')).find(
      (m) => m.spec.clusterName === victimCluster && m.metadata.labels?.['clusterless.dev/deployment-name'] === `${victimCluster}-md`,
    );
    if (!victim) throw new Error(`no worker machine of ${victimCluster}`);
    fleet.cloud.setNodeCondition(victim.metadata.name, { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'set by the idle bench' }, 'default');
    clock.advance(60);
    started = [];
    await sweep(deps);
    await fleet.runtime.workflows.idle();
    const pickedUp = started.includes(`default/${victimCluster}`) && (!probe || started.length === 1);
    emit(scenario, 'notReadyTrial.pickedUp', pickedUp ? 1 : 0, 'bool');
    emit(scenario, 'notReadyTrial.reconcilesStarted', started.length, 'reconciles');
    if (!pickedUp) trialFailure = `a NotReady node of ${victimCluster} was not picked up by the next sweep alone: it started ${started.length} reconcile(s) ${JSON.stringify(started.slice(0, 5))}`;
  }
  console.log(
    `${scenario}: ${clusters} clusters x ${perCluster} nodes idle for ${minutes} simulated min (${wall.toFixed(0)} s wall): per cluster-day ${perDay(apiCalls).toFixed(1)} AWS API calls, ` +
      `${perDay(report.standardTransitions + report.expressTransitions).toFixed(1)} state transitions, ${drifting} drift reconciles; $${monthly.toFixed(4)} per cluster-month ` +
      `${credentials ? `(+ $${credentials.toFixed(4)} estimated Secrets Manager and KMS behind the probes) ` : ''}` +
      `(target <= $${TARGET_PER_CLUSTER_MONTH}: ${monthly + credentials <= TARGET_PER_CLUSTER_MONTH ? 'met' : 'MISSED'}) [${machineFacts()}]`,
  );
  await fleet.stop();
  if (trialFailure) throw new Error(trialFailure);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
