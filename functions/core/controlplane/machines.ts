/**
 * Control-plane machines: which are up to date, where a new one goes, which one goes first, and how a new one
 * is made. Learnt from Cluster API's controlplane/kubeadm/pkg/control_plane.go
 * (NextFailureDomainForScaleUp, MachineInFailureDomainWithMostMachines, FailureDomainWithMostMachines),
 * util/failuredomains/failure_domains.go (PickFewest, PickMost) and
 * controlplane/kubeadm/reconcilers/kubeadmcontrolplane/scale.go (selectMachineForInPlaceUpdateOrScaleDown).
 */
import type { Cluster } from '../../api/cluster.js';
import { API_VERSION, Annotations, Finalizers, Labels } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { Machine } from '../../api/machine.js';
import { hasAnnotation, isDeleting, oldestFirst } from '../cluster/objects.js';
import { failureDomainOf } from '../machine/facts.js';
import { withTeardownTimeouts } from '../machine/deletion.js';
import { canonicalJson } from '../../api/kind.js';

/**
 * Whether a machine registered with the control plane's taints. They are kubeadm bootstrap configuration, so a
 * change rolls the control plane as a KubeadmConfigSpec change does in KubeadmControlPlane
 * (controlplane/kubeadm/internal/filters.go, matchesKubeadmConfig). No taints and an empty list are the same.
 */
function taintsMatch(machine: Machine, cp: ControlPlane): boolean {
  return canonicalJson(machine.spec.taints ?? []) === canonicalJson(cp.spec.taints ?? []);
}

/** A machine is up to date when it runs the control plane's version from its machine class, with its taints. */
export function isUpToDate(machine: Machine, cp: ControlPlane): boolean {
  return machine.spec.version === cp.spec.version && machine.spec.machineClassRef.name === cp.spec.machineClassRef.name && taintsMatch(machine, cp);
}

export function outdatedReasons(machine: Machine, cp: ControlPlane): string[] {
  const reasons: string[] = [];
  if (machine.spec.version !== cp.spec.version) reasons.push(`version ${machine.spec.version}, ${cp.spec.version} required`);
  if (machine.spec.machineClassRef.name !== cp.spec.machineClassRef.name)
    reasons.push(`machine class ${machine.spec.machineClassRef.name}, ${cp.spec.machineClassRef.name} required`);
  if (!taintsMatch(machine, cp)) reasons.push('taints changed');
  return reasons;
}

interface FailureDomainCount {
  name: string;
  priority: number;
  all: number;
}

function countByFailureDomain(failureDomains: readonly string[], all: readonly Machine[], priority: readonly Machine[]): FailureDomainCount[] {
  const counts = new Map(failureDomains.map((fd) => [fd, { name: fd, priority: 0, all: 0 }]));
  for (const m of all) {
    const fd = failureDomainOf(m);
    const c = fd !== undefined ? counts.get(fd) : undefined;
    if (c) c.all++;
  }
  for (const m of priority) {
    const fd = failureDomainOf(m);
    const c = fd !== undefined ? counts.get(fd) : undefined;
    if (c) c.priority++;
  }
  return [...counts.values()];
}

/**
 * Where the next control-plane machine goes: the zone with the fewest up-to-date machines that are not
 * deleting, then the fewest machines overall, then the first in name order (PickFewest). Spreading the
 * up-to-date machines first is what leaves the control plane evenly spread once a rollout is over.
 */
export function nextFailureDomainForScaleUp(failureDomains: readonly string[], machines: readonly Machine[], cp: ControlPlane): string | undefined {
  if (failureDomains.length === 0) return undefined;
  const upToDate = machines.filter((m) => isUpToDate(m, cp) && !isDeleting(m));
  const counts = countByFailureDomain(failureDomains, machines, upToDate);
  counts.sort((a, b) => a.priority - b.priority || a.all - b.all || (a.name < b.name ? -1 : 1));
  return counts[0]?.name;
}

/**
 * The machine to remove among the eligible ones: first any eligible machine outside the known zones (a zone
 * that went away is emptied first), else the oldest eligible machine of the zone that has the most machines
 * and at least one eligible (PickMost, MachineInFailureDomainWithMostMachines).
 */
export function machineInFailureDomainWithMostMachines(
  failureDomains: readonly string[],
  all: readonly Machine[],
  eligible: readonly Machine[],
): Machine | undefined {
  const sorted = [...eligible].sort(oldestFirst);
  const outside = sorted.filter((m) => failureDomainOf(m) === undefined || !failureDomains.includes(failureDomainOf(m)!));
  if (outside.length > 0) {
    const fd = failureDomainOf(outside[0]!);
    return sorted.find((m) => failureDomainOf(m) === fd);
  }
  const counts = countByFailureDomain(failureDomains, all, eligible).filter((c) => c.priority > 0);
  counts.sort((a, b) => b.priority - a.priority || b.all - a.all || (a.name < b.name ? -1 : 1));
  const fd = counts[0]?.name;
  return sorted.find((m) => failureDomainOf(m) === fd);
}

/**
 * The machine a scale down or a rollout step removes: a machine the user marked with the delete-machine
 * annotation (outdated ones first), else an outdated machine whose node is not Ready, else any outdated
 * machine, else any machine; then by zone and age as above.
 */
export function selectMachineForScaleDown(
  failureDomains: readonly string[],
  machines: readonly Machine[],
  outdated: readonly Machine[],
  nodeReady: (m: Machine) => boolean,
): Machine | undefined {
  const marked = (ms: readonly Machine[]) => ms.filter((m) => hasAnnotation(m, Annotations.deleteMachine));
  const eligible = [marked(outdated), marked(machines), outdated.filter((m) => !nodeReady(m)), outdated, machines].find((set) => set.length > 0) ?? [];
  return machineInFailureDomainWithMostMachines(failureDomains, machines, eligible);
}

// Kubernetes' name-suffix alphabet (apimachinery util/rand): no vowels, no look-alike characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a: a stable, dependency-free hash for name suffixes. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A name for the next machine: the control plane's name and five characters derived from the control plane's
 * uid, the time and the machines that exist. The same inputs give the same name, so a plan applied twice
 * creates one machine (the second Create is AlreadyExists); a later plan sees the machine and picks another.
 */
export function nextMachineName(cp: ControlPlane, existing: readonly Machine[], now: Date): string {
  const taken = new Set(existing.map((m) => m.metadata.name));
  const prefix = cp.metadata.name.slice(0, 57);
  for (let attempt = 0; ; attempt++) {
    let h = fnv1a(`${cp.metadata.uid ?? cp.metadata.name}/${now.toISOString()}/${[...taken].sort().join(',')}/${attempt}`);
    let suffix = '';
    for (let i = 0; i < 5; i++) {
      suffix += ALPHABET[h % ALPHABET.length];
      h = Math.floor(h / ALPHABET.length);
    }
    const name = `${prefix}-${suffix}`;
    if (!taken.has(name)) return name;
  }
}

/** The selector of a control plane's machines, as status.selector shows it. */
export function controlPlaneSelectorLabels(cp: ControlPlane): Record<string, string> {
  return { [Labels.clusterName]: cp.spec.clusterName, [Labels.controlPlaneName]: cp.metadata.name };
}

/** A new control-plane machine, owned by the control plane and cloned from its spec. */
export function newControlPlaneMachine(cp: ControlPlane, cluster: Cluster, name: string, failureDomain: string | undefined): Machine {
  return {
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: {
      name,
      namespace: cp.metadata.namespace,
      labels: { ...controlPlaneSelectorLabels(cp), [Labels.controlPlane]: '' },
      // A preference, not a pin (see machineset/planner.ts newMachine): a zone out of capacity must not keep
      // the control plane from reaching its replicas.
      ...(failureDomain !== undefined ? { annotations: { [Annotations.preferredFailureDomain]: failureDomain } } : {}),
      finalizers: [Finalizers.machine],
      ...(cp.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: API_VERSION, kind: 'ControlPlane', name: cp.metadata.name, uid: cp.metadata.uid, controller: true, blockOwnerDeletion: true },
            ],
          }
        : {}),
    },
    spec: {
      clusterName: cluster.metadata.name,
      version: cp.spec.version,
      machineClassRef: { name: cp.spec.machineClassRef.name },
      ...withTeardownTimeouts({ nodeDrainTimeoutSeconds: 0 }, cp.spec),
      ...(cp.spec.taints?.length ? { taints: cp.spec.taints } : {}),
    },
  };
}
