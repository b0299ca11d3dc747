/**
 * Watch as Kubernetes clients use it, side by side: the real `kubectl get -w` against the embedded host and against
 * kube-apiserver serving crds/, the same writes on both, the printed events compared; and client-go style watches
 * (@kubernetes/client-node's Watch) against the embedded host: resuming from a resourceVersion, 410 for a very old one.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { kubeBinaries, startKube, type RunningKube } from '../../support/kube.js';
import { type RunningKubectl, WATCH_OPEN, startKubectl } from '../../support/kubectl.js';
import { cluster, machineClass, machineDeployment, ns } from '../../unit/http/fixtures.js';

let host: EmbeddedHost;
let kube: RunningKube;
let dir: string;
let hostKubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clusterless-watch-'));
  [host, kube] = await Promise.all([startEmbeddedHost({ port: 0, dataDir: join(dir, 'data'), sweepSeconds: 3600 }), startKube()]);
  await kube.installCrds();
  hostKubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    hostKubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: embedded, cluster: {server: "${host.url}"}}]\nusers: [{name: user, user: {}}]\ncontexts: [{name: embedded, context: {cluster: embedded, user: user, namespace: default}}]\ncurrent-context: embedded\n`,
  );
  // What a MachineDeployment names must exist on the embedded host (kube-apiserver checks nothing of the kind).
  for (const [plural, body] of [
    ['clusters', cluster()],
    ['machineclasses', machineClass()],
  ] as const) {
    const res = await fetch(host.url + ns('default', plural), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([host?.close(), kube?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

interface Target {
  name: string;
  kubeconfig: () => string;
}
const TARGETS: Target[] = [
  { name: 'the embedded host', kubeconfig: () => hostKubeconfig },
  { name: 'kube-apiserver', kubeconfig: () => kube.adminKubeconfig },
];

function kubectl(target: Target, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubeBinaries().kubectl, ['--kubeconfig', target.kubeconfig(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', reject);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${code}: ${err}`))));
    child.stdin.end(input ?? '');
  });
}

/** A running `kubectl get ... -w`: its stdout so far, and a wait until its watch request has been answered. */
interface Watching {
  running: RunningKubectl;
  out: () => string;
  /** Resolves once kubectl logged the watch response (-v=6), i.e. the watch is open. */
  open: Promise<void>;
  until(predicate: (out: string) => boolean, what: string): Promise<void>;
}

const JSONPATH = '{.type} {.object.metadata.name} {.object.spec.replicas}{"\\n"}';

function startWatch(target: Target, args: string[], output: string[] = ['--output-watch-events', '-o', `jsonpath=${JSONPATH}`]): Watching {
  const running = startKubectl(['--kubeconfig', target.kubeconfig(), 'get', ...args, '-w', ...output, '-v=6', '--request-timeout=60s']);
  return {
    running,
    out: running.stdout,
    open: running.until((_, err) => WATCH_OPEN.test(err), 'the watch response'),
    until: (p, what) => running.until((out) => p(out), what),
  };
}

const stop = (w: Watching): Promise<void> => w.running.stop().then(() => undefined);

/**
 * The events as `TYPE name replicas`, a MODIFIED that leaves replicas as they were dropped: the embedded host's
 * controllers write status and finalizers (kube-apiserver has no controller for the CRDs), the rest must agree.
 */
function essentials(out: string): string[] {
  const lines: string[] = [];
  let replicas: string | undefined;
  for (const line of out.split('\n').filter(Boolean)) {
    const [type, , r] = line.split(' ');
    if (type === 'MODIFIED' && r === replicas) continue;
    replicas = r;
    lines.push(line);
  }
  return lines;
}

const manifest = (name: string) => JSON.stringify(machineDeployment(name, 'default', { replicas: 3 }));
const deleted = (name: string) => (out: string) => out.includes(`DELETED ${name} `);

describe('kubectl get -w, the embedded host beside kube-apiserver', () => {
  it('prints the same events for create, scale (a merge patch of spec.replicas) and delete of a collection', async () => {
    const printed: Record<string, string[]> = {};
    for (const target of TARGETS) {
      // Prepare
      const w = startWatch(target, ['machinedeployments.clusterless.dev']);
      try {
        await w.open;
        // Act
        await kubectl(target, ['create', '-f', '-'], manifest('web'));
        await kubectl(target, ['patch', 'machinedeployments.clusterless.dev', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":5}}']);
        await kubectl(target, ['delete', 'machinedeployments.clusterless.dev', 'web']);
        await w.until(deleted('web'), 'the DELETED event');
      } finally {
        await stop(w);
      }
      printed[target.name] = essentials(w.out());
    }
    // Assess
    expect(printed['kube-apiserver']).toEqual(['ADDED web 3', 'MODIFIED web 5', 'DELETED web 5']);
    expect(printed['the embedded host']).toEqual(printed['kube-apiserver']);
  });

  it('prints the same table as it watches (server-side printing of watch events): the columns, then a row per change', async () => {
    const printed: Record<string, string[]> = {};
    for (const target of TARGETS) {
      // Prepare
      const w = startWatch(target, ['machinedeployments.clusterless.dev', '--field-selector', 'metadata.name=printed'], ['--output-watch-events']);
      try {
        await w.open;
        // Act
        await kubectl(target, ['create', '-f', '-'], manifest('printed'));
        await w.until((out) => out.includes('ADDED') && out.includes('printed'), 'the ADDED row');
      } finally {
        await stop(w);
      }
      const lines = w.out().split('\n').filter(Boolean);
      // The header as printed, and the first row's event type and name (the other cells follow the controllers).
      printed[target.name] = [lines[0]!.split(/\s+/).join(' '), lines[1]!.split(/\s+/).slice(0, 2).join(' ')];
    }
    // Assess
    expect(printed['kube-apiserver']![0]).toMatch(/^EVENT NAME CLUSTER REPLICAS/);
    expect(printed['the embedded host']).toEqual(printed['kube-apiserver']);
  });

  it('prints the same events watching one object by name (get NAME -w), its first state not repeated', async () => {
    const printed: Record<string, string[]> = {};
    for (const target of TARGETS) {
      await kubectl(target, ['create', '-f', '-'], manifest('one'));
      await kubectl(target, ['create', '-f', '-'], manifest('other'));
      const w = startWatch(target, ['machinedeployments.clusterless.dev', 'one']);
      try {
        await w.open;
        await kubectl(target, ['patch', 'machinedeployments.clusterless.dev', 'other', '--type', 'merge', '-p', '{"spec":{"replicas":2}}']);
        await kubectl(target, ['patch', 'machinedeployments.clusterless.dev', 'one', '--type', 'merge', '-p', '{"spec":{"replicas":4}}']);
        await kubectl(target, ['delete', 'machinedeployments.clusterless.dev', 'one', 'other']);
        await w.until(deleted('one'), 'the DELETED event');
      } finally {
        await stop(w);
      }
      printed[target.name] = essentials(w.out());
    }
    expect(printed['kube-apiserver']).toEqual(['ADDED one 3', 'MODIFIED one 4', 'DELETED one 4']);
    expect(printed['the embedded host']).toEqual(printed['kube-apiserver']);
  });
});

describe('client-go style watch (@kubernetes/client-node) against the embedded host', () => {
  const config = () => {
    const kc = new KubeConfig();
    // The client refuses plain HTTP unless told to skip TLS verification; the embedded host serves HTTP on loopback.
    kc.loadFromOptions({
      clusters: [{ name: 'embedded', server: host.url, skipTLSVerify: true }],
      users: [{ name: 'user' }],
      contexts: [{ name: 'embedded', cluster: 'embedded', user: 'user' }],
      currentContext: 'embedded',
    });
    return kc;
  };
  const MDS = '/apis/clusterless.dev/v1alpha1/namespaces/default/machinedeployments';

  /** Collects events until `stop` says so (then aborts the request), or the server ends the stream. */
  async function collect(query: Record<string, string>, stopWhen: (events: { type: string; object: any }[]) => boolean) {
    const events: { type: string; object: any }[] = [];
    let abort: AbortController | undefined;
    await new Promise<void>((resolve, reject) => {
      new Watch(config())
        .watch(
          MDS,
          query,
          (type, object) => {
            events.push({ type, object });
            if (stopWhen(events)) abort?.abort();
          },
          () => resolve(),
        )
        .then((a) => (abort = a), reject);
    });
    return events;
  }

  it('resumes from a resourceVersion: only what changed after it', async () => {
    // Prepare: a list's version, then changes
    const list = (await (await fetch(host.url + ns('default', 'machinedeployments'))).json()) as { metadata: { resourceVersion: string } };
    await kubectl(TARGETS[0]!, ['create', '-f', '-'], manifest('resumed'));
    await kubectl(TARGETS[0]!, ['patch', 'machinedeployments.clusterless.dev', 'resumed', '--type', 'merge', '-p', '{"spec":{"replicas":6}}']);
    // Act
    const events = await collect({ resourceVersion: list.metadata.resourceVersion }, (e) => e.some((x) => x.object.spec?.replicas === 6));
    // Assess
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'resumed' }, spec: { replicas: 3 } } });
    expect(events.every((e) => e.object.metadata.name === 'resumed')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'MODIFIED', object: { spec: { replicas: 6 } } });
  });

  it('answers a very old resourceVersion with an ERROR event carrying a 410 Expired Status, then ends the stream', async () => {
    const events = await collect({ resourceVersion: '1' }, () => false);
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });
});

describe('clusterless get -w (the CLI, a real process) against the embedded host', () => {
  it('prints the table, then rows for a new object and its deletion as they happen; Ctrl-C ends it with 0', async () => {
    // Prepare
    const root = resolve(import.meta.dirname, '../../..');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CLUSTERLESS_')) env[k] = v;
    const child = spawn(process.execPath, [join(root, 'cli/bin.mjs'), 'get', 'machinedeployments', '-w', '-o', 'name'], {
      cwd: root,
      env: { ...env, CLUSTERLESS_SERVER: host.url, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const lines = () => out.split('\n').filter((l) => l === 'machinedeployment.clusterless.dev/cli-watched');
    try {
      // The CLI opens its watch after the first table; an object made before that is in the table instead.
      await expect.poll(() => err + out, { timeout: 30_000 }).toMatch(/No resources found|machinedeployment/);
      // Act
      await kubectl(TARGETS[0]!, ['create', '-f', '-'], manifest('cli-watched'));
      await expect.poll(() => lines().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      await kubectl(TARGETS[0]!, ['delete', 'machinedeployments.clusterless.dev', 'cli-watched']);
      // Created, then (with the host's own writes in between) deleted: at least two rows for it, the last once it is gone.
      await expect.poll(async () => (await fetch(host.url + ns('default', 'machinedeployments', 'cli-watched'))).status, { timeout: 30_000 }).toBe(404);
      const seenBeforeEnd = lines().length;
      child.kill('SIGINT');
      // Assess
      expect(await exited).toBe(0);
      expect(seenBeforeEnd).toBeGreaterThanOrEqual(2);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
