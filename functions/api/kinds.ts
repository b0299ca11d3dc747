import { ClusterClassKind } from './cluster-class.js';
import { ClusterResourceSetBindingKind, ClusterResourceSetKind } from './cluster-resource-set.js';
import { ClusterKind } from './cluster.js';
import { ControlPlaneKind } from './control-plane.js';
import { EventKind } from './event.js';
import { FleetUpgradeKind } from './fleet-upgrade.js';
import type { ApiObject, KindDef } from './kind.js';
import { MachineClassKind } from './machine-class.js';
import { MachineDeploymentKind } from './machine-deployment.js';
import { MachineHealthCheckKind } from './machine-health-check.js';
import { MachineSetKind } from './machine-set.js';
import { MachineKind } from './machine.js';

/** Every kind served, in the order objects of a cluster are created (and reversed, deleted). */
export const KINDS = [
  MachineClassKind,
  ClusterClassKind,
  ClusterResourceSetKind,
  ClusterKind,
  ControlPlaneKind,
  MachineDeploymentKind,
  MachineSetKind,
  MachineKind,
  MachineHealthCheckKind,
  ClusterResourceSetBindingKind,
  FleetUpgradeKind,
] as unknown as readonly KindDef<ApiObject>[];

export type KindName =
  | 'Cluster'
  | 'ControlPlane'
  | 'MachineClass'
  | 'ClusterClass'
  | 'MachineDeployment'
  | 'MachineSet'
  | 'Machine'
  | 'MachineHealthCheck'
  | 'ClusterResourceSet'
  | 'ClusterResourceSetBinding'
  | 'FleetUpgrade';

/** Every kind the Store holds: the served kinds and events.k8s.io's Event (functions/api/event.ts), read-only over HTTP. */
export type StoredKindName = KindName | 'Event';

const byKind = new Map(KINDS.map((k) => [k.kind, k]));
/** The served kinds and the Event: every kind the Store may hold (the store needs each one's partition). */
export function storedKindByName(kind: string): KindDef<ApiObject> | undefined {
  return kind === EventKind.kind ? (EventKind as unknown as KindDef<ApiObject>) : byKind.get(kind);
}

const byPlural = new Map(KINDS.map((k) => [k.plural, k]));
const byAnyName = new Map(KINDS.flatMap((k) => [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames].map((n) => [n, k] as const)));

export function kindByName(kind: string): KindDef<ApiObject> | undefined {
  return byKind.get(kind);
}

export function kindByPlural(plural: string): KindDef<ApiObject> | undefined {
  return byPlural.get(plural);
}

/** Resolves what a user types after `get`: plural, singular, kind or short name, any case. */
export function kindByAlias(name: string): KindDef<ApiObject> | undefined {
  return byAnyName.get(name.toLowerCase());
}
