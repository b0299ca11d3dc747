/**
 * Spot interruptions, acted on before they bite. EC2 sends an "EC2 Spot Instance Interruption Warning" two
 * minutes before it reclaims a spot instance, and an "EC2 Instance Rebalance Recommendation" when one is at
 * elevated risk; Cluster API's AWS provider ignores both. Here the notice is recorded on the Machine as the
 * condition InterruptionNotice (True; reason SpotInterruptionWarning or RebalanceRecommendation; its
 * lastTransitionTime is when EC2 sent it), and the planners act on it:
 *
 * - the machine stops counting towards its MachineSet's replicas, so the replacement is created at once, outside
 *   maxSurge, as the replacement of a remediated machine is (exactly one per machine: the machine is left out of
 *   the count once, whatever happens to it next);
 * - a warned machine is deleted at once; its drain is capped so that it ends before the termination time;
 * - a recommended machine, only where its MachineDeployment says `spec.spot.rebalance: Replace`, is deleted once
 *   its MachineSet has spec.replicas available machines besides the ones leaving (the replacement is up). A pool
 *   that ignores recommendations changes nothing.
 *
 * Only machines a MachineSet controls are replaced (a control-plane or standalone machine keeps its notice for
 * the user to see; its instance is replaced by the usual paths once gone). Learnt from the AWS Node Termination
 * Handler (aws/aws-node-termination-handler, pkg/monitor/sqsevent/spot-itn-event.go and
 * rebalance-recommendation-event.go: cordon and drain on the warning, optional action on the recommendation).
 *
 * Pure: the Machine and the time in, conditions and decisions out.
 */
import type { Condition } from '../../api/common.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineSet } from '../../api/machine-set.js';
import type { Machine } from '../../api/machine.js';
import { ConditionType, getCondition, timestamp } from '../conditions.js';
import { isDeleting, timeOf } from '../cluster/objects.js';
import { isAvailable, type MachineIndex } from '../machineset/machine-health.js';
import { controllerOf } from '../machineset/ownership.js';
import { emptyPlan, refOf, type Plan } from '../plan.js';

export const InterruptionNoticeCondition = ConditionType.InterruptionNotice;
export const InterruptionReason = {
  SpotInterruptionWarning: 'SpotInterruptionWarning',
  RebalanceRecommendation: 'RebalanceRecommendation',
} as const;
export type InterruptionReason = (typeof InterruptionReason)[keyof typeof InterruptionReason];

/** How long EC2 waits between the interruption warning and reclaiming the instance. */
export const SPOT_INTERRUPTION_NOTICE_SECONDS = 120;
/**
 * The part of the notice kept for what follows the drain: terminating the instance and letting the Machine go
 * (one reconcile pass and a TerminateInstances call), so the drain ends this long before EC2 reclaims it.
 */
export const DRAIN_MARGIN_SECONDS = 20;

export interface InterruptionNotice {
  reason: InterruptionReason;
  /** When EC2 sent the notice (the condition's lastTransitionTime). */
  noticedAt: string;
  /** When EC2 reclaims the instance: noticedAt + 120 s for a warning; none for a recommendation. */
  terminationTime?: string;
}

const isReason = (r: string | undefined): r is InterruptionReason =>
  r === InterruptionReason.SpotInterruptionWarning || r === InterruptionReason.RebalanceRecommendation;

/** The notice recorded on a Machine, or undefined. */
export function interruptionNoticeOf(machine: Machine): InterruptionNotice | undefined {
  const c = getCondition(machine.status?.conditions, InterruptionNoticeCondition);
  if (c?.status !== 'True' || !isReason(c.reason) || c.lastTransitionTime === undefined) return undefined;
  const noticedAt = c.lastTransitionTime;
  return c.reason === InterruptionReason.SpotInterruptionWarning
    ? { reason: c.reason, noticedAt, terminationTime: timestamp(new Date(timeOf(noticedAt) + SPOT_INTERRUPTION_NOTICE_SECONDS * 1000)) }
    : { reason: c.reason, noticedAt };
}

/**
 * The Machine's conditions with a notice sent at `at` recorded, or undefined when that changes nothing: a
 * duplicate event, a recommendation after a warning (the warning says more), a second warning (the first one's
 * time counts). A warning after a recommendation replaces it, with the warning's time.
 */
export function withInterruptionNotice(machine: Machine, reason: InterruptionReason, at: Date): Condition[] | undefined {
  const current = interruptionNoticeOf(machine);
  if (current?.reason === InterruptionReason.SpotInterruptionWarning) return undefined;
  if (current?.reason === reason) return undefined;
  const noticedAt = timestamp(at);
  const message =
    reason === InterruptionReason.SpotInterruptionWarning
      ? `EC2 Spot Instance Interruption Warning at ${noticedAt}: the instance is reclaimed at ${timestamp(new Date(at.getTime() + SPOT_INTERRUPTION_NOTICE_SECONDS * 1000))}`
      : `EC2 Instance Rebalance Recommendation at ${noticedAt}: the instance is at elevated risk of interruption`;
  const condition: Condition = {
    type: InterruptionNoticeCondition,
    status: 'True',
    reason,
    message,
    lastTransitionTime: noticedAt,
    ...(machine.metadata.generation !== undefined ? { observedGeneration: machine.metadata.generation } : {}),
  };
  const others = (machine.status?.conditions ?? []).filter((c) => c.type !== InterruptionNoticeCondition);
  return [...others, condition];
}

/**
 * The drain timeout a warned machine may use from `drainStart`: what is left before the termination time minus
 * DRAIN_MARGIN_SECONDS, and no more than the machine's own nodeDrainTimeoutSeconds (0: no limit of its own).
 * Undefined when no warning bounds it; 0 when there is no time left to drain at all.
 */
export function cappedDrainTimeoutSeconds(machine: Machine, drainStart: string): number | undefined {
  const notice = interruptionNoticeOf(machine);
  if (notice?.terminationTime === undefined) return undefined;
  const left = Math.floor((timeOf(notice.terminationTime) - timeOf(drainStart)) / 1000) - DRAIN_MARGIN_SECONDS;
  const own = machine.spec.nodeDrainTimeoutSeconds;
  const cap = Math.max(0, left);
  return own === 0 ? cap : Math.min(own, cap);
}

/** What bounded a drain given up at its timeout: the machine's own nodeDrainTimeout, or a spot interruption warning. */
export type DrainBound = { by: 'nodeDrainTimeout'; seconds: number } | { by: 'SpotInterruptionWarning'; seconds: number; terminationTime: string };

/**
 * Which limit ended the drain started at `drainStart` (for the message of a drain given up): the warning's cap
 * when it is the shorter one (cappedDrainTimeoutSeconds), else the machine's nodeDrainTimeoutSeconds.
 */
export function drainBound(machine: Machine, drainStart: string): DrainBound {
  const own = machine.spec.nodeDrainTimeoutSeconds;
  const capped = cappedDrainTimeoutSeconds(machine, drainStart);
  const terminationTime = interruptionNoticeOf(machine)?.terminationTime;
  if (capped === undefined || terminationTime === undefined || (own !== 0 && own <= capped)) return { by: 'nodeDrainTimeout', seconds: own };
  return { by: 'SpotInterruptionWarning', seconds: capped, terminationTime };
}

/** What the planners do with a machine's notice. */
export interface Interruption {
  notice: InterruptionNotice;
  /** Delete the machine now (a warning), or once its MachineSet has its replicas available without it (a recommendation). */
  deleteWhen: 'now' | 'replacementAvailable';
}

/**
 * The machines of the cluster whose notice is acted on: controlled by a MachineSet and, for a recommendation,
 * the set's MachineDeployment allowing proactive replacement. Deleting or not: such a machine stays out of its
 * set's count until it is gone, so that its replacement is made once and only once.
 */
export function interruptionsToAct(
  machines: readonly Machine[],
  machineSets: readonly MachineSet[],
  machineDeployments: readonly MachineDeployment[],
): Map<Machine, Interruption> {
  const out = new Map<Machine, Interruption>();
  for (const m of machines) {
    const notice = interruptionNoticeOf(m);
    if (!notice) continue;
    const setUid = controllerOf(m)?.uid;
    const ms = setUid === undefined ? undefined : machineSets.find((s) => s.metadata.uid === setUid);
    if (!ms) continue;
    if (notice.reason === InterruptionReason.SpotInterruptionWarning) {
      out.set(m, { notice, deleteWhen: 'now' });
      continue;
    }
    const mdUid = controllerOf(ms)?.uid;
    const md = mdUid === undefined ? undefined : machineDeployments.find((d) => d.metadata.uid === mdUid);
    if (md?.spec.spot?.rebalance === 'Replace') out.set(m, { notice, deleteWhen: 'replacementAvailable' });
  }
  return out;
}

/**
 * Deletes the machines whose notice says they go: a warned one at once, a recommended one once its MachineSet
 * has spec.replicas available machines that are not leaving (so a proactive replacement never lowers
 * availability). Deleting machines are left to their deletion; `index` must know the same `acts` as leaving.
 */
export function planInterruptions(acts: ReadonlyMap<Machine, Interruption>, machineSets: readonly MachineSet[], index: MachineIndex): Plan {
  const plan = emptyPlan();
  for (const [m, act] of acts) {
    if (isDeleting(m)) continue;
    const name = m.metadata.name;
    if (act.deleteWhen === 'now') {
      plan.writes.push({ type: 'Delete', ref: refOf(m), reason: `spot interruption warning: the instance is reclaimed at ${act.notice.terminationTime}` });
      plan.notes.push(`Machine ${name}: spot interruption warning, replaced and deleted before ${act.notice.terminationTime}`);
      continue;
    }
    const setUid = controllerOf(m)?.uid;
    const ms = machineSets.find((s) => s.metadata.uid === setUid);
    if (!ms) continue;
    const available = index
      .controlledBy(setUid)
      .filter((o) => !index.leaving(o) && !isDeleting(o) && isAvailable(index.health(o), ms.spec.minReadySeconds, index.now)).length;
    if (available >= ms.spec.replicas) {
      plan.writes.push({ type: 'Delete', ref: refOf(m), reason: 'rebalance recommendation: its replacement is available' });
      plan.notes.push(`Machine ${name}: rebalance recommendation, its replacement is available, deleting it`);
    } else plan.notes.push(`Machine ${name}: rebalance recommendation, waiting for its replacement (${available} of ${ms.spec.replicas} available)`);
  }
  return plan;
}
