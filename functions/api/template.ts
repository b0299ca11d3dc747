import * as z from 'zod';
import { compareVersions, dnsLabel, kubernetesVersion, localObjectReference, parseVersion } from './common.js';
import { cause, type FieldCause, type UpdateRuleOptions } from './kind.js';
import { templateMeta } from './meta.js';
import { nodeTaints } from './taint.js';
import { lazySchema } from './lazy-schema.js';

/** How long to drain a node before its machine is deleted anyway; 0 waits forever. */
export const nodeDrainTimeoutSeconds = lazySchema(() => z.number().int().min(0).max(86400).default(300));
/** nodeVolumeDetachTimeoutSeconds when unset. */
export const DEFAULT_NODE_VOLUME_DETACH_TIMEOUT_SECONDS = 300;
/** nodeDeletionTimeoutSeconds when unset: Cluster API's default nodeDeletionTimeout. */
export const DEFAULT_NODE_DELETION_TIMEOUT_SECONDS = 10;

/**
 * How long to wait, after the drain, for the node's volumes to detach (Node status.volumesAttached empty) before its
 * instance is terminated anyway; 0 waits forever. Cluster API's nodeVolumeDetachTimeout, whose unset value waits
 * forever: here unset means 300 s, as the drain is bounded by default, so that a volume a pod still holds after a
 * drain timeout cannot hold a rollout for ever. Optional (the default is applied where it is read), so objects
 * stored before the field existed read the same.
 */
export const nodeVolumeDetachTimeoutSeconds = lazySchema(() =>
  z.number().int().min(0).max(86400).describe('Seconds to wait for the node volumes to detach after the drain (300 when unset; 0 waits forever).').optional(),
);
/**
 * How long to keep deleting the Node object once the instance is gone, before the Machine goes anyway; 0 tries
 * forever. Cluster API's nodeDeletionTimeout (10 s when unset).
 */
export const nodeDeletionTimeoutSeconds = lazySchema(() =>
  z
    .number()
    .int()
    .min(0)
    .max(86400)
    .describe('Seconds to keep trying to delete the Node once the instance is gone (10 when unset; 0 tries forever).')
    .optional(),
);

/** What a Machine is made from: shared by MachineDeployment and MachineSet. */
export const machineTemplateSpec = lazySchema(() =>
  z.strictObject({
    version: kubernetesVersion,
    machineClassRef: localObjectReference,
    /** Pins the machines to one failure domain; unset lets the MachineSet spread them. */
    failureDomain: dnsLabel('Failure domain (availability zone) the machines are pinned to.').optional(),
    nodeDrainTimeoutSeconds,
    nodeVolumeDetachTimeoutSeconds,
    nodeDeletionTimeoutSeconds,
    /** Taints the machines' Nodes register with; bootstrap configuration, so a change rolls out new machines. */
    taints: nodeTaints.optional(),
  }),
);
export type MachineTemplateSpec = z.infer<typeof machineTemplateSpec>;

export const machineTemplate = lazySchema(() =>
  z.strictObject({
    metadata: templateMeta.prefault({}),
    spec: machineTemplateSpec,
  }),
);
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
