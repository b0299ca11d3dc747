/**
 * The MachineHealthCheck planner: health-checks the targets, short-circuits when too many are unhealthy, marks
 * the ones to replace within maxInFlight, and asks the remediate workflow to replace worker machines. Learnt
 * from Cluster API's core/reconcilers/machinehealthcheck/machinehealthcheck_controller.go (reconcile,
 * patchUnhealthyTargets, patchHealthyTargets) and core/reconcilers/machineset/machineset_controller.go
 * (reconcileUnhealthyMachines: maxInFlight, remediations in flight, newest first).
 *
 * Remediation is recorded before it is carried out (DESIGN section 4): a machine to replace is first marked
 * with OwnerRemediated=False, reason WaitingForRemediation; from the next reconcile on, a marked machine that is
 * still unhealthy is replaced. The mark is what maxInFlight counts, together with the targets already deleting,
 * so a machine that turns unhealthy later can never take the place of one whose replacement already started.
 *
 * Control-plane machines are marked like any other target, but replaced by the ControlPlane planner, which
 * adds its own rules (one at a time, etcd quorum, retries): see `machinesToRemediate`.
 */
import { Annotations } from '../../api/common.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineHealthCheck, MachineHealthCheckStatus } from '../../api/machine-health-check.js';
import type { Machine, MachineStatus } from '../../api/machine.js';
import { getCondition, removeCondition, setConditions, type ConditionInput } from '../conditions.js';
import type { Observed } from '../observed.js';
import { emptyPlan, mergePlans, refOf, type Plan } from '../plan.js';
import { hasAnnotation, isControlPlaneMachine, isDeleting, isPaused, statusWrite, timeOf, type ClusterObjects } from '../cluster/objects.js';
import { controllerOf } from '../machineset/ownership.js';
import { maxInFlight, remediationAllowance, type RemediationAllowance } from './remediation-allowed.js';
import { HealthCheckReason, healthCheckTargets, type TargetHealth } from './targets.js';

export const RemediationAllowedReason = {
  RemediationAllowed: 'RemediationAllowed',
  TooManyUnhealthy: 'TooManyUnhealthy',
  InspectionFailed: 'InspectionFailed',
} as const;
export const OwnerRemediatedReason = {
  WaitingForRemediation: 'WaitingForRemediation',
  RemediationDeferred: 'RemediationDeferred',
  /** The machine's MachineSet is an old revision of a rollout that removes it anyway. */
  CannotBeRemediated: 'CannotBeRemediated',
} as const;

/** The machine's replacement has been decided (and so counts against maxInFlight) but has not started yet. */
export function isMarkedForRemediation(machine: Machine): boolean {
  const c = getCondition(machine.status?.conditions, 'OwnerRemediated');
  return c?.status === 'False' && c.reason === OwnerRemediatedReason.WaitingForRemediation;
}

/**
 * When the machine's current remediation episode began: the lastTransitionTime of its OwnerRemediated=False
 * condition. The condition goes when the machine is healthy again (planMachineHealthCheck), so a later failure
 * of the same machine is a new episode with a new time.
 */
export function remediationMarkedAt(machine: Machine): string | undefined {
  const c = getCondition(machine.status?.conditions, 'OwnerRemediated');
  return c?.status === 'False' ? c.lastTransitionTime : undefined;
}

export interface HealthCheckEvaluation {
  mhc: MachineHealthCheck;
  evaluated: boolean;
  targets: TargetHealth[];
  allowance: RemediationAllowance;
  maxInFlight: number;
  /** Deleting targets and marked unhealthy ones: remediations under way. */
  inFlight: Machine[];
  /** Unhealthy, not yet marked, and within maxInFlight: marked now. */
  toMark: Machine[];
  /** Unhealthy, not yet marked, over maxInFlight. */
  deferred: Machine[];
  /** Marked on an earlier reconcile and still unhealthy: to be replaced now. */
  toRemediate: TargetHealth[];
  /** Unhealthy machines of an old MachineSet whose rollout removes them: neither marked nor replaced. */
  leftToRollout: Map<Machine, MachineDeployment>;
  nextCheckSeconds?: number;
}

/** Remediate-machine annotation first, then the newest (the likeliest to be a machine that never came up). */
function remediationOrder(a: Machine, b: Machine): number {
  const ra = hasAnnotation(a, Annotations.remediateMachine) ? 0 : 1;
  const rb = hasAnnotation(b, Annotations.remediateMachine) ? 0 : 1;
  return ra - rb || timeOf(b.metadata.creationTimestamp) - timeOf(a.metadata.creationTimestamp) || (a.metadata.name < b.metadata.name ? -1 : 1);
}

/**
 * The MachineDeployment whose rollout removes this machine, if any: the machine's MachineSet is not at the
 * deployment's revision, and the rollout is removing old machines (RollingUpdate or Recreate, not paused).
 * Learnt from core/reconcilers/machineset/machineset_controller.go (reconcileUnhealthyMachines): only the
 * current revision's MachineSet remediates; replacing an old one's machine would make a machine of the old
 * template that the rollout then deletes. Note: a paused or OnDelete rollout removes nothing by itself, so
 * there a dead old machine is replaced (Cluster API leaves it).
 */
function rolloutRemoving(machine: Machine, objects: ClusterObjects): MachineDeployment | undefined {
  // Owners are found by uid alone: a uid names one object, whatever its kind.
  const setUid = controllerOf(machine)?.uid;
  const ms = setUid === undefined ? undefined : objects.machineSets.find((s) => s.metadata.uid === setUid);
  const deploymentUid = ms && controllerOf(ms)?.uid;
  const md = deploymentUid === undefined ? undefined : objects.machineDeployments.find((d) => d.metadata.uid === deploymentUid);
  if (!ms || !md || md.spec.paused || md.spec.strategy.type === 'OnDelete') return undefined;
  return md.metadata.annotations?.[Annotations.revision] !== ms.metadata.annotations?.[Annotations.revision] ? md : undefined;
}

export function evaluateHealthCheck(mhc: MachineHealthCheck, objects: ClusterObjects, observed: Observed, now: Date): HealthCheckEvaluation {
  const health = healthCheckTargets(mhc, objects.cluster, objects.machines, observed, now);
  const expected = health.targets.length;
  const healthy = health.targets.filter((t) => t.state === 'healthy').length;
  const allowance = remediationAllowance(mhc, expected, healthy);
  const limit = maxInFlight(mhc, expected);
  const leftToRollout = new Map<Machine, MachineDeployment>();
  for (const t of health.targets) {
    const md = t.state === 'unhealthy' ? rolloutRemoving(t.machine, objects) : undefined;
    if (md) leftToRollout.set(t.machine, md);
  }
  const unhealthy = health.targets.filter((t) => t.state === 'unhealthy' && !leftToRollout.has(t.machine));
  const inFlight = [
    ...health.targets.filter((t) => t.state === 'deleting').map((t) => t.machine),
    ...unhealthy.filter((t) => isMarkedForRemediation(t.machine)).map((t) => t.machine),
  ];
  const base = {
    mhc,
    evaluated: health.evaluated,
    targets: health.targets,
    allowance,
    maxInFlight: limit,
    inFlight,
    leftToRollout,
    ...(health.nextCheckSeconds !== undefined ? { nextCheckSeconds: health.nextCheckSeconds } : {}),
  };
  if (!health.evaluated || !allowance.allowed) return { ...base, toMark: [], deferred: [], toRemediate: [] };
  const candidates = unhealthy
    .map((t) => t.machine)
    .filter((m) => !isMarkedForRemediation(m))
    .sort(remediationOrder);
  const budget = Math.max(0, limit - inFlight.length);
  return {
    ...base,
    toMark: candidates.slice(0, budget),
    deferred: candidates.slice(budget),
    toRemediate: unhealthy.filter((t) => isMarkedForRemediation(t.machine)),
  };
}

export interface RemediationRequest {
  healthCheck: string;
  reason: string;
  message: string;
}

/**
 * Machines of the cluster to replace now, by name, across every health check of the cluster: marked on an
 * earlier reconcile, still unhealthy, and their health check not short-circuited. The ControlPlane planner
 * takes its machines from here and applies its own rules on top.
 */
export function machinesToRemediate(objects: ClusterObjects, observed: Observed, now: Date): Map<string, RemediationRequest> {
  const out = new Map<string, RemediationRequest>();
  if (isPaused(objects.cluster)) return out;
  for (const mhc of objects.machineHealthChecks) {
    if (isPaused(undefined, mhc) || isDeleting(mhc)) continue;
    for (const t of evaluateHealthCheck(mhc, objects, observed, now).toRemediate)
      if (!out.has(t.machine.metadata.name))
        out.set(t.machine.metadata.name, { healthCheck: mhc.metadata.name, reason: t.reason ?? 'Unhealthy', message: t.message ?? '' });
  }
  return out;
}

export function planMachineHealthCheck(mhc: MachineHealthCheck, objects: ClusterObjects, observed: Observed, now: Date): Plan {
  const plan = emptyPlan();
  const name = mhc.metadata.name;
  if (isPaused(objects.cluster, mhc) || isDeleting(mhc)) {
    plan.notes.push(`MachineHealthCheck ${name}: ${isDeleting(mhc) ? 'deleting' : 'paused'}, nothing done`);
    return plan;
  }
  const e = evaluateHealthCheck(mhc, objects, observed, now);
  const generation = mhc.metadata.generation;
  const old = mhc.status ?? {};
  if (!e.evaluated) {
    const conditions = setConditions(
      old.conditions,
      [{ type: 'RemediationAllowed', status: 'Unknown', reason: RemediationAllowedReason.InspectionFailed, message: 'The workload cluster could not be read' }],
      now,
      generation,
    );
    plan.writes.push(...statusWrite(mhc, { ...old, conditions }));
    plan.notes.push(`MachineHealthCheck ${name}: workload cluster unreadable, nothing checked`);
    return plan;
  }

  const healthy = e.targets.filter((t) => t.state === 'healthy').length;
  const allowedCondition: ConditionInput = e.allowance.allowed
    ? { type: 'RemediationAllowed', status: 'True', reason: RemediationAllowedReason.RemediationAllowed }
    : { type: 'RemediationAllowed', status: 'False', reason: RemediationAllowedReason.TooManyUnhealthy, message: e.allowance.message ?? '' };
  const status: MachineHealthCheckStatus = {
    ...old,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    expectedMachines: e.targets.length,
    currentHealthy: healthy,
    remediationsAllowed: e.allowance.remediationsAllowed,
    targets: e.targets.map((t) => t.machine.metadata.name).sort(),
    conditions: setConditions(old.conditions, [allowedCondition], now, generation),
  };
  plan.writes.push(...statusWrite(mhc, status));
  if (!e.allowance.allowed) plan.notes.push(`MachineHealthCheck ${name}: short-circuited: ${e.allowance.message}`);
  else if (getCondition(old.conditions, 'RemediationAllowed')?.reason === RemediationAllowedReason.TooManyUnhealthy)
    plan.notes.push(`MachineHealthCheck ${name}: remediation allowed again (${e.targets.length - healthy} of ${e.targets.length} not healthy)`);

  const toMark = new Set(e.toMark);
  const deferred = new Set(e.deferred);
  const limit = Number.isFinite(e.maxInFlight) ? String(mhc.spec.maxInFlight) : 'unset';
  for (const t of e.targets) {
    const m = t.machine;
    let conditions = m.status?.conditions;
    if (t.state === 'healthy') {
      conditions = setConditions(
        conditions,
        [{ type: 'HealthCheckSucceeded', status: 'True', reason: HealthCheckReason.HealthCheckSucceeded }],
        now,
        m.metadata.generation,
      );
      conditions = removeCondition(conditions, 'OwnerRemediated');
    } else if (t.state === 'unhealthy') {
      const marks: ConditionInput[] = [{ type: 'HealthCheckSucceeded', status: 'False', reason: t.reason ?? 'Unhealthy', message: t.message ?? '' }];
      if (toMark.has(m))
        marks.push({
          type: 'OwnerRemediated',
          status: 'False',
          reason: OwnerRemediatedReason.WaitingForRemediation,
          message: `Waiting for remediation (MachineHealthCheck ${name})`,
        });
      const md = e.leftToRollout.get(m);
      if (md)
        marks.push({
          type: 'OwnerRemediated',
          status: 'False',
          reason: OwnerRemediatedReason.CannotBeRemediated,
          message: `Not remediated: the rollout of MachineDeployment ${md.metadata.name} removes this machine`,
        });
      if (deferred.has(m))
        marks.push({
          type: 'OwnerRemediated',
          status: 'False',
          reason: OwnerRemediatedReason.RemediationDeferred,
          message: `Waiting because there are already too many remediations in progress (maxInFlight is ${limit})`,
        });
      conditions = setConditions(conditions, marks, now, m.metadata.generation);
    }
    if (conditions !== m.status?.conditions) plan.writes.push(...statusWrite(m, { ...m.status, conditions } as MachineStatus));
  }
  for (const m of e.toMark) plan.notes.push(`MachineHealthCheck ${name}: ${m.metadata.name} marked for remediation`);
  if (e.deferred.length > 0)
    plan.notes.push(
      `MachineHealthCheck ${name}: ${e.deferred.map((m) => m.metadata.name).join(', ')} deferred: ${e.inFlight.length} remediation(s) in flight, maxInFlight ${limit}`,
    );

  for (const t of e.toRemediate) {
    if (isControlPlaneMachine(t.machine)) {
      plan.notes.push(`MachineHealthCheck ${name}: ${t.machine.metadata.name} left to the ControlPlane's remediation rules`);
      continue;
    }
    const markedAt = remediationMarkedAt(t.machine);
    plan.actions.push({
      type: 'RemediateMachine',
      machine: refOf(t.machine),
      healthCheck: name,
      reason: t.reason ?? 'Unhealthy',
      ...(markedAt ? { markedAt } : {}),
    });
    plan.notes.push(`MachineHealthCheck ${name}: remediating ${t.machine.metadata.name} (${t.reason})`);
  }
  if (e.nextCheckSeconds !== undefined) plan.requeueAfterSeconds = e.nextCheckSeconds;
  return plan;
}

export function planMachineHealthChecks(objects: ClusterObjects, observed: Observed, now: Date): Plan {
  return mergePlans(...objects.machineHealthChecks.map((mhc) => planMachineHealthCheck(mhc, objects, observed, now)));
}
