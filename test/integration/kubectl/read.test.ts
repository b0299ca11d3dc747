/**
 * The real kubectl against the clusterless API and against kube-apiserver serving the project's CRDs, side by side:
 * discovery, explain (OpenAPI v3), server-side printing, selectors and paging answer the same. Both hold the same
 * objects (read back from the clusterless API, created in kube-apiserver); ages and uids are normalised.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { type KubectlResult, runKubectl, withoutAges as normalised } from '../../support/kubectl.js';

const OBJECTS = `
apiVersion: clusterless.dev/v1alpha1
kind: MachineClass
metadata: {name: small, namespace: default}
spec: {sim: {bootSeconds: 1}}
---
apiVersion: clusterless.dev/v1alpha1
kind: Cluster
metadata: {name: c1, namespace: default}
spec: {}
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md1, namespace: default, labels: {tier: web}}
spec: {clusterName: c1, replicas: 3, template: {spec: {version: v1.31.2, machineClassRef: {name: small}}}}
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md2, namespace: default, labels: {tier: db}}
spec: {clusterName: c2, replicas: 1, template: {spec: {version: v1.31.2, machineClassRef: {name: small}}}}
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md3, namespace: default, labels: {tier: web}}
spec: {clusterName: c2, replicas: 2, template: {spec: {version: v1.32.0, machineClassRef: {name: small}}}}
`;

let kube: RunningKube;
let server: RunningHttpServer;
let cacheDir: string;

/** kubectl against the clusterless API, as a user points it there: --server and a token, its own discovery cache. */
function ours(args: readonly string[], input?: string): Promise<KubectlResult> {
  return runKubectl(['--server', server.url, '--token', 'unused', '--cache-dir', cacheDir, '-n', 'default', ...args], input === undefined ? {} : { input });
}

async function oursOk(args: readonly string[], input?: string): Promise<string> {
  const r = await ours(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} against clusterless failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Both answers to the same kubectl command. */
async function both(args: readonly string[]): Promise<{ ours: string; kube: string }> {
  const [a, b] = await Promise.all([oursOk(args), kube.kubectlOk(args)]);
  return { ours: a, kube: b };
}

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'clusterless-kubectl-'));
  server = await startHttpServer({ port: 0, deps: { store: new MemoryStore() } });
  kube = await startKube();
  await kube.installCrds();
  // The objects as the clusterless API stores them (defaults, labels, finalizers), then the same in kube-apiserver.
  await oursOk(['create', '-f', '-'], OBJECTS);
  await oursOk(['patch', 'md', 'md1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
  const stored = JSON.parse(await oursOk(['get', 'mc,cl,md', '-o', 'json'])) as { items: { metadata: Record<string, unknown>; status?: unknown }[] };
  for (const item of stored.items) {
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'generation']) delete item.metadata[field];
    const { status, ...body } = item;
    await kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(body) });
    if (status) {
      const name = `${(body as unknown as { kind: string }).kind.toLowerCase()}/${body.metadata['name']}`;
      await kube.kubectlOk(['patch', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    }
  }
});

afterAll(async () => {
  await server?.close();
  await kube?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

describe('kubectl reads the clusterless API as it reads kube-apiserver serving the CRDs', () => {
  it('kubectl version names the server version of package.json', async () => {
    const out = JSON.parse(await oursOk(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string; major: string; minor: string } };
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const [major, minor] = version.split('.');
    expect(out.serverVersion).toMatchObject({ gitVersion: `v${version}`, major, minor });
  });

  it('kubectl api-resources lists the same rows for clusterless.dev', async () => {
    const out = await both(['api-resources', '--api-group=clusterless.dev']);
    expect(out.ours).toBe(out.kube);
    expect(out.ours).toContain('machinedeployments');
  });

  it.each([{ args: ['machinedeployment.spec'] }, { args: ['cluster', '--recursive'] }])('kubectl explain $args prints the same', async ({ args }) => {
    const out = await both(['explain', ...args]);
    expect(out.ours).toBe(out.kube);
  });

  it('kubectl get -o wide prints the same columns and cells (server-side printing)', async () => {
    const out = await both(['get', 'md', '-o', 'wide']);
    expect(normalised(out.ours)).toBe(normalised(out.kube));
    expect(out.ours.split('\n')[0]).toMatch(/^NAME\s+CLUSTER\s+REPLICAS.*PHASE\s+AGE\s+VERSION$/);
    expect(out.ours).toMatch(/md1\s+c1\s+.*Running/);
  });

  it('kubectl get -o yaml and -o jsonpath print the same object', async () => {
    const yaml = await both(['get', 'md', 'md1', '-o', 'yaml']);
    expect(normalised(yaml.ours)).toBe(normalised(yaml.kube));
    const names = await both(['get', 'md', '-o', 'jsonpath={.items[*].metadata.name} {.items[0].spec.replicas}']);
    expect(names.ours).toBe('md1 md2 md3 3');
    expect(names.kube).toBe(names.ours);
  });

  it.each([
    ['-l', 'tier=web'],
    ['-l', 'tier!=web'],
    ['--field-selector', 'spec.clusterName=c2'],
    ['--field-selector', 'status.phase=Running'],
    ['--field-selector', 'metadata.name!=md2,spec.clusterName=c2'],
  ])('kubectl get md %s %s selects the same objects', async (flag, value) => {
    const out = await both(['get', 'md', flag, value, '-o', 'name']);
    expect(out.ours).toBe(out.kube);
    expect(out.ours.trim()).not.toBe('');
  });

  it.each([{ args: ['md', '-A'] }, { args: ['clusterless'] }, { args: ['cl', 'c1', '-o', 'wide'] }])(
    'kubectl get $args prints the same table',
    async ({ args }) => {
      const out = await both(['get', ...args]);
      expect(normalised(out.ours)).toBe(normalised(out.kube));
      expect(out.ours).toContain('NAME');
    },
  );

  it('kubectl get --chunk-size=1 pages through the same list', async () => {
    const out = await both(['get', 'md', '--chunk-size=1']);
    expect(normalised(out.ours)).toBe(normalised(out.kube));
    expect(out.ours.trim().split('\n')).toHaveLength(4);
  });
});
