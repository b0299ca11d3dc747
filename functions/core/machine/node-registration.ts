/**
 * What a machine's Node registers with at join: the machine's taints (from its template or ControlPlane) and its
 * MachineClass's node labels and taints (api/node-registration.ts), for the kubeadm bootstrap
 * (nodeRegistration.taints and kubeletExtraArgs node-labels) and providers that register the Node themselves
 * (local/process). Merged at launch rather than copied onto the Machine, so that a control-plane machine's
 * spec.taints stay the ControlPlane's (core/controlplane/machines.ts compares them to decide a rollout).
 * Pure.
 */
import type { MachineClassSpec } from '../../api/machine-class.js';
import type { ClassNodeRegistration } from '../../api/node-registration.js';
import type { NodeTaint } from '../../api/taint.js';

/** The class's node registration, whichever provider's settings carry it. */
export function classNodeRegistrationOf(spec: MachineClassSpec): ClassNodeRegistration | undefined {
  const settings = Object.values(spec).find((s) => s !== undefined) as { nodeRegistration?: ClassNodeRegistration } | undefined;
  return settings?.nodeRegistration;
}

/** The machine's taints, then the class's that name another key and effect (the machine's win). */
export function mergeTaints(machineTaints: readonly NodeTaint[] | undefined, classTaints: readonly NodeTaint[] | undefined): NodeTaint[] {
  const own = machineTaints ?? [];
  const seen = new Set(own.map((t) => `${t.key}:${t.effect}`));
  return [...own, ...(classTaints ?? []).filter((t) => !seen.has(`${t.key}:${t.effect}`))];
}

/** The taints and node labels a machine's Node registers with; each field absent when empty. */
export function joinRegistration(
  machineTaints: readonly NodeTaint[] | undefined,
  classSpec: MachineClassSpec,
): { taints?: NodeTaint[]; nodeLabels?: Record<string, string> } {
  const fromClass = classNodeRegistrationOf(classSpec);
  const taints = mergeTaints(machineTaints, fromClass?.taints);
  const labels = fromClass?.labels ?? {};
  return { ...(taints.length > 0 ? { taints } : {}), ...(Object.keys(labels).length > 0 ? { nodeLabels: { ...labels } } : {}) };
}
