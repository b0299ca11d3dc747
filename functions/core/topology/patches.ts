/**
 * The JSON patches of a ClusterClass applied to a generated object: RFC 6902's add, replace and remove on JSON
 * pointers, a value given inline or read from a variable (valueFrom.variable: a variable of the class, with the
 * topology's value or the schema's default, or a built-in such as builtin.cluster.name). Learnt from cluster-api
 * internal/controllers/topology/cluster/patches/inline/json_patch_generator.go (valueFrom.variable, builtins) and
 * patches/engine.go, which applies them with EnsurePathExistsOnAdd: an add creates the objects on its way, as
 * here. A patch whose variable has no value (an optional variable without a default, not given) is left out.
 */
import type { ClusterClassPatch } from '../../api/cluster-class.js';
import { pointerSegments } from '../../api/cluster-class.js';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type PatchResult = { ok: true; object: Record<string, Json> } | { ok: false; error: string };

/** Which objects a patch definition selects: the ControlPlane, or MachineDeployments of some worker classes. */
export type PatchTarget = { kind: 'ControlPlane' } | { kind: 'MachineDeployment'; class: string };

function selects(selector: ClusterClassPatch['definitions'][number]['selector'], target: PatchTarget): boolean {
  if (selector.kind !== target.kind) return false;
  if (target.kind === 'ControlPlane') return selector.matchResources.controlPlane === true;
  return selector.matchResources.machineDeploymentClass?.names.includes(target.class) ?? false;
}

/** One operation on a copy of `doc`; an error names the pointer. */
function applyOperation(doc: Record<string, Json>, op: 'add' | 'replace' | 'remove', pointer: string, value: Json): string | undefined {
  const segs = pointerSegments(pointer);
  if (!segs || segs.length === 0) return `${pointer} is not a JSON pointer to a field`;
  let node: Json = doc;
  for (const seg of segs.slice(0, -1)) {
    if (Array.isArray(node)) {
      const i = Number(seg);
      if (!/^\d+$/.test(seg) || i >= node.length) return `${pointer}: no item ${seg}`;
      node = node[i];
    } else if (isObject(node)) {
      if (node[seg] === undefined) {
        if (op !== 'add') return `${pointer}: no field ${seg}`;
        node[seg] = {};
      }
      node = node[seg];
    } else return `${pointer}: ${seg} is not inside an object or list`;
  }
  const last = segs.at(-1)!;
  if (Array.isArray(node)) {
    // `-` (past the end) is for add only (RFC 6901); any other operation needs an index.
    if (!/^\d+$/.test(last) && !(last === '-' && op === 'add')) return `${pointer}: ${last} is not a list index`;
    const i = last === '-' ? node.length : Number(last);
    if (op === 'add') {
      if (i > node.length) return `${pointer}: index ${i} is past the end of the list`;
      node.splice(i, 0, value);
    } else {
      if (i >= node.length) return `${pointer}: no item ${last}`;
      if (op === 'replace') node[i] = value;
      else node.splice(i, 1);
    }
    return undefined;
  }
  if (!isObject(node)) return `${pointer}: not inside an object`;
  if (op !== 'add' && !Object.hasOwn(node, last)) return `${pointer}: no field ${last} to ${op}`;
  if (op === 'remove') delete node[last];
  else node[last] = value;
  return undefined;
}

/**
 * The value valueFrom.variable names: a variable (built-ins included), or a field of an object variable by a dotted
 * path (`settings.drain`), as Cluster API reads one. Undefined when there is none.
 */
export function variableValue(variables: ReadonlyMap<string, Json>, name: string): Json {
  if (variables.has(name)) return variables.get(name);
  const [head, ...path] = name.split('.');
  let v = variables.get(head!);
  for (const key of path) v = isObject(v) ? v[key] : undefined;
  return v;
}

/**
 * `object` with every patch of the class that selects `target` applied, in the order of the class (patches, then
 * definitions, then operations). `variables` holds the values valueFrom may read, built-ins included.
 */
export function applyPatches(
  object: Record<string, Json>,
  patches: readonly ClusterClassPatch[],
  target: PatchTarget,
  variables: ReadonlyMap<string, Json>,
): PatchResult {
  const doc = structuredClone(object);
  for (const patch of patches)
    for (const d of patch.definitions) {
      if (!selects(d.selector, target)) continue;
      for (const op of d.jsonPatches) {
        let value: Json = op.value;
        if (op.valueFrom) {
          value = variableValue(variables, op.valueFrom.variable);
          if (value === undefined) continue;
        }
        const error = applyOperation(doc, op.op, op.path, structuredClone(value));
        if (error) return { ok: false, error: `patch ${patch.name}: ${op.op} ${error}` };
      }
    }
  return { ok: true, object: doc };
}
