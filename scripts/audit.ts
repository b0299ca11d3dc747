/**
 * `npx tsx scripts/audit.ts`: the dependency audit of CI. Runs `npm audit --json` and fails on every high or
 * critical advisory that audit-exceptions.json does not list. Each exception names one advisory (its GHSA id
 * or npm source number) and the package, says why it does not apply or cannot be fixed yet, and expires:
 * once past its date it fails the audit again, so that no exception outlives the review it needs.
 *
 * Exit codes: 0 clean (or only excepted advisories), 1 a blocking advisory or a bad exception, 2 the audit
 * could not run (no registry, or a registry without the audit endpoint). `--report FILE` reads a saved
 * `npm audit --json` output instead of running npm (tests, or a CI step that ran npm itself).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const EXCEPTIONS_FILE = resolve(import.meta.dirname, '..', 'audit-exceptions.json');
const BLOCKING = new Set(['high', 'critical']);

export interface AuditException {
  /** The advisory: GHSA id (GHSA-xxxx-xxxx-xxxx) or npm's numeric source id. */
  id: string;
  package: string;
  /** Why it does not apply here, or what blocks the fix. */
  reason: string;
  /** YYYY-MM-DD; from the day after, the advisory blocks again. */
  expires: string;
}

export interface Advisory {
  /** GHSA id when the advisory has one, else npm's source number. */
  id: string;
  source?: string;
  package: string;
  severity: string;
  title: string;
  url?: string;
  range?: string;
}

export interface AuditOutcome {
  blocking: Advisory[];
  excepted: { advisory: Advisory; exception: AuditException }[];
  expired: AuditException[];
  unused: AuditException[];
  problems: string[];
}

/** The advisories of an `npm audit --json` report (auditReportVersion 2), one per advisory and package. */
export function advisoriesOf(report: unknown): Advisory[] {
  const vulns = (report as { vulnerabilities?: Record<string, { via?: unknown[] }> })?.vulnerabilities ?? {};
  const out = new Map<string, Advisory>();
  for (const [pkg, v] of Object.entries(vulns))
    for (const via of v.via ?? []) {
      // A string names another vulnerable package (this one is affected through it): that one is listed itself.
      if (!via || typeof via !== 'object') continue;
      const a = via as { source?: number | string; name?: string; title?: string; url?: string; severity?: string; range?: string };
      const ghsa = /GHSA-[\w-]+/i.exec(a.url ?? '')?.[0];
      const advisory: Advisory = {
        id: ghsa ?? String(a.source ?? a.title ?? 'unknown'),
        ...(a.source !== undefined ? { source: String(a.source) } : {}),
        package: a.name ?? pkg,
        severity: a.severity ?? 'unknown',
        title: a.title ?? '',
        ...(a.url ? { url: a.url } : {}),
        ...(a.range ? { range: a.range } : {}),
      };
      out.set(`${advisory.id}/${advisory.package}`, advisory);
    }
  return [...out.values()].sort((x, y) => x.id.localeCompare(y.id) || x.package.localeCompare(y.package));
}

/** Reads the exception list, refusing entries without an id, a package, a reason or a valid expiry date. */
export function parseExceptions(raw: unknown): { exceptions: AuditException[]; problems: string[] } {
  const list = (raw as { exceptions?: unknown })?.exceptions;
  if (!Array.isArray(list)) return { exceptions: [], problems: ['audit-exceptions.json must be {"exceptions": [...]}'] };
  const exceptions: AuditException[] = [];
  const problems: string[] = [];
  for (const [i, e] of (list as Partial<AuditException>[]).entries()) {
    const missing = (['id', 'package', 'reason', 'expires'] as const).filter((k) => typeof e?.[k] !== 'string' || e[k]!.trim() === '');
    if (missing.length) {
      problems.push(`exception ${i} lacks ${missing.join(', ')}`);
      continue;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.expires!) || Number.isNaN(Date.parse(`${e.expires}T00:00:00Z`))) {
      problems.push(`exception ${i} (${e.id}): expires must be a date YYYY-MM-DD, not "${e.expires}"`);
      continue;
    }
    exceptions.push(e as AuditException);
  }
  return { exceptions, problems };
}

/** Which advisories block, which are excepted, which exceptions have expired or match nothing. */
export function evaluate(report: unknown, exceptions: readonly AuditException[], today: Date): Omit<AuditOutcome, 'problems'> {
  const day = today.toISOString().slice(0, 10);
  const live = exceptions.filter((e) => e.expires >= day);
  const expired = exceptions.filter((e) => e.expires < day);
  const used = new Set<AuditException>();
  const blocking: Advisory[] = [];
  const excepted: AuditOutcome['excepted'] = [];
  for (const a of advisoriesOf(report)) {
    if (!BLOCKING.has(a.severity)) continue;
    const e = live.find((x) => (x.id === a.id || x.id === a.source) && x.package === a.package);
    if (e) {
      used.add(e);
      excepted.push({ advisory: a, exception: e });
    } else blocking.push(a);
  }
  return { blocking, excepted, expired, unused: live.filter((e) => !used.has(e)) };
}

/** True when npm could not audit at all (no registry, or one without the audit endpoint). */
export function auditUnavailable(report: unknown): string | undefined {
  const r = report as { error?: { summary?: string }; message?: string; statusCode?: number; vulnerabilities?: unknown };
  if (r && typeof r === 'object' && r.vulnerabilities !== undefined) return undefined;
  return r?.message ?? r?.error?.summary ?? 'npm audit returned no report';
}

function runNpmAudit(cwd: string): unknown {
  const r = spawnSync('npm', ['audit', '--json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { message: (r.stderr || r.stdout || String(r.error ?? 'npm audit failed')).trim().split('\n')[0] };
  }
}

export function main(argv: readonly string[], print: (line: string) => void = console.log, today = new Date()): number {
  const at = argv.indexOf('--report');
  const report = at >= 0 ? JSON.parse(readFileSync(argv[at + 1] ?? '', 'utf8')) : runNpmAudit(resolve(import.meta.dirname, '..'));
  const unavailable = auditUnavailable(report);
  if (unavailable) {
    print(`audit: could not audit the dependencies: ${unavailable}`);
    return 2;
  }
  const { exceptions, problems } = parseExceptions(JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')));
  const outcome = evaluate(report, exceptions, today);
  for (const p of problems) print(`audit: bad exception: ${p}`);
  for (const { advisory: a, exception: e } of outcome.excepted) print(`audit: excepted ${a.severity} ${a.id} in ${a.package} until ${e.expires}: ${e.reason}`);
  for (const e of outcome.expired) print(`audit: the exception for ${e.id} in ${e.package} expired on ${e.expires}: review it again`);
  for (const e of outcome.unused) print(`audit: note: the exception for ${e.id} in ${e.package} matches no advisory any more; remove it`);
  for (const a of outcome.blocking)
    print(`audit: ${a.severity} ${a.id} in ${a.package}${a.range ? ` ${a.range}` : ''}: ${a.title}${a.url ? ` (${a.url})` : ''}`);
  const failed = outcome.blocking.length > 0 || problems.length > 0;
  print(
    failed
      ? `audit: ${outcome.blocking.length} blocking advisories, ${problems.length} bad exceptions`
      : `audit: no high or critical advisory outside the exception list (${outcome.excepted.length} excepted)`,
  );
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main(process.argv.slice(2)));
