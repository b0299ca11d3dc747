/**
 * Several writes of one plan may touch the same object: the MachineDeployment planner updates a
 * MachineSet's spec and its MachineSet planner then writes its status; the deployment gets its revision
 * annotation and then its status. Every write carries the resourceVersion that was read, so the second one
 * would always lose (Conflict) once the first has bumped it.
 *
 * Note: the later writes of an object therefore go without resourceVersion (last write wins, still one
 * atomic write). That is safe here because a per-cluster lease serialises reconciles (DESIGN section 4), the
 * first write of each object in the plan stays guarded, and the later ones are status or spec that this very
 * plan derived from the same read.
 */
import type { ApiObject } from '../../api/kind.js';
import type { Write } from '../plan.js';

function keyOf(w: Write): string {
  if (w.type === 'Create' || w.type === 'Update' || w.type === 'UpdateStatus')
    return `${w.object.kind}/${w.object.metadata.namespace}/${w.object.metadata.name}`;
  return `${w.ref.kind}/${w.ref.namespace}/${w.ref.name}`;
}

function withoutResourceVersion(o: ApiObject): ApiObject {
  const { resourceVersion: _rv, ...metadata } = o.metadata;
  return { ...o, metadata };
}

export function chainWrites(writes: readonly Write[]): Write[] {
  const seen = new Set<string>();
  return writes.map((w) => {
    const key = keyOf(w);
    const repeated = seen.has(key);
    seen.add(key);
    if (repeated && (w.type === 'Update' || w.type === 'UpdateStatus') && w.object.metadata.resourceVersion !== undefined)
      return { ...w, object: withoutResourceVersion(w.object) };
    return w;
  });
}
