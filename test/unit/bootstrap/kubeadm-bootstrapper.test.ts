/**
 * The bootstrapper's decisions over a memory secret store and a workload API in memory: what each machine's
 * secret holds, which tokens exist and when they are renewed or deleted, and that user data never carries a
 * secret. The Secrets Manager and Kubernetes adapters run the same paths in test/integration/bootstrap.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { TagKeys } from '../../../functions/adapters/ec2/index.js';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { clusterSpec, type ClusterSpec } from '../../../functions/api/cluster.js';
import { KubeadmBootstrapper, caCertHash, decryptBytes, parseCertificates } from '../../../functions/adapters/kubeadm/index.js';
import { tokenString } from '../../../functions/bootstrap/tokens.js';
import { InvalidSpecError, ThrottledError, type BootstrapRequest } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeWorkloadApi } from './fake-workload.js';
import { PEM, TOKEN } from './tools.js';

const spec: ClusterSpec = clusterSpec.parse({
  controlPlaneEndpoint: { host: 'demo-cp.example.com' },
  provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
});

/** A kubeconfig for the workload API in memory (FakeWorkloadApi answers; nothing listens there). */
const WORKLOAD_KUBECONFIG =
  'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: c\n';

let clock: FakeClock;
let secrets: MemorySecretStore;
let workload: FakeWorkloadApi;
let bootstrap: KubeadmBootstrapper;

const request = (o: Partial<BootstrapRequest> & { machineUid: string }): BootstrapRequest => ({
  namespace: 'default',
  clusterName: 'demo',
  machineName: `m-${o.machineUid}`,
  role: 'worker',
  version: 'v1.34.1',
  init: false,
  clusterSpec: spec,
  ...o,
});

const decoder = new TextDecoder();
async function machineDocument(uid: string): Promise<any> {
  const raw = await secrets.get(`clusterless/default/demo/machines/${uid}`);
  if (!raw) return undefined;
  const text = decoder.decode(raw);
  expect(text.startsWith('#cloud-config\n')).toBe(true);
  return parse(text);
}
const kubeadmOf = (doc: any) =>
  parseAllDocuments(doc.write_files.find((f: { path: string }) => f.path === '/run/kubeadm/kubeadm.yaml').content).map((d) => d.toJS());

beforeEach(() => {
  clock = new FakeClock('2026-03-01T00:00:00Z');
  secrets = new MemorySecretStore();
  workload = new FakeWorkloadApi();
  bootstrap = new KubeadmBootstrapper({ secrets, clock, workloadKubeconfig: () => WORKLOAD_KUBECONFIG, workloadApi: () => workload });
});

describe('prepare', () => {
  it('makes the cluster certificates once and gives the first control-plane machine kubeadm init with the CAs', async () => {
    // Act
    const { userData } = await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    // Assess
    expect(secrets.names()).toEqual(['clusterless/default/demo/certificates', 'clusterless/default/demo/machines/cp-0']);
    const certs = parseCertificates(decoder.decode((await secrets.get('clusterless/default/demo/certificates'))!));
    const doc = await machineDocument('cp-0');
    expect(doc.write_files.find((f: { path: string }) => f.path === '/etc/kubernetes/pki/ca.key').content).toBe(certs.ca.key);
    expect(kubeadmOf(doc).map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration']);
    expect(workload.calls).toEqual([]);
    expect(userData).toContain('clusterless/default/demo/machines/cp-0');
    expect(userData).not.toMatch(PEM);
    expect(userData).not.toMatch(TOKEN);
  });

  it('joins a worker with a token of its own, made in the workload cluster with its machine uid, and the CA pinned', async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    // Act
    await bootstrap.prepare(request({ machineUid: 'w-1' }));
    // Assess
    const [join] = kubeadmOf(await machineDocument('w-1'));
    const [token] = [...workload.tokens.values()];
    expect(token).toMatchObject({ machineUid: 'w-1', purpose: 'join', usages: true, expiration: '2026-03-01T00:15:00Z' });
    expect(join.discovery.bootstrapToken.token).toBe(tokenString({ id: token!.id, secret: token!.secret }));
    const certs = (await bootstrap.certificates('default', 'demo'))!;
    expect(join.discovery.bootstrapToken.caCertHashes).toEqual([caCertHash(certs.ca.cert)]);
    expect(join.controlPlane).toBeUndefined();
    expect(JSON.stringify(await machineDocument('w-1'))).not.toMatch(PEM);
  });

  it("registers a worker with its machine's taints (kubeadm nodeRegistration.taints)", async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    // Act
    await bootstrap.prepare(request({ machineUid: 'w-gpu', taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }));
    // Assess
    const [join] = kubeadmOf(await machineDocument('w-gpu'));
    expect(join.nodeRegistration.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
  });

  it('joins a control-plane machine with the certificate key, having uploaded the CAs under a proxy token', async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    // Act
    await bootstrap.prepare(request({ machineUid: 'cp-1', role: 'control-plane' }));
    // Assess
    const certs = (await bootstrap.certificates('default', 'demo'))!;
    const [join] = kubeadmOf(await machineDocument('cp-1'));
    expect(join.controlPlane.certificateKey).toBe(certs.certificateKey);
    const proxy = [...workload.tokens.values()].find((t) => t.purpose === 'uploaded-certs')!;
    expect(proxy.usages).toBe(false);
    expect(workload.uploaded?.owner).toBe(proxy.id);
    expect(decryptBytes(Buffer.from(workload.uploaded!.data['ca.key']!, 'base64'), certs.certificateKey).toString()).toBe(certs.ca.key);
  });

  it('uses the certificates another launch made first', async () => {
    const other = new KubeadmBootstrapper({ secrets, clock, workloadApi: () => workload });
    await other.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    const first = (await other.certificates('default', 'demo'))!;
    // Act
    expect(await bootstrap.ensureCertificates('default', 'demo')).toEqual(first);
  });

  it.each([
    { name: 'a cluster without controlPlaneEndpoint', req: () => request({ machineUid: 'x', clusterSpec: { ...spec, controlPlaneEndpoint: undefined } }) },
    { name: 'a Kubernetes version kubeadm v1beta4 cannot bootstrap', req: () => request({ machineUid: 'x', version: 'v1.29.3' }) },
    { name: 'a simulated cluster', req: () => request({ machineUid: 'x', clusterSpec: clusterSpec.parse({}) }) },
  ])('refuses $name with InvalidSpecError (never retried) and writes no secret', async ({ req }) => {
    await expect(bootstrap.prepare(req())).rejects.toBeInstanceOf(InvalidSpecError);
    expect(secrets.names().filter((n) => n.includes('/machines/'))).toEqual([]);
  });

  it('is retried later (ThrottledError) when the workload API does not answer for a join', async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    workload.reachable = false;
    await expect(bootstrap.prepare(request({ machineUid: 'w-1' }))).rejects.toBeInstanceOf(ThrottledError);
    expect(await machineDocument('w-1')).toBeUndefined();
  });
});

describe('renew', () => {
  beforeEach(async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    await bootstrap.prepare(request({ machineUid: 'w-1' }));
    await bootstrap.prepare(request({ machineUid: 'w-2' }));
    await bootstrap.prepare(request({ machineUid: 'cp-1', role: 'control-plane' }));
  });

  const expirations = () => Object.fromEntries([...workload.tokens.values()].map((t) => [t.machineUid ?? t.purpose, t.expiration]));

  it('leaves tokens with more than half their TTL alone and asks to look again at a third of it', async () => {
    clock.advance(60);
    const r = await bootstrap.renew('default', 'demo', spec, [
      { machineUid: 'w-1', role: 'worker' },
      { machineUid: 'w-2', role: 'worker' },
      { machineUid: 'cp-1', role: 'control-plane' },
    ]);
    expect(r).toEqual({ requeueAfterSeconds: 300 });
    expect(expirations()).toEqual({
      'w-1': '2026-03-01T00:15:00Z',
      'w-2': '2026-03-01T00:15:00Z',
      'cp-1': '2026-03-01T00:15:00Z',
      'uploaded-certs': '2026-03-01T00:15:00Z',
    });
  });

  it('extends the tokens of machines still joining past half their TTL, and deletes those of machines that joined or went', async () => {
    clock.advance(10 * 60);
    // Act: w-2 joined; cp-1 still joins
    await bootstrap.renew('default', 'demo', spec, [
      { machineUid: 'w-1', role: 'worker' },
      { machineUid: 'cp-1', role: 'control-plane' },
    ]);
    // Assess
    expect(expirations()).toEqual({ 'w-1': '2026-03-01T00:25:00Z', 'cp-1': '2026-03-01T00:25:00Z', 'uploaded-certs': '2026-03-01T00:25:00Z' });
  });

  it('does nothing while no machine joins', async () => {
    workload.calls = [];
    expect(await bootstrap.renew('default', 'demo', spec, [])).toEqual({});
    expect(workload.calls).toEqual([]);
  });

  it('does not fail when the workload API does not answer (it is tried again at the requeue)', async () => {
    workload.reachable = false;
    clock.advance(10 * 60);
    expect(await bootstrap.renew('default', 'demo', spec, [{ machineUid: 'w-1', role: 'worker' }])).toEqual({ requeueAfterSeconds: 300 });
  });
});

describe('release', () => {
  it("deletes the machine's secret, and its tokens when the workload API is known to answer", async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    await bootstrap.prepare(request({ machineUid: 'w-1' }));
    await bootstrap.prepare(request({ machineUid: 'w-2' }));
    // Act
    await bootstrap.release({ namespace: 'default', clusterName: 'demo', machineUid: 'w-1', clusterSpec: spec });
    await bootstrap.release({ namespace: 'default', clusterName: 'demo', machineUid: 'w-2' });
    await bootstrap.release({ namespace: 'default', clusterName: 'demo', machineUid: 'w-2' });
    // Assess
    expect(secrets.names()).toEqual(['clusterless/default/demo/certificates', 'clusterless/default/demo/machines/cp-0']);
    expect([...workload.tokens.values()].map((t) => t.machineUid)).toEqual(['w-2']);
  });

  it("deletes the cluster's certificates at its end", async () => {
    await bootstrap.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    await bootstrap.releaseCluster('default', 'demo');
    expect(await bootstrap.certificates('default', 'demo')).toBeUndefined();
    expect(await bootstrap.adminKubeconfig('default', 'demo', spec)).toBeUndefined();
  });
});

describe("a machine's secret: its tags and its instance", () => {
  const ARN_PREFIX = 'arn:aws:ec2:us-east-1:123456789012:instance/';
  const secretOf = (uid: string) => `clusterless/default/demo/machines/${uid}`;

  it('is tagged with its cluster, machine uid, name and role, the certificates with the cluster and its uid, and the store adds the installation', async () => {
    // Prepare
    const tagged = new MemorySecretStore({ installationId: 'install-1' });
    const b = new KubeadmBootstrapper({ secrets: tagged, clock, workloadApi: () => workload, workloadKubeconfig: () => 'x' });
    // Act
    await b.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true, clusterUid: 'cluster-uid-1' }));
    // Assess
    expect(tagged.tagsOf(secretOf('cp-0'))).toEqual({
      'clusterless.dev/installation': 'install-1',
      'clusterless.dev/cluster': 'default/demo',
      'clusterless.dev/machine-uid': 'cp-0',
      'clusterless.dev/machine-name': 'm-cp-0',
      'clusterless.dev/role': 'control-plane',
    });
    expect(tagged.tagsOf('clusterless/default/demo/certificates')).toEqual({
      'clusterless.dev/installation': 'install-1',
      'clusterless.dev/cluster': 'default/demo',
      'clusterless.dev/cluster-uid': 'cluster-uid-1',
    });
  });

  it("gets only TagKeys' clusterless.dev/ keys, the only keys the provision role may tag secrets with (infra/constructs/bootstrap-secrets.ts)", async () => {
    // Prepare
    const tagged = new MemorySecretStore({ installationId: 'install-1' });
    const b = new KubeadmBootstrapper({
      secrets: tagged,
      clock,
      workloadApi: () => workload,
      workloadKubeconfig: () => WORKLOAD_KUBECONFIG,
      instanceArnPrefix: ARN_PREFIX,
    });
    // Act: every secret the bootstrap makes, with every tag it ever puts on them.
    await b.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true, clusterUid: 'cluster-uid-1' }));
    await b.prepare(request({ machineUid: 'w-0', clusterUid: 'cluster-uid-1' }));
    for (const uid of ['cp-0', 'w-0']) await b.bindToInstance({ namespace: 'default', clusterName: 'demo', machineUid: uid }, 'i-0123456789abcdef0');
    // Assess
    const keys = tagged.names().flatMap((name) => Object.keys(tagged.tagsOf(name)!));
    expect(tagged.names()).toEqual(['clusterless/default/demo/certificates', secretOf('cp-0'), secretOf('w-0')]);
    expect(keys).toContain(TagKeys.instanceArn);
    const allowed: string[] = Object.values(TagKeys).filter((k) => k.startsWith('clusterless.dev/'));
    expect(keys.filter((k) => !allowed.includes(k))).toEqual([]);
  });

  it.each([
    { name: 'a prefix', option: ARN_PREFIX },
    { name: 'a function that learns the prefix', option: async () => ARN_PREFIX },
  ])("is bound to its instance's ARN, given $name", async ({ option }) => {
    const b = new KubeadmBootstrapper({ secrets, clock, instanceArnPrefix: option });
    await b.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
    await b.bindToInstance({ namespace: 'default', clusterName: 'demo', machineUid: 'cp-0' }, 'i-0123456789abcdef0');
    expect(secrets.tagsOf(secretOf('cp-0'))?.['clusterless.dev/instance-arn']).toBe(`${ARN_PREFIX}i-0123456789abcdef0`);
  });

  it('binds nothing without a prefix, or while the prefix is not known yet', async () => {
    for (const option of [undefined, async () => undefined]) {
      const b = new KubeadmBootstrapper({ secrets, clock, ...(option ? { instanceArnPrefix: option } : {}) });
      await b.prepare(request({ machineUid: 'cp-0', role: 'control-plane', init: true }));
      await b.bindToInstance({ namespace: 'default', clusterName: 'demo', machineUid: 'cp-0' }, 'i-0123456789abcdef0');
      expect(secrets.tagsOf(secretOf('cp-0'))).not.toHaveProperty(['clusterless.dev/instance-arn']);
    }
  });

  it('is no error to bind once the node fetched and deleted the secret', async () => {
    const b = new KubeadmBootstrapper({ secrets, clock, instanceArnPrefix: ARN_PREFIX });
    await expect(b.bindToInstance({ namespace: 'default', clusterName: 'demo', machineUid: 'gone' }, 'i-0123456789abcdef0')).resolves.toBeUndefined();
    expect(secrets.names()).toEqual([]);
  });
});
