/** Reading the API's RFC 3339 timestamps (the fast whole-second UTC path and every other form). */
import { describe, expect, it } from 'vitest';
import { epochMillis } from '../../../../functions/core/machineset/time.js';

const FALLBACK = -1;

describe('epochMillis', () => {
  it.each([
    { name: 'a whole-second UTC timestamp', t: '2026-03-01T12:34:56Z', want: Date.UTC(2026, 2, 1, 12, 34, 56) },
    { name: 'fractional seconds', t: '2026-03-01T12:34:56.5Z', want: Date.UTC(2026, 2, 1, 12, 34, 56, 500) },
    { name: 'an offset', t: '2026-03-01T12:34:56+01:00', want: Date.UTC(2026, 2, 1, 11, 34, 56) },
    { name: 'no timestamp', t: undefined, want: FALLBACK },
    { name: 'a timestamp that does not parse', t: 'yesterday', want: FALLBACK },
    { name: 'a letter where a digit belongs', t: '2026-0a-01T12:34:56Z', want: FALLBACK },
    { name: 'a character below the digits where a digit belongs', t: '2026-0/-01T12:34:56Z', want: FALLBACK },
    { name: 'slashes in the date', t: '2026/03/01T12:34:56Z', want: FALLBACK },
    { name: 'a slash in the month', t: '2026-03/01T12:34:56Z', want: FALLBACK },
    { name: 'dashes in the time', t: '2026-03-01T12-34-56Z', want: FALLBACK },
    { name: 'a dash in the seconds', t: '2026-03-01T12:34-56Z', want: FALLBACK },
    { name: 'a digit where the date and time separator belongs', t: '2026-03-01012:34:56Z', want: FALLBACK },
    { name: 'no zone, with the same length', t: '2026-03-01T12:34:567', want: FALLBACK },
    // Each separator on its own, and a whole-second timestamp with something after it: none is the fast path's form.
    { name: 'a slash between the year and the month only', t: '2026/03-01T12:34:56Z', want: FALLBACK },
    { name: 'a dash between the hour and the minutes only', t: '2026-03-01T12-34:56Z', want: FALLBACK },
    { name: 'a character after the zone', t: '2026-03-01T12:34:56Z0', want: FALLBACK },
  ])('$name', ({ t, want }) => {
    // Act & Assess
    expect(epochMillis(t, FALLBACK)).toBe(want);
  });
});
