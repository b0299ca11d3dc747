/**
 * spot: a 100-machine spot pool (60 simulated seconds from launch to a Ready node) whose instances get EC2's
 * two-minute interruption warning at random (the sim class's interruptionsPerHour, seeded) until 1,000 warnings
 * have been recorded. Each warning must be answered within its two minutes: the machine's replacement started at
 * once and Ready before the warned instance's reclaim time, the warned node drained before it.
 *
 * `npm run bench -- spot`, or `npx tsx bench/spot.ts [--time-scale 20] [--interruptions 1000]` (about 8 minutes of wall time).
 * - replacedBeforeTermination: the share of warnings whose replacement's Ready came before the reclaim time
 *   (target >= 0.99). Each warning makes exactly one new Machine (the planners' rule); warnings and new machines
 *   are paired in order, which is exact while replacements are made in the order the warnings came, as they are.
 * - drainedBeforeTermination: the share of warned machines whose DrainingSucceeded was True before the reclaim.
 * - fewestAvailable against floor = replicas - maxUnavailable: the fewest Ready, not deleting workers seen (a
 *   warned machine stops counting at once: interruptions are not the rollout's to budget, as remediations are not).
 * The clock runs --time-scale times faster than the wall clock; the code's own run time is not scaled, so every
 * wall millisecond of work costs time-scale simulated milliseconds of the two minutes: the ratio is pessimistic
 * (on a loaded 2-core machine: 0.997 at 20x, 0.983 at 50x). The misses seen were replacements warned themselves
 * while they booted (two boots, about 122 s). SPOT_DEBUG=1 prints each miss on stderr.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { ApiObject } from '../functions/api/kind.js';
import type { Machine } from '../functions/api/machine.js';
import { isTrue } from '../functions/core/conditions.js';
import { scaledClock } from '../local/scaled-clock.js';
import { startBenchFleet } from './support/fleet.js';
import { clusterManifests, machineClass, type Manifest } from './support/manifests.js';
import { emit, flag, machineFacts } from './support/output.js';

const REPLICAS = 100;
const BOOT_SECONDS = 60;
const NOTICE_SECONDS = 120;
const MAX_SURGE = 10;
const MAX_UNAVAILABLE = 10;
const TARGET = 0.99;
const SPOT_CLASS = 'bench-spot';

const isReady = (m: Machine) => !m.metadata.deletionTimestamp && isTrue(m.status?.conditions, 'Ready');

export async function run(argv: string[] = []): Promise<void> {
  const scenario = 'spot';
  const timeScale = Number(flag(argv, 'time-scale') ?? 20);
  const wanted = Number(flag(argv, 'interruptions') ?? 1000);
  // About one warning every 10 simulated seconds (1,000 over 10,000 s), several in flight at any time.
  const runSeconds = wanted * 10;
  const perHour = (wanted / REPLICAS) * (3600 / runSeconds);
  const clock = scaledClock({ timeScale });

  const warnings: { machine: string; at: number }[] = [];
  let counting = false;
  const fleet = await startBenchFleet({
    clock,
    timeScale,
    onInterruptionNotice: (n, outcome) => {
      if (counting && outcome === 'recorded' && n.kind === 'SpotInterruptionWarning' && warnings.length < wanted)
        warnings.push({ machine: n.machineName, at: Date.parse(n.at) });
    },
  });
  fleet.tracker.expectMachines(1 + REPLICAS);
  const spotClass: Manifest = {
    plural: 'machineclasses',
    object: {
      ...machineClass({ bootSeconds: BOOT_SECONDS, nodeReadySeconds: 0 }).object,
      metadata: { name: SPOT_CLASS, namespace: 'default' },
      spec: { sim: { bootSeconds: BOOT_SECONDS, nodeReadySeconds: 0, interruptionsPerHour: perHour } },
    },
  };
  const cluster = clusterManifests('spot', {
    controlPlane: 1,
    workers: REPLICAS,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: MAX_UNAVAILABLE } },
  }).map((m) => {
    // The control plane on demand, the workers on spot.
    if (m.object.kind !== 'MachineDeployment') return m;
    const spec = m.object['spec'] as { template: { spec: { machineClassRef: { name: string } } } };
    spec.template.spec.machineClassRef = { name: SPOT_CLASS };
    return m;
  });
  await fleet.apply([machineClass({ bootSeconds: BOOT_SECONDS, nodeReadySeconds: 0 }), spotClass, ...cluster]);
  await fleet.tracker.until(() => fleet.tracker.convergedClusters() === 1);

  // Every write of a worker: when it was first seen (created), when first Ready, when drained; the fewest available.
  const created: string[] = [];
  const createdAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const drainedAt = new Map<string, number>();
  const workers = new Map<string, Machine>();
  for (const m of await fleet.store.list<Machine>('Machine', 'default'))
    if (m.metadata.labels?.['clusterless.dev/deployment-name'] === 'spot-md') workers.set(m.metadata.name, m);
  let fewestAvailable = Infinity;
  let lastWarningSettled: (() => void) | undefined;
  const settled = new Promise<void>((r) => (lastWarningSettled = r));
  fleet.tracker.onWrite((obj: ApiObject) => {
    if (obj.kind !== 'Machine' || (obj as Machine).metadata.labels?.['clusterless.dev/deployment-name'] !== 'spot-md') return;
    const m = obj as Machine;
    const now = clock.now().getTime();
    const name = m.metadata.name;
    if (!workers.has(name) && !createdAt.has(name)) {
      createdAt.set(name, now);
      created.push(name);
    }
    if (isReady(m) && !readyAt.has(name)) readyAt.set(name, now);
    if (isTrue(m.status?.conditions, 'DrainingSucceeded') && !drainedAt.has(name)) drainedAt.set(name, now);
    if (m.metadata.deletionTimestamp && !m.metadata.finalizers?.length) workers.delete(name);
    else workers.set(name, m);
    fewestAvailable = Math.min(fewestAvailable, [...workers.values()].filter(isReady).length);
    if (warnings.length >= wanted && now > warnings[wanted - 1]!.at + (NOTICE_SECONDS + 30) * 1000) lastWarningSettled?.();
  });

  const sim0 = clock.now().getTime();
  const wall0 = performance.now();
  counting = true;
  // The host's timer: random warnings are sent once their simulated second has come (those due while the pool
  // was made come at once, counted too).
  const delivery = setInterval(() => fleet.cloud.deliverDueNotices(), Math.max(10, 1000 / timeScale));
  // Settled: the last warning's reclaim time passed and a write seen after it (writes keep coming while warned).
  const tick = setInterval(() => {
    if (warnings.length >= wanted && clock.now().getTime() > warnings[wanted - 1]!.at + (NOTICE_SECONDS + 30) * 1000) lastWarningSettled?.();
  }, 200);
  await settled;
  clearInterval(tick);
  clearInterval(delivery);
  counting = false;
  const simSeconds = (clock.now().getTime() - sim0) / 1000;
  const wallSeconds = (performance.now() - wall0) / 1000;

  // Pair each warning with the new machine made for it, in order. A replacement warned itself before it was Ready
  // is followed to its own replacement: the capacity the first warning asked for is that one.
  const warningOf = new Map(warnings.map((w, i) => [w.machine, i] as const));
  const readyOfReplacement = (i: number, depth = 0): number | undefined => {
    const made = created[i];
    if (made === undefined || depth > 10) return undefined;
    const ready = readyAt.get(made);
    if (ready !== undefined) return ready;
    const j = warningOf.get(made);
    return j === undefined ? undefined : readyOfReplacement(j, depth + 1);
  };
  let replaced = 0;
  let drained = 0;
  for (const [i, w] of warnings.entries()) {
    const reclaim = w.at + NOTICE_SECONDS * 1000;
    const ready = readyOfReplacement(i);
    if (ready !== undefined && ready < reclaim) replaced++;
    // A machine warned before its node was Ready has nothing to drain.
    const d = readyAt.has(w.machine) ? drainedAt.get(w.machine) : w.at;
    if (d !== undefined && d < reclaim) drained++;
    if (process.env['SPOT_DEBUG'] && (ready === undefined || ready >= reclaim || d === undefined || d >= reclaim))
      console.error(
        JSON.stringify({ i, machine: w.machine, made: created[i], readyAfter: ready && (ready - w.at) / 1000, drainedAfter: d && (d - w.at) / 1000 }),
      );
  }
  const ratio = replaced / Math.max(1, warnings.length);
  const drainedRatio = drained / Math.max(1, warnings.length);
  const floor = REPLICAS - MAX_UNAVAILABLE;
  await fleet.runtime.workflows.idle();

  emit(scenario, 'replicas', REPLICAS, 'machines');
  emit(scenario, 'interruptions', warnings.length, 'warnings');
  emit(scenario, 'replacementsMade', created.length, 'machines');
  emit(scenario, 'replacedBeforeTermination', ratio, 'ratio');
  emit(scenario, 'drainedBeforeTermination', drainedRatio, 'ratio');
  emit(scenario, 'fewestAvailable', fewestAvailable, 'machines');
  emit(scenario, 'floor', floor, 'machines');
  emit(scenario, 'duration', simSeconds, 'simulated s');
  emit(scenario, 'wall', wallSeconds, 's');
  emit(scenario, 'timeScale', timeScale, 'x');
  console.log(
    `spot: ${REPLICAS} spot machines, ${BOOT_SECONDS} s boots, ${warnings.length} interruption warnings over ${simSeconds.toFixed(0)} simulated s: ` +
      `${(ratio * 100).toFixed(1)} % replaced before termination (target >= ${TARGET * 100} %: ${ratio >= TARGET ? 'met' : 'MISSED'}), ` +
      `${(drainedRatio * 100).toFixed(1)} % drained before it; ${created.length} replacements made; at least ${fewestAvailable} available against ` +
      `replicas - maxUnavailable = ${floor}; ${wallSeconds.toFixed(1)} s wall at time scale ${timeScale} [${machineFacts()}]`,
  );
  await fleet.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
