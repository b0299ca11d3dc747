/**
 * Version skew across the objects of one cluster, as API validation: the rules that need more than the object being
 * written. The per-object rules (no decrease, one minor at a time from the old spec) are `versionChangeCauses` in
 * template.ts; these add what the rest of the cluster says.
 *
 * - The control plane moves up at most one minor from the version it runs (status.version, the lowest of its
 *   machines; the stored spec.version while there is no status) and never below that minor: learnt from cluster-api
 *   controlplane/kubeadm/internal/webhooks/kubeadm_control_plane.go (validateVersion) and kubeadm's upgrade policy
 *   (cmd/kubeadm/app/phases/upgrade/policy.go: one minor at a time).
 * - Workers (MachineDeployments, MachineSets, Machines without the control-plane label) never run a newer minor
 *   than the control plane, taken as the lower of its spec.version and what it runs (a newer patch of the same minor
 *   is allowed: the skew policy is stated in minors, and a patch rollout of workers alone is common), as Cluster API's topology
 *   upgrades MachineDeployments only once the control plane is upgraded and stable (internal/controllers/topology/
 *   cluster/desired_state.go, computeMachineDeploymentVersion); and at most three minors older than the control
 *   plane's spec.version (the newest kube-apiserver it will run): the kubelet skew of
 *   kubernetes.io/releases/version-skew-policy.
 * - A control-plane upgrade (or create) that would leave a worker more than three minors behind, or older than a
 *   worker, is refused.
 *
 * Pure: the caller reads the cluster's objects (one `Store.listCluster`) and passes them in.
 */
import { Labels, compareVersions, parseVersion, type ParsedVersion } from './common.js';
import type { ControlPlane } from './control-plane.js';
import { cause, type ApiObject, type FieldCause } from './kind.js';
import type { Machine } from './machine.js';
import type { MachineDeployment } from './machine-deployment.js';
import type { MachineSet } from './machine-set.js';

/** How many minors a kubelet may be older than kube-apiserver (version skew policy, since Kubernetes 1.28). */
export const MAX_KUBELET_MINOR_SKEW = 3;

/** A worker's version as the cluster holds it: which object, which field. */
export interface WorkerVersion {
  kind: 'MachineDeployment' | 'MachineSet' | 'Machine';
  name: string;
  field: string;
  version: string;
}

/** Kinds whose writes the skew rules look at. */
export const VERSIONED_KINDS: ReadonlySet<string> = new Set(['ControlPlane', 'MachineDeployment', 'MachineSet', 'Machine']);

/** The field a versioned object keeps its Kubernetes version in. */
export function versionFieldOf(obj: ApiObject): string {
  return obj.kind === 'MachineDeployment' || obj.kind === 'MachineSet' ? 'spec.template.spec.version' : 'spec.version';
}

/** The version a versioned object asks for; undefined for other kinds. */
export function versionOf(obj: ApiObject): string | undefined {
  switch (obj.kind) {
    case 'ControlPlane':
    case 'Machine':
      return (obj as ControlPlane | Machine).spec.version;
    case 'MachineDeployment':
    case 'MachineSet':
      return (obj as MachineDeployment | MachineSet).spec.template.spec.version;
    default:
      return undefined;
  }
}

const isControlPlaneMachine = (m: ApiObject) => m.metadata.labels?.[Labels.controlPlane] !== undefined;

/**
 * Whether a write of `candidate` (replacing `old`, or a create) is one the skew rules must look at: a create of a
 * versioned kind, or an update that changes its version. Other updates are ratcheted: a scale never fails on skew
 * left by an earlier state. Control-plane Machines are the control plane's own and are not workers.
 */
export function needsSkewCheck(candidate: ApiObject, old: ApiObject | undefined): boolean {
  if (!VERSIONED_KINDS.has(candidate.kind)) return false;
  if (candidate.kind === 'Machine' && isControlPlaneMachine(candidate)) return false;
  return old === undefined || versionOf(old) !== versionOf(candidate);
}

/**
 * The workers of a cluster and their versions: every MachineDeployment, every MachineSet that keeps machines
 * (replicas > 0: a scaled-down old revision runs nothing), every Machine without the control-plane label. Objects
 * being deleted still count: their kubelets run until they are gone.
 */
export function workerVersions(objects: readonly ApiObject[], except?: ApiObject): WorkerVersion[] {
  const out: WorkerVersion[] = [];
  for (const o of objects) {
    if (except && o.kind === except.kind && o.metadata.name === except.metadata.name) continue;
    if (o.kind === 'MachineDeployment') out.push({ kind: o.kind, name: o.metadata.name, field: 'spec.template.spec.version', version: versionOf(o)! });
    else if (o.kind === 'MachineSet' && (o as MachineSet).spec.replicas > 0)
      out.push({ kind: o.kind, name: o.metadata.name, field: 'spec.template.spec.version', version: versionOf(o)! });
    else if (o.kind === 'Machine' && !isControlPlaneMachine(o))
      out.push({ kind: o.kind, name: o.metadata.name, field: 'spec.version', version: versionOf(o)! });
  }
  return out;
}

/** Minors from `older` up to `newer`; Infinity across majors (no skew is allowed across a major). */
function minorsBehind(newer: ParsedVersion, older: ParsedVersion): number {
  if (newer.major !== older.major) return newer.major > older.major ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return newer.minor - older.minor;
}

const minOf = (a: string, b: string) => (compareVersions(a, b) <= 0 ? a : b);
const maxOf = (a: string, b: string) => (compareVersions(a, b) >= 0 ? a : b);

/**
 * The causes a write of `candidate` breaks, given the objects its cluster holds now (as read before the write;
 * `old` is the stored object it replaces, undefined for a create). Empty when the cluster has no ControlPlane.
 */
export function versionSkewCauses(candidate: ApiObject, old: ApiObject | undefined, clusterObjects: readonly ApiObject[]): FieldCause[] {
  if (!needsSkewCheck(candidate, old)) return [];
  return candidate.kind === 'ControlPlane'
    ? controlPlaneCauses(candidate as ControlPlane, old as ControlPlane | undefined, clusterObjects)
    : workerCauses(candidate, clusterObjects);
}

function controlPlaneCauses(cp: ControlPlane, old: ControlPlane | undefined, objects: readonly ApiObject[]): FieldCause[] {
  const field = 'spec.version';
  const target = parseVersion(cp.spec.version);
  if (!target) return []; // the schema has refused it
  const causes: FieldCause[] = [];
  // What the control plane runs: the lowest machine version it reported, else the version it was asked for.
  const runningText = cp.status?.version ?? old?.spec.version;
  const running = runningText === undefined ? undefined : parseVersion(runningText);
  if (runningText !== undefined && running) {
    const step = minorsBehind(target, running);
    if (step > 1)
      causes.push(
        cause.forbidden(
          field,
          `control plane upgrade skips a minor version: it runs ${runningText} and may move to v${running.major}.${running.minor + 1}.x at most until every control-plane machine runs it`,
        ),
      );
    else if (step < 0)
      causes.push(
        cause.forbidden(field, `control plane downgrade: it runs ${runningText}, and its version may not go below minor v${running.major}.${running.minor}`),
      );
  }
  for (const w of workerVersions(objects)) {
    const wv = parseVersion(w.version);
    if (!wv) continue;
    if (minorsBehind(target, wv) > MAX_KUBELET_MINOR_SKEW)
      causes.push(
        cause.forbidden(
          field,
          `version skew: ${w.kind} ${w.name} runs ${w.version}, which would be more than ${MAX_KUBELET_MINOR_SKEW} minor versions older than the control plane's ${cp.spec.version}; upgrade the workers first`,
        ),
      );
    else if (minorsBehind(target, wv) < 0)
      causes.push(
        cause.forbidden(
          field,
          `version skew: ${w.kind} ${w.name} runs ${w.version}, a newer minor than the control plane's ${cp.spec.version}; workers may not be newer`,
        ),
      );
  }
  return causes;
}

function workerCauses(candidate: ApiObject, objects: readonly ApiObject[]): FieldCause[] {
  const cp = objects.find((o): o is ControlPlane => o.kind === 'ControlPlane');
  if (!cp) return []; // workers only: nothing to hold them to
  const field = versionFieldOf(candidate);
  const version = versionOf(candidate)!;
  const v = parseVersion(version);
  if (!v) return [];
  const runs = cp.status?.version ?? cp.spec.version;
  const ceiling = minOf(cp.spec.version, runs);
  const newest = maxOf(cp.spec.version, runs);
  const newestParsed = parseVersion(newest);
  const ceilingParsed = parseVersion(ceiling);
  if (ceilingParsed && minorsBehind(ceilingParsed, v) < 0)
    return [
      cause.forbidden(
        field,
        `version skew: ${version} is a newer minor than the control plane (ControlPlane ${cp.metadata.name}: spec.version ${cp.spec.version}, runs ${runs}); workers may not be newer than the control plane: upgrade them once it runs v${v.major}.${v.minor}`,
      ),
    ];
  if (newestParsed && minorsBehind(newestParsed, v) > MAX_KUBELET_MINOR_SKEW)
    return [
      cause.forbidden(
        field,
        `version skew: ${version} is more than ${MAX_KUBELET_MINOR_SKEW} minor versions older than the control plane's ${newest} (ControlPlane ${cp.metadata.name}); a kubelet may be at most ${MAX_KUBELET_MINOR_SKEW} minors older than kube-apiserver`,
      ),
    ];
  return [];
}
