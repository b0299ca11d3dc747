import { UsageError } from '../errors.js';

// An age as kubectl prints it (5s, 3m10s, 2d4h): the server's port of apimachinery's duration.HumanDuration, which
// server-side printing uses too, so the CLI's tables and kubectl's agree.
import { humanDuration } from '../../functions/api/http/table.js';

export { humanDuration };

/** The age of a timestamp at `now`, or '<unknown>' for a missing or unreadable one. */
export function ageOf(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** Elapsed time on a progress line: 7s, 1m05s, 1h02m03s (fixed width within a unit, so the line does not jump). */
export function elapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(s)}s`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

/** A duration the user gave, as a message repeats it: 300ms, 5s, 1m30s, 2h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const total = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join('');
}

const DURATION = /^(\d+(\.\d+)?(ms|h|m|s))+$/;

/**
 * Parses a duration flag as kubectl takes one: Go syntax (90s, 5m, 1h30m, 500ms) or a bare number of
 * seconds; 0 means "no limit" where a flag says so.
 */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!DURATION.test(t)) throw new UsageError(`invalid duration for ${flag}: "${text}" (use e.g. 30s, 5m or 1h30m)`);
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return ms;
}
