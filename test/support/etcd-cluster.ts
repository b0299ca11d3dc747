/**
 * A real etcd cluster for tests: N members on 127.0.0.1, free client and peer ports, TLS on both with client
 * certificates required (`--client-cert-auth --peer-client-cert-auth`), every certificate from a fresh set of
 * cluster CAs (the etcd CA, as kubeadm lays it out), data in a temp dir removed by stop(). Members can be added
 * (memberAdd, then started with `--initial-cluster-state existing`, as kubeadm join does) and killed (SIGKILL).
 * `startEtcd` in kube.ts is the single plain-HTTP member the kube-apiserver tests use.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient, type EtcdCredentials, initialCluster } from '../../functions/adapters/etcd/client.js';
import {
  type ClusterCertificates,
  generateClusterCertificates,
  issueEtcdClientCertificate,
  issueEtcdMemberCertificates,
} from '../../functions/adapters/kubeadm/certificates.js';
import { freePort } from './free-port.js';
import { type Child, exited, kubeBinaries, startChild, stopChild, waitFor } from './kube.js';

export interface EtcdClusterMember {
  name: string;
  /** https://127.0.0.1:PORT */
  clientUrl: string;
  peerUrl: string;
  child: Child;
  running(): boolean;
}

export interface RunningEtcdCluster {
  certificates: ClusterCertificates;
  /** A client certificate from the cluster's etcd CA, with the CA. */
  credentials: EtcdCredentials;
  /** Every member started, in order (killed ones stay listed). */
  members: EtcdClusterMember[];
  member(name: string): EtcdClusterMember;
  /** The client URLs of the members still running. */
  endpoints(): string[];
  /** A client of the running members; closed by stop(). */
  client(): EtcdClient;
  /** Adds a member through the API and starts it; resolves once it answers with a leader known. */
  addMember(name: string, options?: { learner?: boolean }): Promise<EtcdClusterMember>;
  /** SIGKILL, and waits for the exit. */
  kill(name: string): Promise<void>;
  stop(): Promise<void>;
}

const CERT_SECONDS = 3600;

/**
 * Calls `change` again while etcd refuses a membership change as `unhealthy cluster` (ErrUnhealthy): for 5 s after a
 * peer connects, its leader does not count it as up (etcdserver HealthInterval, --strict-reconfig-check).
 */
export async function settled<T>(what: string, change: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await change();
    } catch (err) {
      // etcd refuses a reconfiguration for 5 s after a peer connects (`unhealthy cluster`), and answers Unavailable
      // (gRPC 14) during the election that follows a leader's removal: both pass; anything else is an answer.
      const unavailable = [err, (err as Error).cause].some((e) => (e as { code?: unknown } | undefined)?.code === 14);
      if (!(unavailable || /unhealthy cluster|leader changed/.test(String((err as Error).message))) || Date.now() > deadline)
        throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Starts the cluster, again on new ports (up to three times) when a member found one of its ports taken. */
export async function startEtcdCluster(options: { members?: number; timeoutMs?: number } = {}): Promise<RunningEtcdCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String((err as Error).message))) throw err;
    }
  }
}

async function startOnce(options: { members?: number; timeoutMs?: number }): Promise<RunningEtcdCluster> {
  const { etcd } = kubeBinaries();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'clusterless-etcd-cluster-'));
  const now = new Date();
  const certificates = await generateClusterCertificates(now, 'ecdsa-p256');
  const credentials = { ca: certificates.etcdCa.cert, ...(await issueEtcdClientCertificate(certificates.etcdCa, now, CERT_SECONDS)) };
  const caFile = join(dir, 'etcd-ca.crt');
  writeFileSync(caFile, certificates.etcdCa.cert);
  const members: EtcdClusterMember[] = [];
  const clients: EtcdClient[] = [];

  /** Certificates and flags of a member; the process starts with `initial`. */
  const launch = async (name: string, ports: { client: number; peer: number }, initial: { cluster: string; state: 'new' | 'existing' }) => {
    const memberDir = join(dir, name);
    mkdirSync(memberDir, { recursive: true });
    const certs = await issueEtcdMemberCertificates(certificates.etcdCa, { nodeName: name, ip: '127.0.0.1' }, now, CERT_SECONDS);
    const file = (f: string, text: string) => {
      const path = join(memberDir, f);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    const clientUrl = `https://127.0.0.1:${ports.client}`;
    const peerUrl = `https://127.0.0.1:${ports.peer}`;
    const child = startChild(etcd, [
      `--name=${name}`,
      `--data-dir=${join(memberDir, 'data')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${initial.cluster}`,
      `--initial-cluster-state=${initial.state}`,
      '--initial-cluster-token=clusterless-test',
      '--client-cert-auth',
      `--trusted-ca-file=${caFile}`,
      `--cert-file=${file('server.crt', certs.server.cert)}`,
      `--key-file=${file('server.key', certs.server.key)}`,
      '--peer-client-cert-auth',
      `--peer-trusted-ca-file=${caFile}`,
      `--peer-cert-file=${file('peer.crt', certs.peer.cert)}`,
      `--peer-key-file=${file('peer.key', certs.peer.key)}`,
      // Two cores shared by several test runs: a slower heartbeat keeps leadership from flapping under load.
      '--heartbeat-interval=250',
      '--election-timeout=2500',
      '--log-level=warn',
      '--unsafe-no-fsync',
    ]);
    const member: EtcdClusterMember = { name, clientUrl, peerUrl, child, running: () => !exited(child.process) };
    members.push(member);
    return member;
  };

  const ready = async (member: EtcdClusterMember) => {
    const probe = new EtcdClient({ endpoints: [member.clientUrl], credentials, timeoutMs: 2000 });
    try {
      await waitFor(`etcd member ${member.name}`, member.child, timeoutMs, async () => (await probe.status(member.clientUrl)).leaderId !== '0');
    } finally {
      probe.close();
    }
  };

  const stop = async () => {
    for (const c of clients) c.close();
    await Promise.all(members.map((m) => stopChild(m.child.process)));
    rmSync(dir, { recursive: true, force: true });
  };

  const cluster: RunningEtcdCluster = {
    certificates,
    credentials,
    members,
    member: (name) => {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no etcd member ${name}`);
      return m;
    },
    endpoints: () => members.filter((m) => m.running()).map((m) => m.clientUrl),
    client: () => {
      const c = new EtcdClient({ endpoints: cluster.endpoints(), credentials });
      clients.push(c);
      return c;
    },
    addMember: async (name, addOptions = {}) => {
      const ports = { client: await freePort(), peer: await freePort() };
      const client = cluster.client();
      // etcd refuses a new member (`unhealthy cluster`) until its leader has been connected to every voting member
      // for 5 s (etcdserver HealthInterval, --strict-reconfig-check); kubeadm join retries the same way.
      const { member, members: list } = await settled(`adding ${name}`, () => client.memberAdd([`https://127.0.0.1:${ports.peer}`], addOptions));
      const started = await launch(name, ports, { cluster: initialCluster(list, member.id, name), state: 'existing' });
      await ready(started);
      return started;
    },
    kill: async (name) => {
      const { process } = cluster.member(name).child;
      if (exited(process)) return;
      const done = new Promise<void>((r) => process.once('exit', () => r()));
      process.kill('SIGKILL');
      await done;
    },
    stop,
  };

  try {
    const count = options.members ?? 3;
    const names = Array.from({ length: count }, (_, i) => `member-${i + 1}`);
    const ports: { client: number; peer: number }[] = [];
    for (const _ of names) ports.push({ client: await freePort(), peer: await freePort() });
    const initial = names.map((n, i) => `${n}=https://127.0.0.1:${ports[i]!.peer}`).join(',');
    const started = await Promise.all(names.map((n, i) => launch(n, ports[i]!, { cluster: initial, state: 'new' })));
    await Promise.all(started.map(ready));
    // A member publishes its name through raft after it has a leader: under load the list can still show a nameless
    // member for a moment. The cluster is ready when every member is listed by name.
    const probe = new EtcdClient({ endpoints: started.map((m) => m.clientUrl), credentials, timeoutMs: 2000 });
    try {
      await waitFor('etcd members listed by name', started[0]!.child, timeoutMs, async () => (await probe.memberList()).members.every((m) => m.name !== ''));
    } finally {
      probe.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}
