/**
 * Plans are data. A planner reads objects, observed facts and the time, and returns what should be written
 * and done next; a workflow task applies it and records what it saw. Nothing here performs I/O.
 */
import type { ApiObject } from '../api/kind.js';
import type { KindName } from '../api/kinds.js';

export interface ObjectRef {
  kind: KindName;
  namespace: string;
  name: string;
  uid?: string;
}

/** A change to the store, applied as one conditional write (guarded by metadata.resourceVersion when set). */
export type Write =
  | { type: 'Create'; object: ApiObject }
  /** Spec and metadata; status is kept. */
  | { type: 'Update'; object: ApiObject }
  | { type: 'UpdateStatus'; object: ApiObject }
  /** Asks for deletion: sets deletionTimestamp, teardown follows. */
  | { type: 'Delete'; ref: ObjectRef; reason: string }
  /** The last step of a teardown: the object goes once no finalizer is left. */
  | { type: 'RemoveFinalizer'; ref: ObjectRef; finalizer: string };

/** An effect outside the store, carried out by a workflow. */
export type Action =
  /** Launch (or adopt) the instance of a Machine: the provision-machine workflow. */
  | { type: 'LaunchInstance'; machine: ObjectRef }
  /** Evict the pods of the Machine's node before its instance goes. */
  | { type: 'DrainNode'; machine: ObjectRef; nodeName: string; timeoutSeconds: number }
  /** Terminate the instance of a deleting Machine. */
  | { type: 'TerminateInstance'; machine: ObjectRef; providerID?: string }
  /** Replace an unhealthy Machine: the remediate workflow. */
  | { type: 'RemediateMachine'; machine: ObjectRef; healthCheck?: string; reason: string };

export interface Plan {
  writes: Write[];
  actions: Action[];
  /** When to look again even if nothing happens (timeouts, minReadySeconds, health-check deadlines). */
  requeueAfterSeconds?: number;
  /** Short human-readable reasons, for logs and `describe`. */
  notes: string[];
}

export const emptyPlan = (): Plan => ({ writes: [], actions: [], notes: [] });

/** Merges plans; the earliest requeue wins. */
export function mergePlans(...plans: Plan[]): Plan {
  const out = emptyPlan();
  for (const p of plans) {
    out.writes.push(...p.writes);
    out.actions.push(...p.actions);
    out.notes.push(...p.notes);
    if (p.requeueAfterSeconds !== undefined)
      out.requeueAfterSeconds = out.requeueAfterSeconds === undefined ? p.requeueAfterSeconds : Math.min(out.requeueAfterSeconds, p.requeueAfterSeconds);
  }
  return out;
}

export function refOf(obj: ApiObject): ObjectRef {
  return {
    kind: obj.kind as KindName,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
  };
}
