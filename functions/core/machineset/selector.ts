/**
 * A label selector checked against thousands of machines per reconcile: matchLabels are read once, and
 * matchExpressions (rare) go to the API's selectorMatches.
 */
import { selectorMatches, type LabelSelector } from '../../api/common.js';

export function compileSelector(selector: LabelSelector): (labels: Record<string, string> | undefined) => boolean {
  if ((selector.matchExpressions ?? []).length > 0) return (labels) => selectorMatches(selector, labels);
  const keys = Object.keys(selector.matchLabels ?? {});
  return compileHasAll(
    keys,
    keys.map((k) => selector.matchLabels![k]!),
  );
}

type StringMap = Readonly<Record<string, string>> | undefined;

/**
 * A check that `map` has each of `keys` with the value at the same place in `values` (no map: true only for no
 * keys), run over every machine of a set per reconcile. The reads are written out one per key, up to eight: a loop
 * over the keys reads a property by a name that changes at each turn, which V8 looks up in its megamorphic cache
 * every time; a read whose name is always the same is a direct load after a map check (about 4 times faster over
 * 50,000 machines' labels on this machine: BENCHMARKS.md plan-50k).
 */
export function compileHasAll(keys: readonly string[], values: readonly string[]): (map: StringMap) => boolean {
  const [k0, k1, k2, k3, k4, k5, k6, k7] = keys as string[];
  const [v0, v1, v2, v3, v4, v5, v6, v7] = values;
  switch (keys.length) {
    case 0:
      return () => true;
    case 1:
      return (m) => m !== undefined && m[k0!] === v0;
    case 2:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1;
    case 3:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2;
    case 4:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2 && m[k3!] === v3;
    case 5:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2 && m[k3!] === v3 && m[k4!] === v4;
    case 6:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2 && m[k3!] === v3 && m[k4!] === v4 && m[k5!] === v5;
    case 7:
      return (m) => m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2 && m[k3!] === v3 && m[k4!] === v4 && m[k5!] === v5 && m[k6!] === v6;
    case 8:
      return (m) =>
        m !== undefined && m[k0!] === v0 && m[k1!] === v1 && m[k2!] === v2 && m[k3!] === v3 && m[k4!] === v4 && m[k5!] === v5 && m[k6!] === v6 && m[k7!] === v7;
    default:
      return (m) => {
        if (m === undefined) return false;
        for (let i = 0; i < keys.length; i++) if (m[keys[i]!] !== values[i]) return false;
        return true;
      };
  }
}
