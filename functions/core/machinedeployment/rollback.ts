/**
 * Rollback, `kubectl rollout undo machinedeployment NAME [--to-revision N]`: the deployment gets the
 * template of the MachineSet of revision N (0 = the revision before the current one), minus the
 * template-hash label, and the annotations that set carried from the deployment. The rollout that follows is
 * an ordinary one; the MachineSet that becomes current again gets a new revision number (revisions.ts).
 *
 * Learnt from kubectl pkg/polymorphichelpers/rollback.go (deploymentRevision, the errors it gives) and
 * Kubernetes pkg/controller/deployment/rollback.go (rollbackToTemplate, SetDeploymentAnnotationsTo).
 */
import { Annotations, Labels } from '../../api/common.js';
import { canonicalJson } from '../../api/kind.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineSet } from '../../api/machine-set.js';
import type { MachineTemplate } from '../../api/template.js';
import { isControlledBy } from '../machineset/ownership.js';
import { revisionOf } from './revisions.js';

/** Base class of rollback refusals; match on the class. */
export class RollbackError extends Error {
  override name = 'RollbackError';
}

/** kubectl: "you cannot rollback a paused deployment; resume it first". */
export class PausedRollbackError extends RollbackError {
  override name = 'PausedRollbackError';
  constructor(md: string) {
    super(`cannot roll back MachineDeployment ${md} while it is paused; resume it first (spec.paused: false)`);
  }
}

/** No revision before the current one (toRevision 0 on a deployment with a single revision). */
export class NoRolloutHistoryError extends RollbackError {
  override name = 'NoRolloutHistoryError';
  constructor(md: string) {
    super(`no rollout history found for MachineDeployment ${md}: there is no revision before the current one`);
  }
}

/** The requested revision is not among the deployment's MachineSets (it never existed, or history dropped it). */
export class RevisionNotFoundError extends RollbackError {
  override name = 'RevisionNotFoundError';
  constructor(
    md: string,
    readonly revision: number,
    readonly known: readonly number[],
  ) {
    super(`unable to find revision ${revision} in the history of MachineDeployment ${md} (known revisions: ${known.join(', ') || 'none'})`);
  }
}

export class InvalidRevisionError extends RollbackError {
  override name = 'InvalidRevisionError';
  constructor(revision: number) {
    super(`toRevision must be an integer >= 0 (0 is the previous revision), not ${revision}`);
  }
}

export type RollbackResult =
  | {
      ok: true;
      /** The deployment with the old template (and annotations): write it with Update. Same object when unchanged. */
      machineDeployment: MachineDeployment;
      revision: number;
      /** False when the deployment already has that template (kubectl: "skipped rollback"). */
      changed: boolean;
      message: string;
    }
  | { ok: false; error: RollbackError };

// Annotations that describe the rollout machinery rather than the user's intent: never copied across.
const SKIPPED = new Set<string>([
  Annotations.revision,
  Annotations.revisionHistory,
  Annotations.desiredReplicas,
  Annotations.maxReplicas,
  Annotations.paused,
  'kubectl.kubernetes.io/last-applied-configuration',
]);

/** The template a MachineSet was made from: its template without the template-hash label. */
export function templateOfMachineSet(ms: MachineSet): MachineTemplate {
  const { [Labels.templateHash]: _hash, ...labels } = ms.spec.template.metadata.labels ?? {};
  return { ...ms.spec.template, metadata: { ...ms.spec.template.metadata, labels } };
}

export function rollbackMachineDeployment(md: MachineDeployment, machineSets: readonly MachineSet[], toRevision: number): RollbackResult {
  const name = md.metadata.name;
  if (!Number.isInteger(toRevision) || toRevision < 0) return { ok: false, error: new InvalidRevisionError(toRevision) };
  if (md.spec.paused) return { ok: false, error: new PausedRollbackError(name) };

  const byRevision = new Map<number, MachineSet>();
  for (const ms of machineSets) {
    const r = revisionOf(ms);
    if (r > 0 && isControlledBy(ms, md)) byRevision.set(r, ms);
  }
  const known = [...byRevision.keys()].sort((a, b) => b - a);
  let revision = toRevision;
  if (toRevision === 0) {
    if (known.length < 2) return { ok: false, error: new NoRolloutHistoryError(name) };
    revision = known[1]!;
  }
  const ms = byRevision.get(revision);
  if (!ms) return { ok: false, error: new RevisionNotFoundError(name, revision, known) };

  const template = templateOfMachineSet(ms);
  if (canonicalJson(template) === canonicalJson(md.spec.template))
    return { ok: true, machineDeployment: md, revision, changed: false, message: `skipped rollback (current template already matches revision ${revision})` };

  // Like SetDeploymentAnnotationsTo: the deployment's own rollout annotations stay, the rest come from the set.
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.metadata.annotations ?? {})) if (SKIPPED.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(ms.metadata.annotations ?? {})) if (!SKIPPED.has(k)) annotations[k] = v;
  const { annotations: _old, ...metadata } = md.metadata;
  return {
    ok: true,
    machineDeployment: {
      ...md,
      metadata: Object.keys(annotations).length > 0 ? { ...metadata, annotations } : metadata,
      spec: { ...md.spec, template },
    },
    revision,
    changed: true,
    message: `rolled back to revision ${revision}`,
  };
}
