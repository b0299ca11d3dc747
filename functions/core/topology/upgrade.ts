/**
 * The upgrade sequence of a managed topology, as Cluster API's: the control plane first, one minor at a time; the
 * MachineDeployments only once the control plane runs the new version everywhere, at most N at a time (the
 * Cluster's upgrade-concurrency annotation, 1 by default). Learnt from cluster-api
 * exp/topology/scope/upgradetracker.go (pending, upgrading, max concurrency), exp/topology/desiredstate/
 * desired_state.go (computeControlPlaneVersion, computeMachineDeploymentVersion) and upgrade_plan.go (one minor per
 * step). Where Cluster API asks a runtime extension for the intermediate versions, clusterless steps through
 * vMAJOR.MINOR.0 of each minor in between.
 */
import { TopologyAnnotations } from '../../api/cluster-class.js';
import type { Cluster } from '../../api/cluster.js';
import { parseVersion } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import { MAX_KUBELET_MINOR_SKEW } from '../../api/version-skew.js';
import { machineDeploymentRolloutComplete } from '../machinedeployment/rollout-math.js';

/**
 * Whether the control plane has finished rolling to its spec: every replica updated and ready, its status
 * observes the current generation and reports the spec's version on every machine.
 */
export function controlPlaneStable(cp: ControlPlane): boolean {
  const s = cp.status;
  if (!s || (s.observedGeneration ?? 0) < (cp.metadata.generation ?? 0)) return false;
  const n = cp.spec.replicas;
  return s.version === cp.spec.version && s.replicas === n && s.updatedReplicas === n && s.readyReplicas === n;
}

/** A MachineDeployment has finished rolling: status observes its generation, every replica updated and available. */
export const machineDeploymentStable = (md: MachineDeployment): boolean => machineDeploymentRolloutComplete(md);

/** Minors from `older` to `newer` (Infinity across majors). */
function minorsBetween(older: string, newer: string): number {
  const a = parseVersion(older);
  const b = parseVersion(newer);
  if (!a || !b) return 0;
  return a.major === b.major ? b.minor - a.minor : Number.POSITIVE_INFINITY;
}

/** The next version on the way from `current` to `target`: `target` itself within one minor, else the next minor's .0. */
export function nextStep(current: string, target: string): string {
  const a = parseVersion(current);
  const b = parseVersion(target);
  if (!a || !b || a.major !== b.major || b.minor <= a.minor + 1) return target;
  return `v${a.major}.${a.minor + 1}.0`;
}

/** How many MachineDeployments may upgrade at once: the Cluster's annotation, 1 when unset or not a positive integer. */
export function upgradeConcurrency(cluster: Cluster): number {
  const v = cluster.metadata.annotations?.[TopologyAnnotations.upgradeConcurrency];
  const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : 1;
  return Math.max(n, 1);
}

export interface VersionDecision {
  /** The version to write into the ControlPlane. */
  controlPlane: string;
  /** The version to write into each topology MachineDeployment, by topology name. */
  machineDeployments: Map<string, string>;
}

/**
 * The versions of this pass. `deployments` are the topology's MachineDeployments in topology order, each with the
 * stored object when there is one.
 */
export function decideVersions(
  cluster: Cluster,
  target: string,
  cp: ControlPlane | undefined,
  deployments: readonly { name: string; actual?: MachineDeployment }[],
): VersionDecision {
  const versions = new Map<string, string>();
  const workerVersions = deployments.flatMap((d) => (d.actual ? [d.actual.spec.template.spec.version] : []));
  // The control plane: created at the target; otherwise moved only when it is not rolling, one minor at a time, and
  // never further than MAX_KUBELET_MINOR_SKEW minors ahead of the oldest worker.
  let cpVersion = target;
  let heldForSkew = false;
  if (cp && cp.spec.version !== target) {
    const stable = controlPlaneStable(cp);
    const next = nextStep(cp.spec.version, target);
    heldForSkew = workerVersions.some((w) => minorsBetween(w, next) > MAX_KUBELET_MINOR_SKEW);
    cpVersion = stable && !heldForSkew ? next : cp.spec.version;
  }
  // Workers move once the control plane runs what they move to: the target once it is done, or the control
  // plane's own version while it waits for them to catch up.
  const cpDone = cp !== undefined && cp.spec.version === target && controlPlaneStable(cp);
  const workerTarget = cpDone ? target : cp && heldForSkew && controlPlaneStable(cp) ? cp.spec.version : undefined;
  let upgrading = deployments.filter(
    (d) => d.actual && workerTarget && d.actual.spec.template.spec.version === workerTarget && !machineDeploymentStable(d.actual),
  ).length;
  const slots = upgradeConcurrency(cluster);
  for (const d of deployments) {
    if (!d.actual) {
      // A new MachineDeployment joins at the version the control plane runs, never ahead of it.
      versions.set(d.name, cp && !cpDone ? (cp.status?.version ?? cp.spec.version) : target);
      continue;
    }
    const current = d.actual.spec.template.spec.version;
    if (workerTarget === undefined || current === workerTarget) versions.set(d.name, current);
    else if (upgrading < slots) {
      versions.set(d.name, workerTarget);
      upgrading++;
    } else versions.set(d.name, current);
  }
  return { controlPlane: cpVersion, machineDeployments: versions };
}
