/**
 * A process cluster through the embedded host: the kubeadm bootstrap (secrets in files of the data folder), the
 * load balancer recorded as the endpoint, real etcd and kube-apiserver, the nodes read through the API. One
 * control-plane machine and one worker reach Ready machines; the worker's Node carries its template's node-domain
 * labels and taints; a spot interruption warning sent through the host's route replaces the worker; the host's
 * close leaves no program behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../../cli/commands/generate.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { KubernetesClient } from '../../../functions/adapters/kubernetes-client/rest-client.js';
import type { Node } from '../../../functions/adapters/kubernetes-client/types.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { waitUntil } from '../../support/wait.js';
import { PLURALS, alive, hostApi } from '../../support/embedded-api.js';

const dir = mkdtempSync(join(tmpdir(), 'clusterless-process-host-'));
let host: EmbeddedHost | undefined;

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: unknown) => hostApi(host!, method, path, body);

describe('the embedded host with a process cluster', { timeout: 300_000 }, () => {
  it('brings a cluster of 1 control-plane machine and 1 worker to Ready machines, its template labels and taints on the Node, replaces a worker warned through the interrupt route, kills a machine through the kill route, and stops every program at close', async () => {
    // Prepare
    host = await startEmbeddedHost({ port: 0, dataDir: dir, sweepSeconds: 5 });
    const { objects } = generateCluster('real', { kubernetesVersion: 'v1.34.1', provider: 'process', controlPlaneMachineCount: '1', workerMachineCount: '1' });
    // The workers' template: a label in the node domains (synced to the Node), one outside them, and a taint.
    const gpu = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
    for (const o of objects.filter((x) => x['kind'] === 'MachineDeployment')) {
      const template = (o['spec'] as { template: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } }).template;
      template.metadata = { labels: { ...template.metadata?.labels, 'node-role.kubernetes.io/gpu': '', app: 'training' } };
      template.spec['taints'] = [gpu];
    }
    // Act
    for (const o of objects) {
      const r = await api('POST', `/apis/clusterless.dev/v1alpha1/namespaces/default/${PLURALS[o['kind'] as string]}`, o);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    // Assess: both machines Running with a node, Ready as the node says.
    const machines = await waitUntil(
      'two Running machines with Ready nodes',
      async () => {
        const list = (await api('GET', '/apis/clusterless.dev/v1alpha1/namespaces/default/machines')).body.items as Machine[];
        const ready = list.filter(
          (m) => m.status?.phase === 'Running' && m.status.nodeRef && m.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 2 && list;
      },
      240_000,
    );
    expect(machines.map((m) => m.status?.nodeRef?.name).sort()).toEqual(machines.map((m) => m.metadata.name).sort());
    const cluster = (await api('GET', '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/real')).body as Cluster;
    expect(cluster.spec.controlPlaneEndpoint?.host).toBe('127.0.0.1');
    expect(cluster.spec.controlPlaneEndpoint?.port).toBe((await host.processes.loadBalancers.describe('default', 'real'))?.port);
    // Assess: the worker's Node, read through the cluster's admin kubeconfig.
    const kubeconfig = await api('GET', '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/real/kubeconfig');
    expect(kubeconfig.status).toBe(200);
    const workload = new KubernetesClient(String(kubeconfig.body));
    const workerName = machines.find((m) => m.metadata.labels?.['clusterless.dev/control-plane'] === undefined)!.status!.nodeRef!.name;
    const node = await waitUntil(
      'the worker Node labelled',
      async () => {
        const n = await workload.get<Node>(`/api/v1/nodes/${workerName}`);
        return n.metadata?.labels?.['node-role.kubernetes.io/gpu'] === '' && n;
      },
      60_000,
    );
    expect(node.metadata?.labels).not.toHaveProperty('app');
    expect(node.metadata?.annotations?.['cluster.x-k8s.io/labels-from-machine']).toBe('node-role.kubernetes.io/gpu');
    expect((node.spec as { taints?: unknown[] }).taints).toContainEqual(gpu);
    const pids = host.processes.pids();
    expect(pids.length).toBe(2);
    // Act: the route behind `clusterless sim interrupt`, on the worker (the provider's side: process-notices.test.ts).
    const warned = machines.find((m) => m.metadata.labels?.['clusterless.dev/control-plane'] === undefined)!;
    const notice = await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${warned.metadata.name}/interrupt`, {});
    // Assess: the notice sent for its instance, recorded on the Machine, and the worker replaced and deleted.
    expect(notice.status, JSON.stringify(notice.body)).toBe(200);
    expect(notice.body.instances).toEqual([expect.objectContaining({ terminationTime: expect.any(String) })]);
    const workerMachine = await waitUntil(
      'the warned worker replaced by a Ready one',
      async () => {
        const list = (await api('GET', '/apis/clusterless.dev/v1alpha1/namespaces/default/machines')).body.items as Machine[];
        const workers = list.filter((m) => m.metadata.labels?.['clusterless.dev/control-plane'] === undefined);
        const fresh = workers.find(
          (m) => m.metadata.uid !== warned.metadata.uid && m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return !workers.some((m) => m.metadata.uid === warned.metadata.uid) && fresh;
      },
      120_000,
    );
    expect((await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${warned.metadata.name}/interrupt`, {})).status, 'a machine that is gone').toBe(
      404,
    );
    // Act: the route behind `clusterless sim kill`, on the replacement (the SIGKILL of programs: process-provider.test.ts).
    const killed = await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${workerMachine.metadata.name}/kill`, {});
    // Assess: its instance reads stopped.
    expect(killed.status).toBe(200);
    expect(killed.body.killed).toHaveLength(1);
    expect((await host.processes.machines.describe('default', 'real')).find((i) => i.instanceId === killed.body.killed[0].instanceId)?.state).toBe('stopped');
    // Act: the host stops.
    await host.close();
    host = undefined;
    // Assess
    expect(pids.filter(alive)).toEqual([]);
  });
});
