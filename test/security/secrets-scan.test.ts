/**
 * No secret ever appears in the store, the logs, status or the CRDs. Proven by scanning what a real run
 * leaves behind: clusters are driven through the runtime (create, scale, upgrade, roll back, kill, delete,
 * with tasks failing so that error paths log too) with a logger that keeps every line at every level; then
 * the store dump (spec and status), the logs, the API's answers, the host's data directory and crds/ are
 * searched for PEM blocks, AWS key ids and secret keys, kubeadm bootstrap tokens and the run's own secrets
 * (the host's bearer token, the AWS credentials the EC2 client signs with).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { Ec2MachineProvider, createEc2Client } from '../../functions/adapters/ec2/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader, SimulatedNodes } from '../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest } from '../../functions/api/http/index.js';
import { KINDS } from '../../functions/api/kinds.js';
import type { MachineDeployment } from '../../functions/api/machine-deployment.js';
import { noWorkloadsDrainer, type MachineProvider, type NodeReader, type Store } from '../../functions/ports.js';
import { invocationHolder, scaledTimer, type Logger, workflowDeps } from '../../functions/workflows/index.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../local/embedded-host.js';
import { ControlPlaneRuntime } from '../../local/runtime.js';
import { scaledClock } from '../../local/scaled-clock.js';
import { notConverged } from '../../soak/convergence.js';
import { NAMESPACE, clusterManifests, type ClusterShape } from '../../soak/manifests.js';
import { Ec2Faults, createMotoNetwork } from '../support/ec2.js';
import { cli, ROOT } from '../support/host-process.js';
import { waitUntil } from '../support/wait.js';
import { findSecrets, type SecretFinding } from './secret-patterns.js';

const TIME_SCALE = 40;
const P = `/apis/clusterless.dev/v1alpha1/namespaces/${NAMESPACE}`;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const waitFor = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, 90_000, 50);

/** A logger that keeps everything, every level, with its fields as JSON. */
function capturingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

async function dumpStore(store: Store): Promise<string> {
  const all = await Promise.all(KINDS.map((k) => store.list(k.kind as never)));
  return JSON.stringify(all, null, 1);
}

/** Every file under `dir`, read as bytes (binary LevelDB files included). */
function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ path: p, text: readFileSync(p).toString('latin1') });
  }
  return out;
}

const shape = (name: string, workers = 2): ClusterShape => ({
  name,
  controlPlaneReplicas: 1,
  workers,
  strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  maxUnhealthy: '100%',
});

/** Drives a runtime over a store and provider through a cluster's life, keeping every log line and answer. */
async function driveCluster(options: {
  provider: MachineProvider;
  nodes: NodeReader;
  /** The simulated cloud, whose machines the run kills once; absent for EC2. */
  cloud?: SimCloud;
  manifests: { plural: string; object: unknown }[];
  name: string;
}) {
  const lines: string[] = [];
  const answers: string[] = [];
  const clock = scaledClock({ timeScale: TIME_SCALE });
  const store = new MemoryStore({ clock });
  const failedOnce = new Set<string>();
  const deps = workflowDeps({
    store,
    provider: options.provider,
    nodes: options.nodes,
    drainer: noWorkloadsDrainer,
    clock,
    timer: scaledTimer(TIME_SCALE),
    holder: invocationHolder('secrets-scan'),
    pollSeconds: 5,
    log: capturingLogger(lines),
  });
  const runtime = new ControlPlaneRuntime({
    deps,
    timeScale: TIME_SCALE,
    sweepSeconds: 30,
    // Each step fails once, after its effect: the error paths (recordFailure, retries) log too.
    taskMiddleware: async (task, input, run) => {
      const result = await run();
      const key = `${task}:${String(input.step)}`;
      if (!failedOnce.has(key)) {
        failedOnce.add(key);
        throw new Error(`injected failure after ${key}`);
      }
      return result;
    },
  });
  await runtime.start();
  cleanups.push(() => runtime.stop());
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await handleRequest(jsonRequest(method, path, body), { store: runtime.store });
    answers.push(res.body);
    return res;
  };
  for (const m of options.manifests) expect((await api('POST', `${P}/${m.plural}`, m.object)).status).toBe(201);
  const settled = async () => {
    if (options.cloud) return (await notConverged(store, options.cloud, options.name)) === undefined;
    // EC2: the deployment's own status says it (moto's instances are not the soak's to inspect).
    const md = await store.get<MachineDeployment>('MachineDeployment', NAMESPACE, `${options.name}-md`);
    const s = md?.status;
    return (
      !!md &&
      (s?.observedGeneration ?? 0) >= (md.metadata.generation ?? 0) &&
      s?.availableReplicas === md.spec.replicas &&
      s.updatedReplicas === md.spec.replicas &&
      s.replicas === md.spec.replicas
    );
  };
  await waitFor('the cluster converged', settled);
  expect((await api('PATCH', `${P}/machinedeployments/${options.name}-md`, { spec: { replicas: 3 } })).status).toBe(200);
  expect((await api('PATCH', `${P}/machinedeployments/${options.name}-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } })).status).toBe(200);
  await waitFor('scaled and upgraded', settled);
  if (options.cloud) {
    const worker = options.cloud.instances().find((i) => i.clusterName === options.name && i.role === 'worker' && i.state === 'running')!;
    options.cloud.kill(worker.instanceId);
  }
  expect((await api('POST', `${P}/machinedeployments/${options.name}-md/rollback`, { toRevision: 0 })).status).toBe(200);
  await waitFor('healed and rolled back', settled);
  for (const plural of ['clusters', 'machines', 'machinedeployments', 'machinesets', 'controlplanes', 'machinehealthchecks', 'machineclasses'])
    await api('GET', `${P}/${plural}`);
  const dump = await dumpStore(store);
  expect((await api('DELETE', `${P}/clusters/${options.name}`)).status).toBe(200);
  await waitFor('the cluster deleted', async () => (await store.listCluster(NAMESPACE, options.name)).length === 0);
  await runtime.stop();
  return { lines, answers, dump, failedSteps: [...failedOnce].sort() };
}

function scanAll(sources: { where: string; text: string }[], known: string[] = []): SecretFinding[] {
  return sources.flatMap((s) => findSecrets(s.text, s.where, known));
}

describe('the secret scanner', () => {
  it.each([
    { name: 'a private key', text: '-----BEGIN RSA PRIVATE KEY-----\nMIIE...' },
    { name: 'an AWS access key id', text: 'key AKIAIOSFODNN7EXAMPLE used' },
    { name: 'an AWS secret key field', text: '{"aws_secret_access_key":"x"}' },
    { name: 'a kubeadm bootstrap token', text: 'kubeadm join --token abcdef.0123456789abcdef' },
    { name: 'a bearer credential', text: 'authorization: Bearer s3cr3t-t0ken-value' },
    { name: 'a known secret', text: 'the token is zz-known-zz', known: ['zz-known-zz'] },
  ])('finds $name', ({ text, known }) => {
    expect(findSecrets(text, 'planted', known ?? [])).toHaveLength(1);
  });

  it('finds nothing in ordinary objects', () => {
    expect(findSecrets(JSON.stringify(clusterManifests(shape('quiet'))), 'manifests')).toEqual([]);
  });
});

describe('no secret in the store, logs, status or CRDs', () => {
  it('a sim cluster driven through its whole life, with failing tasks, leaves nothing secret behind', async () => {
    const clock = scaledClock({ timeScale: TIME_SCALE });
    const cloud = new SimCloud({ clock, seed: 3 });
    const run = await driveCluster({
      provider: new SimMachineProvider(cloud),
      nodes: new SimNodeReader(cloud),
      cloud,
      manifests: clusterManifests(shape('scan-sim')),
      name: 'scan-sim',
    });
    // Something was logged to scan (how much depends on incidental write races), and the failing tasks ran.
    expect(run.lines.length).toBeGreaterThan(0);
    // Every workflow's task failed once after its effect, so its error path ran and logged.
    expect(run.failedSteps).toEqual(
      expect.arrayContaining(['provision:recordIntentAndLaunch', 'provision:check', 'reconcile:reconcile', 'rollout:rolloutStep', 'teardown:teardownStep']),
    );
    const findings = scanAll([
      { where: 'store', text: run.dump },
      { where: 'logs', text: run.lines.join('\n') },
      { where: 'answers', text: run.answers.join('\n') },
      { where: 'sim cloud', text: JSON.stringify(cloud.toJSON()) },
    ]);
    expect(findings).toEqual([]);
  }, 120_000);

  it('an EC2 cluster on moto leaves neither the signing credentials nor any key in the store, status or logs, even when EC2 errors are logged', async () => {
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    const client = createEc2Client({ endpoint: motoEndpoint(), region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } });
    cleanups.push(() => client.destroy());
    const network = await createMotoNetwork(client);
    const faults = new Ec2Faults(client);
    faults.failWith('RunInstancesCommand', 'RequestLimitExceeded', { times: 4 });
    faults.failWith('DescribeInstancesCommand', 'UnauthorizedOperation', { times: 2 });
    const clock = scaledClock({ timeScale: TIME_SCALE });
    const provider = new Ec2MachineProvider({ client, clock, installationId: `scan-${randomBytes(4).toString('hex')}` });
    const name = `scan-ec2-${randomBytes(3).toString('hex')}`;
    const manifests = clusterManifests(shape(name, 1)).map((m) =>
      m.plural === 'machineclasses'
        ? { ...m, object: { ...m.object, spec: { aws: { instanceTypes: ['t3.micro'], ami: network.ami } } } }
        : m.plural === 'clusters'
          ? {
              ...m,
              object: {
                ...m.object,
                spec: { provider: { aws: { region: 'us-east-1', subnets: network.subnets, securityGroupIds: [network.securityGroupId] } } },
              },
            }
          : m,
    );
    const lines: string[] = [];
    const run = await (async () => {
      const r = await driveCluster({ provider, nodes: new SimulatedNodes({ provider, clock, readySeconds: 10 }), manifests, name });
      lines.push(...r.lines);
      return r;
    })();
    // The EC2 errors reached the logs, with whatever the SDK attaches to them.
    expect(lines.some((l) => /UnauthorizedOperation/.test(l))).toBe(true);
    const findings = scanAll(
      [
        { where: 'store', text: run.dump },
        { where: 'logs', text: lines.join('\n') },
        { where: 'answers', text: run.answers.join('\n') },
      ],
      [accessKeyId, secretAccessKey],
    );
    expect(findings).toEqual([]);
  }, 180_000);

  it('the embedded host with --token: the token is in no log line, data file, stored object or CLI output', async () => {
    const token = `tok-${randomBytes(24).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'clusterless-scan-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const lines: string[] = [];
    const host: EmbeddedHost = await startEmbeddedHost({ port: 0, dataDir, token, timeScale: TIME_SCALE, sweepSeconds: 30, log: (l) => lines.push(l) });
    cleanups.push(() => host.close());
    const auth = { authorization: `Bearer ${token}` };
    for (const m of clusterManifests(shape('scan-host'))) {
      const res = await fetch(`${host.url}${P}/${m.plural}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(m.object),
      });
      expect(res.status).toBe(201);
    }
    await waitFor('the cluster converged', async () => (await notConverged(host.runtime.store, host.cloud!, 'scan-host')) === undefined);
    const outputs = [
      await cli(host.url, ['--token', token, 'get', 'machines', '-n', NAMESPACE, '-o', 'yaml']),
      await cli(host.url, ['--token', `${token}x`, 'get', 'machines']),
      await cli(host.url, ['get', 'clusters'], { env: { CLUSTERLESS_TOKEN: token } }),
      await cli(host.url, ['--token', token, 'describe', 'cluster', 'scan-host', '-n', NAMESPACE]),
    ];
    expect(
      outputs.map((o) => o.code),
      outputs.map((o) => o.stderr).join('\n'),
    ).toEqual([0, expect.any(Number), 0, 0]);
    expect(outputs[1]!.code).not.toBe(0);
    const dump = await dumpStore(host.runtime.store);
    await host.close();
    const findings = scanAll(
      [
        { where: 'store', text: dump },
        { where: 'host log', text: lines.join('\n') },
        ...outputs.map((o, i) => ({ where: `cli ${i}`, text: o.stdout + o.stderr })),
        ...filesUnder(dataDir).map((f) => ({ where: f.path, text: f.text })),
      ],
      [token],
    );
    expect(findings).toEqual([]);
  }, 180_000);

  it('the generated CRDs hold no secret', () => {
    const dir = join(ROOT, 'crds');
    const findings = scanAll(filesUnder(dir).map((f) => ({ where: f.path, text: f.text })));
    expect(readdirSync(dir).length).toBeGreaterThan(5);
    expect(findings).toEqual([]);
  });
});
