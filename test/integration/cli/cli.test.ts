/**
 * The `clusterless` command as a user runs it: a child process (cli/bin.mjs on the project's Node 22) that
 * speaks HTTP to the API on the embedded store (the local HTTP server alone: no controllers, so the objects stay
 * as the tests write them). Output is a pipe, so never coloured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../../local/embedded-dynamodb.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';
import { freePort } from '../../support/free-port.js';
import { controlPlaneLabels, deploymentLabels, machine, machineSet, path } from '../../unit/cli/fixtures.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin.mjs');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function baseEnv(server: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CLUSTERLESS_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
  return { ...env, CLUSTERLESS_SERVER: server };
}

interface Started {
  child: ChildProcess;
  output(): Result;
  done: Promise<Result>;
}

function start(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; command?: string; commandArgs?: string[] } = {}): Started {
  const child = spawn(options.command ?? process.execPath, [...(options.commandArgs ?? [BIN]), ...args], {
    cwd: ROOT,
    env: options.env ?? baseEnv(host.url),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdin!.end(options.stdin ?? '');
  const done = new Promise<Result>((r) =>
    child.on('close', (code) => {
      running.delete(child);
      r({ code, stdout, stderr });
    }),
  );
  return { child, output: () => ({ code: null, stdout, stderr }), done };
}

const cli = (args: string[], options: Parameters<typeof start>[1] = {}) => start(args, options).done;

async function api(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(host.url + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const oneErrorLine = (r: Result) => r.stderr.split('\n').filter(Boolean);

let store: EmbeddedStore;
let host: RunningHttpServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-cli-'));
  store = await startEmbeddedStore(join(dataDir, 'dynamodb'), { tableName: 'clusterless' });
  host = await startHttpServer({ port: 0, deps: { store: store.store } });
});

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

afterAll(async () => {
  await host?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('clusterless against the HTTP API', () => {
  it('generate | apply creates a cluster the API accepts as it is; applying again changes nothing', async () => {
    const generated = await cli([
      'generate',
      'cluster',
      'demo',
      '--kubernetes-version',
      'v1.31.2',
      '--control-plane-machine-count',
      '3',
      '--worker-machine-count',
      '3',
    ]);
    expect(generated.code).toBe(0);
    const applied = await cli(['apply', '-f', '-'], { stdin: generated.stdout });
    expect(applied).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'machineclass.clusterless.dev/demo created\ncluster.clusterless.dev/demo created\ncontrolplane.clusterless.dev/demo-control-plane created\n' +
        'machinedeployment.clusterless.dev/demo-md-0 created\nmachinehealthcheck.clusterless.dev/demo-md-0 created\n',
    });
    const file = join(dataDir, 'demo.yaml');
    await writeFile(file, generated.stdout);
    const again = await cli(['apply', '-f', file]);
    expect(again.code).toBe(0);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[1]),
    ).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('generate clusterclass | apply, then generate cluster --class | apply: the class, its MachineClasses and a topology Cluster', async () => {
    // In a namespace of their own: the later tests count the default namespace's clusters.
    const cls = await cli(['generate', 'clusterclass', 'standard', '--control-plane-machine-count', '3', '-n', 'classes']);
    expect(cls.code).toBe(0);
    expect(await cli(['apply', '-f', '-'], { stdin: cls.stdout })).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'machineclass.clusterless.dev/standard-control-plane created\nmachineclass.clusterless.dev/standard-worker created\n' +
        'clusterclass.clusterless.dev/standard created\n',
    });
    const cluster = await cli(['generate', 'cluster', 'classy', '--class', 'standard', '--version', 'v1.31.2', '--workers', '2', '-n', 'classes']);
    expect(cluster.code).toBe(0);
    expect(await cli(['apply', '-f', '-'], { stdin: cluster.stdout })).toEqual({ code: 0, stderr: '', stdout: 'cluster.clusterless.dev/classy created\n' });
    const stored = await api('GET', path('clusters', 'classy', undefined, 'classes'));
    expect(stored.spec.topology).toMatchObject({
      class: 'standard',
      version: 'v1.31.2',
      workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 2 }] },
    });
  });

  it('get prints kubectl tables (machines: NAME CLUSTER NODE PHASE VERSION AGE), JSON and names', async () => {
    const cp = await api('GET', path('controlplanes', 'demo-control-plane'));
    await api(
      'POST',
      path('machines'),
      machine('demo-control-plane-k2x9z', {
        labels: controlPlaneLabels('demo', 'demo-control-plane'),
        owner: { kind: 'ControlPlane', name: cp.metadata.name, uid: cp.metadata.uid },
      }),
    );
    await api('POST', path('machines'), machine('demo-md-0-7d9f-abcde', { labels: deploymentLabels('demo', 'demo-md-0') }));
    await api('PATCH', path('machines', 'demo-md-0-7d9f-abcde', 'status'), {
      status: {
        phase: 'Running',
        nodeRef: { name: 'sim-node-1' },
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
      },
    });

    const table = await cli(['get', 'machines']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('NAME                       CLUSTER   NODE         PHASE     VERSION   AGE');
    expect(lines[1]).toMatch(/^demo-control-plane-k2x9z   demo      <none>       <none>    v1.31.2   \d+s$/);
    expect(lines[2]).toMatch(/^demo-md-0-7d9f-abcde       demo      sim-node-1   Running   v1.31.2   \d+s$/);
    expect(table.stdout).not.toMatch(/\u001b\[/);

    const json = await cli(['get', 'md', 'demo-md-0', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'MachineDeployment', spec: { replicas: 3 } });
    const names = await cli(['get', 'machines', '-l', 'clusterless.dev/control-plane', '-o', 'name']);
    expect(names.stdout).toBe('machine.clusterless.dev/demo-control-plane-k2x9z\n');
  });

  it('describe cluster draws the tree of the cluster', async () => {
    const r = await cli(['describe', 'cluster', 'demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+SEVERITY\s+REASON\s+SINCE\s+MESSAGE\n/);
    expect(r.stdout).toMatch(
      /\nCluster\/demo\s*\n├─ControlPlane\/demo-control-plane\s*\n│ └─Machine\/demo-control-plane-k2x9z\s*\n└─Workers\n  └─MachineDeployment\/demo-md-0\s*\n    └─Machine\/demo-md-0-7d9f-abcde\s+True\s+\d+s\s*\n\nEvents:  <none>\n$/,
    );
  });

  it('scale patches spec.replicas; an even control plane is refused in one line naming the field', async () => {
    const ok = await cli(['scale', 'machinedeployment', 'demo-md-0', '--replicas', '5']);
    expect(ok).toEqual({ code: 0, stderr: '', stdout: 'machinedeployment.clusterless.dev/demo-md-0 scaled\n' });
    expect((await api('GET', path('machinedeployments', 'demo-md-0'))).spec.replicas).toBe(5);

    const bad = await cli(['scale', 'controlplane', 'demo-control-plane', '--replicas', '4']);
    expect(bad.code).toBe(1);
    expect(oneErrorLine(bad)).toEqual([expect.stringMatching(/^error: ControlPlane.clusterless.dev "demo-control-plane" is invalid: spec.replicas: /)]);
  });

  it('rollout status waits while the status is written through /status, then exits 0', async () => {
    const md = await api('GET', path('machinedeployments', 'demo-md-0'));
    const waiting = start(['rollout', 'status', 'machinedeployment', 'demo-md-0', '--timeout', '60s', '--interval', '100ms']);
    await until('the first progress line', () => waiting.output().stdout.includes('spec update to be observed'));
    await api('PATCH', path('machinedeployments', 'demo-md-0', 'status'), {
      status: { observedGeneration: md.metadata.generation, replicas: 6, updatedReplicas: 2, availableReplicas: 5 },
    });
    await until('the rollout progress', () => waiting.output().stdout.includes('2 out of 5 new replicas have been updated'));
    await api('PATCH', path('machinedeployments', 'demo-md-0', 'status'), { status: { replicas: 5, updatedReplicas: 5, availableReplicas: 5 } });
    const r = await waiting.done;
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('machinedeployment "demo-md-0" successfully rolled out');
  });

  it('rollout status exits 1 with one line on --timeout', async () => {
    await api('PATCH', path('machinedeployments', 'demo-md-0'), { spec: { replicas: 6 } });
    const r = await cli(['rollout', 'status', 'md', 'demo-md-0', '--timeout', '300ms', '--interval', '100ms']);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toEqual([
      'error: timed out after 300ms waiting for machinedeployment "demo-md-0" to roll out: the latest spec is not yet observed',
    ]);
  });

  it('rollout pause, resume, history and undo', async () => {
    expect((await cli(['rollout', 'pause', 'md', 'demo-md-0'])).stdout).toBe('machinedeployment.clusterless.dev/demo-md-0 paused\n');
    expect((await api('GET', path('machinedeployments', 'demo-md-0'))).spec.paused).toBe(true);
    // A paused deployment is not rolled back: the API says why.
    const refused = await cli(['rollout', 'undo', 'md', 'demo-md-0']);
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toEqual([expect.stringMatching(/spec.paused: .*resume it first/)]);
    expect((await cli(['rollout', 'resume', 'md', 'demo-md-0'])).stdout).toBe('machinedeployment.clusterless.dev/demo-md-0 resumed\n');

    const md = await api('GET', path('machinedeployments', 'demo-md-0'));
    await api('POST', path('machinesets'), machineSet(md, 1, 'v1.31.2', 'h1'));
    await api('POST', path('machinesets'), machineSet(md, 2, 'v1.31.3', 'h2', 6));
    await api('PATCH', path('machinedeployments', 'demo-md-0'), { spec: { template: { spec: { version: 'v1.31.3' } } } });

    const history = await cli(['rollout', 'history', 'md', 'demo-md-0']);
    expect(history.stdout.split('\n').slice(1, 4)).toEqual([
      'REVISION   MACHINESET     VERSION   MACHINECLASS   REPLICAS   CHANGE',
      '1          demo-md-0-h1   v1.31.2   demo           0          initial',
      '2          demo-md-0-h2   v1.31.3   demo           6          version v1.31.2 -> v1.31.3',
    ]);
    const undo = await cli(['rollout', 'undo', 'md', 'demo-md-0', '--to-revision', '1']);
    expect(undo).toEqual({ code: 0, stderr: '', stdout: 'machinedeployment.clusterless.dev/demo-md-0 rolled back\n' });
    expect((await api('GET', path('machinedeployments', 'demo-md-0'))).spec.template.spec.version).toBe('v1.31.2');
  });

  it('delete --wait returns once teardown removed the object', async () => {
    const deleting = start(['delete', 'md', 'demo-md-0', '--wait', '--interval', '100ms']);
    await until('the delete to be accepted', () => deleting.output().stdout.includes('deleted'));
    expect((await api('GET', path('machinedeployments', 'demo-md-0'))).metadata.deletionTimestamp).toBeDefined();
    // What the delete workflow does at its end: the last finalizer goes, and with it the object.
    await api('PATCH', path('machinedeployments', 'demo-md-0'), { metadata: { finalizers: null } });
    const r = await deleting.done;
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'machinedeployment.clusterless.dev "demo-md-0" deleted\n' });
    const gone = await fetch(host.url + path('machinedeployments', 'demo-md-0'));
    expect(gone.status).toBe(404);
  });

  it.each([
    { name: 'an unknown kind', args: ['get', 'pods'], code: 2, line: /^error: unknown resource type "pods"/ },
    { name: 'a missing object', args: ['get', 'cluster', 'nope'], code: 1, line: /^error: clusters.clusterless.dev "nope" not found$/ },
    { name: 'a file that is not YAML', args: ['apply', '-f', '-'], stdin: 'kind: [', code: 2, line: /^error: stdin is not valid YAML or JSON/ },
    {
      name: 'the mirror, not served yet',
      args: ['mirror', 'status'],
      code: 1,
      line: /^error: the server at http:\/\/127\.0\.0\.1:\d+ does not serve the mirror \(GET \/clusterless\/v1\/mirror answered 404\)$/,
    },
    { name: 'cost, not served yet', args: ['cost'], code: 1, line: /does not serve cost reports/ },
    { name: 'sim kill without a simulator', args: ['sim', 'kill', 'demo-md-0-7d9f-abcde'], code: 1, line: /does not serve the simulator/ },
  ])('$name: exit $code and one error line', async ({ args, stdin, code, line }) => {
    const r = await cli(args, stdin === undefined ? {} : { stdin });
    expect(r.code).toBe(code);
    const lines = oneErrorLine(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });

  it('exits 3 with one line when nothing listens at --server', async () => {
    const port = await freePort();
    const r = await cli(['get', 'clusters', '--server', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(oneErrorLine(r)).toEqual([`error: cannot reach the clusterless API at http://127.0.0.1:${port}: ECONNREFUSED`]);
  });
});

describe('the launcher', () => {
  it('runs as `npx clusterless` from the repository', async () => {
    const r = await cli(['get', 'clusters', '-o', 'name'], { command: 'npx', commandArgs: ['--no-install', 'clusterless'] });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'cluster.clusterless.dev/demo\n' });
  });

  it('runs as `node cli/bin.mjs` with whatever node is first on the PATH (an older one hands over to Node 22)', async () => {
    const env = baseEnv(host.url);
    env['PATH'] = (env['PATH'] ?? '')
      .split(delimiter)
      .filter((p) => !p.includes('node_modules'))
      .join(delimiter);
    const r = await cli(['get', 'clusters', '-o', 'name'], { command: 'node', commandArgs: [BIN], env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'cluster.clusterless.dev/demo\n' });
  });
});
