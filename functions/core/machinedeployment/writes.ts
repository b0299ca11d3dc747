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

/** The object a write touches: kind, namespace, name. */
function targetOf(w: Write): { kind: string; namespace: string | undefined; name: string } {
  if (w.type === 'Create' || w.type === 'Update' || w.type === 'UpdateStatus')
    return { kind: w.object.kind, namespace: w.object.metadata.namespace, name: w.object.metadata.name };
  return w.ref;
}

function withoutResourceVersion(o: ApiObject): ApiObject {
  const { resourceVersion: _rv, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/**
 * The writes with every write after the first of the same object made unguarded (see above). `owned`: the caller made
 * `writes` for this call alone, so a write that changes is replaced in the array itself rather than in a copy (the
 * 25,000 writes of a large scale-down are not copied because its MachineSet is written twice).
 */
export function chainWrites(writes: readonly Write[], owned = false): Write[] {
  // Only a kind with an Update or UpdateStatus in the plan can have a write changed: the names of the others (a
  // 50,000-machine scale-down's 25,000 machine deletions) are not collected.
  const updated = new Set<string>();
  for (const w of writes) if (w.type === 'Update' || w.type === 'UpdateStatus') updated.add(w.object.kind);
  // Names by kind and namespace: no key string is built per write.
  const seen = new Map<string, Map<string | undefined, Set<string>>>();
  // The writes as given when none changes (a large scale-down's 25,000 are not copied); a copy from the first change.
  let out: Write[] | undefined;
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    const kind = w.type === 'Create' || w.type === 'Update' || w.type === 'UpdateStatus' ? w.object.kind : w.ref.kind;
    if (!updated.has(kind)) {
      out?.push(w);
      continue;
    }
    const { namespace, name } = targetOf(w);
    let byNamespace = seen.get(kind);
    if (!byNamespace) {
      byNamespace = new Map();
      seen.set(kind, byNamespace);
    }
    let names = byNamespace.get(namespace);
    if (!names) {
      names = new Set();
      byNamespace.set(namespace, names);
    }
    const repeated = names.has(name);
    names.add(name);
    if (repeated && (w.type === 'Update' || w.type === 'UpdateStatus') && w.object.metadata.resourceVersion !== undefined) {
      const unguarded = { ...w, object: withoutResourceVersion(w.object) };
      if (owned) (writes as Write[])[i] = unguarded;
      else {
        out ??= writes.slice(0, i);
        out.push(unguarded);
      }
    } else out?.push(w);
  }
  return out ?? (writes as Write[]);
}
