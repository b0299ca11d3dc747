/**
 * `clusterless import` as a user runs it: a real kube-apiserver holds a Cluster API management cluster's objects
 * (minimal CRDs), moto holds the instances Cluster API's AWS provider launched (tagged as it tags them), and the
 * embedded host runs the aws provider against moto. Import converts, stores, adopts and unpauses; it never
 * launches an instance.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { capaOwnedTagKey } from '../../../functions/api/capi/import-plan.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { Io } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { SECRETS_DIR } from '../../../local/data-dir.js';
import { FileSecretStore } from '../../../local/file-secret-store.js';
import { parseCertificates } from '../../../functions/adapters/kubeadm/certificates.js';
import { secretNames } from '../../../functions/bootstrap/names.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { NS_PATH } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';
import { createMotoNetwork, motoSdkEc2Client, type MotoNetwork } from '../providers/ec2-fixtures.js';
import { capaInstance, capiCluster, capiCrds, type CapaInstance } from './capi-import-fixtures.js';

let host: EmbeddedHost;
let kube: RunningKube;
let ec2: EC2Client;
let net: MotoNetwork;
let dataDir: string;
const savedEnv: Record<string, string | undefined> = {};
const adopted: { controlPlane: CapaInstance[]; workers: CapaInstance[] } = { controlPlane: [], workers: [] };
let live: CapaInstance;
let stray: CapaInstance;

async function api<T = any>(path: string): Promise<{ status: number; json: T }> {
  const res = await fetch(host.url + path, { headers: { authorization: `Bearer ${host.clientToken}` } });
  return { status: res.status, json: (await res.json()) as T };
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s) => void (stdout += s), isTTY: false, columns: 200 },
    stderr: { write: (s) => void (stderr += s), isTTY: false },
    env: { CLUSTERLESS_SERVER: host.url, CLUSTERLESS_TOKEN: host.clientToken },
    readStdin: async () => '',
    readFile: async () => '',
    listDir: async () => undefined,
    fetch: globalThis.fetch,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    onInterrupt: () => () => {},
    importModule: async () => ({}),
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const importing = (...clusters: string[]) => cli(['import', '--kubeconfig', kube.adminKubeconfig, '-n', 'default', ...clusters]);

/** Every instance of the test's own VPC, whatever its state: other files share moto but not the VPC. */
async function vpcInstances(): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const tagsOf = async (instanceId: string): Promise<Record<string, string>> => {
  const i = (await vpcInstances()).find((x) => x.InstanceId === instanceId)!;
  return Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!]));
};
const clusterlessTags = (tags: Record<string, string>) => Object.keys(tags).filter((k) => k.startsWith('clusterless.dev/'));

const machinesOf = async (cluster: string) =>
  ((await api<{ items: Machine[] }>(`${NS_PATH}/default/machines`)).json.items ?? []).filter((m) => m.spec.clusterName === cluster);

beforeAll(async () => {
  const moto = motoEndpoint();
  // The host builds its AWS clients from the environment, as `clusterless up --provider aws` does.
  const env = { AWS_ENDPOINT_URL: moto, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  for (const [k, v] of Object.entries(env)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  ec2 = motoSdkEc2Client(moto);
  net = await createMotoNetwork(ec2);
  kube = await startKube();
  await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: capiCrds() }) });
  await kube.kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);

  for (let z = 0; z < 3; z++)
    adopted.controlPlane.push(await capaInstance(ec2, net, { cluster: 'adopt', machine: `adopt-control-plane-${z}`, role: 'control-plane', zone: z }));
  for (let z = 0; z < 2; z++) adopted.workers.push(await capaInstance(ec2, net, { cluster: 'adopt', machine: `adopt-md-0-abc-${z}`, role: 'node', zone: z }));
  live = await capaInstance(ec2, net, { cluster: 'live', machine: 'live-control-plane-0', role: 'control-plane' });
  stray = await capaInstance(ec2, net, { cluster: 'stray', machine: 'stray-control-plane-0', role: 'control-plane', owned: false });
  const objects = [
    ...(await capiCluster({ name: 'adopt', namespace: 'default', paused: true, net, ...adopted })),
    ...(await capiCluster({ name: 'live', namespace: 'default', paused: false, net, controlPlane: [live], workers: [] })),
    ...(await capiCluster({ name: 'stray', namespace: 'default', paused: true, net, controlPlane: [stray], workers: [] })),
  ];
  await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });

  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-import-'));
  host = await startEmbeddedHost({ port: 0, dataDir, provider: 'aws', timeScale: 20, sweepSeconds: 3600 });
}, 120_000);

afterAll(async () => {
  await host?.close();
  await kube?.stop();
  ec2?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('clusterless import', () => {
  it('refuses a Cluster API cluster that is not paused, writing nothing', async () => {
    const r = await importing('live');

    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Cluster live is not paused in Cluster API/);
    expect((await api(`${NS_PATH}/default/clusters/live`)).status).toBe(404);
    expect(await machinesOf('live')).toEqual([]);
    expect(clusterlessTags(await tagsOf(live.instanceId))).toEqual([]);
  });

  it('adopts the running instances of a paused cluster: no launch, clusterless tags, Machines Running with their providerIDs', async () => {
    const before = await vpcInstances();

    const r = await importing('adopt');

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cluster\/adopt imported: 5 machines adopted \(5 instances tagged now\)/);
    await waitUntil(
      'the 5 adopted machines Running',
      async () => (await machinesOf('adopt')).filter((m) => m.status?.phase === 'Running').length === 5,
      60_000,
      100,
    );
    await host.runtime.workflows.idle();
    const machines = await machinesOf('adopt');
    expect(machines).toHaveLength(5);
    const all = [...adopted.controlPlane, ...adopted.workers];
    for (const m of machines) {
      const instance = all.find((i) => m.spec.providerID === `aws:///${i.zone}/${i.instanceId}`);
      expect(instance, `${m.metadata.name} ${m.spec.providerID}`).toBeDefined();
      const tags = await tagsOf(instance!.instanceId);
      expect(tags['clusterless.dev/machine-uid']).toBe(m.metadata.uid);
      expect(tags['clusterless.dev/cluster']).toBe('default/adopt');
      expect(tags['clusterless.dev/installation']).toMatch(/.+/);
      expect(tags['clusterless.dev/role']).toBe(m.metadata.name.includes('control-plane') ? 'control-plane' : 'worker');
    }
    // Owned as the planners own what they make: workers by the deployment's one MachineSet, the rest by the control plane.
    const sets = ((await api<{ items: any[] }>(`${NS_PATH}/default/machinesets`)).json.items ?? []).filter((ms) => ms.spec.clusterName === 'adopt');
    expect(sets.map((ms) => ms.metadata.ownerReferences?.[0]?.name)).toEqual(['adopt-md-0']);
    for (const m of machines)
      expect(m.metadata.ownerReferences?.find((o) => o.controller)?.name, m.metadata.name).toBe(
        m.metadata.name.includes('control-plane') ? 'adopt-control-plane' : sets[0].metadata.name,
      );
    // Nothing launched, nothing replaced: the VPC holds the same instances, all running.
    const after = await vpcInstances();
    expect(after.map((i) => i.InstanceId).sort()).toEqual(before.map((i) => i.InstanceId).sort());
    expect(after.filter((i) => all.some((a) => a.instanceId === i.InstanceId)).every((i) => i.State?.Name === 'running')).toBe(true);
    expect((await api<Cluster>(`${NS_PATH}/default/clusters/adopt`)).json.spec.paused).toBe(false);
    // Its health check and resource set came along, under their Cluster API names.
    expect((await api(`${NS_PATH}/default/machinehealthchecks/adopt-md-0-unhealthy`)).status).toBe(200);
    expect((await api(`${NS_PATH}/default/clusterresourcesets/adopt-cni`)).status).toBe(200);
    // The cluster's CA is Cluster API's, where the kubeadm bootstrap keeps the ones it makes.
    const installationId = (await tagsOf(all[0]!.instanceId))['clusterless.dev/installation']!;
    const secrets = new FileSecretStore({ dir: join(dataDir, SECRETS_DIR), installationId });
    const stored = await secrets.get(secretNames(`clusterless/${installationId}/`).certificates('default', 'adopt'));
    const capiCa = Buffer.from(await kube.kubectlOk(['get', 'secret', 'adopt-ca', '-o', 'jsonpath={.data.tls\\.crt}']), 'base64').toString('utf8');
    expect(parseCertificates(new TextDecoder().decode(stored)).ca.cert).toBe(capiCa);
  });

  it("leaves an instance without Cluster API AWS's owned tag untouched, and the cluster paused", async () => {
    const before = await vpcInstances();

    const r = await importing('stray');

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not carry Cluster API AWS's tag sigs\.k8s\.io\/cluster-api-provider-aws\/cluster\/stray=owned/);
    expect(clusterlessTags(await tagsOf(stray.instanceId))).toEqual([]);
    expect((await api<Cluster>(`${NS_PATH}/default/clusters/stray`)).json.spec.paused).toBe(true);
    expect((await vpcInstances()).map((i) => i.InstanceId).sort()).toEqual(before.map((i) => i.InstanceId).sort());
  });

  it('finishes an import that stopped midway when run again', async () => {
    // The refused import above stopped after writing the cluster, paused, and its Machine: as a crash there would.
    await ec2.send(new CreateTagsCommand({ Resources: [stray.instanceId], Tags: [{ Key: capaOwnedTagKey('stray'), Value: 'owned' }] }));
    const before = await vpcInstances();

    const r = await importing('stray');

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cluster\/stray imported: 1 machines adopted \(1 instances tagged now\), 0 objects created/);
    await waitUntil('the stray machine Running', async () => (await machinesOf('stray')).some((m) => m.status?.phase === 'Running'), 60_000, 100);
    await host.runtime.workflows.idle();
    const [m] = await machinesOf('stray');
    expect((await tagsOf(stray.instanceId))['clusterless.dev/machine-uid']).toBe(m!.metadata.uid);
    expect((await api<Cluster>(`${NS_PATH}/default/clusters/stray`)).json.spec.paused).toBe(false);
    expect((await vpcInstances()).map((i) => i.InstanceId).sort()).toEqual(before.map((i) => i.InstanceId).sort());
  });

  it('changes nothing when run again', async () => {
    const machines = await machinesOf('adopt');
    const before = await vpcInstances();
    const tagsBefore = await Promise.all([...adopted.controlPlane, ...adopted.workers].map((i) => tagsOf(i.instanceId)));

    const r = await importing('adopt');

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cluster\/adopt imported: 5 machines adopted \(0 instances tagged now\), 0 objects created/);
    await host.runtime.workflows.idle();
    expect((await machinesOf('adopt')).map((m) => m.metadata.uid).sort()).toEqual(machines.map((m) => m.metadata.uid).sort());
    expect((await vpcInstances()).map((i) => i.InstanceId).sort()).toEqual(before.map((i) => i.InstanceId).sort());
    expect(await Promise.all([...adopted.controlPlane, ...adopted.workers].map((i) => tagsOf(i.instanceId)))).toEqual(tagsBefore);
  });
});
