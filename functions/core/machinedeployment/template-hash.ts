/**
 * New and old MachineSets by template. A MachineSet is "new" when its machine template asks for the same
 * machines as the deployment's: the same version, MachineClass, failure domain and taints. Everything else in a
 * template (labels, annotations, the node drain timeout) is propagated in place, to the MachineSets and from
 * them to their Machines, and creates no machine.
 *
 * Learnt from cluster-api internal/controllers/machinedeployment/mdutil/util.go (MachineTemplateUpToDate and
 * MachineTemplateDeepCopyRolloutFields: labels, annotations and the node timeouts are left out of the
 * comparison) and FindNewMachineSet: equality decides, the hash only names the set and labels its machines.
 */
import { Labels } from '../../api/common.js';
import { canonicalJson } from '../../api/kind.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { NodeTaint } from '../../api/taint.js';
import type { MachineTemplate } from '../../api/template.js';
import { shortHash } from '../machineset/hash.js';

/**
 * The fields whose change rolls out new machines: what a machine is. Listed one by one, so that a field added
 * to the template later (taints, timeouts) is propagated in place unless it is added here.
 */
export function rolloutFields(template: MachineTemplate): {
  version: string;
  machineClassRef: string;
  failureDomain: string | undefined;
  taints?: NodeTaint[];
} {
  const s = template.spec;
  // Taints are registered at join (kubeadm's nodeRegistration, Cluster API's bootstrap config): a change rolls.
  // No taints and an empty list are the same machines.
  return { version: s.version, machineClassRef: s.machineClassRef.name, failureDomain: s.failureDomain, ...(s.taints?.length ? { taints: s.taints } : {}) };
}

/** The part of a template that decides whether machines are up to date, as canonical JSON. */
export function templateIdentity(template: MachineTemplate): string {
  return canonicalJson(rolloutFields(template));
}

/**
 * A 10-character hash of the template, the clusterless.dev/template-hash label's value and the suffix of the
 * MachineSet's name.
 *
 * Note: the hash is computed as earlier releases computed it (labels and the spec fields they had, drain
 * timeout included), so that a template that did not change keeps the name of its set across an upgrade. It
 * decides nothing (templateIdentity does), so hashing more than the rollout fields only means that a set
 * created after an in-place label change gets a name of its own.
 */
export function templateHash(template: MachineTemplate): string {
  const { [Labels.templateHash]: _hash, ...labels } = template.metadata.labels ?? {};
  const { version, machineClassRef, failureDomain, nodeDrainTimeoutSeconds, taints } = template.spec;
  // Taints join the hash only when there are some, so a template without them keeps its earlier name.
  const tainted = taints?.length ? { taints } : {};
  return shortHash(canonicalJson({ labels, spec: { version, machineClassRef, failureDomain, nodeDrainTimeoutSeconds, ...tainted } }));
}

/** `{deployment}-{hash}`, the deployment name shortened when needed to stay an RFC 1123 label. */
export function machineSetName(md: MachineDeployment, hash: string): string {
  const prefix = md.metadata.name.slice(0, 63 - hash.length - 1).replace(/-+$/, '');
  return `${prefix}-${hash}`;
}

/** The deployment's template as a new MachineSet carries it: the template-hash label added. */
export function machineSetTemplate(md: MachineDeployment, hash: string): MachineTemplate {
  const t = md.spec.template;
  return {
    metadata: { ...t.metadata, labels: { ...t.metadata.labels, [Labels.templateHash]: hash } },
    spec: { ...t.spec },
  };
}

/**
 * Why machines of `current` are not up to date with `desired`, one "* ..." line per rollout field that differs,
 * in the words of Cluster API's MachineDeployment RollingOut condition (version first). Empty when they are up
 * to date: fields propagated in place are never a reason.
 */
export function templateDifferences(current: MachineTemplate, desired: MachineTemplate): string[] {
  const out: string[] = [];
  const c = rolloutFields(current);
  const d = rolloutFields(desired);
  if (c.version !== d.version) out.push(`* Version ${c.version}, ${d.version} required`);
  if (c.machineClassRef !== d.machineClassRef) out.push(`* MachineClass ${c.machineClassRef}, ${d.machineClassRef} required`);
  if (c.failureDomain !== d.failureDomain) out.push(`* Failure domain ${c.failureDomain ?? '(any)'}, ${d.failureDomain ?? '(any)'} required`);
  if (canonicalJson(c.taints ?? []) !== canonicalJson(d.taints ?? [])) out.push('* Taints changed');
  return out;
}

/** Cluster API's MachineTemplateUpToDate: no rollout field differs. */
export function machineTemplateUpToDate(current: MachineTemplate, desired: MachineTemplate): boolean {
  return templateIdentity(current) === templateIdentity(desired);
}
