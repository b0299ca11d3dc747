/**
 * What clusterless makes, used by the real Kubernetes programs it is made for: kubeadm (built from the Go
 * module proxy) takes the cluster's CAs and service-account key as they are written to a first control-plane
 * machine and signs its API server's certificates with them; kube-apiserver runs on those; then
 * - `clusterless get kubeconfig CLUSTER` gives an admin kubeconfig that kubectl uses (its client certificate
 *   verified by the API server against the cluster CA);
 * - a join token clusterless makes authenticates as a node bootstrapper, is renewed, and stops working once
 *   released;
 * - the certificates uploaded for a control-plane join can be read with a join token and decrypted with the
 *   certificate key, as kubeadm join --control-plane does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { handleRequest } from '../../../functions/api/http/index.js';
import { KubeadmBootstrapper, decryptBytes, generateBootstrapToken } from '../../../functions/adapters/kubeadm/index.js';
import { pkiFiles } from '../../../functions/bootstrap/cloud-config.js';
import { PROVIDER_ID_PLACEHOLDER, renderInitConfiguration } from '../../../functions/bootstrap/kubeadm-config.js';
import type { ClusterCertificates } from '../../../functions/bootstrap/pki.js';
import { kubeconfigSources } from '../../../functions/workflows/bootstrap-hooks.js';
import type { BootstrapRequest } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { freePort } from '../../support/free-port.js';
import { kubeBinaries, startEtcd, type RunningEtcd } from '../../support/kube.js';
import { fakeWorld, type FakeWorld } from '../../unit/cli/harness.js';
import { kubeadmBinary, kubeadmVersion } from '../../unit/bootstrap/tools.js';

let dir: string;
let etcd: RunningEtcd;
let apiserver: ChildProcess | undefined;
let apiserverOutput = '';
let port: number;
let certs: ClusterCertificates;
let clock: FakeClock;
let secrets: MemorySecretStore;
let bootstrap: KubeadmBootstrapper;
let cli: FakeWorld;
const CLUSTER = 'real';

const pki = () => join(dir, 'pki');
const spec = () =>
  ({
    clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] }, services: { cidrBlocks: ['10.96.0.0/12'] }, serviceDomain: 'cluster.local' },
    controlPlaneEndpoint: { host: '127.0.0.1', port },
    provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }], securityGroupIds: [] } },
    paused: false,
  }) as BootstrapRequest['clusterSpec'];

function run(bin: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '' }, ...(input !== undefined ? { input } : {}) });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const kubectl = (args: string[]) => run(kubeBinaries().kubectl, ['--cache-dir', join(dir, 'kubectl-cache'), ...args]);
const asToken = (token: string, args: string[]) => kubectl(['--server', `https://127.0.0.1:${port}`, '--certificate-authority', join(pki(), 'ca.crt'), '--token', token, ...args]);

/** GET /readyz with the admin client certificate. */
function readyz(client: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', ca: certs.ca.cert, cert: client.cert, key: client.key, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clusterless-real-'));
  port = await freePort();
  clock = new FakeClock(new Date());
  secrets = new MemorySecretStore();
  bootstrap = new KubeadmBootstrapper({ secrets, clock });
  certs = await bootstrap.ensureCertificates('default', CLUSTER);

  // The first control-plane machine's files, as its cloud-init writes them, into a folder of our own.
  for (const f of pkiFiles(certs)) {
    const path = f.path.replace('/etc/kubernetes/pki', pki());
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content, { mode: parseInt(f.permissions, 8) });
  }
  // The machine's own kubeadm init configuration; only the folders and addresses differ on this host.
  const init = renderInitConfiguration(
    { clusterName: CLUSTER, version: kubeadmVersion(), controlPlaneEndpoint: { host: '127.0.0.1', port }, podSubnets: ['192.168.0.0/16'], serviceSubnets: ['10.96.0.0/12'], dnsDomain: 'cluster.local' },
    { token: generateBootstrapToken(), ttlSeconds: 900 },
  );
  const docs = parseAllDocuments(init).map((d) => d.toJS());
  // A routable-looking advertise address (kubeadm refuses loopback there); the API server binds 127.0.0.1.
  docs[0].localAPIEndpoint = { advertiseAddress: '10.255.255.1', bindPort: port };
  docs[0].nodeRegistration.kubeletExtraArgs = [{ name: 'provider-id', value: PROVIDER_ID_PLACEHOLDER.replace('__CLUSTERLESS_PROVIDER_ID__', 'aws:///us-east-1a/i-0123456789abcdef0') }];
  docs[1].certificatesDir = pki();
  writeFileSync(join(dir, 'init.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  const certsPhase = run(kubeadmBinary(), ['init', 'phase', 'certs', 'all', '--config', join(dir, 'init.yaml')]);
  if (certsPhase.code !== 0) throw new Error(`kubeadm init phase certs failed:\n${certsPhase.out}`);
  expect(certsPhase.out).toContain('Using existing ca certificate authority');

  etcd = await startEtcd();
  apiserver = spawn(
    kubeBinaries().kubeApiserver,
    [
      `--etcd-servers=${etcd.url}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/12',
      '--authorization-mode=Node,RBAC',
      '--enable-bootstrap-token-auth',
      '--disable-admission-plugins=ServiceAccount',
      `--client-ca-file=${join(pki(), 'ca.crt')}`,
      `--tls-cert-file=${join(pki(), 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki(), 'apiserver.key')}`,
      `--service-account-key-file=${join(pki(), 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki(), 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--requestheader-client-ca-file=${join(pki(), 'front-proxy-ca.crt')}`,
      `--proxy-client-cert-file=${join(pki(), 'front-proxy-client.crt')}`,
      `--proxy-client-key-file=${join(pki(), 'front-proxy-client.key')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (d: Buffer) => (apiserverOutput = (apiserverOutput + d.toString()).slice(-8000));
  apiserver.stdout?.on('data', keep);
  apiserver.stderr?.on('data', keep);
  // Ready as the admin clusterless signs for itself (a client certificate from the cluster CA).
  const admin = parse((await bootstrap.workloadKubeconfig('default', CLUSTER, spec())) as string);
  const client = { cert: Buffer.from(admin.users[0].user['client-certificate-data'], 'base64').toString(), key: Buffer.from(admin.users[0].user['client-key-data'], 'base64').toString() };
  const deadline = Date.now() + 90_000;
  while ((await readyz(client).catch(() => 0)) !== 200) {
    if (apiserver.exitCode !== null) throw new Error(`kube-apiserver exited:\n${apiserverOutput}`);
    if (Date.now() > deadline) throw new Error(`kube-apiserver not ready:\n${apiserverOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  writeFileSync(join(dir, 'control-plane.kubeconfig'), (await bootstrap.adminKubeconfig('default', CLUSTER, spec()))!, { mode: 0o600 });

  // The CLI against the real router, with the kubeconfig route wired to the bootstrap.
  cli = fakeWorld();
  await cli.store.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: CLUSTER, namespace: 'default' }, spec: spec() } as never);
  await cli.store.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'fresh', namespace: 'default' }, spec: spec() } as never);
  const { adminKubeconfig } = kubeconfigSources(bootstrap, cli.store);
  cli.intercept = async (req) => {
    if (!req.path.endsWith('/kubeconfig')) return undefined;
    const r = await handleRequest(req, { store: cli.store, kubeconfig: adminKubeconfig });
    return new Response(r.body, { status: r.status, headers: r.headers });
  };
}, 180_000);

afterAll(async () => {
  if (apiserver && apiserver.exitCode === null) {
    const exited = new Promise((r) => apiserver!.once('exit', r));
    apiserver.kill('SIGTERM');
    await exited;
  }
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('clusterless get kubeconfig', () => {
  it('prints an admin kubeconfig whose client certificate the cluster CA signed, and kubectl is admin with it', async () => {
    // Act
    const r = await cli.run(['get', 'kubeconfig', CLUSTER]);
    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const kc = parse(r.stdout);
    const ca = new X509Certificate(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'));
    const client = new X509Certificate(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'));
    expect(client.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
    expect(ca.fingerprint256).toBe(new X509Certificate(certs.ca.cert).fingerprint256);
    expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${port}`);
    const file = join(dir, 'cli-admin.kubeconfig');
    writeFileSync(file, r.stdout, { mode: 0o600 });
    const whoami = kubectl(['--kubeconfig', file, 'auth', 'whoami', '-o', 'json']);
    expect(whoami.code, whoami.out).toBe(0);
    expect(JSON.parse(whoami.out).status.userInfo).toMatchObject({ username: 'kubernetes-admin', groups: expect.arrayContaining(['system:masters']) });
    expect(kubectl(['--kubeconfig', file, 'get', 'namespace', 'kube-system', '-o', 'name']).out.trim()).toBe('namespace/kube-system');
  });

  it('fails with the reason for a cluster that has no certificates yet, and for one that does not exist', async () => {
    const fresh = await cli.run(['get', 'kubeconfig', 'fresh']);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/has no kubeconfig yet/);
    const missing = await cli.run(['get', 'kubeconfig', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
    expect((await cli.run(['get', 'kubeconfig'])).code).toBe(2);
  });
});

describe('join tokens in the real API server', () => {
  const request = (uid: string, role: 'worker' | 'control-plane'): BootstrapRequest => ({
    namespace: 'default',
    clusterName: CLUSTER,
    machineName: `${role}-${uid}`,
    machineUid: uid,
    role,
    version: kubeadmVersion(),
    init: false,
    clusterSpec: spec(),
  });
  const joinTokenOf = async (uid: string) => {
    const doc = parse(new TextDecoder().decode((await secrets.get(`clusterless/default/${CLUSTER}/machines/${uid}`))!));
    const kubeadm = parse(doc.write_files.find((f: { path: string }) => f.path === '/run/kubeadm/kubeadm.yaml').content);
    return kubeadm.discovery.bootstrapToken.token as string;
  };
  const expiration = (id: string) => Buffer.from(kubectl(['--kubeconfig', join(dir, 'control-plane.kubeconfig'), 'get', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`, '-o', 'jsonpath={.data.expiration}']).out, 'base64').toString();

  it('authenticates a worker as a node bootstrapper, is renewed while it joins, and stops working once released', async () => {
    // Prepare
    await bootstrap.prepare(request('w-1', 'worker'));
    const token = await joinTokenOf('w-1');
    // Assess 1
    const whoami = asToken(token, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.code, whoami.out).toBe(0);
    expect(JSON.parse(whoami.out).status.userInfo).toMatchObject({ username: `system:bootstrap:${token.split('.')[0]}`, groups: expect.arrayContaining(['system:bootstrappers:kubeadm:default-node-token']) });
    const first = expiration(token.split('.')[0]!);
    // Act 2: ten minutes later it still joins
    clock.advance(600);
    await bootstrap.renew('default', CLUSTER, spec(), [{ machineUid: 'w-1', role: 'worker' }]);
    expect(Date.parse(expiration(token.split('.')[0]!)) - Date.parse(first)).toBe(600_000);
    // Act 3: its node joined
    await bootstrap.release({ namespace: 'default', clusterName: CLUSTER, machineUid: 'w-1', clusterSpec: spec() });
    // The API server keeps a successful token authentication for 10 s (its token cache), then reads the Secret again.
    let after = asToken(token, ['auth', 'whoami', '-o', 'json']);
    for (let i = 0; i < 200 && after.code === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = asToken(token, ['auth', 'whoami', '-o', 'json']);
    }
    expect(after.code).not.toBe(0);
    expect(after.out).toMatch(/Unauthorized|must be logged in/);
    expect(await secrets.get(`clusterless/default/${CLUSTER}/machines/w-1`)).toBeUndefined();
  });

  it('lets a joining control-plane machine read the uploaded certificates, which its certificate key decrypts', async () => {
    // Act
    await bootstrap.prepare(request('cp-1', 'control-plane'));
    // Assess
    const token = await joinTokenOf('cp-1');
    const secret = asToken(token, ['get', 'secret', '-n', 'kube-system', 'kubeadm-certs', '-o', 'json']);
    expect(secret.code, secret.out).toBe(0);
    const data = JSON.parse(secret.out).data as Record<string, string>;
    expect(decryptBytes(Buffer.from(data['ca.key']!, 'base64'), certs.certificateKey).toString()).toBe(certs.ca.key);
    expect(decryptBytes(Buffer.from(data['sa.key']!, 'base64'), certs.certificateKey).toString()).toBe(certs.serviceAccount.key);
    // It may read that secret and nothing else of kube-system.
    expect(asToken(token, ['get', 'secrets', '-n', 'kube-system']).code).not.toBe(0);
    const owner = JSON.parse(secret.out).metadata.ownerReferences[0];
    expect(owner).toMatchObject({ kind: 'Secret', name: expect.stringMatching(/^bootstrap-token-[a-z0-9]{6}$/), controller: true });
  });

  it("is what kubeadm join --control-plane downloads: kubeadm's download-certs phase writes the cluster's CA files from it", async () => {
    // Prepare: a control-plane machine about to join, and the cluster's kubeadm configuration as kubeadm init
    // uploads it, with the node bootstrap RBAC (its certificatesDir: a new folder).
    await bootstrap.prepare(request('cp-2', 'control-plane'));
    const joined = join(dir, 'joined-pki');
    const init = readFileSync(join(dir, 'init.yaml'), 'utf8').replace(`certificatesDir: ${pki()}`, `certificatesDir: ${joined}`);
    writeFileSync(join(dir, 'upload.yaml'), init);
    for (const phase of [['upload-config', 'all'], ['bootstrap-token', '--skip-token-print']]) {
      const r = run(kubeadmBinary(), ['init', 'phase', ...phase, '--config', join(dir, 'upload.yaml'), '--kubeconfig', join(dir, 'control-plane.kubeconfig')]);
      expect(r.code, r.out).toBe(0);
    }
    // The joining machine's configuration, with file discovery instead of token discovery (no controller manager
    // signs cluster-info here): a kubeconfig with its join token.
    const token = await joinTokenOf('cp-2');
    const doc = parse(new TextDecoder().decode((await secrets.get(`clusterless/default/${CLUSTER}/machines/cp-2`))!));
    const join_ = parse(doc.write_files.find((f: { path: string }) => f.path === '/run/kubeadm/kubeadm.yaml').content);
    writeFileSync(
      join(dir, 'discovery.kubeconfig'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: CLUSTER, cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(certs.ca.cert).toString('base64') } }],
        users: [{ name: 'joiner', user: { token } }],
        contexts: [{ name: 'joiner', context: { cluster: CLUSTER, user: 'joiner' } }],
        'current-context': 'joiner',
      }),
    );
    join_.discovery = { file: { kubeConfigPath: join(dir, 'discovery.kubeconfig') }, tlsBootstrapToken: token };
    join_.controlPlane.localAPIEndpoint = { advertiseAddress: '10.255.255.2', bindPort: port };
    writeFileSync(join(dir, 'join.yaml'), stringify(join_));
    // Act
    const download = run(kubeadmBinary(), ['join', 'phase', 'control-plane-prepare', 'download-certs', '--config', join(dir, 'join.yaml')]);
    // Assess
    expect(download.code, download.out).toBe(0);
    expect(readFileSync(join(joined, 'ca.key'), 'utf8')).toBe(certs.ca.key);
    expect(readFileSync(join(joined, 'etcd', 'ca.crt'), 'utf8')).toBe(certs.etcdCa.cert);
    expect(readFileSync(join(joined, 'front-proxy-ca.crt'), 'utf8')).toBe(certs.frontProxyCa.cert);
    expect(readFileSync(join(joined, 'sa.pub'), 'utf8')).toBe(certs.serviceAccount.pub);
  });
});
