/**
 * The Kubernetes programs the process provider runs (kube-apiserver, etcd; kubectl for tests), built by
 * scripts/build-kube.sh into a per-user cache, and the few helpers that start, wait for and stop them. The tests'
 * harness (test/support/kube.ts) uses these too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD_SCRIPT = join(ROOT, 'scripts/build-kube.sh');

export interface KubeBinaries {
  kubeApiserver: string;
  kubectl: string;
  etcd: string;
}

/** scripts/build-kube.sh could not build (or find) the binaries. */
export class KubeBinariesMissingError extends Error {
  override name = 'KubeBinariesMissingError';
}

let binaries: KubeBinaries | undefined;

const parsePaths = (stdout: string): Record<string, string> =>
  Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

let building: Promise<KubeBinaries> | undefined;

/**
 * The binaries, built first when they are not (scripts/build-kube.sh, its progress on stderr) without blocking the
 * event loop meanwhile: a host keeps serving while Go builds. One build at a time.
 */
export function buildKubeBinaries(): Promise<KubeBinaries> {
  try {
    return Promise.resolve(kubeBinaries());
  } catch (err) {
    if (!(err instanceof KubeBinariesMissingError)) throw err;
  }
  building ??= new Promise<void>((resolveBuild, reject) => {
    process.stderr.write('clusterless: building kube-apiserver and etcd once (scripts/build-kube.sh; needs Go, takes a few minutes)...\n');
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', () => resolveBuild());
  })
    .then(() => kubeBinaries())
    .finally(() => {
      building = undefined;
    });
  return building;
}

/** Where scripts/build-kube.sh put the binaries (it knows the versions); KubeBinariesMissingError when they are not built. */
export function kubeBinaries(): KubeBinaries {
  if (binaries) return binaries;
  const r = spawnSync('bash', [BUILD_SCRIPT, '--print'], { encoding: 'utf8' });
  const paths = parsePaths(r.stdout ?? '');
  if (r.status !== 0 || !paths['KUBE_APISERVER'] || !paths['KUBECTL'] || !paths['ETCD'])
    throw new KubeBinariesMissingError(`kube-apiserver, kubectl and etcd are not built. Build them first: bash scripts/build-kube.sh\n${r.stderr ?? ''}`);
  binaries = { kubeApiserver: paths['KUBE_APISERVER'], kubectl: paths['KUBECTL'], etcd: paths['ETCD'] };
  return binaries;
}

// ---------------------------------------------------------------------------------------------------------
// Processes

/** A process started by startChild, with the last 8000 characters of its output (for the error when it fails). */
export interface Child {
  process: ChildProcess;
  output(): string;
}

export interface StartChildOptions {
  /** Also appends the output to this stream (a log file). */
  log?: NodeJS.WritableStream;
}

export function startChild(bin: string, args: string[], options: StartChildOptions = {}): Child {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
    options.log?.write(d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A program that cannot be started is reported by waitFor (it has exited), not thrown asynchronously.
  child.on('error', (err) => {
    output += `\n${err.message}`;
  });
  return { process: child, output: () => output };
}

export const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** SIGTERM, then SIGKILL if the process has not exited within 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

/** Polls `probe` every 200 ms until it answers true; fails with the child's output when it exits or the time is up. */
export async function waitFor(what: string, child: Child, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child.process)) throw new Error(`${what} exited with ${child.process.exitCode ?? child.process.signalCode}:\n${child.output()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms:\n${child.output()}`);
}

/**
 * The first port the kernel hands to outgoing connections (net.ipv4.ip_local_port_range). A port chosen below it
 * cannot be taken by a client's connect() between our check and the child's bind; the kernel's own pick for
 * listen(0) comes from that range, where busy tests open thousands of connections.
 */
let ephemeralStart: number | undefined;
function ephemeralLow(): number {
  ephemeralStart ??= readEphemeralLow();
  return ephemeralStart;
}
function readEphemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 20_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
const PORT_FLOOR = 15_000;
const handedOut = new Set<number>();

const bindable = (port: number): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolvePort(bound) : reject(new Error('no port assigned'))));
    });
  });

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: a random one between 15000 and the ephemeral range (never one
 * this process handed out before), else the kernel's pick. Another process can still take it first: callers retry.
 */
export async function freePort(): Promise<number> {
  const ceiling = ephemeralLow();
  for (let i = 0; i < 20; i++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (ceiling - PORT_FLOOR));
    if (handedOut.has(port)) continue;
    const bound = await bindable(port).catch(() => 0);
    if (bound) {
      handedOut.add(bound);
      return bound;
    }
  }
  return bindable(0);
}

/** What a kube-apiserver on 127.0.0.1 is started with: its files and its etcd. */
export interface ApiServerFlags {
  /** Its etcd's client URL, and the client certificate to reach it with when etcd asks for one. */
  etcdServers: string;
  etcdTls?: { ca: string; cert: string; key: string };
  port: number;
  certDir: string;
  cert: string;
  key: string;
  clientCa: string;
  serviceAccountPub: string;
  serviceAccountKey: string;
  /** The Services' range. @default kubeadm's, 10.96.0.0/12 */
  serviceClusterIpRange?: string;
}

/**
 * The flags kubeadm gives a stacked API server that matter here (kubeadm app/phases/controlplane/manifests.go
 * getAPIServerCommand): client certificates against the cluster CA, Node and RBAC authorization with
 * NodeRestriction, the cluster's own service-account key pair; nothing but 127.0.0.1.
 */
export function apiServerFlags(o: ApiServerFlags): string[] {
  return [
    `--etcd-servers=${o.etcdServers}`,
    ...(o.etcdTls ? [`--etcd-cafile=${o.etcdTls.ca}`, `--etcd-certfile=${o.etcdTls.cert}`, `--etcd-keyfile=${o.etcdTls.key}`] : []),
    `--secure-port=${o.port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${o.certDir}`,
    `--tls-cert-file=${o.cert}`,
    `--tls-private-key-file=${o.key}`,
    `--client-ca-file=${o.clientCa}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    // No controller-manager makes the namespaces' default ServiceAccount, which this plugin requires of pods.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    `--service-cluster-ip-range=${o.serviceClusterIpRange ?? '10.96.0.0/12'}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${o.serviceAccountPub}`,
    `--service-account-signing-key-file=${o.serviceAccountKey}`,
    // Endpoints of the `kubernetes` Service may not be loopback addresses; nothing here needs them.
    '--endpoint-reconciler-type=none',
    '--v=0',
  ];
}
