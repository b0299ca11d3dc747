/**
 * The workload clusters of the emulated account. moto's instances boot nothing, so no kubelet would ever register a
 * Node and a real control plane would stop at its first machine (it waits for a Ready node before the next). Each
 * cluster's `spec.controlPlaneEndpoint` (127.0.0.1:P, standing for the user's DNS name in front of the control
 * plane's load balancer) is served here by a REAL kube-apiserver (and an etcd of its own) that trusts the cluster's
 * CA, the one the provision function made and keeps in Secrets Manager; so the functions' kubeconfigs, client
 * certificates signed by that CA, authenticate as they would on AWS.
 *
 * A node agent per cluster plays the kubelets and the AWS cloud controller manager: every pollMs it describes the
 * cluster's instances (by the cluster tag) and keeps a Node for each running instance, named after its private DNS
 * name, with spec.providerID aws:///{zone}/{instance id}, healthy (Ready, no pressure) and heartbeating. The Node of
 * an instance that is shutting down, stopping, stopped, terminated or gone is deleted. The deletion of a pod on a
 * running node is confirmed at once, as its kubelet would once the (here absent) containers stopped.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createEc2Client, createSecretsManagerClient } from '../../functions/adapters/aws/clients.js';
import type { Ec2QueryClient, Filter, Instance } from '../../functions/adapters/aws/ec2-query/index.js';
import { errorCode } from '../../functions/adapters/aws/errors.js';
import { TagKeys, clusterTagValue, tagValue } from '../../functions/adapters/aws/tags.js';
import { issueCertificate, issueClientCertificate, parseCertificates } from '../../functions/adapters/kubeadm/index.js';
import { httpStatusOf, loadKubeConfig } from '../../functions/adapters/kubernetes-client/client.js';
import { renderKubeconfig } from '../../functions/bootstrap/kubeconfig.js';
import { secretNames } from '../../functions/bootstrap/names.js';
import type { ClusterCertificates } from '../../functions/bootstrap/pki.js';
import { kubeBinaries, startChild, startEtcd, stopChild, waitFor, type Child, type RunningEtcd } from '../../test/support/kube.js';
import { apiServerFlags } from '../../local/process/kube.js';
import { healthyKubeletConditions } from '../../local/process/kubelet-status.js';
import { REGION } from './account.js';

export interface WorkloadClustersOptions {
  /** moto_server's endpoint: Secrets Manager (the clusters' CAs) and EC2 (their instances), unless ec2Endpoint says otherwise. */
  secretsEndpoint: string;
  /** @default secretsEndpoint */
  ec2Endpoint?: string;
  /** The account's administrator: these calls are the emulation's, not a function's, so they go straight to moto. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where the clusters' etcd data, certificates and kubeconfigs go; removed by stop(). */
  dataDir: string;
  /** How often the CA secret is looked for and the node agents sync (a kubelet's heartbeat). @default 1000 */
  pollMs?: number;
  /**
   * Only instances tagged with this installation are the cluster's (moto_server may hold other installations').
   * @default - any installation
   */
  installationId?: string;
}

/** Instance states whose Node goes (shutting-down, stopping, stopped, terminated, or no instance at all): anything but these. */
const KEEP_STATES = new Set(['pending', 'running']);
/** The serving certificate lives as long as an e2e run can; the CA itself lasts ten years. */
const SERVING_CERT_SECONDS = 7 * 86_400;
/** kubeadm's defaults for the API server's service range and its serving certificate's names (kubeadm certs/certlist.go). */
const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
const SERVING_DNS_NAMES = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
/** The agent's identity: a client certificate from the cluster CA, in system:masters like the control plane's own. */
const AGENT_USER = { commonName: 'clusterless-e2e-node-agent', organizations: ['system:masters'] };

export class WorkloadStoppedError extends Error {
  override name = 'WorkloadStoppedError';
}

interface ServedCluster {
  namespace: string;
  clusterName: string;
  port: number;
  dir: string;
  etcd?: RunningEtcd;
  apiserver?: Child;
  core?: CoreV1Api;
  timer?: NodeJS.Timeout;
  /** serve()'s start-up, awaited by stop() so that no process starts after it. */
  starting?: Promise<void>;
  /** The agent's sync in flight, awaited by stop(). */
  syncing?: Promise<void>;
  /** The last sync's failure, if it failed (moto or the API server not answering); the next sync tries again. */
  lastError?: unknown;
}

/** One real kube-apiserver per served cluster, with the nodes of its running instances. */
export class WorkloadClusters {
  private readonly clusters = new Map<string, ServedCluster>();
  private readonly secrets: SecretsManagerClient;
  private readonly ec2: Ec2QueryClient;
  private readonly pollMs: number;
  private stopped = false;

  private constructor(private readonly options: WorkloadClustersOptions) {
    const config = { region: REGION, credentials: options.credentials };
    this.secrets = createSecretsManagerClient({ ...config, endpoint: options.secretsEndpoint });
    this.ec2 = createEc2Client({ ...config, endpoint: options.ec2Endpoint ?? options.secretsEndpoint });
    this.pollMs = options.pollMs ?? 1000;
  }

  /** Checks that the binaries are built (scripts/build-kube.sh) and makes the data folder; serves nothing yet. */
  static async start(options: WorkloadClustersOptions): Promise<WorkloadClusters> {
    kubeBinaries();
    mkdirSync(options.dataDir, { recursive: true });
    return new WorkloadClusters(options);
  }

  /**
   * Serves the cluster's endpoint 127.0.0.1:port: waits until its CA secret exists (`{secretsNamePrefix}{namespace}/
   * {cluster}/certificates`, SECRETS_NAME_PREFIX of the functions), then starts etcd and kube-apiserver and the node
   * agent. Resolves once the API server is ready; rejects with WorkloadStoppedError when stop() comes first.
   */
  async serve(namespace: string, clusterName: string, port: number, secretsNamePrefix: string): Promise<void> {
    const key = `${namespace}/${clusterName}`;
    if (this.stopped) throw new WorkloadStoppedError(`cannot serve ${key}: stopped`);
    if (this.clusters.has(key)) throw new Error(`${key} is served already`);
    const cluster: ServedCluster = { namespace, clusterName, port, dir: join(this.options.dataDir, namespace, clusterName) };
    this.clusters.set(key, cluster);
    cluster.starting = (async () => {
      const certificates = await this.waitForCertificates(secretNames(secretsNamePrefix).certificates(namespace, clusterName));
      await this.startApiserver(cluster, certificates);
    })();
    try {
      await cluster.starting;
    } catch (err) {
      if (this.stopped) throw new WorkloadStoppedError(`stopped while ${key} started`, { cause: err });
      // Nothing of a cluster that failed to start is left running; serve() may be called for it again.
      await stopProcesses(cluster);
      this.clusters.delete(key);
      throw err;
    }
    if (this.stopped) throw new WorkloadStoppedError(`stopped while ${key} started`);
    this.scheduleSync(cluster, 0);
  }

  /** `https://127.0.0.1:{port}` of a cluster given to serve(); undefined for any other. */
  apiserverUrl(namespace: string, clusterName: string): string | undefined {
    const cluster = this.clusters.get(`${namespace}/${clusterName}`);
    return cluster ? `https://127.0.0.1:${cluster.port}` : undefined;
  }

  /** The names of the cluster's Nodes, read from its API server (empty before the server is up). */
  async nodes(namespace: string, clusterName: string): Promise<string[]> {
    const core = this.clusters.get(`${namespace}/${clusterName}`)?.core;
    if (!core) return [];
    return (await listNodes(core)).map((n) => n.metadata!.name!).sort();
  }

  /** Why the cluster's last node sync failed, if it did (a diagnostic for a scenario that waits in vain). */
  lastSyncError(namespace: string, clusterName: string): unknown {
    return this.clusters.get(`${namespace}/${clusterName}`)?.lastError;
  }

  /** Stops every agent, API server and etcd, then removes the data folder. */
  async stop(): Promise<void> {
    this.stopped = true;
    const clusters = [...this.clusters.values()];
    await Promise.all(clusters.map((c) => c.starting?.catch(() => {})));
    for (const c of clusters) clearTimeout(c.timer);
    await Promise.all(clusters.map((c) => c.syncing?.catch(() => {})));
    await Promise.all(clusters.map(stopProcesses));
    this.secrets.destroy();
    this.ec2.destroy();
    rmSync(this.options.dataDir, { recursive: true, force: true });
  }

  private async waitForCertificates(secretId: string): Promise<ClusterCertificates> {
    for (;;) {
      if (this.stopped) throw new WorkloadStoppedError(`stopped while waiting for ${secretId}`);
      try {
        const value = await this.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
        const text = value.SecretBinary ? Buffer.from(value.SecretBinary).toString('utf8') : (value.SecretString ?? '');
        return parseCertificates(text);
      } catch (err) {
        if (errorCode(err) !== 'ResourceNotFoundException') throw err;
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private async startApiserver(cluster: ServedCluster, certs: ClusterCertificates): Promise<void> {
    const pki = join(cluster.dir, 'pki');
    mkdirSync(pki, { recursive: true });
    const now = new Date();
    // A serving certificate from the cluster CA, as kubeadm's apiserver.crt: the functions' kubeconfigs pin that CA.
    const serving = await issueCertificate(
      certs.ca,
      { subject: { commonName: 'kube-apiserver' }, extendedKeyUsages: ['serverAuth'], dnsNames: SERVING_DNS_NAMES, ipAddresses: ['127.0.0.1'] },
      now,
      SERVING_CERT_SECONDS,
    );
    const agent = await issueClientCertificate(certs.ca, AGENT_USER, now, SERVING_CERT_SECONDS);
    const files = {
      ca: join(pki, 'ca.crt'),
      cert: join(pki, 'apiserver.crt'),
      key: join(pki, 'apiserver.key'),
      saPub: join(pki, 'sa.pub'),
      saKey: join(pki, 'sa.key'),
    };
    writeFileSync(files.ca, certs.ca.cert);
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key, { mode: 0o600 });
    writeFileSync(files.saPub, certs.serviceAccount.pub);
    writeFileSync(files.saKey, certs.serviceAccount.key, { mode: 0o600 });

    cluster.etcd = await startEtcd({ dir: join(cluster.dir, 'etcd') });
    if (this.stopped) return;
    const apiserver = startChild(
      kubeBinaries().kubeApiserver,
      apiServerFlags({
        etcdServers: cluster.etcd.url,
        port: cluster.port,
        certDir: pki,
        cert: files.cert,
        key: files.key,
        clientCa: files.ca,
        serviceAccountPub: files.saPub,
        serviceAccountKey: files.saKey,
        serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
      }),
    );
    cluster.apiserver = apiserver;
    const client = { ca: certs.ca.cert, ...agent };
    await waitFor(`kube-apiserver of ${cluster.namespace}/${cluster.clusterName} on 127.0.0.1:${cluster.port}`, apiserver, 90_000, async () => {
      // stop() waits for this start-up to end: end it at once.
      if (this.stopped) return true;
      return (await readyz(cluster.port, client)) === 200;
    });
    const kubeconfig = renderKubeconfig({
      clusterName: cluster.clusterName,
      endpoint: { host: '127.0.0.1', port: cluster.port },
      caCert: certs.ca.cert,
      client: agent,
    });
    writeFileSync(join(cluster.dir, 'node-agent.kubeconfig'), kubeconfig, { mode: 0o600 });
    cluster.core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  }

  private scheduleSync(cluster: ServedCluster, delayMs: number): void {
    if (this.stopped) return;
    cluster.timer = setTimeout(() => {
      cluster.syncing = this.sync(cluster)
        .then(
          () => (cluster.lastError = undefined),
          (err: unknown) => (cluster.lastError = err),
        )
        .then(() => this.scheduleSync(cluster, this.pollMs));
    }, delayMs);
  }

  /** One pass of the kubelets and the cloud controller manager's node lifecycle controller over the cluster. */
  private async sync(cluster: ServedCluster): Promise<void> {
    const core = cluster.core!;
    const instances = await this.instancesOf(cluster.namespace, cluster.clusterName);
    const nodes = await listNodes(core);
    const now = new Date();
    const byId = new Map(instances.map((i) => [i.InstanceId!, i]));

    // Note: as the node lifecycle controller (k8s.io/cloud-provider controllers/nodelifecycle), by the instance
    // the providerID names, never by the Node's name; a Node without an AWS providerID is nobody's to delete.
    for (const node of nodes) {
      const instanceId = instanceIdOf(node.spec?.providerID);
      if (!instanceId) continue;
      const instance = byId.get(instanceId);
      if (instance && KEEP_STATES.has(instance.State?.Name ?? '')) continue;
      try {
        await core.deleteNode({ name: node.metadata!.name! });
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw err;
      }
    }

    const existing = new Map(nodes.map((n) => [n.metadata!.name!, n]));
    const kubelets = new Set<string>();
    for (const instance of instances) {
      if (instance.State?.Name !== 'running' || !instance.PrivateDnsName) continue;
      const name = instance.PrivateDnsName;
      kubelets.add(name);
      let node = existing.get(name);
      if (!node) {
        try {
          node = await core.createNode({ body: nodeOf(instance, name) });
        } catch (err) {
          if (httpStatusOf(err) !== 409) throw err;
          node = await core.readNode({ name });
        }
      }
      await core.patchNodeStatus(
        { name, body: { status: { conditions: healthyKubeletConditions(node.status?.conditions, now), addresses: addressesOf(instance, name) } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    }

    // A kubelet confirms the deletion of its pods once their containers stopped (a graceful delete leaves the pod
    // until then; kubelet pkg/kubelet/status/status_manager.go deletes it with grace period 0). No container runs
    // here, so at once: an evicted pod goes and a drain completes as on a real node.
    for (const pod of await listPods(core)) {
      if (!pod.metadata?.deletionTimestamp || !kubelets.has(pod.spec?.nodeName ?? '')) continue;
      try {
        await core.deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, gracePeriodSeconds: 0 });
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw err;
      }
    }
  }

  /** Every instance of the cluster, whatever its state (DescribeInstances by the cluster tag, every page). */
  private async instancesOf(namespace: string, clusterName: string): Promise<Instance[]> {
    const filters: Filter[] = [{ Name: `tag:${TagKeys.cluster}`, Values: [clusterTagValue(namespace, clusterName)] }];
    if (this.options.installationId) filters.push({ Name: `tag:${TagKeys.installation}`, Values: [this.options.installationId] });
    const instances: Instance[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ec2.describeInstances({ Filters: filters, ...(NextToken ? { NextToken } : {}) });
      for (const r of page.Reservations ?? []) instances.push(...(r.Instances ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return instances;
  }
}

/** The instance id of an AWS providerID (aws:///{zone}/{id}, as functions/adapters/ec2 writes it); undefined otherwise. */
function instanceIdOf(providerID: string | undefined): string | undefined {
  return providerID?.startsWith('aws://') ? /\/(i-[0-9a-f]+)$/.exec(providerID)?.[1] : undefined;
}

async function listNodes(core: CoreV1Api): Promise<V1Node[]> {
  const nodes: V1Node[] = [];
  let _continue: string | undefined;
  do {
    const page = await core.listNode({ limit: 500, ...(_continue ? { _continue } : {}) });
    nodes.push(...page.items);
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  return nodes;
}

/** The pods bound to a node, every page. */
async function listPods(core: CoreV1Api): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  let _continue: string | undefined;
  do {
    const page = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=', limit: 500, ...(_continue ? { _continue } : {}) });
    pods.push(...page.items);
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  return pods;
}

/**
 * The Node a kubelet registers for the instance, with the labels the kubelet and the cloud controller manager put
 * on it (kubelet's well-known labels; kubeadm's control-plane role label) and the providerID the machine records.
 */
function nodeOf(instance: Instance, name: string): V1Node {
  const zone = instance.Placement?.AvailabilityZone ?? '';
  const controlPlane = tagValue(instance.Tags, TagKeys.role) === 'control-plane';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        ...(instance.InstanceType ? { 'node.kubernetes.io/instance-type': instance.InstanceType } : {}),
        ...(zone ? { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': REGION } : {}),
        ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
    },
    spec: { providerID: `aws:///${zone}/${instance.InstanceId!}` },
  };
}

function addressesOf(instance: Instance, name: string): { type: string; address: string }[] {
  return [
    ...(instance.PrivateIpAddress ? [{ type: 'InternalIP', address: instance.PrivateIpAddress }] : []),
    { type: 'InternalDNS', address: name },
    { type: 'Hostname', address: name },
  ];
}

/** Stops the API server, then its etcd (each only if it was started). */
async function stopProcesses(cluster: ServedCluster): Promise<void> {
  if (cluster.apiserver) await stopChild(cluster.apiserver.process);
  await cluster.etcd?.stop();
}

/** GET /readyz with the agent's client certificate, verifying the server against the cluster CA. */
function readyz(port: number, client: { ca: string; cert: string; key: string }): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', method: 'GET', ...client, timeout: 3000 }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
