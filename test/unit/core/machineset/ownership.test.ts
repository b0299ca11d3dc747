/**
 * Owner references on adoption and release, as Kubernetes' controller_ref_manager.go (ClaimObject,
 * AdoptObject, ReleaseObject) and Cluster API's MachineSet controller handle them.
 */
import { describe, expect, it } from 'vitest';
import type { OwnerReference } from '../../../../functions/api/meta.js';
import { adopted, controllerOf, controllerReference, isControlledBy, released } from '../../../../functions/core/machineset/ownership.js';
import { machine, machineSet } from './fixtures.js';

const other: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'keep-uid' };

describe('ownership', () => {
  it('adoption makes the owner the controller and keeps the references of others', () => {
    // Prepare
    const ms = machineSet();
    const orphan = machine('m1');
    orphan.metadata.ownerReferences = [other];
    // Act
    const result = adopted(orphan, ms);
    // Assess
    expect(result.metadata.ownerReferences).toEqual([other, controllerReference(ms)]);
    expect(isControlledBy(result, ms)).toBe(true);
    expect(controllerOf(result)).toEqual({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineSet',
      name: 'ms1',
      uid: 'ms1-uid',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('adopting again replaces the old reference to the same owner, never doubles it', () => {
    // Prepare
    const ms = machineSet();
    const child = machine('m1', { owner: ms });
    // Act & Assess
    expect(adopted(child, ms).metadata.ownerReferences).toEqual([controllerReference(ms)]);
  });

  it('release removes only the reference to the owner, and the list when nothing is left', () => {
    // Prepare
    const ms = machineSet();
    const child = machine('m1', { owner: ms });
    const shared = { ...child, metadata: { ...child.metadata, ownerReferences: [...child.metadata.ownerReferences!, other] } };
    // Act & Assess
    expect(released(shared, ms).metadata.ownerReferences).toEqual([other]);
    expect(released(child, ms).metadata).not.toHaveProperty('ownerReferences');
    expect(released(machine('m2'), ms).metadata).not.toHaveProperty('ownerReferences');
  });

  it('refuses to make an owner reference to an object not stored yet (no uid)', () => {
    // Prepare
    const ms = machineSet();
    delete ms.metadata.uid;
    // Act & Assess
    expect(() => controllerReference(ms)).toThrow('MachineSet ms1 has no uid yet: it cannot own objects');
  });
});
