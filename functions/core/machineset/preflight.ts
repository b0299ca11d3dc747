/**
 * The MachineSet preflight checks: what must hold before a MachineSet creates machines. Learnt from cluster-api
 * core/reconcilers/machineset/machineset_preflight.go (runPreflightChecks and its checks) and
 * internal/contract/controlplane.go (IsProvisioning, IsUpgrading):
 *
 * - ControlPlaneIsStable: the control plane is neither provisioning (no status.version yet) nor upgrading (its
 *   spec.version newer than status.version, the lowest version its machines run): a machine made now would join a
 *   control plane about to change under it.
 * - KubernetesVersionSkew: the new machine's minor is not newer than the control plane's, nor more than three
 *   minors older (the kubelet skew of kubernetes.io/releases/version-skew-policy).
 * - KubeadmVersionSkew: where machines join with kubeadm (the cluster's provider bootstraps with it), the new
 *   machine has the control plane's minor, the only one kubeadm joins with.
 *
 * The annotation `clusterless.dev/skip-preflight-checks` (Cluster API's machineset.cluster.x-k8s.io/skip-preflight-checks)
 * on the MachineSet, or on its MachineDeployment, which copies its annotations to its sets, names checks to skip, comma
 * separated, or `All`. Only creating machines is held: scale-down and deletion never are. Cluster API's
 * ControlPlaneVersionSkew is a topology check and is not run here. Pure.
 */
import { Annotations, compareVersions, parseVersion, type ParsedVersion } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { MachineSet } from '../../api/machine-set.js';
import { MAX_KUBELET_MINOR_SKEW } from '../../api/version-skew.js';

export const PreflightCheck = {
  All: 'All',
  ControlPlaneIsStable: 'ControlPlaneIsStable',
  KubernetesVersionSkew: 'KubernetesVersionSkew',
  KubeadmVersionSkew: 'KubeadmVersionSkew',
} as const;
export type PreflightCheck = (typeof PreflightCheck)[keyof typeof PreflightCheck];

/** How soon a MachineSet held by a preflight check looks again: Cluster API's preflightFailedRequeueAfter. */
export const PREFLIGHT_FAILED_REQUEUE_SECONDS = 15;

export interface PreflightInput {
  machineSet: MachineSet;
  /** The cluster's ControlPlane; without one there is nothing to check against and every check passes. */
  controlPlane: ControlPlane | undefined;
  /** The cluster's machines join with kubeadm (its provider bootstraps with kubeadm). */
  kubeadm: boolean;
}

/** The checks the annotation skips: its comma-separated names, trimmed. */
export function skippedPreflightChecks(ms: MachineSet): Set<string> {
  const value = ms.metadata.annotations?.[Annotations.skipPreflightChecks] ?? '';
  return new Set(
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
}

const failed = (check: PreflightCheck) => `("${check}" preflight check failed)`;

/** Minors from `b` up to `a`; across majors, as many as the majors say (no skew is allowed across one). */
function minorsBetween(a: ParsedVersion, b: ParsedVersion): number {
  return a.major === b.major ? a.minor - b.minor : (a.major - b.major) * 1000;
}

/**
 * Why the MachineSet may not create machines now, one message per failed check (empty: it may), each ending in the
 * name of the check, as Cluster API words them.
 */
export function preflightChecks(input: PreflightInput): string[] {
  const { machineSet: ms, controlPlane: cp } = input;
  const skipped = skippedPreflightChecks(ms);
  if (!cp || skipped.has(PreflightCheck.All)) return [];
  const cpVersion = parseVersion(cp.spec.version);
  if (!cpVersion) return []; // the schema refuses such a version: nothing to compare with
  const run = (check: PreflightCheck) => !skipped.has(check);
  const who = `ControlPlane ${cp.metadata.namespace}/${cp.metadata.name}`;
  const out: string[] = [];

  if (run(PreflightCheck.ControlPlaneIsStable)) {
    const status = cp.status?.version;
    if (!status) out.push(`${who} is provisioning ${failed(PreflightCheck.ControlPlaneIsStable)}`);
    else if (compareVersions(cp.spec.version, status) > 0) out.push(`${who} is upgrading ${failed(PreflightCheck.ControlPlaneIsStable)}`);
  }

  const msVersionText = ms.spec.template.spec.version;
  const msVersion = parseVersion(msVersionText);
  if (!msVersion) return out;
  const versions = `MachineSet version (${msVersionText}) and ControlPlane version (${cp.spec.version})`;
  if (run(PreflightCheck.KubernetesVersionSkew)) {
    const behind = minorsBetween(cpVersion, msVersion);
    if (behind < 0)
      out.push(
        `${versions} do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ${failed(PreflightCheck.KubernetesVersionSkew)}`,
      );
    else if (behind > MAX_KUBELET_MINOR_SKEW)
      out.push(
        `${versions} do not conform to the kubernetes version skew policy as MachineSet version is more than ${MAX_KUBELET_MINOR_SKEW} minor versions older than the ControlPlane version ${failed(PreflightCheck.KubernetesVersionSkew)}`,
      );
  }
  if (input.kubeadm && run(PreflightCheck.KubeadmVersionSkew) && minorsBetween(cpVersion, msVersion) !== 0)
    out.push(
      `${versions} do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ${failed(PreflightCheck.KubeadmVersionSkew)}`,
    );
  return out;
}
