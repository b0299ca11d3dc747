/**
 * Timestamps as the API stores them (RFC 3339, "2026-03-01T12:00:00Z"), read thousands of times per
 * reconcile: the common whole-second UTC form is read directly, anything else by Date.parse.
 */
function digits(t: string, from: number, length: number): number {
  let v = 0;
  for (let i = from; i < from + length; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** Epoch milliseconds of an RFC 3339 timestamp, or `fallback` when there is none or it does not parse. */
export function epochMillis(t: string | undefined, fallback: number): number {
  if (t === undefined) return fallback;
  let v: number;
  if (t.length === 20 && t[4] === '-' && t[7] === '-' && t[10] === 'T' && t[13] === ':' && t[16] === ':' && t[19] === 'Z')
    v = Date.UTC(digits(t, 0, 4), digits(t, 5, 2) - 1, digits(t, 8, 2), digits(t, 11, 2), digits(t, 14, 2), digits(t, 17, 2));
  else v = Date.parse(t);
  return Number.isNaN(v) ? fallback : v;
}
