/**
 * The function bundles as `cdk synth` makes them with the local esbuild: ESM (.mjs) with the createRequire
 * banner, one asset per handler, and each one loads in Node 22 and exports its handler. The app is synthesized with
 * the mirror (`-c mirror=true`), so its function's bundle is built and checked too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { HANDLERS, type HandlerName } from '../../infra/control-plane-stack.js';
import { COMMONJS_BUILTINS, ESM_REQUIRE_BANNER, VENDORED_PACKAGES } from '../../infra/constructs/handler-function.js';
import { logicalId, newApp } from './support.js';

let app: ClusterlessApp;
/** Every function of the app: the control plane's HANDLERS and the mirror's. */
type BundleName = HandlerName | 'mirror';
let bundles: Record<BundleName, string>;
const outdir = mkdtempSync(join(tmpdir(), 'clusterless-bundles-'));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

beforeAll(() => {
  app = newApp({ bundle: true, outdir, context: { 'aws:cdk:enable-asset-metadata': true, mirror: true } });
  const assembly = app.app.synth();
  const template = assembly.getStackByName(app.controlPlane.stackName).template as { Resources: Record<string, { Metadata?: Record<string, string> }> };
  const assetOf = (fn: Parameters<typeof logicalId>[1]) => {
    const resource = template.Resources[logicalId(app.controlPlane, fn)]!;
    return join(assembly.directory, resource.Metadata!['aws:asset:path']!);
  };
  bundles = {
    ...(Object.fromEntries((Object.keys(HANDLERS) as HandlerName[]).map((name) => [name, assetOf(app.controlPlane.functions[name].function)])) as Record<
      HandlerName,
      string
    >),
    mirror: assetOf(app.controlPlane.mirror!.handler.function),
  };
}, 180_000);

const names: BundleName[] = [...(Object.keys(HANDLERS) as HandlerName[]), 'mirror'];

describe('bundles', () => {
  it('are one asset per handler', () => {
    expect(new Set(Object.values(bundles)).size).toBe(names.length);
  });

  it.each(names)('%s is an ESM bundle (index.mjs) that starts with the createRequire banner', (name) => {
    const file = join(bundles[name], 'index.mjs');
    expect(existsSync(file)).toBe(true);
    expect(existsSync(join(bundles[name], 'index.js'))).toBe(false);
    expect(readFileSync(file, 'utf8').startsWith(ESM_REQUIRE_BANNER)).toBe(true);
  });

  it.each(names)('%s loads in Node 22 and exports a handler function, without its environment', (name) => {
    const url = pathToFileURL(join(bundles[name], 'index.mjs')).href;
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); console.log(typeof m.handler);`],
      {
        env: { PATH: process.env['PATH'], AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('function');
  });

  it.each(names)('%s loads neither undici nor the x509 stack at import', (name) => {
    const url = pathToFileURL(join(bundles[name], 'index.mjs')).href;
    // Node lists the builtins it has loaded; reflect-metadata, the first of the x509 stack, defines Reflect.getMetadata.
    const script = `await import(${JSON.stringify(url)}); console.log(JSON.stringify({ undici: process.moduleLoadList.some((m) => m.includes('undici')), reflectMetadata: typeof Reflect.getMetadata }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'], AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ undici: false, reflectMetadata: 'undefined' });
  });

  it.each(names)("%s imports none of COMMONJS_BUILTINS (http, process...) as an ES module (Node's facade of http loads undici)", (name) => {
    const code = readFileSync(join(bundles[name], 'index.mjs'), 'utf8');
    for (const builtin of COMMONJS_BUILTINS) expect(code).not.toMatch(new RegExp(`(from|import)\\s*["'](node:)?${builtin}["']`));
  });

  it.each(names)('%s carries exactly the vendored packages it imports, in its node_modules', (name) => {
    const code = readFileSync(join(bundles[name], 'index.mjs'), 'utf8');
    const { sources } = JSON.parse(readFileSync(join(bundles[name], 'index.mjs.map'), 'utf8')) as { sources: string[] };
    for (const { name: pkg } of VENDORED_PACKAGES) {
      expect(sources.filter((source) => source.includes(`node_modules/${pkg}/`))).toEqual([]);
      expect(existsSync(join(bundles[name], 'node_modules', pkg, 'index.mjs')), pkg).toBe(code.includes(`import("${pkg}")`));
    }
  });

  it('a task bundle makes a certificate with its vendored reflect-metadata and @peculiar/x509, resolved from its asset', () => {
    // The bundle's own import() of the names, from its folder (no node_modules above it here, in the temporary outdir).
    const probe = join(bundles.reconcile, 'probe.mjs');
    writeFileSync(
      probe,
      [
        "await import('reflect-metadata');",
        "const x509 = await import('@peculiar/x509');",
        'x509.cryptoProvider.set(globalThis.crypto);',
        "const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };",
        "const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);",
        "const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=probe', keys, signingAlgorithm: alg });",
        "console.log(JSON.stringify({ subject: cert.subject, x509: import.meta.resolve('@peculiar/x509'), reflect: import.meta.resolve('reflect-metadata') }));",
      ].join('\n'),
    );
    const out = JSON.parse(execFileSync(process.execPath, [probe], { encoding: 'utf8' }).trim()) as Record<string, string>;
    rmSync(probe);
    const asset = pathToFileURL(bundles.reconcile).href;
    expect(out).toEqual({
      subject: 'CN=probe',
      x509: `${asset}/node_modules/@peculiar/x509/index.mjs`,
      reflect: `${asset}/node_modules/reflect-metadata/index.mjs`,
    });
  });

  it('maps the stack of an error from a task bundle to the TypeScript source, without --enable-source-maps', () => {
    const url = pathToFileURL(join(bundles.reconcile, 'index.mjs')).href;
    // Without TABLE_NAME, the task's first invocation throws from taskDepsFromEnvironment.
    const script = `const m = await import(${JSON.stringify(url)}); try { await m.handler({ step: 'reconcile' }); } catch (e) { console.log(e.stack); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'], AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    });
    expect(out).toMatch(/^Error: TABLE_NAME is not set/);
    // The map's source without its leading ../ segments: relative to this test's outdir, which is outside the repository.
    expect(out).toMatch(/\n {4}at build \((\S+\/)?functions\/handlers\/task-deps\.ts:\d+:\d+\)\n/);
  });

  it.each(names)("%s bundles the AWS SDK it was tested with rather than importing the runtime's", (name) => {
    expect(readFileSync(join(bundles[name], 'index.mjs'), 'utf8')).not.toMatch(/from\s*["']@aws-sdk\//);
  });
});
