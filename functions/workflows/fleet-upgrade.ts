/**
 * The tasks of the fleet-upgrade state machine (statemachines/fleet-upgrade.ts), over the ports only. Everything
 * the upgrade knows lives in the FleetUpgrade's status, so a repeated, retried or resumed task picks up where the
 * last one left off; the decisions are core/fleet's.
 *
 * - nextWave: freezes the plan the first time, then says what comes next: run a wave (its clusters and
 *   maxInFlight, for the Map), wait while paused, or end (succeeded, aborted, halted).
 * - startCluster: one cluster's turn: sets its topology (a merge patch through the ObjectService, guarded by the
 *   resourceVersion it judged, so the API's rules apply as to a user's patch), or skips it, or leaves it Pending (paused, aborted, halted).
 * - checkCluster: reads the cluster and records where it stands, until it is done, failed or skipped.
 * - afterWave: the wave's outcome and the halt rules, then the bake.
 */
import type { Cluster } from '../api/cluster.js';
import { FLEET_MESSAGE_MAX, type FleetUpgrade, type FleetUpgradeCluster, type FleetUpgradeStatus, fleetUpgradeStarted } from '../api/fleet-upgrade.js';
import { EventReason } from '../api/event.js';
import type { ApiObject } from '../api/kind.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import type { Machine } from '../api/machine.js';
import { ObjectService } from '../api/service/index.js';
import { ApiError } from '../api/http/status.js';
import { setCondition, timestamp } from '../core/conditions.js';
import {
  FleetClusterReason,
  clusterProgress,
  countClusters,
  freezePlan,
  haltDecision,
  nextWave,
  planClusterStart,
  waveOutcome,
  type ClusterVerdict,
} from '../core/fleet/index.js';
import { ConflictError } from '../ports.js';
import type { WorkflowDeps } from './deps.js';
import { ValidationError, requireString } from './errors.js';
import type { FleetRef } from './fleet-upgrade-start.js';

/** Seconds between two looks while paused or baking, and before a wave is run again (before time-scaling). */
export const FLEET_POLL_SECONDS = 30;
/**
 * Seconds from a cluster's topology update to the first look at it, and the shortest wait between two looks. A
 * cluster is seen done up to this long after it is: at 30 s, a 4-minute cluster upgrade took 10 % longer to be
 * seen done (bench/fleet.ts), and every wave waits for its last cluster. Three transitions a look (Wait, Task,
 * Choice): 10 s instead of 30 s costs about 50 more Standard transitions per 4-minute cluster, some 5 % of what its
 * machines' rollout costs. (Waking the loop on the Cluster's TopologyReconciled change, a task token sent from the
 * stream, would need neither.)
 */
export const FLEET_CHECK_SECONDS = 10;
/** The longest wait between two looks at a cluster in flight. */
const MAX_CHECK_SECONDS = 600;
/** Lost races on the FleetUpgrade's status (every cluster of a wave writes it) retried in the task before failing it. */
const STATUS_WRITE_ATTEMPTS = 10;

export type FleetUpgradeStep = 'nextWave' | 'startCluster' | 'checkCluster' | 'afterWave';

function refOf(input: Record<string, unknown>): FleetRef {
  return { namespace: requireString(input, 'namespace'), name: requireString(input, 'name'), uid: requireString(input, 'uid') };
}

function waveOf(input: Record<string, unknown>): number {
  const w = input['wave'];
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 0) throw new ValidationError('task input needs a wave index');
  return w;
}

/** The FleetUpgrade the execution is about; undefined when it is gone or a newer one took its name. */
async function readFleetUpgrade(deps: WorkflowDeps, ref: FleetRef): Promise<FleetUpgrade | undefined> {
  const fu = await deps.store.get<FleetUpgrade>('FleetUpgrade', ref.namespace, ref.name);
  return fu && fu.metadata.uid === ref.uid && !fu.metadata.deletionTimestamp ? fu : undefined;
}

/**
 * Read, change, write the status, again from a fresh read when another task of the same upgrade wrote first.
 * `change` returns undefined to write nothing. Returns the object as written (or as read when nothing changed).
 */
async function updateFleetStatus(
  deps: WorkflowDeps,
  ref: FleetRef,
  change: (fu: FleetUpgrade) => FleetUpgradeStatus | undefined,
): Promise<FleetUpgrade | undefined> {
  for (let attempt = 1; ; attempt++) {
    const fu = await readFleetUpgrade(deps, ref);
    if (!fu) return undefined;
    const status = change(fu);
    if (!status) return fu;
    const counted: FleetUpgradeStatus = status.clusters ? { ...status, counts: countClusters(status.clusters) } : status;
    try {
      return await deps.store.updateStatus<FleetUpgrade>({ ...fu, status: withReady(counted, fu, deps.clock.now()) });
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= STATUS_WRITE_ATTEMPTS) throw err;
    }
  }
}

/** Ready mirrors the phase, so `kubectl wait --for=condition=Ready` waits for a fleet upgrade to succeed. */
function withReady(status: FleetUpgradeStatus, fu: FleetUpgrade, now: Date): FleetUpgradeStatus {
  const phase = status.phase ?? 'Pending';
  const conditions = setCondition(
    status.conditions,
    phase === 'Succeeded'
      ? { type: 'Ready', status: 'True', reason: 'Succeeded' }
      : {
          type: 'Ready',
          status: 'False',
          reason: status.phase === 'Halted' ? (status.reason ?? 'Halted') : phase,
          ...(status.message ? { message: status.message } : {}),
        },
    now,
    fu.metadata.generation,
  );
  return { ...status, conditions, observedGeneration: fu.metadata.generation };
}

function setEntry(status: FleetUpgradeStatus, name: string, change: (c: FleetUpgradeCluster) => FleetUpgradeCluster): FleetUpgradeStatus {
  return { ...status, clusters: (status.clusters ?? []).map((c) => (c.name === name ? change(c) : c)) };
}

/** Every cluster and wave not yet started ends Skipped (reason: the phase); the upgrade ends in `phase`, for `reason`. */
function finish(status: FleetUpgradeStatus, phase: 'Aborted' | 'Halted', reason: string, message: string, now: Date): FleetUpgradeStatus {
  const at = timestamp(now);
  return {
    ...status,
    phase,
    reason,
    message,
    completedAt: at,
    clusters: (status.clusters ?? []).map((c) =>
      c.phase === 'Pending' ? { ...c, phase: 'Skipped', reason: FleetClusterReason[phase], message, completedAt: at } : c,
    ),
    waves: (status.waves ?? []).map((w) => (w.phase === 'Pending' ? { ...w, phase: 'Skipped' } : w)),
  };
}

/** An event on the FleetUpgrade (the recorder never fails its caller). */
function recordEvent(
  deps: WorkflowDeps,
  fu: FleetUpgrade | undefined,
  type: 'Normal' | 'Warning',
  reason: EventReason,
  action: string,
  note: string,
): Promise<void> {
  if (!fu) return Promise.resolve();
  const { namespace, name, uid } = fu.metadata;
  return deps.events.record({
    regarding: { kind: 'FleetUpgrade', namespace, name, ...(uid ? { uid } : {}), apiVersion: fu.apiVersion },
    type,
    reason,
    action,
    note,
    workflow: 'fleet-upgrade',
  });
}

type Next =
  | { next: 'RunWave'; wave: number; maxInFlight: number; clusters: string[] }
  | { next: 'Paused' | 'Retry'; wakeAt: string }
  | { next: 'NextWave' | 'Done' };

/** Freezes the plan on the first call, then decides between waves. */
export async function nextWaveStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<Next> {
  const ref = refOf(input);
  const now = () => deps.clock.now();
  let fu = await readFleetUpgrade(deps, ref);
  if (!fu) return { next: 'Done' };
  if (!fleetUpgradeStarted(fu)) {
    const clusters = await deps.store.list<Cluster>('Cluster', ref.namespace);
    fu = await updateFleetStatus(deps, ref, (f) => (fleetUpgradeStarted(f) ? undefined : freezePlan(f, clusters, now())));
    if (!fu) return { next: 'Done' };
    deps.log.info('fleet upgrade planned', {
      fleetUpgrade: `${ref.namespace}/${ref.name}`,
      clusters: fu.status?.counts?.total,
      waves: fu.status?.waves?.length,
    });
  }
  const decision = nextWave(fu, now());
  switch (decision.kind) {
    case 'done':
      return { next: 'Done' };
    case 'abort': {
      const aborted = await updateFleetStatus(deps, ref, (f) =>
        f.status?.phase === 'Aborted'
          ? undefined
          : finish(f.status ?? {}, 'Aborted', FleetClusterReason.Aborted, 'the upgrade was aborted (spec.abort)', now()),
      );
      const c = aborted?.status?.counts;
      await recordEvent(
        deps,
        aborted,
        'Normal',
        EventReason.FleetUpgradeAborted,
        'Abort',
        `aborted: ${c?.succeeded ?? 0} cluster(s) upgraded stay as they are, ${c?.skipped ?? 0} skipped`,
      );
      return { next: 'Done' };
    }
    case 'pause':
      await updateFleetStatus(deps, ref, (f) => (f.status?.phase === 'Paused' ? undefined : { ...f.status, phase: 'Paused' }));
      return { next: 'Paused', wakeAt: deps.timer.wakeAt(FLEET_POLL_SECONDS) };
    case 'bake':
      // A resume during a bake: the phase is Progressing again while the bake goes on.
      await updateFleetStatus(deps, ref, (f) => (f.status?.phase === 'Progressing' ? undefined : { ...f.status, phase: 'Progressing' }));
      return { next: 'Paused', wakeAt: deps.timer.wakeAt(Math.min(decision.seconds, FLEET_POLL_SECONDS)) };
    case 'succeed': {
      const done = await updateFleetStatus(deps, ref, (f) => ({ ...f.status, phase: 'Succeeded', completedAt: timestamp(now()) }));
      const c = done?.status?.counts;
      await recordEvent(
        deps,
        done,
        'Normal',
        EventReason.FleetUpgradeSucceeded,
        'Upgrade',
        `${c?.succeeded ?? 0} of ${c?.total ?? 0} cluster(s) upgraded to ${fu.spec.version} (${c?.failed ?? 0} failed, ${c?.skipped ?? 0} skipped)`,
      );
      return { next: 'Done' };
    }
    case 'run': {
      const written = await updateFleetStatus(deps, ref, (f) => {
        const waves = (f.status?.waves ?? []).map((w, i) =>
          i === decision.wave && w.phase === 'Pending' ? { ...w, phase: 'InFlight' as const, startedAt: timestamp(now()) } : w,
        );
        return { ...f.status, phase: 'Progressing', currentWave: decision.wave, waves };
      });
      if (!written) return { next: 'Done' };
      const clusters = (written.status?.clusters ?? []).filter((c) => c.wave === decision.wave && (c.phase === 'Pending' || c.phase === 'InFlight'));
      return { next: 'RunWave', wave: decision.wave, maxInFlight: written.spec.maxInFlight, clusters: clusters.map((c) => c.name) };
    }
  }
}

type ClusterNext = { next: 'Wait'; wakeAt: string } | { next: 'End' };

/** The Cluster, its Machines and its MachineHealthChecks, read with one query of the cluster's partition. */
async function observe(deps: WorkflowDeps, namespace: string, clusterName: string) {
  const objects: ApiObject[] = await deps.store.listCluster(namespace, clusterName);
  return {
    cluster: objects.find((o): o is Cluster => o.kind === 'Cluster'),
    machines: objects.filter((o): o is Machine => o.kind === 'Machine'),
    healthChecks: objects.filter((o): o is MachineHealthCheck => o.kind === 'MachineHealthCheck'),
  };
}

function record(verdict: ClusterVerdict, now: Date): (c: FleetUpgradeCluster) => FleetUpgradeCluster {
  return (c) => {
    const { reason: _r, message: _m, ...rest } = c;
    return {
      ...rest,
      phase: verdict.phase,
      ...(verdict.reason ? { reason: verdict.reason } : {}),
      ...(verdict.message ? { message: verdict.message.slice(0, FLEET_MESSAGE_MAX) } : {}),
      ...(verdict.phase !== 'InFlight' && verdict.phase !== 'Pending' ? { completedAt: timestamp(now) } : {}),
    };
  };
}

/**
 * How long until the next look at a cluster in flight: a twentieth of the time it has been upgrading, between
 * FLEET_CHECK_SECONDS and 10 minutes. A slow cluster is looked at less often, so even a 7-day clusterTimeoutSeconds
 * takes about 1,200 looks, within the 25,000 history events of the Step Functions execution that loops over it.
 */
export function checkInterval(entry: FleetUpgradeCluster, now: Date): number {
  const upgrading = entry.startedAt ? (now.getTime() - Date.parse(entry.startedAt)) / 1000 : 0;
  return Math.round(Math.min(MAX_CHECK_SECONDS, Math.max(FLEET_CHECK_SECONDS, upgrading / 20)));
}

const entryOf = (fu: FleetUpgrade, name: string) => fu.status?.clusters?.find((c) => c.name === name);

/**
 * A cluster's turn. The topology is written with the Cluster's resourceVersion as precondition: what was judged
 * (not deleting, the same uid) is what is updated; a lost race reads again. A refusal by the API's rules (a 422:
 * a version skew, a class that does not exist) fails the cluster, as the user's own patch would have been refused.
 */
export async function startClusterStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ClusterNext> {
  const ref = refOf(input);
  const name = requireString(input, 'cluster');
  const now = () => deps.clock.now();
  const service = new ObjectService({ store: deps.store, clock: deps.clock });
  for (let attempt = 1; ; attempt++) {
    const fu = await readFleetUpgrade(deps, ref);
    const entry = fu && entryOf(fu, name);
    if (!fu || !entry) return { next: 'End' };
    if (entry.phase === 'InFlight') return { next: 'Wait', wakeAt: deps.timer.wakeAt(0) };
    if (entry.phase !== 'Pending') return { next: 'End' };
    const cluster = await deps.store.get<Cluster>('Cluster', ref.namespace, name);
    const start = planClusterStart(fu, entry, cluster);
    if (start.action === 'stop') return { next: 'End' };
    // Paused: the cluster stays Pending and its loop ends; the wave is run again once resumed (afterWave, nextWave).
    if (start.action === 'hold') return { next: 'End' };
    if (start.action === 'skip') {
      await updateFleetStatus(deps, ref, (f) => (entryOf(f, name)?.phase === 'Pending' ? setEntry(f.status!, name, record(start.verdict, now())) : undefined));
      return { next: 'End' };
    }
    let updated: Cluster;
    try {
      updated = await service.mergePatch<Cluster>(
        { kind: 'Cluster', namespace: ref.namespace, name },
        { metadata: { resourceVersion: cluster!.metadata.resourceVersion }, spec: { topology: start.topology } },
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 409 && attempt < STATUS_WRITE_ATTEMPTS) continue;
      if (!(err instanceof ApiError) || err.code !== 422) throw err;
      const refused: ClusterVerdict = { phase: 'Failed', reason: FleetClusterReason.UpdateRefused, message: err.message };
      await recordEvent(deps, fu, 'Warning', EventReason.ClusterUpgradeFailed, 'Upgrade', `cluster ${name}: ${refused.reason}: ${err.message}`);
      await updateFleetStatus(deps, ref, (f) => (entryOf(f, name)?.phase === 'Pending' ? setEntry(f.status!, name, record(refused, now())) : undefined));
      return { next: 'End' };
    }
    await updateFleetStatus(deps, ref, (f) =>
      setEntry(f.status!, name, (c) => ({ ...c, phase: 'InFlight', generation: updated.metadata.generation ?? 0, startedAt: timestamp(now()) })),
    );
    deps.log.info('fleet upgrade started a cluster', { fleetUpgrade: `${ref.namespace}/${ref.name}`, cluster: name, version: start.topology.version });
    const from = entry.fromVersion ? ` (from ${entry.fromVersion})` : '';
    await recordEvent(deps, fu, 'Normal', EventReason.ClusterUpgradeStarted, 'Upgrade', `cluster ${name}: topology set to ${start.topology.version}${from}`);
    return { next: 'Wait', wakeAt: deps.timer.wakeAt(FLEET_CHECK_SECONDS) };
  }
}

/** One look at an upgrading cluster: recorded, and looked at again until it is done, failed or skipped. */
export async function checkClusterStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ClusterNext> {
  const ref = refOf(input);
  const name = requireString(input, 'cluster');
  const fu = await readFleetUpgrade(deps, ref);
  const entry = fu && entryOf(fu, name);
  if (!fu || !entry || entry.phase !== 'InFlight') return { next: 'End' };
  const now = deps.clock.now();
  const verdict = clusterProgress(entry, await observe(deps, ref.namespace, name), fu.spec, now);
  if (verdict.phase !== entry.phase || verdict.reason !== entry.reason || verdict.message !== entry.message)
    await updateFleetStatus(deps, ref, (f) =>
      entryOf(f, name)?.phase === 'InFlight' ? setEntry(f.status!, name, record(verdict, deps.clock.now())) : undefined,
    );
  if (verdict.phase === 'Failed') {
    deps.log.warn('fleet upgrade: a cluster failed', { fleetUpgrade: `${ref.namespace}/${ref.name}`, cluster: name, reason: verdict.reason });
    await recordEvent(deps, fu, 'Warning', EventReason.ClusterUpgradeFailed, 'Upgrade', `cluster ${name}: ${verdict.reason}: ${verdict.message ?? ''}`);
  }
  return verdict.phase === 'InFlight' ? { next: 'Wait', wakeAt: deps.timer.wakeAt(checkInterval(entry, now)) } : { next: 'End' };
}

/**
 * After a wave's Map: its outcome and the halt rules. A wave whose clusters are not all finished (an item that
 * failed past its retries) is run again after a poll interval: its items pick up from the status.
 */
export async function afterWaveStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<Next> {
  const ref = refOf(input);
  const wave = waveOf(input);
  const now = () => deps.clock.now();
  let outcome: ReturnType<typeof waveOutcome> = 'InFlight';
  let halted = false;
  const fu = await updateFleetStatus(deps, ref, (f) => {
    const status = f.status ?? {};
    outcome = waveOutcome(wave, status.clusters ?? []);
    // A cluster the budget kept from starting is still Pending: the halt rules decide for it.
    const halt = haltDecision(status.clusters ?? [], f.spec);
    halted = halt !== undefined;
    if (outcome === 'InFlight' && !halt) return undefined;
    const waves = (status.waves ?? []).map((w, i) => (i === wave ? { ...w, phase: halt ? ('Failed' as const) : outcome, completedAt: timestamp(now()) } : w));
    const next = { ...status, waves };
    return halt ? finish(next, 'Halted', halt.reason, halt.message, now()) : next;
  });
  if (!fu || halted) {
    if (halted) {
      deps.log.warn('fleet upgrade halted', { fleetUpgrade: `${ref.namespace}/${ref.name}`, message: fu?.status?.message });
      await recordEvent(deps, fu, 'Warning', EventReason.FleetUpgradeHalted, 'Halt', fu?.status?.message ?? 'halted');
    }
    return { next: 'Done' };
  }
  // An abort leaves the clusters it kept from starting Pending: the next wave decision records it at once.
  if (outcome === 'InFlight') return fu.spec.abort || fu.spec.paused ? { next: 'NextWave' } : { next: 'Retry', wakeAt: deps.timer.wakeAt(FLEET_POLL_SECONDS) };
  const more = (fu.status?.waves ?? []).some((w) => w.phase === 'Pending');
  if (!more || fu.spec.bakeSeconds === 0) return { next: 'NextWave' };
  // The bake is waited out by NextWave, which sees a pause or an abort meanwhile (core/fleet nextWave).
  const bakeUntil = new Date(now().getTime() + fu.spec.bakeSeconds * 1000);
  await updateFleetStatus(deps, ref, (f) => ({
    ...f.status,
    waves: (f.status?.waves ?? []).map((w, i) => (i === wave ? { ...w, bakeUntil: timestamp(bakeUntil) } : w)),
  }));
  return { next: 'NextWave' };
}

const STEPS: Record<FleetUpgradeStep, (deps: WorkflowDeps, input: Record<string, unknown>) => Promise<unknown>> = {
  nextWave: nextWaveStep,
  startCluster: startClusterStep,
  checkCluster: checkClusterStep,
  afterWave: afterWaveStep,
};

/** The task function of fleet-upgrade: one entry, the step named in its input. */
export async function fleetUpgradeTask(deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> {
  const step = STEPS[input['step'] as FleetUpgradeStep];
  if (!step) throw new ValidationError(`unknown fleet-upgrade step ${String(input['step'])}`);
  return step(deps, input);
}
