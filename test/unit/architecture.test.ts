import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering (ARCHITECTURE.md, Layers): who may import whom. Every rule reads the import statements of the
 * source files (static, re-exports, side-effect and dynamic imports with a literal specifier); a relative
 * specifier is resolved to its path in the repository, a package keeps its name.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(join(ROOT, path)).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  /** As written. */
  spec: string;
  /** The repository path a relative specifier names (functions/core/plan.js), or the package name. */
  target: string;
  /** `import type`, `export type`, or every name of the braces marked `type`: gone once compiled. */
  typeOnly: boolean;
}

const STATIC = /(?:^|\n)[ \t]*(?:import|export)\s+(type\s+)?([^;'"]*?)\s*from\s+['"]([^'"]+)['"]/g;
const SIDE_EFFECT = /(?:^|\n)[ \t]*import\s+['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of a source text, as `file` (a repository path) names them. */
function parseImports(text: string, file: string): Import[] {
  const target = (spec: string) => (spec.startsWith('.') ? relative(ROOT, resolve(ROOT, file, '..', spec)) : spec);
  const typeOnlyClause = (clause: string) => {
    const names = /^\{([^}]*)\}$/
      .exec(clause.trim())?.[1]
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    return names !== undefined && names.length > 0 && names.every((n) => n.startsWith('type '));
  };
  return [
    ...[...text.matchAll(STATIC)].map((m) => ({ spec: m[3]!, target: target(m[3]!), typeOnly: m[1] !== undefined || typeOnlyClause(m[2]!) })),
    ...[...text.matchAll(SIDE_EFFECT)].map((m) => ({ spec: m[1]!, target: target(m[1]!), typeOnly: false })),
    ...[...text.matchAll(DYNAMIC)].map((m) => ({ spec: m[1]!, target: target(m[1]!), typeOnly: false })),
  ];
}

const importsOf = (file: string): Import[] => parseImports(readFileSync(join(ROOT, file), 'utf8'), file);

/** Packages that talk to AWS, Kubernetes or the embedded host's engines, or build the stack. */
const SDK = /^(@aws-sdk\/|@smithy\/|@kubernetes\/|@aws-lambda-powertools\/|aws-cdk-lib|constructs|dynalite|aws-local-stepfunctions)/;
/** What only the hosts and the CLI may import. */
const HOSTS = /^(local|infra|cli)\//;
/** Reading the clock, randomness, timers, the environment or the network: none of it in a pure layer. */
const IMPURE = /\bDate\.now\(|new Date\(\)|Math\.random\(|process\.(env|hrtime)|\bsetTimeout\(|\bfetch\(/;

/** The folders of functions/adapters that every adapter may import: what AWS adapters, Stores and Kubernetes clients share. */
const SHARED_ADAPTER_BASES = ['aws', 'store', 'kubernetes-client'];

/** The one place the CLI names a host: `clusterless up` loads the embedded host dynamically (it may be left out of a build). */
const CLI_HOST_MODULES: Record<string, string[]> = { 'cli/commands/up.ts': ['../local/embedded-host.js'] };

const cases = (files: string[]) => files.map((file) => ({ name: file, file }));
const where = (file: string, i: Import) => `${file} imports ${i.spec}`;

const layers = {
  core: sourceFiles('functions/core'),
  api: sourceFiles('functions/api'),
  bootstrap: sourceFiles('functions/bootstrap'),
  ports: readdirSync(join(ROOT, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `functions/${f}`),
  metering: sourceFiles('functions/metering'),
  workflows: sourceFiles('functions/workflows'),
  adapters: sourceFiles('functions/adapters'),
  handlers: sourceFiles('functions/handlers'),
  local: sourceFiles('local'),
  infra: sourceFiles('infra'),
  cli: sourceFiles('cli'),
  statemachines: sourceFiles('statemachines'),
};

describe('architecture', () => {
  it.each(Object.entries(layers).map(([layer, files]) => ({ layer, files })))('finds the source files of $layer', ({ files }) => {
    expect(files.length).toBeGreaterThan(2);
  });

  it('reads static, type-only, side-effect and dynamic imports', () => {
    // Prepare
    const text = [
      "import { a, type B } from './a.js';",
      "import type { C } from '../c.js';",
      "import { type D,\n  type E } from './d.js';",
      "export { f } from '@aws-sdk/client-ec2';",
      "export type { G } from './g.js';",
      "import './side.js';",
      "const m = await import('../local/embedded-host.js');",
    ].join('\n');

    // Act
    const imports = parseImports(text, 'functions/handlers/x.ts');

    // Assess
    expect(imports).toEqual([
      { spec: './a.js', target: 'functions/handlers/a.js', typeOnly: false },
      { spec: '../c.js', target: 'functions/c.js', typeOnly: true },
      { spec: './d.js', target: 'functions/handlers/d.js', typeOnly: true },
      { spec: '@aws-sdk/client-ec2', target: '@aws-sdk/client-ec2', typeOnly: false },
      { spec: './g.js', target: 'functions/handlers/g.js', typeOnly: true },
      { spec: './side.js', target: 'functions/handlers/side.js', typeOnly: false },
      { spec: '../local/embedded-host.js', target: 'functions/local/embedded-host.js', typeOnly: false },
    ]);
  });

  it.each(cases(layers.core))('core stays pure: $name', ({ file }) => {
    for (const i of importsOf(file)) {
      // Only itself and the api's types and pure helpers (not the HTTP router nor the object service over the Store).
      expect(i.target, where(file, i)).toMatch(/^functions\/(core|api)\/(?!http\/|service\/)/);
    }
    expect(readFileSync(join(ROOT, file), 'utf8')).not.toMatch(IMPURE);
  });

  it.each(cases(layers.api))('api imports no SDK and no adapter: $name', ({ file }) => {
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(SDK);
      expect(i.target, where(file, i)).not.toMatch(/^functions\/(adapters|handlers)\//);
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
    }
  });

  it.each(cases(layers.bootstrap))('bootstrap renderers stay pure: $name', ({ file }) => {
    for (const i of importsOf(file)) {
      // Only themselves, core, the api's types, and the YAML writer: no SDK, no node:crypto, no adapter.
      expect(i.target, where(file, i)).toMatch(/^(functions\/(bootstrap|core)\/|functions\/api\/(?!http\/|service\/)|yaml$)/);
    }
    expect(readFileSync(join(ROOT, file), 'utf8')).not.toMatch(IMPURE);
  });

  it.each(cases(layers.ports))('the ports and shared modules import no SDK, adapter, workflow, handler or host: $name', ({ file }) => {
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(SDK);
      expect(i.target, where(file, i)).not.toMatch(/^functions\/(adapters|workflows|handlers)\//);
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
    }
  });

  it.each(cases(layers.metering))('metering wraps the ports only (no SDK, adapter, handler or host): $name', ({ file }) => {
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(SDK);
      expect(i.target, where(file, i)).not.toMatch(/^functions\/(adapters|handlers)\//);
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
    }
  });

  it.each(cases(layers.workflows))('workflows see the world through the ports only (no SDK, adapter, handler or host): $name', ({ file }) => {
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(SDK);
      expect(i.target, where(file, i)).not.toMatch(/^functions\/(adapters|handlers)\//);
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
    }
  });

  it.each(cases(layers.adapters))('adapters import no other adapter (but the shared bases), workflow, handler or host: $name', ({ file }) => {
    const own = file.split('/')[2]!;
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(/^functions\/(workflows|handlers)\//);
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
      const other = /^functions\/adapters\/([^/]+)\//.exec(i.target)?.[1];
      if (other !== undefined && other !== own) expect(SHARED_ADAPTER_BASES, where(file, i)).toContain(other);
    }
  });

  it.each(cases(layers.handlers))('handlers import no host, and core only for its types: $name', ({ file }) => {
    for (const i of importsOf(file)) {
      expect(i.target, where(file, i)).not.toMatch(HOSTS);
      if (i.target.startsWith('functions/core/')) expect(i.typeOnly, `${where(file, i)} for more than types`).toBe(true);
    }
  });

  it.each(cases(layers.statemachines))(
    "state machine definitions are data over the workflows' names and errors (no SDK, adapter, handler or host): $name",
    ({ file }) => {
      for (const i of importsOf(file)) {
        expect(i.target, where(file, i)).toMatch(/^(statemachines\/|functions\/ports\.js$|functions\/workflows\/|node:)/);
      }
    },
  );

  it.each(cases([...layers.local, ...layers.infra]))('hosts do not import each other, nor the CLI: $name', ({ file }) => {
    const other = file.startsWith('local/') ? /^(infra|cli)\// : /^(local|cli)\//;
    for (const i of importsOf(file)) expect(i.target, where(file, i)).not.toMatch(other);
  });

  it.each(cases(layers.cli))('the CLI imports no host, and names one only where it loads the embedded host: $name', ({ file }) => {
    for (const i of importsOf(file)) expect(i.target, where(file, i)).not.toMatch(/^(local|infra)\//);
    // A module path kept in a string and imported later is an import too.
    const named = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/['"`]((?:\.\.?\/)+(?:local|infra)\/[^'"`]*)['"`]/g)].map((m) => m[1]);
    expect(named).toEqual(CLI_HOST_MODULES[file] ?? []);
  });
  const product = Object.values(layers).flat();
  it.each(cases(product))('what users deploy never imports the harnesses (e2e/, test/, bench/, soak/): $name', ({ file }) => {
    for (const i of importsOf(file)) expect(i.target, where(file, i)).not.toMatch(/^(e2e|test|bench|soak)\//);
  });
});
