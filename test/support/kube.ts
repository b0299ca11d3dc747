/**
 * A real Kubernetes API for tests: etcd and kube-apiserver (built by scripts/build-kube.sh) on free
 * 127.0.0.1 ports, token auth with an admin (system:masters) and the mirror's identity (group
 * clusterless:mirror, bound by crds/rbac.yaml), kubeconfig files for both, and the real kubectl.
 *
 * There is no controller-manager, scheduler or kubelet: objects are stored and validated, admission and RBAC
 * run, but nothing reconciles them (pods stay Pending; a gracefully deleted pod on a node stays until it is
 * deleted with grace period 0, as a kubelet would confirm). The ServiceAccount admission plugin is off, since
 * without the controller-manager no namespace has a default ServiceAccount.
 */
import { spawn } from 'node:child_process';
import { kubeBinaries, startChild, stopChild, waitFor, type Child } from '../../local/process/kube.js';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';

const ROOT = resolve(import.meta.dirname, '../..');

// The binaries and process helpers live with the process provider (local/process/kube.ts), which product code uses.
export { exited, kubeBinaries, startChild, stopChild, waitFor, type Child, type KubeBinaries } from '../../local/process/kube.js';

// ---------------------------------------------------------------------------------------------------------
// etcd

export interface RunningEtcd {
  /** The client URL, http://127.0.0.1:PORT. */
  url: string;
  stop(): Promise<void>;
}

/**
 * One etcd member, its data in a temp dir or in `dir` (made if missing; removed by stop), no fsync (test data),
 * client and peer URLs on free ports.
 */
export async function startEtcd(options: { timeoutMs?: number; dir?: string } = {}): Promise<RunningEtcd> {
  const { etcd } = kubeBinaries();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'clusterless-etcd-'));
  mkdirSync(dir, { recursive: true });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = startChild(etcd, [
    '--name=test',
    `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--log-level=warn',
    '--unsafe-no-fsync',
  ]);
  const stop = async () => {
    await stopChild(child.process);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('etcd', child, options.timeoutMs ?? 30_000, async () => {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      return ((await res.json()) as { health?: string }).health === 'true';
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

// ---------------------------------------------------------------------------------------------------------
// kube-apiserver

/** The identities of the token file: user name and groups. */
export const ADMIN_USER = { name: 'clusterless-test-admin', groups: ['system:masters'] };
/** The mirror's identity: in the group crds/rbac.yaml binds, and in no other. */
export const MIRROR_USER = { name: 'clusterless-mirror', groups: ['clusterless:mirror'] };

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunningKube {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Kubeconfig files (self-contained: CA and token inline). */
  adminKubeconfig: string;
  mirrorKubeconfig: string;
  /** The text of the kubeconfig files, for callers that take inline YAML. */
  adminKubeconfigYaml: string;
  mirrorKubeconfigYaml: string;
  /** Runs the real kubectl against this API server (as the admin unless `kubeconfig` says otherwise). */
  kubectl(args: readonly string[], options?: { kubeconfig?: string; input?: string }): Promise<KubectlResult>;
  /** kubectl, throwing with its stderr when it fails; returns stdout. */
  kubectlOk(args: readonly string[], options?: { kubeconfig?: string; input?: string }): Promise<string>;
  /** Applies crds/ (the CRDs and the mirror's RBAC) and waits until every CRD is Established. */
  installCrds(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Shares an etcd (each API server then gets its own --etcd-prefix); otherwise one is started and stopped with it. */
  etcd?: RunningEtcd;
  timeoutMs?: number;
}

function kubeconfigYaml(server: string, ca: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'test', user, namespace: 'default' } }],
    'current-context': user,
  });
}

/** GET path over TLS with a bearer token; the cert is the API server's own self-signed one. */
function httpsStatus(port: number, path: string, token: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 3000 },
      (res) => {
        res.resume();
        resolveStatus(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts kube-apiserver (and etcd unless one is given) and waits for /readyz. Start to ready takes a few
 * seconds on two cores; a test file shares one per file (beforeAll).
 */
export async function startKube(options: StartKubeOptions = {}): Promise<RunningKube> {
  const { kubeApiserver, kubectl } = kubeBinaries();
  const ownEtcd = options.etcd ? undefined : await startEtcd();
  const etcd = options.etcd ?? ownEtcd!;
  const dir = mkdtempSync(join(tmpdir(), 'clusterless-kube-'));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  const adminToken = randomBytes(24).toString('hex');
  const mirrorToken = randomBytes(24).toString('hex');
  // token,user,uid,"group1,group2"
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(
    tokenFile,
    [
      `${adminToken},${ADMIN_USER.name},${ADMIN_USER.name},"${ADMIN_USER.groups.join(',')}"`,
      `${mirrorToken},${MIRROR_USER.name},${MIRROR_USER.name},"${MIRROR_USER.groups.join(',')}"`,
    ].join('\n') + '\n',
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

  let stopEtcd = ownEtcd ? () => ownEtcd.stop() : async () => {};
  let child: Child | undefined;
  const stop = async () => {
    if (child) await stopChild(child.process);
    await stopEtcd();
    stopEtcd = async () => {};
    rmSync(dir, { recursive: true, force: true });
  };

  const timeoutMs = options.timeoutMs ?? 90_000;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    child = startChild(kubeApiserver, [
      `--etcd-servers=${etcd.url}`,
      `--etcd-prefix=/registry-${randomBytes(6).toString('hex')}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokenFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--disable-admission-plugins=ServiceAccount',
      // Endpoints of the `kubernetes` Service may not be loopback addresses; nothing here needs them.
      '--endpoint-reconciler-type=none',
      '--v=0',
    ]);
    try {
      await waitFor('kube-apiserver', child, timeoutMs, async () => (await httpsStatus(port, '/readyz', adminToken)) === 200);
    } catch (err) {
      await stopChild(child.process);
      // A port that was free can be taken before the API server binds it.
      if (attempt < 3 && /address already in use/.test(child.output())) continue;
      await stop();
      throw err;
    }
    const server = `https://127.0.0.1:${port}`;
    const ca = readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
    const adminKubeconfigYaml = kubeconfigYaml(server, ca, ADMIN_USER.name, adminToken);
    const mirrorKubeconfigYaml = kubeconfigYaml(server, ca, MIRROR_USER.name, mirrorToken);
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const mirrorKubeconfig = join(dir, 'mirror.kubeconfig');
    writeFileSync(adminKubeconfig, adminKubeconfigYaml, { mode: 0o600 });
    writeFileSync(mirrorKubeconfig, mirrorKubeconfigYaml, { mode: 0o600 });

    // A discovery cache of its own: ports are reused across runs, and a cache kept under ~/.kube would be stale.
    const cacheDir = join(dir, 'kubectl-cache');
    const run = (args: readonly string[], opts: { kubeconfig?: string; input?: string } = {}) =>
      runKubectl(kubectl, ['--kubeconfig', opts.kubeconfig ?? adminKubeconfig, '--cache-dir', cacheDir, ...args], opts.input);
    const kubectlOk = async (args: readonly string[], opts: { kubeconfig?: string; input?: string } = {}) => {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    };
    return {
      server,
      adminKubeconfig,
      mirrorKubeconfig,
      adminKubeconfigYaml,
      mirrorKubeconfigYaml,
      kubectl: run,
      kubectlOk,
      async installCrds() {
        await kubectlOk(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
        await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=clusterless']);
        // Discovery (kubectl's short names and categories) catches up with Established a moment later.
        const expected = readdirSync(join(ROOT, 'crds')).filter((f) => f.startsWith('clusterless.dev_')).length;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const names = (await run(['api-resources', '--api-group=clusterless.dev', '--categories=clusterless', '-o', 'name'])).stdout;
          if (names.trim().split('\n').filter(Boolean).length === expected) break;
          if (Date.now() > deadline) throw new Error(`discovery lists ${names.trim() || 'nothing'} of clusterless.dev`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      stop,
    };
  }
}

function runKubectl(bin: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
