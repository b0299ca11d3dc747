/**
 * Revisions: every MachineSet a deployment has rolled out to carries clusterless.dev/revision; the
 * current (new) set always has the highest, and the deployment carries the same number.
 *
 * Learnt from cluster-api mdutil (MaxRevision, Revision, ComputeRevisionAnnotations) and Kubernetes'
 * deployment util (LastRevision, SetNewReplicaSetAnnotations): a set that becomes current again, e.g. after
 * `kubectl rollout undo`, gets a new number (max + 1), and the number it had goes to its revision history.
 */
import { Annotations } from '../../api/common.js';
import type { MachineSet } from '../../api/machine-set.js';

/** The revision of a MachineSet; 0 when it has none or it does not parse. */
export function revisionOf(ms: { metadata: { annotations?: Record<string, string> | undefined } }): number {
  const raw = ms.metadata.annotations?.[Annotations.revision];
  if (raw === undefined || !/^\d+$/.test(raw)) return 0;
  return Number(raw);
}

export function maxRevision(sets: readonly MachineSet[]): number {
  let max = 0;
  for (const ms of sets) max = Math.max(max, revisionOf(ms));
  return max;
}

/**
 * The revision annotations of the new MachineSet: max of the old sets + 1, unless it already has a higher
 * one (revisions never decrease); when its number changes, the old one is appended to its history.
 */
export function newRevisionAnnotations(
  newMS: MachineSet | undefined,
  oldSets: readonly MachineSet[],
): { revision: number; annotations: Record<string, string> } {
  let revision = maxRevision(oldSets) + 1;
  const annotations: Record<string, string> = {};
  if (newMS) {
    const current = newMS.metadata.annotations?.[Annotations.revision];
    const currentN = revisionOf(newMS);
    if (current !== undefined && currentN > revision) revision = currentN;
    const history = newMS.metadata.annotations?.[Annotations.revisionHistory];
    if (history !== undefined) annotations[Annotations.revisionHistory] = history;
    if (current !== undefined && currentN !== revision) annotations[Annotations.revisionHistory] = history ? `${history},${current}` : current;
  }
  annotations[Annotations.revision] = String(revision);
  return { revision, annotations };
}

/** The revision before the newest one (Kubernetes' LastRevision): what `rollout undo` goes back to. */
export function previousRevision(sets: readonly MachineSet[]): number {
  let max = 0;
  let second = 0;
  for (const ms of sets) {
    const v = revisionOf(ms);
    if (v >= max) {
      if (v !== max) second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}
