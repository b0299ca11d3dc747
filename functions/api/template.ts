import * as z from 'zod';
import { compareVersions, dnsLabel, kubernetesVersion, localObjectReference, parseVersion } from './common.js';
import { cause, type FieldCause, type UpdateRuleOptions } from './kind.js';
import { templateMeta } from './meta.js';
import { nodeTaints } from './taint.js';

/** How long to drain a node before its machine is deleted anyway; 0 waits forever. */
export const nodeDrainTimeoutSeconds = z.number().int().min(0).max(86400).default(300);

/** What a Machine is made from: shared by MachineDeployment and MachineSet. */
export const machineTemplateSpec = z.strictObject({
  version: kubernetesVersion,
  machineClassRef: localObjectReference,
  /** Pins the machines to one failure domain; unset lets the MachineSet spread them. */
  failureDomain: dnsLabel('Failure domain (availability zone) the machines are pinned to.').optional(),
  nodeDrainTimeoutSeconds,
  /** Taints the machines' Nodes register with; bootstrap configuration, so a change rolls out new machines. */
  taints: nodeTaints.optional(),
});
export type MachineTemplateSpec = z.infer<typeof machineTemplateSpec>;

export const machineTemplate = z.strictObject({
  metadata: templateMeta.prefault({}),
  spec: machineTemplateSpec,
});
export type MachineTemplate = z.infer<typeof machineTemplate>;

/**
 * The version skew a Cluster API webhook enforces on an update: no downgrade, and at most one minor version
 * up (any patch of the next minor is fine). Learnt from cluster-api
 * controlplane/kubeadm/internal/webhooks/kubeadm_control_plane.go (validateVersion: the ceiling is
 * MAJOR.MINOR+2.0) and internal/webhooks/cluster.go (validateTopologyVersion: no decrease).
 */
export function versionChangeCauses(field: string, oldV: string | undefined, newV: string | undefined, options: UpdateRuleOptions = {}): FieldCause[] {
  if (!oldV || !newV || oldV === newV) return [];
  const a = parseVersion(oldV);
  const b = parseVersion(newV);
  if (!a || !b) return [];
  if (compareVersions(newV, oldV) < 0)
    return options.allowVersionDowngrade ? [] : [cause.forbidden(field, `version cannot be decreased from ${oldV} to ${newV}`)];
  if (b.major !== a.major || b.minor > a.minor + 1)
    return [
      cause.forbidden(field, `version cannot be increased from ${oldV} to ${newV}: upgrade one minor version at a time (next: v${a.major}.${a.minor + 1}.x)`),
    ];
  return [];
}
