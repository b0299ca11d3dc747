/**
 * One operation of a Cluster API inline patch (add, replace, remove) on a Cluster API template, for the patches the
 * converter evaluates itself. It goes through the topology planner's own patch engine (functions/core/topology/
 * patches.ts, applyPatches), so a converted patch means what a clusterless patch means: an add makes the objects
 * on its way, a replace or remove of nothing is an error.
 */
import { applyPatches } from '../../core/topology/patches.js';
import { isRecord } from './fields.js';

export type JsonPatchOp = 'add' | 'replace' | 'remove';

/** `target` with `op` applied at `pointer` (a copy), or why it does not apply. */
export function applyJsonPatch(target: unknown, op: JsonPatchOp, pointer: string, value?: unknown): { value: unknown } | { error: string } {
  if (!isRecord(target)) return { error: 'not an object' };
  const r = applyPatches(
    target,
    [
      {
        name: 'converted',
        definitions: [
          {
            selector: { kind: 'ControlPlane', matchResources: { controlPlane: true } },
            jsonPatches: [{ op, path: pointer, ...(op === 'remove' ? {} : { value }) }],
          },
        ],
      },
    ],
    { kind: 'ControlPlane' },
    new Map(),
  );
  // The engine's message starts with the patch's name and op, which mean nothing here.
  return r.ok ? { value: r.object } : { error: r.error.replace(/^patch converted: \w+ /, '') };
}
