import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of DESIGN section 1: core is pure, api knows no SDK, and neither knows the hosts.
const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

const SDK = /^(@aws-sdk\/|@smithy\/|@kubernetes\/|@aws-lambda-powertools\/|aws-cdk-lib|constructs|dynalite|aws-local-stepfunctions)/;

describe('architecture', () => {
  const core = sourceFiles(join(ROOT, 'functions/core'));
  const api = sourceFiles(join(ROOT, 'functions/api'));

  it('finds the source files it checks', () => {
    expect(core.length).toBeGreaterThan(3);
    expect(api.length).toBeGreaterThan(10);
  });

  it.each(core.map((f) => ({ name: relative(ROOT, f), file: f })))('core stays pure: $name', ({ file }) => {
    const text = readFileSync(file, 'utf8');
    for (const spec of importsOf(file)) {
      const target = spec.startsWith('.') ? relative(ROOT, resolve(file, '..', spec)) : spec;
      // Only itself and the api's types and pure helpers (not the HTTP router).
      expect(target, `${relative(ROOT, file)} imports ${spec}`).toMatch(/^functions\/(core|api)\/(?!http\/)/);
    }
    expect(text).not.toMatch(/\bDate\.now\(|new Date\(\)|Math\.random\(|process\.(env|hrtime)|\bsetTimeout\(|\bfetch\(/);
  });

  it.each(api.map((f) => ({ name: relative(ROOT, f), file: f })))('api imports no SDK and no adapter: $name', ({ file }) => {
    for (const spec of importsOf(file)) {
      expect(spec, `${relative(ROOT, file)} imports ${spec}`).not.toMatch(SDK);
      const target = spec.startsWith('.') ? relative(ROOT, resolve(file, '..', spec)) : spec;
      expect(target).not.toMatch(/^(functions\/(adapters|handlers)|local|infra|cli)\//);
    }
  });
});
