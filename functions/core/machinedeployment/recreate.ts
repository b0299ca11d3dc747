/**
 * Recreate, which Cluster API lacks (Kubernetes' Deployments have it: pkg/controller/deployment/recreate.go):
 * every old MachineSet goes to 0, the new one is created and scaled up only once no old machine is left,
 * deleting ones included. So old and new machines never run together; the price is a window with no
 * machines at all, which is what a user picks Recreate for (e.g. a template that cannot coexist with the old).
 */
import { addNote } from './rolling-update.js';
import type { MachineSetReplicas } from './rollout-math.js';

interface RecreateState {
  replicas: number;
  oldMSs: MachineSetReplicas[];
  intents: Map<string, number>;
  notes: Map<string, string[]>;
}

/** Old sets to 0 (scaleDownOldReplicaSetsForRecreate). */
export function scaleDownOldForRecreate(s: RecreateState): void {
  for (const ms of s.oldMSs)
    if (ms.replicas > 0) {
      addNote(s, ms, 'scale down to 0 replicas: Recreate removes every old machine before creating new ones');
      s.intents.set(ms.name, 0);
    }
}

/** Machines of the old sets that still exist: the new set waits until there are none (oldPodsRunning). */
export function oldMachinesLeft(oldMSs: readonly MachineSetReplicas[]): number {
  return oldMSs.reduce((t, ms) => t + ms.actual, 0);
}

/** The new set straight to the deployment's replicas (scaleUpNewReplicaSetForRecreate). */
export function scaleUpNewForRecreate(s: RecreateState, newMS: MachineSetReplicas): void {
  if (newMS.replicas !== s.replicas) {
    addNote(s, newMS, `scale to ${s.replicas} replicas: no old machine is left`);
    s.intents.set(newMS.name, s.replicas);
  }
}
