/**
 * Owner references: who controls an object, adoption of orphans and release of objects that no longer
 * match a selector. Learnt from cluster-api core/reconcilers/machineset/machineset_controller.go
 * (getAndAdoptMachinesForMachineSet, shouldExcludeMachine, adoptOrphan) and Kubernetes'
 * controller_ref_manager.go (ClaimObject: adopt matching orphans, release non-matching children).
 */
import { API_VERSION } from '../../api/common.js';
import type { ApiObject } from '../../api/kind.js';
import type { OwnerReference } from '../../api/meta.js';

/** The controller ownerReference of an object, if any. */
export function controllerOf(obj: ApiObject): OwnerReference | undefined {
  // A loop, not find with a closure: the machine index asks this of every machine in every reconcile.
  const refs = obj.metadata.ownerReferences;
  if (refs === undefined) return undefined;
  for (let i = 0; i < refs.length; i++) if (refs[i]!.controller === true) return refs[i];
  return undefined;
}

/** True when `obj` is controlled by `owner` (matched by uid, the only stable identity). */
export function isControlledBy(obj: ApiObject, owner: ApiObject): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && owner.metadata.uid !== undefined && ref.uid === owner.metadata.uid;
}

/** The ownerReference a controller puts on what it creates or adopts. Needs the owner's uid. */
export function controllerReference(owner: ApiObject): OwnerReference {
  if (!owner.metadata.uid) throw new Error(`${owner.kind} ${owner.metadata.name} has no uid yet: it cannot own objects`);
  return { apiVersion: API_VERSION, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** A copy of `obj` controlled by `owner`; other (non-controller) references are kept. */
export function adopted<T extends ApiObject>(obj: T, owner: ApiObject): T {
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [...others, controllerReference(owner)] } };
}

/** A copy of `obj` without any reference to `owner`. */
export function released<T extends ApiObject>(obj: T, owner: ApiObject): T {
  const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
  const { ownerReferences: _drop, ...metadata } = obj.metadata;
  return { ...obj, metadata: refs.length > 0 ? { ...metadata, ownerReferences: refs } : metadata };
}
