/**
 * A label selector checked against thousands of machines per reconcile: matchLabels are read once, and
 * matchExpressions (rare) go to the API's selectorMatches.
 */
import { selectorMatches, type LabelSelector } from '../../api/common.js';

export function compileSelector(selector: LabelSelector): (labels: Record<string, string> | undefined) => boolean {
  if ((selector.matchExpressions ?? []).length > 0) return (labels) => selectorMatches(selector, labels);
  const pairs = Object.entries(selector.matchLabels ?? {});
  return (labels) => {
    for (const [k, v] of pairs) if (labels?.[k] !== v) return false;
    return true;
  };
}
