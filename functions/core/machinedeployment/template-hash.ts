/**
 * New and old MachineSets by template. A MachineSet is "new" when its machine template equals the
 * deployment's: the template's spec and labels, the template-hash label excepted. Any other change
 * (version, MachineClass, failure domain, drain timeout, a label) rolls out new machines, as a pod template
 * change does for a Deployment; template annotations are propagated in place.
 *
 * Learnt from cluster-api mdutil FindNewAndOldMachineSets / MachineTemplateUpToDate (and Kubernetes'
 * deployment util EqualIgnoreHash): equality decides, the hash only names the set and labels its machines.
 */
import { Labels } from '../../api/common.js';
import { canonicalJson } from '../../api/kind.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineTemplate } from '../../api/template.js';
import { shortHash } from '../machineset/hash.js';

/** The part of a template that decides whether machines are up to date, as canonical JSON. */
export function templateIdentity(template: MachineTemplate): string {
  const { [Labels.templateHash]: _hash, ...labels } = template.metadata.labels ?? {};
  return canonicalJson({ labels, spec: template.spec });
}

/** A 10-character hash of the template identity, the clusterless.dev/template-hash label's value. */
export function templateHash(template: MachineTemplate): string {
  return shortHash(templateIdentity(template));
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
 * Why machines of `current` are not up to date with `desired`, one "* ..." line per difference, in the
 * words of Cluster API's MachineDeployment RollingOut condition (version first).
 */
export function templateDifferences(current: MachineTemplate, desired: MachineTemplate): string[] {
  const out: string[] = [];
  const c = current.spec;
  const d = desired.spec;
  if (c.version !== d.version) out.push(`* Version ${c.version}, ${d.version} required`);
  if (c.machineClassRef.name !== d.machineClassRef.name) out.push(`* MachineClass ${c.machineClassRef.name}, ${d.machineClassRef.name} required`);
  if (c.failureDomain !== d.failureDomain) out.push(`* Failure domain ${c.failureDomain ?? '(any)'}, ${d.failureDomain ?? '(any)'} required`);
  if (c.nodeDrainTimeoutSeconds !== d.nodeDrainTimeoutSeconds)
    out.push(`* Node drain timeout ${c.nodeDrainTimeoutSeconds}s, ${d.nodeDrainTimeoutSeconds}s required`);
  if (canonicalJson(c.taints) !== canonicalJson(d.taints)) out.push('* Taints changed');
  const { [Labels.templateHash]: _a, ...cl } = current.metadata.labels ?? {};
  const { [Labels.templateHash]: _b, ...dl } = desired.metadata.labels ?? {};
  if (canonicalJson(cl) !== canonicalJson(dl)) out.push('* Labels changed');
  return out;
}
