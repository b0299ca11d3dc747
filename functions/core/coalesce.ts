/**
 * Several planners of one reconcile may write the same object: the MachineDeployment planner scales a
 * MachineSet and the set's own planner writes its status; the Machine planner sets a machine's phase and the
 * health check marks the same machine. Applied one after the other, the second write (derived from the same
 * read as the first) would undo the first one's changes, or lose on its resourceVersion.
 *
 * So writes of one object are coalesced into one, each planner's changes merged three-way against the object
 * as it was read: a field one planner changed and the other did not keeps the change; conditions merge by
 * type; where both changed a field, the later planner in the merge order wins. The result is one guarded
 * write per object and kind of write, in the order of first appearance.
 */
import { jsonEqual, type ApiObject } from '../api/kind.js';
import type { Write } from './plan.js';

type Json = unknown;

const isPlainObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isConditionList = (v: Json): v is { type: string }[] => Array.isArray(v) && v.every((c) => isPlainObject(c) && typeof c.type === 'string');

function mergeConditions(base: { type: string }[], a: { type: string }[], b: { type: string }[]): { type: string }[] {
  const byType = (list: { type: string }[]) => new Map(list.map((c) => [c.type, c]));
  const o = byType(base);
  const x = byType(a);
  const y = byType(b);
  const types = [...new Set([...a.map((c) => c.type), ...b.map((c) => c.type)])];
  const out: { type: string }[] = [];
  for (const t of types) {
    const merged = merge3(o.get(t), x.get(t), y.get(t));
    if (merged !== undefined) out.push(merged as { type: string });
  }
  return out;
}

/** Three-way merge: `base` as read, `a` and `b` two changes of it; b wins where both changed one field. */
export function merge3(base: Json, a: Json, b: Json): Json {
  if (jsonEqual(b, base)) return a;
  if (jsonEqual(a, base)) return b;
  if (isConditionList(a) && isConditionList(b)) return mergeConditions(isConditionList(base) ? base : [], a, b);
  if (isPlainObject(a) && isPlainObject(b)) {
    const o = isPlainObject(base) ? base : {};
    const out: Record<string, Json> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b), ...Object.keys(o)])) {
      const v = merge3(o[key], a[key], b[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  return b;
}

function keyOf(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function writeKey(w: Write): string {
  if (w.type === 'Create' || w.type === 'Update' || w.type === 'UpdateStatus')
    return `${w.type}:${keyOf(w.object.kind, w.object.metadata.namespace, w.object.metadata.name)}`;
  return `${w.type}:${keyOf(w.ref.kind, w.ref.namespace, w.ref.name)}:${w.type === 'RemoveFinalizer' ? w.finalizer : ''}`;
}

/**
 * Coalesces the writes of one plan. `originals` are the objects as read; each merged Update/UpdateStatus keeps
 * the resourceVersion that was read, so the single write that remains is guarded.
 */
export function coalesceWrites(writes: readonly Write[], originals: readonly ApiObject[]): Write[] {
  const byKey = new Map(originals.map((o) => [keyOf(o.kind, o.metadata.namespace, o.metadata.name), o]));
  const out: Write[] = [];
  const slot = new Map<string, number>();
  for (const w of writes) {
    const key = writeKey(w);
    const at = slot.get(key);
    if (at === undefined) {
      slot.set(key, out.length);
      out.push(w);
      continue;
    }
    const prev = out[at]!;
    if ((w.type === 'Update' || w.type === 'UpdateStatus') && prev.type === w.type) {
      const original = byKey.get(keyOf(w.object.kind, w.object.metadata.namespace, w.object.metadata.name));
      const merged = merge3(original, prev.object, w.object) as ApiObject;
      const resourceVersion = original?.metadata.resourceVersion ?? prev.object.metadata.resourceVersion;
      out[at] = { ...w, object: { ...merged, metadata: { ...merged.metadata, ...(resourceVersion ? { resourceVersion } : {}) } } };
    }
    // A repeated Create, Delete or RemoveFinalizer of the same object says the same thing twice: keep one.
  }
  return out;
}
