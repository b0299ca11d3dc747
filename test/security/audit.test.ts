/**
 * The dependency audit of CI (scripts/audit.ts): high and critical advisories fail it unless an exception
 * with a reason and an unexpired date lists them; an expired or incomplete exception fails it too; an audit
 * that cannot run says so with its own exit code. Fed saved `npm audit --json` reports (npm 7+ format).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXCEPTIONS_FILE, advisoriesOf, evaluate, main, parseExceptions, type AuditException } from '../../scripts/audit.js';

const advisory = (name: string, severity: string, ghsa: string, source: number) => ({
  source,
  name,
  dependency: name,
  title: `${name} is vulnerable`,
  url: `https://github.com/advisories/${ghsa}`,
  severity,
  cwe: ['CWE-400'],
  cvss: { score: 7.5, vectorString: null },
  range: '<1.2.3',
});

/** lodash (critical, direct), semver (high, through a parent), debug (moderate), minimist (low). */
const REPORT = {
  auditReportVersion: 2,
  vulnerabilities: {
    lodash: {
      name: 'lodash',
      severity: 'critical',
      isDirect: true,
      via: [advisory('lodash', 'critical', 'GHSA-aaaa-bbbb-cccc', 1001)],
      effects: [],
      range: '<4.17.21',
      nodes: ['node_modules/lodash'],
      fixAvailable: true,
    },
    semver: {
      name: 'semver',
      severity: 'high',
      isDirect: false,
      via: [advisory('semver', 'high', 'GHSA-dddd-eeee-ffff', 1002)],
      effects: ['parent'],
      range: '<7.5.2',
      nodes: ['node_modules/semver'],
      fixAvailable: true,
    },
    parent: { name: 'parent', severity: 'high', isDirect: true, via: ['semver'], effects: [], range: '*', nodes: ['node_modules/parent'], fixAvailable: false },
    debug: {
      name: 'debug',
      severity: 'moderate',
      isDirect: false,
      via: [advisory('debug', 'moderate', 'GHSA-gggg-hhhh-iiii', 1003)],
      effects: [],
      range: '<2.6.9',
      nodes: ['node_modules/debug'],
      fixAvailable: true,
    },
    minimist: {
      name: 'minimist',
      severity: 'low',
      isDirect: false,
      via: [advisory('minimist', 'low', 'GHSA-jjjj-kkkk-llll', 1004)],
      effects: [],
      range: '<1.2.6',
      nodes: ['node_modules/minimist'],
      fixAvailable: true,
    },
  },
  metadata: { vulnerabilities: { info: 0, low: 1, moderate: 1, high: 2, critical: 1, total: 5 } },
};

const TODAY = new Date('2026-11-27T12:00:00Z');
const exception = (over: Partial<AuditException> = {}): AuditException => ({
  id: 'GHSA-dddd-eeee-ffff',
  package: 'semver',
  reason: 'only the CDK CLI uses it, on trusted input',
  expires: '2026-12-31',
  ...over,
});

const dir = mkdtempSync(join(tmpdir(), 'clusterless-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the dependency audit', () => {
  it('reads one advisory per advisory and package, not the packages affected only through another', () => {
    expect(advisoriesOf(REPORT).map((a) => `${a.severity} ${a.id} ${a.package}`)).toEqual([
      'critical GHSA-aaaa-bbbb-cccc lodash',
      'high GHSA-dddd-eeee-ffff semver',
      'moderate GHSA-gggg-hhhh-iiii debug',
      'low GHSA-jjjj-kkkk-llll minimist',
    ]);
  });

  it('blocks high and critical advisories, never moderate or low ones', () => {
    expect(evaluate(REPORT, [], TODAY).blocking.map((a) => a.id)).toEqual(['GHSA-aaaa-bbbb-cccc', 'GHSA-dddd-eeee-ffff']);
  });

  it('lets an advisory pass while an exception lists it (by GHSA id or npm source number)', () => {
    const byGhsa = evaluate(REPORT, [exception()], TODAY);
    expect(byGhsa.blocking.map((a) => a.id)).toEqual(['GHSA-aaaa-bbbb-cccc']);
    expect(byGhsa.excepted.map((x) => x.advisory.package)).toEqual(['semver']);
    expect(evaluate(REPORT, [exception({ id: '1002' })], TODAY).excepted).toHaveLength(1);
  });

  it('blocks again once the exception has expired, and reports it', () => {
    const outcome = evaluate(REPORT, [exception({ expires: '2026-11-26' })], TODAY);
    expect(outcome.blocking.map((a) => a.package)).toEqual(['lodash', 'semver']);
    expect(outcome.expired).toHaveLength(1);
  });

  it('does not let an exception for one package cover the same advisory in another', () => {
    expect(evaluate(REPORT, [exception({ package: 'lodash' })], TODAY).blocking).toHaveLength(2);
  });

  it.each([
    { name: 'no reason', raw: { exceptions: [{ id: 'GHSA-x', package: 'p', expires: '2027-01-01' }] }, problem: /lacks reason/ },
    { name: 'no expiry', raw: { exceptions: [{ id: 'GHSA-x', package: 'p', reason: 'r' }] }, problem: /lacks expires/ },
    { name: 'a date that is not one', raw: { exceptions: [{ id: 'GHSA-x', package: 'p', reason: 'r', expires: 'next year' }] }, problem: /YYYY-MM-DD/ },
    { name: 'no list', raw: {}, problem: /must be/ },
  ])('refuses an exception with $name', ({ raw, problem }) => {
    const { exceptions, problems } = parseExceptions(raw);
    expect(exceptions).toEqual([]);
    expect(problems.join('\n')).toMatch(problem);
  });

  it('the committed exception list is valid, and every entry has a reason and an expiry', () => {
    const { problems } = parseExceptions(JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('exits 1 on a blocking advisory, 0 on a clean report and 2 when npm could not audit', () => {
    const write = (name: string, body: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(body));
      return p;
    };
    const lines: string[] = [];
    expect(main(['--report', write('bad.json', REPORT)], (l) => lines.push(l), TODAY)).toBe(1);
    expect(lines.join('\n')).toMatch(/critical GHSA-aaaa-bbbb-cccc in lodash/);
    expect(main(['--report', write('clean.json', { auditReportVersion: 2, vulnerabilities: {}, metadata: {} })], () => {}, TODAY)).toBe(0);
    expect(main(['--report', write('offline.json', { message: '405 Method Not Allowed', statusCode: 405 })], () => {}, TODAY)).toBe(2);
  });
});
