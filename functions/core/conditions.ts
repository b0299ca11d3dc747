/**
 * Conditions utilities: get, set, mirror and summarise the conditions of an object, the way Cluster API's
 * util/conditions does (setter.go, getter.go, mirror.go, summary.go, merge_strategies.go, sort.go).
 *
 * Every function is pure: it takes the conditions and the time and returns conditions. `setCondition` returns
 * the very same array when nothing changed, so a planner can compare by identity to decide whether a status
 * write is needed at all.
 */
import type { Condition } from '../api/common.js';

export type ConditionStatus = Condition['status'];

/**
 * A condition as a planner states it: the time and generation are stamped by `setCondition`. Its type is one
 * of ours (ConditionType), so a misspelt name fails to compile; conditions read from the store stay open
 * (`Condition['type']` is any string), since other writers may add types of their own.
 */
export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  /**
   * When the status really changed, if known better than `now` (a node's Ready condition mirrored on its
   * Machine keeps the node's own transition time, so health-check timeouts count from the real moment).
   */
  lastTransitionTime?: string;
}

/** Condition types, spelt as Cluster API spells them (api/core/v1beta2 condition constants). */
export const ConditionType = {
  Ready: 'Ready',
  Available: 'Available',
  UpToDate: 'UpToDate',
  InfrastructureReady: 'InfrastructureReady',
  BootstrapConfigReady: 'BootstrapConfigReady',
  NodeHealthy: 'NodeHealthy',
  NodeReady: 'NodeReady',
  HealthCheckSucceeded: 'HealthCheckSucceeded',
  OwnerRemediated: 'OwnerRemediated',
  /** Set True by whoever carries out a DrainNode action once the node has nothing left to evict. */
  DrainingSucceeded: 'DrainingSucceeded',
  Deleting: 'Deleting',
  Paused: 'Paused',
  ControlPlaneInitialized: 'ControlPlaneInitialized',
  ControlPlaneReady: 'ControlPlaneReady',
  ControlPlaneAvailable: 'ControlPlaneAvailable',
  WorkersAvailable: 'WorkersAvailable',
  Initialized: 'Initialized',
  EtcdClusterHealthy: 'EtcdClusterHealthy',
  /** On each control-plane Machine: its etcd member as etcd reports it (KCP's EtcdMemberHealthy). */
  EtcdMemberHealthy: 'EtcdMemberHealthy',
  MachinesReady: 'MachinesReady',
  MachinesUpToDate: 'MachinesUpToDate',
  /** On a MachineSet whose scale up the preflight checks hold: False, PreflightCheckFailed (Cluster API's v1beta1 condition). */
  MachinesCreated: 'MachinesCreated',
  RollingOut: 'RollingOut',
  ScalingUp: 'ScalingUp',
  ScalingDown: 'ScalingDown',
  Remediating: 'Remediating',
  RemediationAllowed: 'RemediationAllowed',
  /** False when an instance named in the Machine's status is not the machine's own (a forged or stale id). */
  InfrastructureOwned: 'InfrastructureOwned',
  /** On a Machine: EC2 said its spot instance is about to be reclaimed, or at risk (core/machine/interruption.ts). */
  InterruptionNotice: 'InterruptionNotice',
  /** On a ClusterResourceSetBinding: every resource of the matching sets applied (exp/addons condition_consts.go). */
  ResourcesApplied: 'ResourcesApplied',
  /** On a Cluster with spec.topology: whether its generated objects match the topology and have finished rolling. */
  TopologyReconciled: 'TopologyReconciled',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/**
 * What a summary may read besides our own types: one entry per MachineDeployment, as the Cluster's
 * WorkersAvailable aggregates them (cluster_controller_status.go).
 */
export type SummarisedType = ConditionType | `MachineDeployment ${string}`;

/** Reasons the summary and mirror operations use (util/conditions merge_strategies.go, mirror.go). */
export const SummaryReason = {
  IssuesReported: 'IssuesReported',
  UnknownReported: 'UnknownReported',
  InfoReported: 'InfoReported',
  NotYetReported: 'NotYetReported',
} as const;
export type SummaryReason = (typeof SummaryReason)[keyof typeof SummaryReason];

/** RFC 3339 in whole seconds, as Kubernetes serialises metav1.Time (Cluster API truncates to seconds too). */
export function timestamp(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function getCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  // A loop, not find with a closure: the machine index asks this of every machine in every reconcile.
  if (conditions === undefined) return undefined;
  for (let i = 0; i < conditions.length; i++) if (conditions[i]!.type === type) return conditions[i];
  return undefined;
}

export function isTrue(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function isFalse(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === 'False';
}

/** Unknown, or not reported at all: Kubernetes' guidelines treat a missing condition as Unknown. */
export function isUnknown(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  const c = getCondition(conditions, type);
  return c === undefined || c.status === 'Unknown';
}

// Available and Ready first, Paused and Deleting last, everything else by type (util/conditions sort.go).
const FIRST = ['Available', 'Ready'];
const LAST = ['Paused', 'Deleting'];
function rank(type: string): number {
  const f = FIRST.indexOf(type);
  if (f >= 0) return f;
  const l = LAST.indexOf(type);
  return l >= 0 ? 100 + l : 50;
}
function compareConditions(a: Condition, b: Condition): number {
  return rank(a.type) - rank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
}

/**
 * Sets one condition. lastTransitionTime moves only when the status changes (or the condition is new);
 * reason, message and observedGeneration are updated in place. Returns the same array when nothing changed,
 * otherwise a new sorted array (the input is never mutated). Learnt from util/conditions/setter.go and
 * apimachinery's meta.SetStatusCondition.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date, observedGeneration?: number): Condition[] {
  const current = conditions ?? [];
  const existing = getCondition(current, input.type);
  // Unchanged is decided on the input itself (the condition it would make has its status, its reason, its message
  // with '' as none, and observedGeneration), before building one: most conditions of most objects are unchanged in
  // a reconcile (the Machine planner sets four on every machine).
  if (
    existing &&
    existing.status === input.status &&
    existing.reason === input.reason &&
    (existing.message ?? '') === (input.message ?? '') &&
    existing.observedGeneration === observedGeneration &&
    existing.severity === undefined
  )
    return current as Condition[];
  const next: Condition = {
    type: input.type,
    status: input.status,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.message !== undefined && input.message !== '' ? { message: input.message } : {}),
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : (input.lastTransitionTime ?? timestamp(now)),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  const out = current.filter((c) => c.type !== input.type);
  out.push(next);
  return out.sort(compareConditions);
}

/** Sets several conditions in turn; the same array comes back when none of them changed. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  inputs: readonly ConditionInput[],
  now: Date,
  observedGeneration?: number,
): Condition[] {
  let out = (conditions ?? []) as Condition[];
  for (const c of inputs) out = setCondition(out, c, now, observedGeneration);
  return out;
}

/** Removes a condition; the same array comes back when it was not there. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition[] {
  const current = (conditions ?? []) as Condition[];
  return getCondition(current, type) ? current.filter((c) => c.type !== type) : current;
}

/**
 * A copy of another object's condition under this object's name for it (a Machine's node Ready mirrored as
 * NodeReady, a ControlPlane's Available mirrored on the Cluster as ControlPlaneAvailable). A missing source
 * becomes the fallback, or Unknown/NotYetReported (util/conditions/mirror.go).
 */
export function mirrorCondition(
  source: readonly Condition[] | undefined,
  sourceType: ConditionType,
  targetType: ConditionType = sourceType,
  fallback?: Omit<ConditionInput, 'type'>,
): ConditionInput {
  const c = getCondition(source, sourceType);
  if (c)
    return {
      type: targetType,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      lastTransitionTime: c.lastTransitionTime,
    };
  if (fallback) return { type: targetType, ...fallback };
  return { type: targetType, status: 'Unknown', reason: SummaryReason.NotYetReported, message: `Condition ${sourceType} not yet reported` };
}

export type MergePriority = 'issue' | 'unknown' | 'info';

/** A condition as a summary weighs it. */
export type SummarisedCondition = Omit<ConditionInput, 'type'> & { type: SummarisedType };

export interface SummaryOptions {
  /** Condition types whose True is bad news (e.g. Deleting, Paused, RollingOut when it should count). */
  negativePolarity?: readonly SummarisedType[];
  /** Types that do not count as Unknown when missing (util/conditions IgnoreTypesIfMissing). */
  ignoreIfMissing?: readonly SummarisedType[];
  /** Overrides the priority of a condition (util/conditions CustomMergeStrategy); undefined keeps the default. */
  priority?: (c: SummarisedCondition) => MergePriority | undefined;
  /** The kind's own reasons for False, Unknown and True (Machine: NotReady, ReadyUnknown, Ready). */
  reasons?: { issue: string; unknown: string; info: string };
}

/**
 * Summarises the given condition types into one positive-polarity condition (Ready, Available): False when any
 * reports an issue, else Unknown when any is unknown (a missing one is Unknown, NotYetReported), else True.
 * The message lists the issues and unknowns in the order of `types`, "* Type: message" a line, as Cluster
 * API's summary does (util/conditions/summary.go, merge_strategies.go).
 */
export function summaryCondition(
  conditions: readonly Condition[] | undefined,
  targetType: ConditionType,
  types: readonly SummarisedType[],
  options: SummaryOptions = {},
): ConditionInput {
  const negative = new Set<string>(options.negativePolarity ?? []);
  const ignore = new Set<string>(options.ignoreIfMissing ?? []);
  const inScope: SummarisedCondition[] = [];
  for (const t of types) {
    const c = conditions?.find((x) => x.type === t);
    if (c) inScope.push({ ...c, type: t });
    else if (!ignore.has(t)) inScope.push({ type: t, status: 'Unknown', reason: SummaryReason.NotYetReported, message: 'Condition not yet reported' });
  }
  const priority = (c: SummarisedCondition): MergePriority =>
    options.priority?.(c) ?? (c.status === 'Unknown' ? 'unknown' : (c.status === 'True') === negative.has(c.type) ? 'issue' : 'info');
  const issues = inScope.filter((c) => priority(c) === 'issue');
  const unknowns = inScope.filter((c) => priority(c) === 'unknown');
  const reasons = options.reasons ?? {
    issue: SummaryReason.IssuesReported,
    unknown: SummaryReason.UnknownReported,
    info: SummaryReason.InfoReported,
  };
  const [status, reason]: [ConditionStatus, string] =
    issues.length > 0 ? ['False', reasons.issue] : unknowns.length > 0 || inScope.length === 0 ? ['Unknown', reasons.unknown] : ['True', reasons.info];
  const lines = inScope
    .filter((c) => priority(c) !== 'info' || (status === 'True' && c.message))
    .map((c) => `* ${c.type}: ${c.message || c.reason || c.status}`);
  return { type: targetType, status, reason, ...(lines.length > 0 ? { message: lines.join('\n') } : {}) };
}
