/**
 * Machine names: `{machineset}-{5 characters}` as Cluster API's default naming template
 * ("{{ .machineSet.name }}-{{ .random }}", core/reconcilers/machineset computeDesiredMachine), except that
 * the suffix is a hash of the MachineSet's uid, the planning time and an ordinal rather than random: a plan is
 * reproducible from its inputs, and applying the same plan twice creates nothing twice (the second Create is
 * AlreadyExists).
 *
 * Note: the time is in the hash so that a name does not come back. With the uid and an ordinal alone, the
 * machine that replaces one deleted a minute ago would get its name again, and a mirror that missed the
 * deletion would see one machine whose uid changed under it.
 */
import type { MachineSet } from '../../api/machine-set.js';
import { fnv1a32, safeEncode } from './hash.js';

const SUFFIX = 5;
const MAX_NAME = 63;

export function machineName(ms: MachineSet, now: Date, ordinal: number): string {
  const prefix = ms.metadata.name.slice(0, MAX_NAME - SUFFIX - 1).replace(/-+$/, '');
  return `${prefix}-${safeEncode(fnv1a32(`${ms.metadata.uid ?? ms.metadata.name}/${now.getTime()}/${ordinal}`), SUFFIX)}`;
}

/**
 * `count` names for new machines of `ms`, none of them in `taken`: a set of the names in use, or what answers
 * which of some candidates are in use (MachineIndex.namesTaken), asked about one batch of candidates at a time.
 */
export function newMachineNames(
  ms: MachineSet,
  now: Date,
  count: number,
  taken: ReadonlySet<string> | ((candidates: readonly string[]) => ReadonlySet<string>),
): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  // The ordinals in order, as many at a time as names are missing: a name is kept when neither in use nor kept
  // already, so the names are those of a walk of the ordinals one by one.
  for (let ordinal = 0; out.length < count; ) {
    const batch: string[] = [];
    for (let i = out.length; i < count; i++) batch.push(machineName(ms, now, ordinal++));
    const inUse = typeof taken === 'function' ? taken(batch) : taken;
    for (const name of batch) {
      if (inUse.has(name) || used.has(name)) continue;
      used.add(name);
      out.push(name);
    }
  }
  return out;
}
