/**
 * The Events a plan's writes tell, once applied: a MachineSet made a Machine (SuccessfulCreate) or deleted one
 * (SuccessfulDelete), a MachineDeployment made a MachineSet (SuccessfulCreate) or scaled one (ScalingMachineSet),
 * a health check marked a Machine unhealthy (MachineMarkedUnhealthy), preflight checks hold a MachineSet's scale up
 * (PreflightCheckFailed). Pure: the objects as they were before the
 * plan are passed in. Reasons and the object each is recorded on follow Cluster API's controllers (see
 * functions/api/event.ts for the files).
 */
import { EventReason, type EventInput, type EventRegarding } from '../api/event.js';
import type { ApiObject } from '../api/kind.js';
import { getCondition } from './conditions.js';
import { OwnerRemediatedReason } from './healthcheck/planner.js';
import { controllerOf } from './machineset/ownership.js';
import { PreflightCheckFailedReason } from './machineset/status.js';
import type { Write } from './plan.js';

export type PlannedEvent = Omit<EventInput, 'workflow'>;

/** The key of `before`: kind and name (one cluster's objects, one namespace). */
export const eventObjectKey = (kind: string, name: string) => `${kind}/${name}`;

function ownerOf(obj: ApiObject): EventRegarding | undefined {
  const owner = controllerOf(obj);
  if (!owner) return undefined;
  return { kind: owner.kind, namespace: obj.metadata.namespace || 'default', name: owner.name, uid: owner.uid, apiVersion: owner.apiVersion };
}

const replicasOf = (obj: ApiObject | undefined) => (obj?.spec as { replicas?: number } | undefined)?.replicas;

/**
 * A MachineSet whose scale up the preflight checks now hold, or hold for other reasons than before: an event on the
 * set, so that `describe` says why no machine comes (Cluster API only logs it, besides the condition).
 */
function preflightEvents(ms: ApiObject, before: ReadonlyMap<string, ApiObject>): PlannedEvent[] {
  const held = (o: ApiObject | undefined) => {
    const c = getCondition(o?.status?.conditions, 'MachinesCreated');
    return c?.status === 'False' && c.reason === PreflightCheckFailedReason ? c : undefined;
  };
  const now = held(ms);
  if (!now || held(before.get(eventObjectKey('MachineSet', ms.metadata.name)))?.message === now.message) return [];
  const { namespace, name, uid } = ms.metadata;
  const regarding: EventRegarding = { kind: 'MachineSet', namespace: namespace || 'default', name, ...(uid ? { uid } : {}), apiVersion: ms.apiVersion };
  // Normal: a hold is the controller doing as designed (a new cluster's sets wait for its control plane); the
  // condition says what holds it until the checks pass.
  return [{ regarding, type: 'Normal', reason: EventReason.PreflightCheckFailed, action: 'Create', note: `Scale up on hold: ${now.message ?? ''}` }];
}

/** The events of one applied write, given the cluster's objects before the plan. */
export function eventsOfWrite(w: Write, before: ReadonlyMap<string, ApiObject>): PlannedEvent[] {
  switch (w.type) {
    case 'Create': {
      const owner = ownerOf(w.object);
      if (!owner || (w.object.kind !== 'Machine' && w.object.kind !== 'MachineSet')) return [];
      return [
        {
          regarding: owner,
          type: 'Normal',
          reason: EventReason.SuccessfulCreate,
          action: 'Create',
          note: `Created ${w.object.kind} "${w.object.metadata.name}"`,
        },
      ];
    }
    case 'Delete': {
      if (w.ref.kind !== 'Machine') return [];
      const machine = before.get(eventObjectKey('Machine', w.ref.name));
      const owner = machine && ownerOf(machine);
      if (!owner) return [];
      return [
        { regarding: owner, type: 'Normal', reason: EventReason.SuccessfulDelete, action: 'Delete', note: `Deleted Machine "${w.ref.name}": ${w.reason}` },
      ];
    }
    case 'Update': {
      if (w.object.kind !== 'MachineSet') return [];
      const old = before.get(eventObjectKey('MachineSet', w.object.metadata.name));
      const [from, to] = [replicasOf(old), replicasOf(w.object)];
      const owner = ownerOf(w.object);
      if (owner?.kind !== 'MachineDeployment' || from === undefined || to === undefined || from === to) return [];
      const note = `Scaled ${to > from ? 'up' : 'down'} MachineSet ${w.object.metadata.name} from ${from} to ${to}`;
      return [{ regarding: owner, type: 'Normal', reason: EventReason.ScalingMachineSet, action: 'Scale', note }];
    }
    case 'UpdateStatus': {
      if (w.object.kind === 'MachineSet') return preflightEvents(w.object, before);
      if (w.object.kind !== 'Machine') return [];
      const marked = (o: ApiObject | undefined) => {
        const c = getCondition(o?.status?.conditions, 'OwnerRemediated');
        return c?.status === 'False' && c.reason === OwnerRemediatedReason.WaitingForRemediation ? c : undefined;
      };
      const mark = marked(w.object);
      if (!mark || marked(before.get(eventObjectKey('Machine', w.object.metadata.name)))) return [];
      const { namespace, name, uid } = w.object.metadata;
      const regarding: EventRegarding = { kind: 'Machine', namespace: namespace || 'default', name, ...(uid ? { uid } : {}), apiVersion: w.object.apiVersion };
      const why = mark.message ? `: ${mark.message}` : '';
      return [
        {
          regarding,
          type: 'Normal',
          reason: EventReason.MachineMarkedUnhealthy,
          action: 'MarkUnhealthy',
          note: `Machine ${namespace}/${name} has been marked as unhealthy${why}`,
        },
      ];
    }
    default:
      return [];
  }
}
