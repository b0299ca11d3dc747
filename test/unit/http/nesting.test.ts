/**
 * Nesting depth is measured on the text of a body, before JSON.parse or the YAML parser runs: a deeply nested
 * body never reaches a recursive parser, and text that merely looks nested (brackets in strings, comments,
 * block scalars) is not refused.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as yaml from 'yaml';
import { jsonNestsDeeperThan, yamlMayNestDeeperThan } from '../../../functions/api/http/nesting.js';
import { api, ns } from './fixtures.js';

// The parser the router uses, watched: a call with a refused body is what this file must never see.
vi.mock('yaml', async (importOriginal) => {
  const real = await importOriginal<typeof import('yaml')>();
  return { ...real, parseAllDocuments: vi.fn(real.parseAllDocuments) };
});

const nested = (depth: number, open: string, close: string, inner = '') => open.repeat(depth) + inner + close.repeat(depth);
const manifest = (spec: string) => `{"apiVersion":"clusterless.dev/v1alpha1","kind":"Cluster","metadata":{"name":"deep"},"spec":${spec}}`;

afterEach(() => {
  vi.restoreAllMocks();
  vi.mocked(yaml.parseAllDocuments).mockClear();
});

describe('bodies nested too deep are refused before any parser runs', () => {
  // Each fits in the 256 KiB body limit; the YAML ones overflowed the yaml package's stack before this check.
  it.each([
    { name: 'JSON arrays nested 130,000 levels', body: nested(130_000, '[', ']'), type: 'application/json' },
    { name: 'JSON objects nested 20,000 levels in spec', body: manifest(nested(20_000, '{"a":', '}', '1')), type: 'application/json' },
    { name: 'a JSON merge patch nested 100,000 levels', body: `{"spec":${nested(100_000, '[', ']')}}`, type: 'application/merge-patch+json' },
    { name: 'YAML flow sequences nested 130,000 levels', body: `spec: ${nested(130_000, '[', ']')}`, type: 'application/yaml' },
    { name: 'YAML flow mappings nested 40,000 levels', body: `spec: ${nested(40_000, '{a: ', '}', '1')}`, type: 'application/yaml' },
    { name: 'JSON nested 100,000 levels sent as YAML', body: manifest(nested(100_000, '[', ']')), type: 'application/yaml' },
    { name: 'YAML block sequences nested 120,000 levels on one line', body: `${'- '.repeat(120_000)}a\n`, type: 'application/yaml' },
    {
      name: 'YAML block mappings indented 600 levels deep',
      body: `spec:\n${Array.from({ length: 600 }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n')} 1\n`,
      type: 'text/yaml',
    },
    // (`- a` lines indented so would be one plain scalar, "a - a - a ...": empty entries nest.)
    {
      name: 'YAML block sequences indented 300 levels deep',
      body: `${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}-`).join('\n')} a`,
      type: 'application/x-yaml',
    },
    // Each line nests 31 levels inside the one before: about 1,050 in all, in 36 KB.
    {
      name: 'YAML lines of 30 "- " and a key, each indented under the last key',
      body: Array.from({ length: 34 }, (_, i) => `${' '.repeat(60 * i)}${'- '.repeat(30)}a:`).join('\n'),
      type: 'application/yaml',
    },
    // 81 levels in 41 lines (each "- a:" is a sequence and a mapping), as yaml.stringify writes it with indentSeq: false.
    // A comment or a document marker ends a plain scalar: the lines after them are no longer its text.
    {
      name: 'YAML sequences nested 100,000 levels after a plain scalar and a comment',
      body: `- a # c\n  ${'- '.repeat(100_000)}x\n`,
      type: 'application/yaml',
    },
    { name: 'YAML sequences nested 100,000 levels in a second document', body: `a\n---\n${'- '.repeat(100_000)}x\n`, type: 'application/yaml' },
    {
      name: 'YAML "- key:" lines, each sequence at its key\'s indentation',
      body: `a:\n${Array.from({ length: 40 }, (_, i) => `${' '.repeat(2 * i)}- a:`).join('\n')} 1\n`,
      type: 'application/yaml',
    },
  ])('$name: 400, and the parser never sees it', async ({ body, type }) => {
    // Prepare
    const a = api();
    const before = await a.snapshot();
    const jsonParse = vi.spyOn(JSON, 'parse');
    // Act
    const res = await a.call(
      type.includes('merge-patch') ? 'PATCH' : 'POST',
      ns('default', 'clusters', type.includes('merge-patch') ? 'c1' : undefined),
      body,
      { 'content-type': type },
    );
    // Assess
    expect(res.status, res.body.slice(0, 300)).toBe(400);
    expect(res.json.message).toMatch(/nests deeper than 64 levels/);
    expect(jsonParse.mock.calls.some(([text]) => text === body)).toBe(false);
    expect(vi.mocked(yaml.parseAllDocuments)).not.toHaveBeenCalled();
    expect(await a.snapshot()).toEqual(before);
  });
});

describe('text that only looks nested is not refused', () => {
  const brackets = '[{'.repeat(100);

  it.each([
    {
      name: 'brackets in a JSON string',
      type: 'application/json',
      body: JSON.stringify({
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'c2', annotations: { 'example.com/a': `${brackets}"\\` } },
        spec: {},
      }),
    },
    {
      name: 'brackets in YAML quoted scalars, comments and a block scalar',
      type: 'application/yaml',
      body: [
        'apiVersion: clusterless.dev/v1alpha1',
        'kind: Cluster',
        `# ${brackets}`,
        'metadata:',
        '  name: c2',
        '  annotations:',
        `    example.com/a: "${brackets} \\" ${brackets}"`,
        `    example.com/b: '${brackets} '' ${brackets}'`,
        `    example.com/c: plain ${brackets}   # ${brackets}`,
        '    example.com/d: |',
        `      ${brackets}`,
        `        - - - - - - ${brackets}`,
        '',
        `      ${brackets}`,
        '    example.com/e: >-',
        `      ${brackets}`,
        'spec: {}',
      ].join('\n'),
    },
  ])('accepts $name', async ({ body, type }) => {
    const res = await api().call('POST', ns('default', 'clusters'), body, { 'content-type': type });
    expect(res.status, res.body.slice(0, 300)).toBe(201);
  });
});

describe('the scans against the parsers', () => {
  /** The depth checkStructure counts: the top collection is 1, a scalar 0; Infinity for a value that holds itself (an alias cycle). */
  function depthOf(v: unknown, within: readonly unknown[] = []): number {
    if (v === null || typeof v !== 'object') return 0;
    if (within.includes(v)) return Number.POSITIVE_INFINITY;
    const children = v instanceof Map ? [...v.keys(), ...v.values()] : Object.values(v);
    return 1 + Math.max(0, ...children.map((c) => depthOf(c, [...within, v])));
  }
  /** The smallest limit a scan lets the text through at: the depth it sees. */
  function scanned(text: string, deeperThan: (t: string, max: number) => boolean): number {
    let max = 0;
    while (deeperThan(text, max)) max++;
    return max;
  }

  it('the JSON scan gives exactly the depth JSON.parse builds', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (value) => {
        expect(scanned(JSON.stringify(value), jsonNestsDeeperThan)).toBe(depthOf(value));
      }),
      { seed: 1234, numRuns: 400 },
    );
  });

  it.each([
    { name: '"- key:" chains, sequences indented', text: yaml.stringify({ a: [{ a: [{ a: [{ a: 1 }] }] }] }) },
    { name: '"- key:" chains, sequences at their key\'s indentation', text: yaml.stringify({ a: [{ a: [{ a: [{ a: 1 }] }] }] }, { indentSeq: false }) },
    { name: '"- - key:" chains', text: yaml.stringify([[{ a: [[{ a: [[{ a: 1 }]] }]] }]]) },
    { name: 'a compact sequence under a key, then its sibling key', text: 'a:\n- b:\n  c:\n  - d:\n    e:\n    - f\n' },
    // Found by the property below while this scan was rewritten: a quote that is text in a plain scalar carried
    // on over lines, a document marker, and compact sequences under explicit keys.
    { name: 'a quote inside a plain scalar carried on to the next line', text: "- a\n  '\n- ? ? " },
    { name: 'a document marker, then an explicit key holding a sequence', text: '---\n? - ' },
    { name: 'compact sequences under explicit keys', text: '\n? \n- ? \n  - ' },
  ])('the YAML scan gives no less than the parser builds: $name', ({ text }) => {
    expect(scanned(text, yamlMayNestDeeperThan), text).toBeGreaterThanOrEqual(depthOf(yaml.parse(text)));
  });

  it('a line indented under an inner "- " starts at that entry\'s depth, not at the end of the line above', () => {
    const text = '- - - ""\n  - null\n';
    expect(depthOf(yaml.parse(text))).toBe(3);
    expect(scanned(text, yamlMayNestDeeperThan)).toBe(4);
  });

  it('a colon at the very start of the text is not a value indicator (it begins a plain scalar)', () => {
    const text = ':\': null\n"\'": null\n';
    expect(depthOf(yaml.parse(text))).toBe(1);
    expect(scanned(text, yamlMayNestDeeperThan)).toBe(2);
  });

  // Seeded, so the suite gives the same answer every time; many runs, so that it reaches the shapes that broke
  // earlier scans. The bound of one holds for what emitters write from ordinary values; odd text (a block scalar
  // at the top, multi-line scalars in flow) can count more, which only ever refuses.
  it('the YAML scan never gives less than the depth the YAML parser builds, and on what yaml.stringify and JSON.stringify write at most one more', () => {
    const options = fc.record({ flowCollections: fc.boolean(), indent: fc.integer({ min: 1, max: 4 }), indentSeq: fc.boolean() });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), options, fc.boolean(), (value, { flowCollections, indent, indentSeq }, asJson) => {
        const text = asJson
          ? JSON.stringify(value, null, indent)
          : yaml.stringify(value, { indent, indentSeq, ...(flowCollections ? { collectionStyle: 'flow' } : {}) });
        const depth = depthOf(yaml.parse(text));
        const estimate = scanned(text, yamlMayNestDeeperThan);
        expect(estimate, text).toBeGreaterThanOrEqual(depth);
        expect(estimate, text).toBeLessThanOrEqual(depth + 1);
      }),
      { seed: 20261206, numRuns: 4000 },
    );
  });

  it('never gives less than the parser builds for any YAML it reads without errors, however odd', () => {
    // Text made of YAML's indicators, so that quotes, comments, block scalars, anchors, flow, explicit keys and
    // document markers meet in every order. Every document counts: the router refuses several only after parsing.
    const token = fc.constantFrom(
      ...['a', 'a:', ' ', '\t', '\n', '\n  ', '\n    ', '\n- ', '\n  - ', '\n? ', '\n: ', '-', '[', ']', '{', '}', ',', ': ', ':', '- ', '? '],
      ...['"', "'", '#', ' #', '|', '>', '|2', '&x ', '*x', '!!str ', '\\', '---\n', '--- ', '...\n'],
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
        const text = tokens.join('');
        const docs = yaml.parseAllDocuments(text, { uniqueKeys: false });
        if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return;
        let depth = 0;
        for (const doc of docs) {
          try {
            depth = Math.max(depth, depthOf(doc.toJS({ maxAliasCount: 50, mapAsMap: true })));
          } catch {
            return; // an alias bomb: refused by the router for its own reasons
          }
        }
        if (depth === Number.POSITIVE_INFINITY) return; // an alias cycle: checkStructure refuses it
        expect(scanned(text, yamlMayNestDeeperThan), JSON.stringify(text)).toBeGreaterThanOrEqual(depth);
      }),
      { seed: 20261206, numRuns: 20_000 },
    );
  });
});
