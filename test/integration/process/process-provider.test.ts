/**
 * The process provider alone (local/process): real etcd members and kube-apiservers as machines, on one cluster
 * the tests of this file share in order (each apiserver takes seconds to start): launch, join, nodes, restart,
 * kill, delete, and no program left after close.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClusterCertificates, issueClientCertificate, type ClusterCertificates } from '../../../functions/adapters/kubeadm/index.js';
import { KubernetesClient } from '../../../functions/adapters/kubernetes-client/rest-client.js';
import type { Node } from '../../../functions/adapters/kubernetes-client/types.js';
import type { LaunchSpec } from '../../../functions/ports.js';
import { EtcdClient, type EtcdCredentials } from '../../../functions/adapters/etcd/client.js';
import { ProcessCloud, processProviderID, targetGroupArn } from '../../../local/process/process-cloud.js';
import { pkiFiles } from '../../../local/process/pki.js';
import { waitUntil } from '../../support/wait.js';
import { alive } from '../../support/embedded-api.js';

const NS = 'default';
const CLUSTER = 'proc';
const dir = mkdtempSync(join(tmpdir(), 'clusterless-process-'));
let certs: ClusterCertificates;
let cloud: ProcessCloud;
const allPids = new Set<number>();
/** What the provider logged, shown when a test fails. */
const logged: string[] = [];

const spec = (machineName: string, role: 'control-plane' | 'worker'): LaunchSpec => ({
  namespace: NS,
  clusterName: CLUSTER,
  machineName,
  machineUid: `uid-${machineName}`,
  role,
  version: 'v1.34.1',
  clientToken: `token-${machineName}`,
  machineClass: { process: {} },
  clusterProvider: { process: { controlPlaneLoadBalancer: {} } },
  // As provision asks the kubeadm bootstrap: the cluster's first control-plane machine initializes it.
  ...(role === 'control-plane' ? { bootstrap: machineName === 'cp-0' ? ('init' as const) : ('join' as const) } : {}),
});

/** The members etcd lists, through any of the endpoints. */
async function memberList(endpoints: string[], credentials: EtcdCredentials) {
  const client = new EtcdClient({ endpoints, credentials });
  try {
    return (await client.memberList()).members;
  } finally {
    client.close();
  }
}

const start = (options: { nodeMonitorGraceMs?: number } = {}) =>
  ProcessCloud.start({ dir, ca: { certificates: async () => certs }, installationId: 'test', heartbeatMs: 3_600_000, log: (m) => logged.push(m), ...options });

async function running(machineName: string): Promise<string> {
  let id = '';
  await waitUntil(
    `${machineName} running`,
    async () => {
      const i = (await cloud.machines.describe(NS, CLUSTER)).find((x) => x.machineUid === `uid-${machineName}` && x.state !== 'terminated');
      id = i?.instanceId ?? '';
      return i?.state === 'running';
    },
    120_000,
  );
  for (const p of cloud.pids()) allPids.add(p);
  return id;
}

async function admin(): Promise<KubernetesClient> {
  const creds = await issueClientCertificate(certs.ca, { commonName: 'test-admin', organizations: ['system:masters'] }, new Date(), 3600);
  return new KubernetesClient({ server: cloud.apiServerOf(NS, CLUSTER)!, ca: certs.ca.cert, ...creds });
}

function etcdTls(instanceId: string) {
  const pki = pkiFiles(join(dir, 'machines', instanceId, 'pki'));
  return {
    ca: readFileSync(pki.etcdCa, 'utf8'),
    cert: readFileSync(pki.apiserverEtcdClient.cert, 'utf8'),
    key: readFileSync(pki.apiserverEtcdClient.key, 'utf8'),
  };
}

/** A JSON-gateway call to etcd (keys are base64). */
function etcdCall(url: string, tls: { ca: string; cert: string; key: string }, body: unknown): Promise<Record<string, unknown>> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ...tls, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

let cp0 = '';
let cp1 = '';
let worker = '';

beforeAll(async () => {
  certs = await generateClusterCertificates(new Date(), 'ecdsa-p256');
  cloud = await start();
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessCloud', { timeout: 240_000 }, () => {
  it('launches a control-plane machine whose API server answers through the load balancer with the cluster CA', async () => {
    // Prepare
    await cloud.loadBalancers.ensure({ namespace: NS, clusterName: CLUSTER, scheme: 'internal', subnetIds: [], port: 6443 });
    // Act
    const first = await cloud.machines.create(spec('cp-0', 'control-plane'));
    const again = await cloud.machines.create(spec('cp-0', 'control-plane'));
    cp0 = await running('cp-0');
    await cloud.targetGroups.register(targetGroupArn(NS, CLUSTER), { namespace: NS, clusterName: CLUSTER, instanceId: cp0, port: 6443 });
    // Assess: one instance for the machine (adopted), and the API through 127.0.0.1:{lb port}, TLS against the cluster CA.
    expect(again.instanceId).toBe(first.instanceId);
    const lb = await cloud.loadBalancers.describe(NS, CLUSTER);
    expect(lb).toMatchObject({ dnsName: '127.0.0.1', state: 'active' });
    expect(cloud.apiServerOf(NS, CLUSTER)).toBe(`https://127.0.0.1:${lb!.port}`);
    const ns = await (await admin()).get<{ items: unknown[] }>('/api/v1/namespaces');
    expect(ns.items.length).toBeGreaterThan(0);
  });

  it("plays kubeadm init's upload phases on the machine that initializes the cluster: kubeadm-config, kube-proxy, CoreDNS", async () => {
    // Act
    await cloud.syncNodesNow();
    expect(logged.filter((m) => m.includes('kubeadm init'))).toEqual([]);
    // Assess
    const client = await admin();
    const config = await client.get<{ data: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    expect(config.data['ClusterConfiguration']).toContain('kubernetesVersion: v1.34.1');
    const proxy = await client.get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy',
    );
    expect(proxy.spec.template.spec.containers[0]!.image).toMatch(/\/kube-proxy:v1\.34\.1$/);
    const coredns = await client.get<{ metadata: { name: string } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
    expect(coredns.metadata.name).toBe('coredns');
  });

  it('joins a second control-plane machine as a new etcd member: both listed and started', async () => {
    await cloud.machines.create(spec('cp-1', 'control-plane'));
    cp1 = await running('cp-1');
    await cloud.targetGroups.register(targetGroupArn(NS, CLUSTER), { namespace: NS, clusterName: CLUSTER, instanceId: cp1, port: 6443 });
    const members = await memberList(cloud.etcdEndpoints(NS, CLUSTER), cloud.etcdCredentials(NS, CLUSTER)!);
    expect(members.map((m) => m.name).sort()).toEqual(['cp-0', 'cp-1']);
  });

  it("registers a worker's Node with its providerID, its machine's taints and its class's labels, keeps it heartbeating with a Lease, and labels and taints the control-plane Nodes", async () => {
    // Act
    const gpu = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };
    await cloud.machines.create({
      ...spec('w-0', 'worker'),
      taints: [gpu, { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' }],
      nodeLabels: { 'nvidia.com/gpu.present': 'true', 'node.kubernetes.io/pool': 'gpu' },
    });
    worker = await running('w-0');
    await cloud.syncNodesNow();
    const client = await admin();
    const first = await client.get<Node>('/api/v1/nodes/w-0');
    await new Promise((r) => setTimeout(r, 1100));
    await cloud.syncNodesNow();
    await cloud.syncNodesNow();
    const later = await client.get<Node>('/api/v1/nodes/w-0');
    const cp = await client.get<Node>('/api/v1/nodes/cp-0');
    // Assess
    const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
    expect(first.spec?.providerID).toBe(processProviderID({ namespace: NS, clusterName: CLUSTER, instanceId: worker }));
    // As kubeadm's nodeRegistration.taints: the kubelet registers with them (the API server's TaintNodesByCondition
    // adds node.kubernetes.io/not-ready on create), and a worker has no control-plane taint.
    const workerTaints = (first.spec as { taints?: { key: string }[] }).taints ?? [];
    expect(workerTaints).toEqual(expect.arrayContaining([gpu, { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' }]));
    expect(workerTaints.map((t) => t.key)).not.toContain('node-role.kubernetes.io/control-plane');
    // Its class's node labels (LaunchSpec.nodeLabels, as the kubelet's --node-labels), beside the kubelet's own.
    expect(first.metadata?.labels).toMatchObject({ 'nvidia.com/gpu.present': 'true', 'node.kubernetes.io/pool': 'gpu', 'kubernetes.io/hostname': 'w-0' });
    expect(ready(later)?.status).toBe('True');
    expect(Date.parse(String(ready(later)?.lastHeartbeatTime))).toBeGreaterThan(Date.parse(String(ready(first)?.lastHeartbeatTime)));
    const lease = await client.get<{ spec: { holderIdentity: string } }>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w-0');
    expect(lease.spec.holderIdentity).toBe('w-0');
    expect(cp.metadata?.labels?.['node-role.kubernetes.io/control-plane']).toBe('');
    expect((cp.spec as { taints?: unknown[] }).taints).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
  });

  it('starts the programs of running instances again after a restart, and etcd keeps its keys', async () => {
    // Prepare: a key written before the restart.
    const tls = etcdTls(cp0);
    const url = cloud.etcdEndpoints(NS, CLUSTER)[0]!;
    await etcdCall(`${url}/v3/kv/put`, tls, { key: Buffer.from('kept').toString('base64'), value: Buffer.from('yes').toString('base64') });
    const before = cloud.pids();
    // Act
    await cloud.close();
    expect(before.some(alive)).toBe(false);
    cloud = await start({ nodeMonitorGraceMs: 2000 });
    // Assess: new programs for both machines, and the key read back once the members have a leader again.
    const read = async () => {
      const got = await etcdCall(`${cloud.etcdEndpoints(NS, CLUSTER)[1]!}/v3/kv/range`, tls, { key: Buffer.from('kept').toString('base64') });
      return Buffer.from(String((got.kvs as { value: string }[] | undefined)?.[0]?.value ?? ''), 'base64').toString();
    };
    expect(await waitUntil('the key read from etcd after the restart', read, 60_000)).toBe('yes');
    await cloud.settled();
    expect(cloud.pids().filter(alive)).toHaveLength(4);
    for (const p of cloud.pids()) allPids.add(p);
    expect(cloud.pids().filter((p) => before.includes(p))).toEqual([]);
    const members = await memberList(cloud.etcdEndpoints(NS, CLUSTER), cloud.etcdCredentials(NS, CLUSTER)!);
    expect(members.map((m) => m.name).sort()).toEqual(['cp-0', 'cp-1']);
  });

  it('kills a machine: the instance reads stopped, and its Node goes Ready=Unknown once its heartbeat is older than the grace period', async () => {
    // Act
    const killed = await cloud.kill(NS, 'w-0');
    // Assess
    expect(killed.map((i) => i.instanceId)).toEqual([worker]);
    expect((await cloud.machines.describe(NS, CLUSTER)).find((i) => i.instanceId === worker)?.state).toBe('stopped');
    const client = await admin();
    await waitUntil(
      'w-0 Ready=Unknown',
      async () => {
        await cloud.syncNodesNow();
        const n = await client.get<Node>('/api/v1/nodes/w-0');
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
      },
      30_000,
    );
    const cp = await client.get<Node>('/api/v1/nodes/cp-0');
    expect(cp.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('deletes a machine whose member the planner removed: its programs stop, its folder goes, it reads terminated and its Node is deleted', async () => {
    // Prepare: as the planner does before a control-plane machine goes (a 2-member etcd without one has no quorum).
    const pids = [...(cloud.instance(cp1)?.pids ?? [])];
    expect(pids.length).toBe(2);
    const members = await memberList(cloud.etcdEndpoints(NS, CLUSTER), etcdTls(cp0));
    const url = `https://127.0.0.1:${cloud.instance(cp0)!.ports!.etcdClient}`;
    // etcd refuses a reconfiguration until its members have been connected for 5 s (unhealthy cluster): retried.
    const id = members.find((m) => m.name === 'cp-1')!.id;
    await waitUntil(
      'the member of cp-1 removed',
      async () => (await etcdCall(`${url}/v3/cluster/member/remove`, etcdTls(cp0), { ID: id })).code === undefined,
      30_000,
      1000,
    );
    // Act
    const deletion = await cloud.machines.delete({ namespace: NS, clusterName: CLUSTER, machineUid: 'uid-cp-1', instanceId: cp1 });
    await cloud.syncNodesNow();
    // Assess
    expect(deletion.refused).toEqual([]);
    expect(pids.some(alive)).toBe(false);
    expect(existsSync(join(dir, 'machines', cp1))).toBe(false);
    expect((await cloud.machines.describe(NS, CLUSTER)).find((i) => i.instanceId === cp1)?.state).toBe('terminated');
    const nodes = await (await admin()).get<{ items: Node[] }>('/api/v1/nodes');
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(['cp-0', 'w-0']);
  });

  it('refuses to delete an instance named for a machine that is not its own', async () => {
    const deletion = await cloud.machines.delete({ namespace: NS, clusterName: CLUSTER, machineUid: 'uid-someone-else', instanceId: cp0 });
    expect(deletion.refused).toEqual([cp0]);
    expect((await cloud.machines.describe(NS, CLUSTER)).find((i) => i.instanceId === cp0)?.state).toBe('running');
  });

  it('never starts an etcd of its own for a control-plane machine that joins a cluster with no member running', async () => {
    // Act: a join in a cluster whose members are all gone (or never were)
    await cloud.machines.create({ ...spec('cp-lonely', 'control-plane'), clusterName: 'orphaned', bootstrap: 'join' });
    await new Promise((r) => setTimeout(r, 3000));
    // Assess
    const [instance] = await cloud.machines.describe(NS, 'orphaned');
    expect(instance?.state).toBe('pending');
    expect(cloud.pids().filter((p) => (cloud.instance(instance!.instanceId)?.pids ?? []).includes(p))).toEqual([]);
    await cloud.machines.delete({ namespace: NS, clusterName: 'orphaned', machineUid: 'uid-cp-lonely' });
  });

  it('kills the programs of a control-plane machine with SIGKILL, and leaves no program after close', async () => {
    const pids = [...(cloud.instance(cp0)?.pids ?? [])];
    await cloud.kill(NS, 'cp-0');
    await waitUntil('cp-0 programs gone', async () => !pids.some(alive), 10_000);
    await cloud.close();
    expect([...allPids].filter(alive)).toEqual([]);
    expect(cloud.pids().filter(alive)).toEqual([]);
  });
});
