/**
 * Real control planes through the embedded host: a process cluster of three control-plane machines (each a real
 * etcd member and kube-apiserver) and the control-plane planner reading etcd itself. The steps share one host and
 * one cluster, in order:
 * - the control plane converges with EtcdClusterHealthy=True, etcd's members matching the machines, and a
 *   ClusterResourceSet selecting it is applied once;
 * - a rolling upgrade to the next minor keeps etcd writable throughout (a writer puts a key every 100 ms through
 *   EtcdClient, which moves on to another member when one does not answer; no put fails) and ends with exactly
 *   three members, all healthy, matching the machines; kubeadm-config, kube-proxy and CoreDNS show the version;
 * - scaling 3 -> 5 -> 3 leaves member lists matching the machines at each step;
 * - killing a member's programs gets its member removed and its machine replaced (the control plane's
 *   MachineHealthCheck from `generate cluster --provider process`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../../cli/commands/generate.js';
import { EtcdClient, type EtcdMember } from '../../../functions/adapters/etcd/client.js';
import { KubernetesClient, resourcePath } from '../../../functions/adapters/kubernetes-client/rest-client.js';
import { parseKubeconfig } from '../../../functions/adapters/kubernetes-client/kubeconfig.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { Machine } from '../../../functions/api/machine.js';
import { getCondition } from '../../../functions/core/conditions.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { waitUntil } from '../../support/wait.js';
import { PLURALS, hostApi } from '../../support/embedded-api.js';

const NS = 'default';
const NAME = 'real';
const FROM = 'v1.34.1';
const TO = 'v1.35.0';
const API = '/apis/clusterless.dev/v1alpha1/namespaces/default';
const dir = mkdtempSync(join(tmpdir(), 'clusterless-process-etcd-'));
let host: EmbeddedHost | undefined;

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: unknown) => hostApi(host!, method, path, body);

const controlPlane = async () => (await api('GET', `${API}/controlplanes/${NAME}-control-plane`)).body as ControlPlane;
const cpMachines = async () =>
  ((await api('GET', `${API}/machines`)).body.items as Machine[]).filter(
    (m) => m.spec.clusterName === NAME && m.metadata.labels?.['clusterless.dev/control-plane'] !== undefined,
  );

/** etcd's members, through the running members' client URLs, with a client certificate of the cluster's etcd CA. */
async function members(): Promise<EtcdMember[]> {
  const client = new EtcdClient({ endpoints: host!.processes.etcdEndpoints(NS, NAME), credentials: host!.processes.etcdCredentials(NS, NAME)! });
  try {
    return (await client.memberList()).members;
  } finally {
    client.close();
  }
}

/** The control plane at `replicas` machines of `version`, all Ready, EtcdClusterHealthy, and etcd's members exactly the machines' nodes. */
async function settledAt(replicas: number, version: string, timeoutMs: number): Promise<{ machines: string[]; members: string[] }> {
  return waitUntil(
    `${replicas} control-plane machines at ${version}, etcd healthy and matching them`,
    async () => {
      const cp = await controlPlane();
      const machines = (await cpMachines()).filter((m) => !m.metadata.deletionTimestamp);
      if (machines.length !== replicas || cp.status?.readyReplicas !== replicas || cp.status.version !== version) return false;
      if (getCondition(cp.status.conditions, 'EtcdClusterHealthy')?.status !== 'True') return false;
      const nodes = machines.map((m) => m.status?.nodeRef?.name ?? '').sort();
      const names = (await members()).map((m) => m.name).sort();
      return JSON.stringify(nodes) === JSON.stringify(names) && { machines: nodes, members: names };
    },
    timeoutMs,
    500,
  );
}

async function workloadClient(): Promise<KubernetesClient> {
  const kubeconfig = (await api('GET', `${API}/clusters/${NAME}/kubeconfig`)).body as string;
  const config = parseKubeconfig(kubeconfig);
  return new KubernetesClient(config, { timeoutMs: 5000 });
}

describe('a real control plane on the process provider', { timeout: 900_000 }, () => {
  it('converges: three machines, EtcdClusterHealthy, etcd members matching the machines, and the addon applied once', async () => {
    // Prepare
    // A sweep every 5 s: a Node that appears (or goes Unknown) is news to the control plane at the next sweep. Nodes
    // heartbeat every 2 s and go Unknown 15 s after their last (10 s and 40 s in Kubernetes): a killed machine is seen sooner.
    host = await startEmbeddedHost({ port: 0, dataDir: dir, sweepSeconds: 5, processNodes: { heartbeatMs: 2000, nodeMonitorGraceMs: 15_000 } });
    const { objects } = generateCluster(NAME, { kubernetesVersion: FROM, provider: 'process', controlPlaneMachineCount: '3', workerMachineCount: '0' });
    const cluster = objects.find((o) => o['kind'] === 'Cluster')!;
    (cluster['metadata'] as { labels?: Record<string, string> }).labels = { cni: 'example' };
    const addon = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ClusterResourceSet',
      metadata: { name: 'cni' },
      spec: {
        clusterSelector: { matchLabels: { cni: 'example' } },
        resources: [
          { name: 'config', manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni-config\n  namespace: kube-system\ndata:\n  mode: example\n' },
        ],
      },
    };
    // Act
    for (const o of [addon, ...objects]) {
      const r = await api('POST', `${API}/${PLURALS[o['kind'] as string]}`, o);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    // Assess
    const { machines, members: names } = await settledAt(3, FROM, 420_000);
    expect(names).toEqual(machines);
    const cp = await controlPlane();
    for (const m of await cpMachines()) expect(getCondition(m.status?.conditions, 'EtcdMemberHealthy')?.status, m.metadata.name).toBe('True');
    expect(cp.status?.kubeadmObjects?.addons).toBe(FROM);
    const workload = await workloadClient();
    const config = await waitUntil(
      'the addon in the workload API',
      async () => {
        try {
          return await workload.get<{ data: Record<string, string> }>(resourcePath('', 'v1', 'configmaps', { namespace: 'kube-system', name: 'cni-config' }));
        } catch {
          return false;
        }
      },
      120_000,
      500,
    );
    expect(config.data).toEqual({ mode: 'example' });
    const binding = (await api('GET', `${API}/clusterresourcesetbindings/${NAME}`)).body;
    expect(binding.status.bindings).toEqual([
      expect.objectContaining({ clusterResourceSetName: 'cni', resources: [expect.objectContaining({ name: 'config', applied: true })] }),
    ]);
    workload.close();
  });

  it('rolls to the next minor keeping etcd writable throughout, and ends with three healthy members matching the machines', async () => {
    // Prepare: a writer putting a key every 100 ms through whichever members run.
    let writes = 0;
    const failures: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const client = new EtcdClient({ endpoints: host!.processes.etcdEndpoints(NS, NAME), credentials: host!.processes.etcdCredentials(NS, NAME)! });
        try {
          await client.put('clusterless-test/writer', String(++writes));
        } catch (err) {
          failures.push(`put ${writes}: ${(err as Error).message}`);
        } finally {
          client.close();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const before = (await cpMachines()).map((m) => m.metadata.name);
    // Act
    const r = await api('PATCH', `${API}/controlplanes/${NAME}-control-plane`, { spec: { version: TO } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const { machines, members: names } = await settledAt(3, TO, 600_000);
    writing = false;
    await writer;
    // Assess
    expect(failures).toEqual([]);
    expect(writes).toBeGreaterThan(50);
    expect(names).toEqual(machines);
    expect(machines.filter((m) => before.includes(m))).toEqual([]);
    // The addons follow one reconcile after the last machine runs the version.
    const cp = await waitUntil(
      'kube-proxy and CoreDNS brought to the version',
      async () => {
        const c = await controlPlane();
        return c.status?.kubeadmObjects?.addons === TO && c;
      },
      120_000,
      500,
    );
    expect(cp.status?.kubeadmObjects).toEqual({ clusterConfiguration: TO, addons: TO });
    const workload = await workloadClient();
    const kubeadmConfig = await workload.get<{ data: Record<string, string> }>(
      resourcePath('', 'v1', 'configmaps', { namespace: 'kube-system', name: 'kubeadm-config' }),
    );
    expect(kubeadmConfig.data['ClusterConfiguration']).toContain(`kubernetesVersion: ${TO}`);
    const proxy = await workload.get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      resourcePath('apps', 'v1', 'daemonsets', { namespace: 'kube-system', name: 'kube-proxy' }),
    );
    expect(proxy.spec.template.spec.containers[0]!.image).toMatch(new RegExp(`/kube-proxy:${TO}$`));
    const coredns = await workload.get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      resourcePath('apps', 'v1', 'deployments', { namespace: 'kube-system', name: 'coredns' }),
    );
    expect(coredns.spec.template.spec.containers[0]!.image).toMatch(/\/coredns:v1\.\d+\.\d+$/);
    workload.close();
  });

  it('scales 3 -> 5 -> 3 with etcd members matching the machines at each step', async () => {
    // Act
    expect((await api('PATCH', `${API}/controlplanes/${NAME}-control-plane`, { spec: { replicas: 5 } })).status).toBe(200);
    const five = await settledAt(5, TO, 420_000);
    expect((await api('PATCH', `${API}/controlplanes/${NAME}-control-plane`, { spec: { replicas: 3 } })).status).toBe(200);
    const three = await settledAt(3, TO, 420_000);
    // Assess
    expect(five.members).toEqual(five.machines);
    expect(three.members).toEqual(three.machines);
    expect(three.machines.every((m) => five.machines.includes(m))).toBe(true);
  });

  it("removes a killed member's machine from etcd and replaces it", async () => {
    // Prepare: the control plane's health check acts 30 s after a node goes Unknown, the least the API allows (the generated one waits 300 s).
    const check = await api('PATCH', `${API}/machinehealthchecks/${NAME}-control-plane`, {
      spec: {
        unhealthyConditions: [
          { type: 'Ready', status: 'Unknown', timeout: '30s' },
          { type: 'Ready', status: 'False', timeout: '30s' },
        ],
      },
    });
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    // A machine the scale-down is still deleting has no programs left to kill: the victim is one that stays.
    const [victim] = (await cpMachines())
      .filter((m) => !m.metadata.deletionTimestamp)
      .map((m) => m.metadata.name)
      .sort();
    // Act: the route behind `clusterless sim kill`
    const killed = await api('POST', `/clusterless/v1/sim/namespaces/${NS}/machines/${victim}/kill`, {});
    expect(killed.status, JSON.stringify(killed.body)).toBe(200);
    const { machines, members: names } = await waitUntil(
      `${victim} replaced`,
      async () => {
        const s = await settledAt(3, TO, 5_000).catch(() => undefined);
        return s !== undefined && !s.machines.includes(victim!) && s;
      },
      600_000,
      2_000,
    );
    // Assess
    expect(names).toEqual(machines);
    expect(names).not.toContain(victim);
  });
});
