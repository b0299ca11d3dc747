/**
 * The sweep with a real NodeReader: two workload clusters, each a real kube-apiserver (one etcd between them),
 * settled in the store with a MachineHealthCheck. Only the cluster whose Node is NotReady, or gone, or whose
 * API cannot be reached gets a reconcile; a settled one costs one node list and no execution.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { sweep, type SweepLog } from '../../../functions/workflows/sweep.js';
import type { Workflows } from '../../../functions/ports.js';
import { freePort } from '../../support/free-port.js';
import { startEtcd, startKube, type RunningEtcd, type RunningKube } from '../../support/kube.js';
import { withHealthCheck } from '../../unit/core/trigger/fleet-fixtures.js';

let etcd: RunningEtcd;
const kubes: Record<string, RunningKube> = {};
/** Per cluster, the kubeconfig text the reader gets; a cluster can be pointed at a dead endpoint. */
const kubeconfigs: Record<string, string> = {};

const CLUSTERS = ['calm', 'stormy'] as const;
const NODES = ['cp-0', 'cp-1', 'cp-2', 'w-0', 'w-1'];
const T0 = '2026-01-02T03:04:05Z';

beforeAll(async () => {
  etcd = await startEtcd();
  await Promise.all(CLUSTERS.map(async (c) => (kubes[c] = await startKube({ etcd }))));
  for (const c of CLUSTERS) {
    kubeconfigs[c] = kubes[c]!.adminKubeconfigYaml;
    for (const n of NODES) await node(c, n, 'True');
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(kubes).map((k) => k.stop()));
  await etcd?.stop();
});

async function node(cluster: string, name: string, ready: 'True' | 'False' | 'Unknown'): Promise<void> {
  const kube = kubes[cluster]!;
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { providerID: `aws:///zone-a/i-${cluster}-${name}` } }),
  });
  const conditions = [
    {
      type: 'Ready',
      status: ready,
      reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
      message: 'set by the test',
      lastHeartbeatTime: T0,
      lastTransitionTime: T0,
    },
  ];
  await kube.kubectlOk(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions } })]);
}

/** A cluster as a settled reconcile leaves it: 3 control-plane and 2 worker replicas ready, a health check satisfied. */
function settledCluster(name: string): ApiObject[] {
  const fleet = withHealthCheck(name);
  return [...fleet.clusters, ...fleet.controlPlanes, ...fleet.machineDeployments, ...fleet.healthChecks];
}

const quiet: SweepLog = { debug: () => {}, info: () => {}, error: () => {} };

/** One sweep over a fresh store holding both settled clusters; returns the clusters it started a reconcile for. */
async function sweepOnce(): Promise<{ started: string[]; probed: number }> {
  const store = new MemoryStore();
  for (const c of CLUSTERS) for (const o of settledCluster(c)) await store.create(o);
  const started: string[] = [];
  const workflows: Workflows = {
    start: async (workflow, _name, input) => {
      expect(workflow).toBe('reconcile-cluster');
      started.push(String(input['clusterName']));
      return { started: true };
    },
  };
  const nodes = new KubernetesNodeReader({ kubeconfigFor: (_ns, name) => kubeconfigs[name], timeoutMs: 5000 });
  const result = await sweep({ store, workflows, nodes, log: quiet });
  return { started: started.sort(), probed: result.probed };
}

it('reconciles no cluster while every node is Ready, having listed both clusters’ nodes', async () => {
  expect(await sweepOnce()).toEqual({ started: [], probed: 2 });
});

it('reconciles only the cluster whose node went NotReady, and stops once it is Ready again', async () => {
  // Prepare
  await node('stormy', 'w-1', 'False');
  // Act, Assess
  expect((await sweepOnce()).started).toEqual(['stormy']);
  // A node that recovers: nothing to do any more.
  await node('stormy', 'w-1', 'True');
  expect((await sweepOnce()).started).toEqual([]);
});

it('reconciles the cluster whose node was deleted', async () => {
  await kubes['calm']!.kubectlOk(['delete', 'node', 'w-0']);
  try {
    expect((await sweepOnce()).started).toEqual(['calm']);
  } finally {
    await node('calm', 'w-0', 'True');
  }
});

it('reconciles the cluster whose API cannot be reached', async () => {
  const port = await freePort();
  const saved = kubeconfigs['stormy']!;
  kubeconfigs['stormy'] = saved.replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
  expect(kubeconfigs['stormy']).not.toBe(saved);
  try {
    expect((await sweepOnce()).started).toEqual(['stormy']);
  } finally {
    kubeconfigs['stormy'] = saved;
  }
});
