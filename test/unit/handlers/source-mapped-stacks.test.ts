/**
 * The Lambda bundles' stack traces without `--enable-source-maps` (functions/handlers/runtime/source-mapped-stacks.ts):
 * SourceMapLookup reads a map as node:module's SourceMap does, and a bundle made with the injected installer, as
 * HandlerFunction makes them, prints the TypeScript file, line and function of each of its frames when a stack is read.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_INJECT, ESM_REQUIRE_BANNER, REPO_ROOT } from '../../../infra/constructs/handler-function.js';
import { SourceMapLookup, displayedSource } from '../../../functions/handlers/runtime/source-mapped-stacks.js';

const dir = mkdtempSync(join(tmpdir(), 'clusterless-stacks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A handler whose error comes from a named function two calls deep, on known lines (1-based) and columns. */
const ENTRY = [
  'function parseSpec(input: { spec?: string }): string {',
  '  if (!input.spec) throw new TypeError(`spec is required`);',
  '  return input.spec;',
  '}',
  'export const handler = async (event: { spec?: string }) => {',
  '  const spec: string = parseSpec(event);',
  '  return { spec };',
  '};',
].join('\n');

let bundle: string;

beforeAll(async () => {
  writeFileSync(join(dir, 'entry.ts'), ENTRY);
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [join(dir, 'entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: ESM_REQUIRE_BANNER },
    inject: BUNDLE_INJECT,
    outfile: join(dir, 'out', 'index.mjs'),
    logLevel: 'silent',
  });
  bundle = join(dir, 'out', 'index.mjs');
}, 60_000);

/** The stack of the handler's error, read in a fresh Node process (with `nodeArgs`). */
function stackOf(nodeArgs: string[] = []): string[] {
  const script = `const m = await import(${JSON.stringify(`file://${bundle}`)}); try { await m.handler({}); } catch (e) { console.log(e.stack); }`;
  return execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('SourceMapLookup', () => {
  it('finds what node:module SourceMap finds at every generated position of a bundle that maps to a source', () => {
    const json = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as SourceMapPayload;
    const reference = new SourceMap(json);
    const lookup = new SourceMapLookup(json);
    const lines = readFileSync(bundle, 'utf8').split('\n');
    // The map's last mapping (findEntry falls back to it from past the end).
    const last = reference.findEntry(lines.length, 0) as { generatedLine: number; generatedColumn: number };
    let compared = 0;
    lines.forEach((text, line) => {
      for (let column = 0; column <= text.length; column++) {
        const expected = reference.findEntry(line, column);
        // SourceMap falls back to an earlier line's last mapping; the lookup answers within the line.
        if (!('originalSource' in expected) || expected.generatedLine !== line) continue;
        compared++;
        const found = lookup.find(line, column);
        expect(found).toMatchObject({ source: expected.originalSource, line: expected.originalLine, column: expected.originalColumn });
        // SourceMap reads a name past the end of the mappings (the last index, for a last mapping without one).
        const isLast = expected.generatedLine === last.generatedLine && expected.generatedColumn === last.generatedColumn;
        if (!isLast) expect(found?.name).toBe((expected as { name?: string }).name);
      }
    });
    expect(compared).toBeGreaterThan(1000);
  });

  it('finds nothing past the last line or before the first mapping of a line', () => {
    const lookup = new SourceMapLookup({ sources: ['a.ts'], names: [], mappings: 'EAAA;AACA' });
    expect(lookup.find(0, 1)).toBeUndefined();
    expect(lookup.find(0, 2)).toEqual({ source: 'a.ts', line: 0, column: 0 });
    expect(lookup.find(1, 0)).toEqual({ source: 'a.ts', line: 1, column: 0 });
    expect(lookup.find(2, 0)).toBeUndefined();
  });
});

describe('a bundle with the installer', () => {
  it("prints each of its frames at the TypeScript file, line and column, with the source's function names", () => {
    const [header, first, second] = stackOf();
    expect(header).toBe('TypeError: spec is required');
    // The map's sources are relative to the bundle (../entry.ts here, ../../../functions/... in cdk.out).
    expect(first).toBe('    at parseSpec (entry.ts:2:26)');
    // The arrow function has no name in the map, and its caller is not in the bundle: the location alone.
    expect(second).toBe('    at entry.ts:6:24');
  });

  it("keeps V8's frames when the map cannot be read", () => {
    const map = readFileSync(`${bundle}.map`);
    rmSync(`${bundle}.map`);
    try {
      const [, first] = stackOf();
      expect(first).toMatch(/index\.mjs:\d+:\d+\)?$/);
    } finally {
      writeFileSync(`${bundle}.map`, map);
    }
  });

  it('leaves the stacks to Node under --enable-source-maps', () => {
    const [, first] = stackOf(['--enable-source-maps']);
    // Node resolves the source to an absolute path; the installer would print entry.ts alone.
    expect(first).toBe(`    at parseSpec (${join(dir, 'entry.ts')}:2:26)`);
  });
});

describe('displayedSource', () => {
  it('shows our sources from the repository root and packages from node_modules', () => {
    expect(displayedSource('../../../functions/core/conditions.ts')).toBe('functions/core/conditions.ts');
    expect(displayedSource('../../../../main/node_modules/@smithy/core/dist-es/index.js')).toBe('node_modules/@smithy/core/dist-es/index.js');
  });
});
