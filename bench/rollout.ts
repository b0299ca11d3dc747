/**
 * rollout: a version change of a 50-node MachineDeployment (RollingUpdate, maxSurge 10, maxUnavailable 0)
 * whose machines take 60 simulated seconds from launch to a Ready node. The physical bound is
 * waves x boot time = ceil(50 / 10) x 60 s = 300 simulated seconds: no rollout that keeps every replica
 * available can be faster. The ratio is the rollout's simulated duration over that bound.
 *
 * `npm run bench -- rollout`, or `npx tsx bench/rollout.ts [--time-scale 10]`. The clock runs --time-scale
 * times faster than the wall clock (Waits, boots, polls and requeues all follow it); the code's own run time
 * is not scaled, so each wall millisecond of work counts as time-scale simulated milliseconds: the ratio is,
 * if anything, pessimistic. The rollout is timed from the PATCH of the version to the first write that shows
 * it complete (every replica updated and available, no old machine left).
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { ApiObject } from '../functions/api/kind.js';
import type { MachineDeployment } from '../functions/api/machine-deployment.js';
import type { Machine } from '../functions/api/machine.js';
import { isTrue } from '../functions/core/conditions.js';
import { machineDeploymentRolloutComplete } from '../functions/core/machinedeployment/index.js';
import { scaledClock } from '../local/scaled-clock.js';
import { API_ROOT, startBenchFleet } from './support/fleet.js';
import { clusterManifests, machineClass } from './support/manifests.js';
import { emit, flag, machineFacts } from './support/output.js';

const REPLICAS = 50;
const MAX_SURGE = 10;
const BOOT_SECONDS = 60;
const TARGET_RATIO = 1.2;

/** A patch release: workers may not move to a newer minor than the control plane runs (functions/api/version-skew.ts). */
const TARGET_VERSION = 'v1.31.3';
const isReady = (m: Machine) => !m.metadata.deletionTimestamp && isTrue(m.status?.conditions, 'Ready');

export async function run(argv: string[] = []): Promise<void> {
  const scenario = 'rollout';
  const timeScale = Number(flag(argv, 'time-scale') ?? 10);
  const clock = scaledClock({ timeScale });
  const fleet = await startBenchFleet({ clock, timeScale });
  // One control-plane machine: the control plane plays no part in a worker rollout.
  fleet.tracker.expectMachines(1 + REPLICAS);
  await fleet.apply([
    machineClass({ bootSeconds: BOOT_SECONDS, nodeReadySeconds: 0 }),
    ...clusterManifests('roll', {
      controlPlane: 1,
      workers: REPLICAS,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: 0 } },
    }),
  ]);
  await fleet.tracker.until(() => fleet.tracker.convergedClusters() === 1);
  await fleet.runtime.workflows.idle();

  // Every write of a worker machine: the most machines at once and the fewest available, for the record.
  const workers = new Map<string, Machine>();
  let most = 0;
  let fewestAvailable = Infinity;
  let done: ((at: { sim: number; wall: number }) => void) | undefined;
  const finished = new Promise<{ sim: number; wall: number }>((r) => (done = r));
  let patched = false;
  fleet.tracker.onWrite((obj: ApiObject) => {
    if (obj.kind === 'Machine' && (obj as Machine).metadata.labels?.['clusterless.dev/deployment-name'] === 'roll-md') {
      const m = obj as Machine;
      if (m.metadata.deletionTimestamp && !m.metadata.finalizers?.length) workers.delete(m.metadata.name);
      else workers.set(m.metadata.name, m);
      if (patched) {
        most = Math.max(most, [...workers.values()].filter((x) => !x.metadata.deletionTimestamp).length);
        fewestAvailable = Math.min(fewestAvailable, [...workers.values()].filter(isReady).length);
      }
    }
    if (
      patched &&
      obj.kind === 'MachineDeployment' &&
      machineDeploymentRolloutComplete(obj as MachineDeployment) &&
      (obj as MachineDeployment).spec.template.spec.version === TARGET_VERSION
    )
      done?.({ sim: clock.now().getTime(), wall: performance.now() });
  });
  for (const m of await fleet.store.list<Machine>('Machine', 'default'))
    if (m.metadata.labels?.['clusterless.dev/deployment-name'] === 'roll-md') workers.set(m.metadata.name, m);
  fleet.meter.reset();

  const sim0 = clock.now().getTime();
  const wall0 = performance.now();
  patched = true;
  const r = await fleet.api('PATCH', `${API_ROOT}/default/machinedeployments/roll-md`, { spec: { template: { spec: { version: TARGET_VERSION } } } });
  if (r.status !== 200) throw new Error(`PATCH: ${r.status} ${JSON.stringify(r.json)}`);
  const end = await finished;
  const simSeconds = (end.sim - sim0) / 1000;
  const wallSeconds = (end.wall - wall0) / 1000;
  const waves = Math.ceil(REPLICAS / MAX_SURGE);
  const bound = waves * BOOT_SECONDS;
  const ratio = simSeconds / bound;
  await fleet.runtime.workflows.idle();
  const report = fleet.meter.report();

  emit(scenario, 'replicas', REPLICAS, 'machines');
  emit(scenario, 'waves', waves, 'waves');
  emit(scenario, 'bound', bound, 'simulated s');
  emit(scenario, 'duration', simSeconds, 'simulated s');
  emit(scenario, 'wall', wallSeconds, 's');
  emit(scenario, 'timeScale', timeScale, 'x');
  emit(scenario, 'ratio', ratio, 'x');
  emit(scenario, 'mostMachines', most, 'machines');
  emit(scenario, 'fewestAvailable', fewestAvailable, 'machines');
  emit(scenario, 'perNewMachine.standardTransitions', report.standardTransitions / REPLICAS, 'transitions');
  emit(scenario, 'cost', report.totalCost, 'USD');
  for (const [workflow, byType] of Object.entries(fleet.meter.transitionsByState()))
    for (const [type, n] of Object.entries(byType)) emit(scenario, `transitions.${workflow}.${type}`, n, 'transitions');
  for (const workflow of ['reconcile-cluster', 'provision-machine', 'rolling-upgrade'])
    emit(scenario, `executions.${workflow}`, fleet.meter.executionCount(workflow), 'executions');
  for (const item of report.items.filter((i) => i.cost > 0.001)) emit(scenario, `cost.${item.service}.${item.operation}.${item.resource}`, item.cost, 'USD');
  console.log(
    `rollout: ${REPLICAS} machines, maxSurge ${MAX_SURGE}, boot ${BOOT_SECONDS} s: ${simSeconds.toFixed(1)} simulated s for a bound of ${waves} waves x ${BOOT_SECONDS} s = ${bound} s, ` +
      `ratio ${ratio.toFixed(3)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}); ${wallSeconds.toFixed(1)} s wall at time scale ${timeScale}; ` +
      `at most ${most} machines, at least ${fewestAvailable} available; ${(report.standardTransitions / REPLICAS).toFixed(1)} Standard transitions and $${report.totalCost.toFixed(4)} [${machineFacts()}]`,
  );
  await fleet.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
