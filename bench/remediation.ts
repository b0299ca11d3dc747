/**
 * remediation: the time from an instance's out-of-band termination (SimCloud.kill) to the launch request of
 * the machine that replaces it (the provider's create for the new Machine).
 *
 * The path is the one AWS takes: the termination is an instance state change, which the EventBridge rule
 * delivers to instance-events, which starts reconcile-cluster; here the simulator tells the host
 * (onInstanceStateChange) and the host reconciles the cluster. The reconcile marks the Machine Failed, the
 * MachineHealthCheck asks for remediation, the remediate workflow deletes the Machine, the MachineSet makes a
 * new one and provision-machine launches it.
 *
 * `npm run bench -- remediation`, or `npx tsx bench/remediation.ts [--trials 5]`. The main runs are at time
 * scale 1, so simulated and wall time are the same thing and no run time is inflated by scaling. A second
 * part runs without the event (the sweep, every 60 s, is the only trigger) at time scale 20, to show what
 * the event is worth.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Machine } from '../functions/api/machine.js';
import { scaledClock } from '../local/scaled-clock.js';
import { startBenchFleet, type BenchFleet } from './support/fleet.js';
import { clusterManifests, machineClass } from './support/manifests.js';
import { emit, flag, machineFacts } from './support/output.js';

const WORKERS = 3;
const TARGET_SECONDS = 5;

interface Trial {
  simSeconds: number;
  wallMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function trials(o: { timeScale: number; instanceEvents: boolean; sweepSeconds?: number; count: number }): Promise<Trial[]> {
  const clock = scaledClock({ timeScale: o.timeScale });
  let waiting: { victim: string; resolve: (t: { sim: number; wall: number }) => void } | undefined;
  const launched = new Set<string>();
  const fleet: BenchFleet = await startBenchFleet({
    clock,
    timeScale: o.timeScale,
    instanceEvents: o.instanceEvents,
    ...(o.sweepSeconds !== undefined ? { sweepSeconds: o.sweepSeconds } : {}),
    onLaunch: (spec) => {
      // The first launch request of a machine other than the victim: the replacement's.
      if (waiting && spec.machineName !== waiting.victim && !launched.has(spec.machineUid))
        waiting.resolve({ sim: clock.now().getTime(), wall: performance.now() });
      launched.add(spec.machineUid);
    },
  });
  fleet.tracker.expectMachines(1 + WORKERS);
  await fleet.apply([
    machineClass({ bootSeconds: 0, nodeReadySeconds: 0 }),
    ...clusterManifests('heal', { controlPlane: 1, workers: WORKERS, healthCheck: true }),
  ]);
  const out: Trial[] = [];
  for (let i = 0; i < o.count; i++) {
    await fleet.tracker.until(() => fleet.tracker.convergedClusters() === 1);
    await fleet.runtime.workflows.idle();
    const victim = (await fleet.store.list<Machine>('Machine', 'default')).find((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'heal-md')!;
    const replaced = new Promise<{ sim: number; wall: number }>((resolve) => (waiting = { victim: victim.metadata.name, resolve }));
    const sim0 = clock.now().getTime();
    const wall0 = performance.now();
    if (fleet.cloud.kill(victim.metadata.name, 'default').length !== 1) throw new Error(`no live instance for ${victim.metadata.name}`);
    const at = await replaced;
    waiting = undefined;
    out.push({ simSeconds: (at.sim - sim0) / 1000, wallMs: at.wall - wall0 });
  }
  await fleet.stop();
  return out;
}

export async function run(argv: string[] = []): Promise<void> {
  const scenario = 'remediation';
  const count = Number(flag(argv, 'trials') ?? 5);
  const withEvent = await trials({ timeScale: 1, instanceEvents: true, count });
  withEvent.forEach((t, i) => {
    emit(scenario, `event.trial${i + 1}`, t.simSeconds, 'simulated s');
    emit(scenario, `event.trial${i + 1}.wall`, t.wallMs, 'ms');
  });
  const sims = withEvent.map((t) => t.simSeconds);
  emit(scenario, 'event.median', median(sims), 'simulated s');
  emit(scenario, 'event.max', Math.max(...sims), 'simulated s');
  emit(scenario, 'event.median.wall', median(withEvent.map((t) => t.wallMs)), 'ms');

  const sweepOnly = await trials({ timeScale: 20, instanceEvents: false, sweepSeconds: 60, count: 2 });
  for (const [i, t] of sweepOnly.entries()) emit(scenario, `sweepOnly.trial${i + 1}`, t.simSeconds, 'simulated s');
  const worst = Math.max(...sims);
  console.log(
    `remediation: kill -> replacement's launch request in ${median(sims).toFixed(2)} s median, ${worst.toFixed(2)} s max over ${count} kills ` +
      `(${median(withEvent.map((t) => t.wallMs)).toFixed(0)} ms wall median; target <= ${TARGET_SECONDS} s: ${worst <= TARGET_SECONDS ? 'met' : 'MISSED'}); ` +
      `without the instance event (sweep every 60 s): ${sweepOnly.map((t) => t.simSeconds.toFixed(1)).join(', ')} s [${machineFacts()}]`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
