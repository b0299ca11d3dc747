/**
 * The Lambda bundles' `yaml` (functions/handlers/runtime/yaml.cjs, aliased by HandlerFunction): it exports every name
 * functions/ imports from yaml, each answering as the package's own, and evaluates the package at the first call.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as yaml from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/constructs/handler-function.js';

const require = createRequire(import.meta.url);
const shim = require('../../../functions/handlers/runtime/yaml.cjs') as Record<string, (...args: unknown[]) => unknown>;

/** The names imported from 'yaml' by the TypeScript files under functions/. */
function importedNames(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(join(REPO_ROOT, 'functions'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, 'functions', file), 'utf8');
    for (const m of text.matchAll(/import\s*(type\s*)?\{([^}]*)\}\s*from\s*'yaml'/g)) {
      if (m[1]) continue;
      for (const part of m[2]!.split(',').map((p) => p.trim())) if (part && !part.startsWith('type ')) names.add(part.split(/\s+as\s+/)[0]!);
    }
    expect(text, `${file} imports yaml as a namespace or default: the shim exports names only`).not.toMatch(/import\s+(\*\s+as\s+\w+|\w+)\s+from\s*'yaml'/);
  }
  return names;
}

describe('the bundles’ yaml shim', () => {
  it('exports each name functions/ imports from yaml', () => {
    const names = importedNames();
    expect(names.size).toBeGreaterThan(0);
    for (const name of names) expect(typeof shim[name], name).toBe('function');
  });

  it('answers as the package', () => {
    const text = 'a: 1\nb: [x, y]\n---\nc: true\n';
    expect(shim['parse']!('a: 1\nb: [x, y]\n')).toEqual(yaml.parse('a: 1\nb: [x, y]\n'));
    expect(shim['stringify']!({ a: 1, b: ['x'] })).toBe(yaml.stringify({ a: 1, b: ['x'] }));
    expect((shim['parseAllDocuments']!(text) as yaml.Document[]).map((d) => d.toJS())).toEqual(
      yaml.parseAllDocuments(text).map((d) => (d as yaml.Document).toJS()),
    );
    expect((shim['parseDocument']!('a: 1\n') as yaml.Document).toString()).toBe(yaml.parseDocument('a: 1\n').toString());
  });
});
