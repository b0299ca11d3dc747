/**
 * The three operations of a ClusterClass inline patch (RFC 6902 add, replace, remove) on a plain JSON value, for
 * the patches the converter evaluates itself (cluster-api internal/topology/patches/inline: the patch ops Cluster
 * API's inline patches allow). Pure: returns the patched copy, or why the patch does not apply.
 */
import { isRecord } from './fields.js';

export type JsonPatchOp = 'add' | 'replace' | 'remove';

/** The reference tokens of a JSON pointer (RFC 6901), or undefined when it is not one. */
export function pointerTokens(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `target` with `op` applied at `pointer`; `{ error }` when the path does not lead to a place the op may touch. */
export function applyJsonPatch(target: unknown, op: JsonPatchOp, pointer: string, value?: unknown): { value: unknown } | { error: string } {
  const tokens = pointerTokens(pointer);
  if (tokens === undefined) return { error: `"${pointer}" is not a JSON pointer` };
  if (tokens.length === 0) return op === 'remove' ? { error: 'cannot remove the whole object' } : { value: structuredClone(value) };
  const root = structuredClone(target);
  let parent: unknown = root;
  for (const t of tokens.slice(0, -1)) {
    const next = Array.isArray(parent) ? parent[Number(t)] : isRecord(parent) ? parent[t] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      // `add` makes the missing objects on its way, as Cluster API's patch helper does for templates.
      if (op !== 'add' || !isRecord(parent)) return { error: `${pointer}: no object at "${t}"` };
      parent[t] = {};
      parent = parent[t];
      continue;
    }
    parent = next;
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : /^(0|[1-9]\d*)$/.test(last) ? Number(last) : Number.NaN;
    if (Number.isNaN(index) || index > parent.length || (op !== 'add' && index >= parent.length)) return { error: `${pointer}: no item ${last}` };
    if (op === 'add') parent.splice(index, 0, structuredClone(value));
    else if (op === 'replace') parent[index] = structuredClone(value);
    else parent.splice(index, 1);
    return { value: root };
  }
  if (!isRecord(parent)) return { error: `${pointer}: not an object` };
  if (op !== 'add' && !(last in parent)) return { error: `${pointer}: no field "${last}" to ${op}` };
  if (op === 'remove') delete parent[last];
  else parent[last] = structuredClone(value);
  return { value: root };
}
