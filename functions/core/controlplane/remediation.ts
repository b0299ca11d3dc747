/**
 * Remediation of unhealthy control-plane machines: one at a time, never losing etcd quorum, within
 * remediation.maxRetry / retryPeriodSeconds / minHealthyPeriodSeconds. Learnt from Cluster API's
 * controlplane/kubeadm/reconcilers/kubeadmcontrolplane/remediation.go (reconcileUnhealthyMachines, getMachineToBeRemediated,
 * checkRetryLimits, canSafelyRemediateMachine).
 *
 * Which machines are unhealthy is the MachineHealthChecks' call (healthcheck/planner.ts, machinesToRemediate:
 * marked, still unhealthy, not short-circuited); whether and when one is replaced is the control plane's.
 *
 * Where Cluster API keeps the remediation in progress in an annotation on the KubeadmControlPlane and the retry
 * history on the replacement machine, clusterless keeps both in ControlPlane status.lastRemediation
 * {machine, timestamp, retryCount}: written first (the intent), acted on from the next reconcile on.
 */
import type { ControlPlaneStatus } from '../../api/control-plane.js';
import { Annotations } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import { timestamp } from '../conditions.js';
import { refOf } from '../plan.js';
import { hasAnnotation, isDeleting, oldestFirst, timeOf } from '../cluster/objects.js';
import { machinesToRemediate, remediationMarkedAt, type RemediationRequest } from '../healthcheck/planner.js';
import { projectEtcdCluster } from './etcd.js';
import { createdSince, healthOf, type ControlPlaneScope, type Step } from './scope.js';

export type LastRemediation = NonNullable<ControlPlaneStatus['lastRemediation']>;

/** Unhealthy control-plane machines the health checks hand over, by name. */
export function controlPlaneRemediationRequests(scope: ControlPlaneScope): Map<string, RemediationRequest> {
  const all = machinesToRemediate(scope.objects, scope.observed, scope.now);
  const names = new Set(scope.machines.filter((m) => !isDeleting(m)).map((m) => m.metadata.name));
  return new Map([...all].filter(([name]) => names.has(name)));
}

/**
 * A remediation is in progress while the remediated machine is still there (being deleted, or about to be) or,
 * once it is gone, until its replacement has been created.
 *
 * Note: the replacement is recognised as a machine created since the remediation. A remediated machine whose
 * health came back before it was deleted is no longer remediated: otherwise a stale record would block every
 * later remediation.
 */
export function remediationInProgress(scope: ControlPlaneScope, requests: Map<string, RemediationRequest>): boolean {
  const last = scope.cp.status?.lastRemediation;
  if (!last) return false;
  const remediated = scope.machines.find((m) => m.metadata.name === last.machine);
  if (remediated) return isDeleting(remediated) || requests.has(last.machine);
  const live = scope.machines.filter((m) => !isDeleting(m));
  return live.length < scope.desiredReplicas && !scope.machines.some((m) => createdSince(m, last.timestamp));
}

/**
 * The "most broken" machine first: the remediate-machine annotation, then no node at all (provisioning failed),
 * then a node that is not Ready, then the oldest.
 */
export function machineToBeRemediated(scope: ControlPlaneScope, candidates: readonly Machine[]): Machine | undefined {
  const rank = (m: Machine) => {
    const h = healthOf(scope, m);
    return [hasAnnotation(m, Annotations.remediateMachine) ? 0 : 1, h.hasNode ? 1 : 0, h.nodeReady ? 1 : 0];
  };
  return [...candidates].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return oldestFirst(a, b);
  })[0];
}

export interface RetryDecision {
  allowed: boolean;
  retryCount: number;
  reason?: string;
  /** When the retry period ends, if that is what blocks. */
  requeueAfterSeconds?: number;
}

/**
 * Retry limits (checkRetryLimits). A machine created since the last remediation, while minHealthyPeriod has not
 * passed since it, is that remediation's replacement failing again: its remediation is a retry, allowed only
 * after retryPeriod and while fewer than maxRetry retries have been made. Once the replacement has stayed
 * healthy for minHealthyPeriod, the count starts over.
 */
export function checkRetryLimits(scope: ControlPlaneScope, machine: Machine): RetryDecision {
  const last = scope.cp.status?.lastRemediation;
  const { retryPeriodSeconds, minHealthyPeriodSeconds, maxRetry } = scope.cp.spec.remediation;
  const now = scope.now.getTime();
  if (!last || !createdSince(machine, last.timestamp)) return { allowed: true, retryCount: 0 };
  const lastTime = timeOf(last.timestamp);
  if (lastTime + minHealthyPeriodSeconds * 1000 <= now) return { allowed: true, retryCount: 0 };
  if (lastTime + retryPeriodSeconds * 1000 > now)
    return {
      allowed: false,
      retryCount: last.retryCount,
      reason: `the remediation of ${last.machine} already failed in the latest ${retryPeriodSeconds}s (retryPeriodSeconds)`,
      requeueAfterSeconds: Math.ceil((lastTime + retryPeriodSeconds * 1000 - now) / 1000),
    };
  if (maxRetry !== undefined && last.retryCount >= maxRetry)
    return { allowed: false, retryCount: last.retryCount, reason: `the remediation already failed ${last.retryCount} times (maxRetry ${maxRetry})` };
  return { allowed: true, retryCount: last.retryCount + 1 };
}

/**
 * Why removing the machine now could make the control plane worse (canSafelyRemediateMachine and the checks
 * before it), or nothing. Before the control plane is initialized there is nothing to protect: the first
 * machine that never came up is simply replaced.
 */
export function safetyIssue(scope: ControlPlaneScope, machine: Machine, requests: Map<string, RemediationRequest>): string | undefined {
  if (!scope.cp.status?.initialized) return undefined;
  if (scope.machines.length <= 1) return "the control plane can't remediate its only machine";
  const provisioning = scope.machines.find((m) => m !== machine && !isDeleting(m) && !healthOf(scope, m).hasNode && !requests.has(m.metadata.name));
  if (provisioning) return `Machine ${provisioning.metadata.name} is still being provisioned`;
  const deleting = scope.machines.find(isDeleting);
  if (deleting) return `Machine ${deleting.metadata.name} is being deleted`;
  if (!scope.nodesKnown) return 'etcd health cannot be checked: the workload cluster could not be read';
  if (scope.observed.etcd?.error !== undefined) return `etcd health cannot be checked: ${scope.observed.etcd.error}`;
  const projection = projectEtcdCluster(scope.members, { removeMachine: machine.metadata.name });
  if (!projection.safe) return `removing it would leave ${projection.healthy} healthy etcd member(s) of ${projection.voting}, quorum is ${projection.quorum}`;
  return undefined;
}

export interface RemediationOutcome {
  /** The operation of this reconcile, when remediation takes it; otherwise scale and rollout go on. */
  step?: Step;
  /** Status to record (the intent). */
  lastRemediation?: LastRemediation;
  notes: string[];
  requeueAfterSeconds?: number;
  inProgress: boolean;
  requests: Map<string, RemediationRequest>;
}

export function reconcileUnhealthyMachines(scope: ControlPlaneScope): RemediationOutcome {
  const { cp, now } = scope;
  const name = cp.metadata.name;
  const requests = controlPlaneRemediationRequests(scope);
  const inProgress = remediationInProgress(scope, requests);
  const last = cp.status?.lastRemediation;

  // The intent was recorded on an earlier reconcile: carry it out (again, if the workflow died on the way),
  // after checking once more that etcd can lose the machine: the world may have changed since.
  const recorded = last ? scope.machines.find((m) => m.metadata.name === last.machine && !isDeleting(m)) : undefined;
  if (recorded && requests.has(recorded.metadata.name)) {
    const request = requests.get(recorded.metadata.name)!;
    const unsafe = safetyIssue(scope, recorded, requests);
    if (unsafe)
      return {
        notes: [`ControlPlane ${name}: Machine ${recorded.metadata.name} waits for its remediation: ${unsafe}`],
        requeueAfterSeconds: 15,
        inProgress: true,
        requests,
      };
    const markedAt = remediationMarkedAt(recorded);
    return {
      step: {
        writes: [],
        actions: [
          { type: 'RemediateMachine', machine: refOf(recorded), healthCheck: request.healthCheck, reason: request.reason, ...(markedAt ? { markedAt } : {}) },
        ],
        notes: [`ControlPlane ${name}: remediating Machine ${recorded.metadata.name} (${request.reason}, retry ${last!.retryCount})`],
      },
      notes: [],
      inProgress: true,
      requests,
    };
  }
  if (requests.size === 0) return { notes: [], inProgress, requests };

  const candidates = scope.machines.filter((m) => requests.has(m.metadata.name));
  const machine = machineToBeRemediated(scope, candidates)!;
  const skip = (why: string, requeueAfterSeconds?: number): RemediationOutcome => ({
    notes: [`ControlPlane ${name}: Machine ${machine.metadata.name} needs remediation, but ${why}`],
    ...(requeueAfterSeconds !== undefined ? { requeueAfterSeconds } : {}),
    inProgress,
    requests,
  });
  // Note: returning without a step lets scale and rollout go on, which is how the replacement of the machine
  // remediated before gets created.
  if (inProgress) return skip(`the remediation of ${last?.machine} is still in progress`);
  const retry = checkRetryLimits(scope, machine);
  if (!retry.allowed) return skip(retry.reason ?? 'retry limits are reached', retry.requeueAfterSeconds);

  const unsafe = safetyIssue(scope, machine, requests);
  if (unsafe) return skip(unsafe);

  const lastRemediation: LastRemediation = { machine: machine.metadata.name, timestamp: timestamp(now), retryCount: retry.retryCount };
  return {
    step: {
      writes: [],
      actions: [],
      notes: [
        `ControlPlane ${name}: Machine ${machine.metadata.name} will be remediated (${requests.get(machine.metadata.name)!.reason}, retry ${retry.retryCount})`,
      ],
    },
    lastRemediation,
    notes: [],
    inProgress: true,
    requests,
  };
}
