/**
 * Whether two values are the same JSON document, as comparing their canonical JSON (api/kind.ts canonicalJson, keys
 * sorted) says, without writing either out: a walk that stops at the first difference. A planner compares the status
 * it computed with the stored one for every object of every reconcile (statusWrite); canonicalJson built and sorted a
 * copy of each object of both statuses, which was three quarters of the Machine planner's time (BENCHMARKS.md
 * plan-50k).
 *
 * JSON's rules, kept: an object property whose value is undefined, a function or a symbol is no property; such an
 * array element is null, as are NaN and the infinities; 0 and -0 are both 0; key order does not matter. A value
 * with toJSON (a Date) is compared by canonicalJson itself.
 */
import { canonicalJson } from '../api/kind.js';

/** Written as nothing in an object (and as null in an array). */
function absent(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** An array element or a number as JSON writes it: null for absent values and non-finite numbers. */
function asElement(v: unknown): unknown {
  if (absent(v)) return null;
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

export function sameJson(a: unknown, b: unknown): boolean {
  // On its own, an absent value is no document at all (JSON.stringify gives undefined), unlike null.
  if (absent(a) || absent(b)) return absent(a) && absent(b);
  return same(a, b);
}

/** sameJson of two values in an array or present in an object: an absent value is null there. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = asElement(a);
  const y = asElement(b);
  if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return x === y;
  if (typeof (x as { toJSON?: unknown }).toJSON === 'function' || typeof (y as { toJSON?: unknown }).toJSON === 'function')
    return canonicalJson(x) === canonicalJson(y);
  const xa = Array.isArray(x);
  if (xa !== Array.isArray(y)) return false;
  if (xa) {
    const ya = y as unknown[];
    if ((x as unknown[]).length !== ya.length) return false;
    for (let i = 0; i < ya.length; i++) if (!same((x as unknown[])[i], ya[i])) return false;
    return true;
  }
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  let present = 0;
  for (const k of Object.keys(xo)) {
    const v = xo[k];
    if (absent(v)) continue;
    present++;
    if (!Object.hasOwn(yo, k) || absent(yo[k]) || !same(v, yo[k])) return false;
  }
  for (const k of Object.keys(yo)) if (!absent(yo[k])) present--;
  return present === 0;
}
