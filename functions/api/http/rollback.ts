import { Annotations, Labels } from '../common.js';
import type { FieldCause } from '../kind.js';
import type { MachineDeployment } from '../machine-deployment.js';
import type { MachineSet } from '../machine-set.js';
import type { MachineTemplate } from '../template.js';

export type RollbackTarget = { ok: true; revision: number; template: MachineTemplate } | { ok: false; cause: FieldCause };

/** The revision a MachineSet records in its clusterless.dev/revision annotation, if any. */
export function revisionOf(ms: MachineSet): number | undefined {
  const raw = ms.metadata.annotations?.[Annotations.revision];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The MachineSets a deployment controls: those whose controller ownerReference carries its uid. */
export function ownedMachineSets(md: MachineDeployment, sets: readonly MachineSet[]): MachineSet[] {
  return sets.filter((ms) =>
    (ms.metadata.ownerReferences ?? []).some((r) => r.kind === 'MachineDeployment' && r.uid === md.metadata.uid && r.controller !== false),
  );
}

/**
 * Finds the template to roll back to, as `kubectl rollout undo` does: revision 0 means the one before the
 * newest; the MachineSet's template is copied minus its template-hash label (learnt from kubernetes
 * pkg/controller/deployment/rollback.go, which drops pod-template-hash the same way).
 */
export function rollbackTarget(md: MachineDeployment, sets: readonly MachineSet[], toRevision: number): RollbackTarget {
  const byRevision = new Map<number, MachineSet>();
  for (const ms of ownedMachineSets(md, sets)) {
    const rev = revisionOf(ms);
    if (rev !== undefined) byRevision.set(rev, ms);
  }
  const revisions = [...byRevision.keys()].sort((a, b) => b - a);
  const wanted = toRevision === 0 ? revisions[1] : toRevision;
  const ms = wanted === undefined ? undefined : byRevision.get(wanted);
  if (!ms)
    return {
      ok: false,
      cause: {
        field: 'toRevision',
        reason: 'FieldValueNotSupported',
        message:
          toRevision === 0
            ? 'no previous revision to roll back to'
            : `unable to find revision ${toRevision} in the history (known revisions: ${revisions.join(', ') || 'none'})`,
      },
    };
  const { [Labels.templateHash]: _hash, ...labels } = ms.spec.template.metadata.labels ?? {};
  return {
    ok: true,
    revision: wanted!,
    template: { ...ms.spec.template, metadata: { ...ms.spec.template.metadata, labels } },
  };
}
