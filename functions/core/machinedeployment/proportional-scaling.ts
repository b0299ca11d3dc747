/**
 * Scaling a paused MachineDeployment: no rollout progress, but a change of replicas is spread over the
 * existing sets in proportion to their size, so the mix of old and new machines stays what it was when the
 * rollout paused. Learnt from Kubernetes pkg/controller/deployment/sync.go (scale) and
 * deployment/util/deployment_util.go (FindActiveOrLatest, IsSaturated, GetReplicaSetProportion,
 * getReplicaSetFraction); Cluster API's machinedeployment_sync.go keeps the same logic.
 *
 * Note: the fraction uses each set's clusterless.dev/max-replicas annotation, i.e. the deployment's size
 * (replicas + maxSurge) when the set was last scaled, *before* this plan rewrites it. Worked scenario: a
 * paused deployment of 10 (maxSurge 3) with sets of 6 and 4 is scaled to 20: 6 * 23/13 = 10.6 -> 11 and
 * 4 * 23/13 = 7.1 -> 7, 18 in all, and the 5 left over of 23 - 13 = 10 go to the largest set: 16 and 7.
 */
import { addNote, type RolloutState } from './rolling-update.js';
import { byCreation, type MachineSetReplicas } from './rollout-math.js';

/** The only set with replicas, or the newest when none has any; undefined when several have replicas. */
function findOneActiveOrLatest(newMS: MachineSetReplicas | undefined, oldMSs: readonly MachineSetReplicas[]): MachineSetReplicas | undefined {
  const newestFirst = [...oldMSs].sort((a, b) => byCreation(b, a));
  const active = [...newestFirst, ...(newMS ? [newMS] : [])].filter((ms) => ms.replicas > 0);
  if (active.length === 0) return newMS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

function isSaturated(replicas: number, newMS: MachineSetReplicas | undefined): boolean {
  return newMS !== undefined && newMS.replicas === replicas && newMS.desiredReplicasAnnotation === replicas && newMS.available === replicas;
}

function fraction(ms: MachineSetReplicas, s: ProportionalState): number {
  if (s.replicas === 0) return -ms.replicas;
  const deploymentMax = s.replicas + s.maxSurge;
  let before = ms.maxReplicasAnnotation ?? 0;
  if (before === 0) {
    // Annotation missing (or 0): fall back to the deployment's last observed size, as Kubernetes does.
    before = s.statusReplicas;
    if (before === 0) return 0;
  }
  return Math.round((ms.replicas * deploymentMax) / before) - ms.replicas;
}

function proportion(ms: MachineSetReplicas, s: ProportionalState, toAdd: number, added: number): number {
  if (ms.replicas === 0 || toAdd === 0 || toAdd === added) return 0;
  const f = fraction(ms, s);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(f, allowed) : Math.max(f, allowed);
}

export interface ProportionalState {
  strategy: RolloutState['strategy'];
  replicas: number;
  maxSurge: number;
  /** The deployment's status.replicas as last written: the fallback base of the fraction. */
  statusReplicas: number;
  newMS: MachineSetReplicas | undefined;
  oldMSs: MachineSetReplicas[];
  intents: Map<string, number>;
  notes: Map<string, string[]>;
}

/** Kubernetes' scale(): sets the intents of a paused (or otherwise non-rolling) scaling event. */
export function scaleProportionally(s: ProportionalState): void {
  const note = (ms: MachineSetReplicas, n: string) => addNote(s, ms, n);
  const one = findOneActiveOrLatest(s.newMS, s.oldMSs);
  if (one) {
    if (one.replicas !== s.replicas) {
      note(one, `scale to ${s.replicas} replicas: the only MachineSet with replicas takes all of them`);
      s.intents.set(one.name, s.replicas);
    }
    return;
  }
  if (isSaturated(s.replicas, s.newMS)) {
    for (const old of s.oldMSs)
      if (old.replicas > 0) {
        note(old, 'scale down to 0 replicas: the current MachineSet is saturated');
        s.intents.set(old.name, 0);
      }
    return;
  }
  if (s.strategy !== 'RollingUpdate') return;
  const all = [...s.oldMSs, ...(s.newMS ? [s.newMS] : [])].filter((ms) => ms.replicas > 0);
  const total = all.reduce((t, ms) => t + ms.replicas, 0);
  const allowedSize = s.replicas > 0 ? s.replicas + s.maxSurge : 0;
  const toAdd = allowedSize - total;
  if (toAdd === 0) return;
  // Larger sets first; newer first when adding, older first when removing (MachineSetsBySizeNewer/Older).
  all.sort((a, b) => (a.replicas !== b.replicas ? b.replicas - a.replicas : toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
  let added = 0;
  const size = new Map<string, number>();
  for (const ms of all) {
    const p = proportion(ms, s, toAdd, added);
    size.set(ms.name, ms.replicas + p);
    added += p;
  }
  all.forEach((ms, i) => {
    let n = size.get(ms.name)!;
    if (i === 0) n = Math.max(n + toAdd - added, 0);
    if (n !== ms.replicas) {
      note(ms, `scale proportionally from ${ms.replicas} to ${n} replicas (${total} -> ${allowedSize} across MachineSets, rollout paused)`);
      s.intents.set(ms.name, n);
    }
  });
}
