/**
 * A label selector checked against thousands of machines per reconcile: matchLabels are read once, and
 * matchExpressions (rare) go to the API's selectorMatches.
 */
import { selectorMatches, type LabelSelector } from '../../api/common.js';

export function compileSelector(selector: LabelSelector): (labels: Record<string, string> | undefined) => boolean {
  if ((selector.matchExpressions ?? []).length > 0) return (labels) => selectorMatches(selector, labels);
  const keys = Object.keys(selector.matchLabels ?? {});
  const values = keys.map((k) => selector.matchLabels![k]);
  return (labels) => {
    if (labels === undefined) return keys.length === 0;
    for (let i = 0; i < keys.length; i++) if (labels[keys[i]!] !== values[i]) return false;
    return true;
  };
}
