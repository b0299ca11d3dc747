/**
 * The emulated account's workload clusters (e2e/aws/workload.ts) against real moto_server and the real etcd and
 * kube-apiserver: the cluster's CA made and stored by the kubeadm adapter in Secrets Manager under its real name,
 * instances run in moto with the cluster's tags, and the Nodes read, cordoned and drained through the kubeconfig the
 * control plane itself uses (KubeadmBootstrapper.workloadKubeconfig) with the repository's node reader and drainer.
 * One cluster (one etcd, one kube-apiserver) for the file.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import type { ClusterSpec } from '../../functions/api/cluster.js';
import { TagKeys, clusterTagValue } from '../../functions/adapters/aws/tags.js';
import { Ec2MachineProvider } from '../../functions/adapters/ec2/index.js';
import { KubeadmBootstrapper, generateClusterCertificates, issueClientCertificate } from '../../functions/adapters/kubeadm/index.js';
import { KubernetesNodeDrainer, KubernetesNodeReader, loadKubeConfig } from '../../functions/adapters/kubernetes/index.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../functions/adapters/secrets/index.js';
import { renderKubeconfig } from '../../functions/bootstrap/kubeconfig.js';
import { NODE_HEALTH } from '../../functions/core/machine/node-conditions.js';
import type { InstanceFact, NodeFact } from '../../functions/core/observed.js';
import { NodeReaderUnavailableError, systemClock } from '../../functions/ports.js';
import { WorkloadClusters, WorkloadStoppedError } from '../../e2e/aws/workload.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from '../support/ec2.js';
import { freePort } from '../support/free-port.js';
import { waitUntil } from '../support/wait.js';

const moto = motoEndpoint();
const ec2 = motoEc2Client(moto);
const secretsClient = createSecretsManagerClient(emulatorClientConfig(moto));

const installationId = uniqueName('workload');
const namespace = 'team-a';
const clusterName = uniqueName('wl').slice(0, 40);
const secretPrefix = `clusterless/${installationId}/`;
const dataDir = mkdtempSync(join(tmpdir(), 'clusterless-workload-'));

let network: MotoNetwork;
let port: number;
let spec: ClusterSpec;
let bootstrap: KubeadmBootstrapper;
let provider: Ec2MachineProvider;
let workload: WorkloadClusters;
let reader: KubernetesNodeReader;

/** An instance of a cluster as clusterless launches it (the tags the EC2 provider puts on), in a zone of its own. */
async function runInstance(cluster: string, zone: number, role: 'control-plane' | 'worker'): Promise<string> {
  const tags = {
    [TagKeys.installation]: installationId,
    [TagKeys.cluster]: clusterTagValue(namespace, cluster),
    [TagKeys.machineUid]: randomUUID(),
    [TagKeys.machineName]: `${cluster}-${role}-${zone}`,
    [TagKeys.role]: role,
  };
  const r = await ec2.runInstances({
    ImageId: network.ami,
    InstanceType: 't3.small',
    MinCount: 1,
    MaxCount: 1,
    SubnetId: network.subnets[zone]!.id,
    TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
  });
  return r.Instances![0]!.InstanceId!;
}

const byName = (a: { name?: string }, b: { name?: string }) => (a.name ?? '').localeCompare(b.name ?? '');
const internalDns = (i: InstanceFact) => i.addresses?.find((a) => a.type === 'InternalDNS')?.address;

beforeAll(async () => {
  network = await createMotoNetwork(ec2);
  port = await freePort();
  // The only part of the spec workloadKubeconfig reads: the endpoint the scenario gives every cluster.
  spec = { controlPlaneEndpoint: { host: '127.0.0.1', port } } as ClusterSpec;
  bootstrap = new KubeadmBootstrapper({
    secrets: new SecretsManagerSecretStore({ client: secretsClient, installationId }),
    clock: systemClock,
    secretPrefix,
  });
  provider = new Ec2MachineProvider({ client: ec2, installationId, clock: systemClock });
  workload = await WorkloadClusters.start({
    secretsEndpoint: moto,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    dataDir,
    pollMs: 200,
    installationId,
  });
  // serve() first: it waits for the CA the provision function makes (here the adapter's ensureCertificates).
  const serving = workload.serve(namespace, clusterName, port, secretPrefix);
  await bootstrap.ensureCertificates(namespace, clusterName);
  await serving;
  reader = new KubernetesNodeReader({ kubeconfigFor: (ns, name) => bootstrap.workloadKubeconfig(ns, name, spec) });
}, 180_000);

afterAll(async () => {
  await workload?.stop();
  ec2.destroy();
  secretsClient.destroy();
});

describe('WorkloadClusters', () => {
  it('serves the endpoint with the cluster CA: the control plane lists the Nodes of the running instances, healthy, with their providerID', async () => {
    // Prepare
    await runInstance(clusterName, 0, 'control-plane');
    await runInstance(clusterName, 1, 'worker');
    await runInstance(uniqueName('other'), 2, 'worker');
    const instances = await provider.describe(namespace, clusterName);
    expect(instances).toHaveLength(2);

    // Act
    const nodes = await waitUntil('two nodes', async () => {
      const n = await reader.listNodes(namespace, clusterName);
      return n.length === 2 && n.every((x) => x.conditions.some((c) => c.type === 'Ready')) && n;
    });

    // Assess: named after the private DNS name, with the providerID the machine records (the EC2 provider's).
    expect(nodes.map((n) => ({ name: n.name, providerID: n.providerID })).sort(byName)).toEqual(
      instances.map((i) => ({ name: internalDns(i), providerID: i.providerID })).sort(byName),
    );
    // Healthy as a machine's NodeHealthy reads it: Ready True, every pressure False.
    for (const n of nodes)
      expect(Object.fromEntries(NODE_HEALTH.map((type) => [type, n.conditions.find((c) => c.type === type)?.status]))).toEqual({
        Ready: 'True',
        MemoryPressure: 'False',
        DiskPressure: 'False',
        PIDPressure: 'False',
      });
    expect(await workload.nodes(namespace, clusterName)).toEqual(nodes.map((n) => n.name).sort());
    expect(workload.apiserverUrl(namespace, clusterName)).toBe(`https://127.0.0.1:${port}`);
  });

  it('keeps the Ready condition fresh, as a kubelet heartbeat', async () => {
    // Prepare
    const kubeconfig = (await bootstrap.workloadKubeconfig(namespace, clusterName, spec))!;
    const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
    const name = (await workload.nodes(namespace, clusterName))[0]!;
    const heartbeat = async () => (await core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime?.getTime();
    const first = (await heartbeat())!;

    // Act, Assess: metav1.Time has whole seconds, so a later beat shows within a few syncs.
    const later = await waitUntil('a later heartbeat', async () => {
      const t = await heartbeat();
      return t !== undefined && t > first && t;
    });
    expect(later).toBeGreaterThan(first);
  });

  it('lets the control plane cordon a node and evict its pods (system:masters), and the kubelet confirms the eviction', async () => {
    // Prepare: a pod bound to the node, made by the admin a user downloads.
    const name = (await workload.nodes(namespace, clusterName))[0]!;
    const admin = loadKubeConfig((await bootstrap.adminKubeconfig(namespace, clusterName, spec))!).makeApiClient(CoreV1Api);
    await admin.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'app' }, spec: { nodeName: name, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } },
    });
    const drainer = new KubernetesNodeDrainer({ kubeconfigFor: (ns, n) => bootstrap.workloadKubeconfig(ns, n, spec) });

    // Act
    const first = await drainer.drain(namespace, clusterName, name);
    const last = await waitUntil('a drained node', async () => {
      const pass = await drainer.drain(namespace, clusterName, name);
      return pass.drained && pass;
    });

    // Assess
    expect(first.message).toContain('evicted 1 pod');
    expect((await admin.readNode({ name })).spec?.unschedulable).toBe(true);
    expect(last.message).toBe(`node ${name} drained`);
    expect((await admin.listNamespacedPod({ namespace: 'default' })).items).toEqual([]);
  });

  it('refuses a client certificate that another CA signed', async () => {
    // Prepare: the server is trusted (the cluster CA) but the client's certificate is from another cluster's CA.
    const certs = (await bootstrap.certificates(namespace, clusterName))!;
    const other = await generateClusterCertificates(new Date(), 'ecdsa-p256');
    const client = await issueClientCertificate(other.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, new Date(), 600);
    const kubeconfig = renderKubeconfig({ clusterName, endpoint: { host: '127.0.0.1', port }, caCert: certs.ca.cert, client });
    const stranger = new KubernetesNodeReader({ kubeconfigFor: () => kubeconfig });

    // Act
    const refused = await stranger.listNodes(namespace, clusterName).then(
      () => undefined,
      (err: unknown) => err,
    );

    // Assess
    expect(refused).toBeInstanceOf(NodeReaderUnavailableError);
    expect((refused as Error).message).toMatch(/401/);
  });

  it("deletes a Node when its instance is terminated, as the cloud controller manager's node lifecycle controller", async () => {
    // Prepare
    const instances = await provider.describe(namespace, clusterName);
    const [gone, kept] = instances as [InstanceFact, InstanceFact];

    // Act
    await provider.delete({ namespace, clusterName, machineUid: gone.machineUid, instanceId: gone.instanceId });

    // Assess
    const nodes = await waitUntil('the node of the terminated instance deleted', async () => {
      const n: NodeFact[] = await reader.listNodes(namespace, clusterName);
      return n.length === 1 && n;
    });
    expect(nodes.map((n) => n.providerID)).toEqual([kept.providerID]);
  });

  it('stop() ends a serve() that still waits for the CA, and starts nothing', async () => {
    // Prepare: a cluster whose certificates are never made.
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-workload-'));
    const idle = await WorkloadClusters.start({
      secretsEndpoint: moto,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      dataDir: dir,
      pollMs: 100,
    });
    const serving = idle.serve(namespace, uniqueName('never'), await freePort(), secretPrefix);
    const outcome = serving.then(
      () => 'served',
      (err: unknown) => err,
    );

    // Act
    await idle.stop();

    // Assess
    expect(await outcome).toBeInstanceOf(WorkloadStoppedError);
    expect(existsSync(dir)).toBe(false);
  });

  it('stop() ends every etcd and kube-apiserver it started and removes the data folder', async () => {
    // Prepare
    const children = () =>
      execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim())
        .filter((c) => c === 'etcd' || c === 'kube-apiserver')
        .sort();
    expect(children()).toEqual(['etcd', 'kube-apiserver']);

    // Act
    await workload.stop();

    // Assess
    expect(children()).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
    await expect(reader.listNodes(namespace, clusterName)).rejects.toBeInstanceOf(NodeReaderUnavailableError);
  });
});
