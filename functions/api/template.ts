import { z } from 'zod';
import { compareVersions, dnsLabel, kubernetesVersion, localObjectReference, parseVersion } from './common.js';
import type { FieldCause } from './kind.js';
import { templateMeta } from './meta.js';

/** What a Machine is made from: shared by MachineDeployment, MachineSet and ControlPlane. */
export const machineTemplateSpec = z.strictObject({
  version: kubernetesVersion,
  machineClassRef: localObjectReference,
  /** Pins the machines to one failure domain; unset lets the MachineSet spread them. */
  failureDomain: dnsLabel('failure domain').optional(),
  /** How long to drain the node before the machine is deleted anyway; 0 waits forever. */
  nodeDrainTimeoutSeconds: z.number().int().min(0).max(86400).default(300),
});
export type MachineTemplateSpec = z.infer<typeof machineTemplateSpec>;

export const machineTemplate = z.strictObject({
  metadata: templateMeta.prefault({}),
  spec: machineTemplateSpec,
});
export type MachineTemplate = z.infer<typeof machineTemplate>;

/**
 * The version skew a Cluster API webhook enforces on an update: no downgrade and no skipped minor version.
 * Learnt from cluster-api internal/webhooks (kubeadm control plane and topology version checks).
 */
export function versionChangeCauses(field: string, oldV: string | undefined, newV: string | undefined): FieldCause[] {
  if (!oldV || !newV || oldV === newV) return [];
  const a = parseVersion(oldV);
  const b = parseVersion(newV);
  if (!a || !b) return [];
  if (compareVersions(newV, oldV) < 0)
    return [{ field, reason: 'FieldValueForbidden', message: `version cannot be decreased from ${oldV} to ${newV}` }];
  if (b.major !== a.major)
    return [{ field, reason: 'FieldValueForbidden', message: `version cannot change major version from ${oldV} to ${newV}` }];
  if (b.minor > a.minor + 1)
    return [{ field, reason: 'FieldValueForbidden', message: `version cannot skip a minor version: from ${oldV} the next allowed minor is v${a.major}.${a.minor + 1}` }];
  return [];
}
