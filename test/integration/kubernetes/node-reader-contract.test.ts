/**
 * The NodeReader contract on KubernetesNodeReader against real kube-apiservers. Each workload cluster of a case is
 * one of two API servers over one etcd, emptied of nodes first; with no kubelet, nodes and their conditions are
 * written through the API as a kubelet would write them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { startEtcd, startKube, type RunningEtcd, type RunningKube } from '../../support/kube.js';
import { runNodeReaderContract, type WorkloadCluster } from '../../support/node-reader-contract.js';

let etcd: RunningEtcd;
let servers: RunningKube[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  servers = [await startKube({ etcd }), await startKube({ etcd })];
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await etcd?.stop();
});

const T0 = '2026-01-02T03:04:05Z';

runNodeReaderContract('KubernetesNodeReader', async () => {
  const clusters = new Map<string, RunningKube>();
  const broken = new Set<string>();
  const names = new Map<string, string>();
  const key = (c: WorkloadCluster) => `${c.namespace}/${c.clusterName}`;
  const serverOf = (c: WorkloadCluster) => clusters.get(key(c))!;
  const reader = new KubernetesNodeReader({
    kubeconfigFor: (namespace, clusterName) => {
      const server = clusters.get(`${namespace}/${clusterName}`);
      if (!server) return undefined;
      // A refused connection: the API server is down.
      return broken.has(`${namespace}/${clusterName}`) ? server.adminKubeconfigYaml.replace(server.server, 'https://127.0.0.1:1') : server.adminKubeconfigYaml;
    },
  });
  const patchStatus = (c: WorkloadCluster, name: string, conditions: unknown[]) =>
    serverOf(c).kubectlOk(['patch', 'node', name, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions } })]);
  return {
    reader,
    newCluster: async () => {
      const server = servers[clusters.size];
      if (!server) throw new Error('the harness has two API servers: two clusters a case');
      await server.kubectlOk(['delete', 'nodes', '--all', '--wait=true']);
      const cluster = { namespace: 'default', clusterName: `c${clusters.size + 1}` };
      clusters.set(key(cluster), server);
      return cluster;
    },
    registerNode: async (cluster) => {
      const id = randomBytes(8).toString('hex');
      const name = `ip-10-0-${parseInt(id.slice(0, 2), 16)}-${parseInt(id.slice(2, 4), 16)}-${id.slice(4, 8)}.ec2.internal`;
      const providerID = `aws:///us-east-1a/i-${id}`;
      await serverOf(cluster).kubectlOk(['apply', '-f', '-'], {
        input: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { providerID } }),
      });
      await patchStatus(cluster, name, [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: T0, lastTransitionTime: T0 },
      ]);
      names.set(providerID, name);
      return providerID;
    },
    reportCondition: async (cluster, providerID, condition) => {
      await patchStatus(cluster, names.get(providerID)!, [{ ...condition, lastHeartbeatTime: T0, lastTransitionTime: T0 }]);
    },
    removeNode: async (cluster, providerID) => {
      await serverOf(cluster).kubectlOk(['delete', 'node', names.get(providerID)!, '--wait=true']);
    },
    breakReads: async (cluster) => {
      broken.add(key(cluster));
      return async () => {
        broken.delete(key(cluster));
      };
    },
    sortedByName: true,
  };
});
