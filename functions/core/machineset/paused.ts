/**
 * Reconciliation pause: a paused Cluster, or the clusterless.dev/paused annotation on the object, stops
 * every action on it; only the Paused condition is kept up to date.
 * Learnt from cluster-api util/paused/paused.go (EnsurePausedCondition, pausedCondition).
 */
import { Annotations } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { ApiObject } from '../../api/kind.js';
import type { ConditionInput } from '../conditions.js';

/** Why reconciliation of `obj` is paused; empty when it is not. */
export function pausedBy(cluster: Cluster | undefined, obj: ApiObject): string[] {
  const why: string[] = [];
  if (cluster?.spec.paused) why.push('Cluster spec.paused is set to true');
  if (obj.metadata.annotations?.[Annotations.paused] !== undefined) why.push(`${obj.kind} has the ${Annotations.paused} annotation`);
  return why;
}

/** The Paused condition for the given reasons (plus any extra, e.g. a MachineDeployment's spec.paused). */
export function pausedCondition(reasons: readonly string[]): ConditionInput {
  return reasons.length > 0
    ? { type: 'Paused', status: 'True', reason: 'Paused', message: reasons.join(', ') }
    : { type: 'Paused', status: 'False', reason: 'NotPaused' };
}

/** "a, b, c, ... (7 more)": names in messages and notes, bounded so that 5,000 machines stay readable. */
export function listNames(names: readonly string[], max = 3): string {
  return listNamesOf(names, (n) => n, max);
}

/** listNames of the names of `items`, reading only the names it shows (a scale-down can delete 25,000 machines). */
export function listNamesOf<T>(items: readonly T[], name: (item: T) => string, max = 3): string {
  return listNamesAt(items.length, (i) => name(items[i]!), max);
}

/** listNames of `count` items whose names `nameAt` gives by position, reading only the names it shows. */
export function listNamesAt(count: number, nameAt: (i: number) => string, max = 3): string {
  const shown = Array.from({ length: Math.min(count, max) }, (_, i) => nameAt(i)).join(', ');
  return count <= max ? shown : `${shown}, ... (${count - max} more)`;
}
