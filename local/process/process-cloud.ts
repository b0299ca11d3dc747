/**
 * The process provider's world: machines that are real programs on this host. A control-plane machine is one etcd
 * member and one kube-apiserver, stacked as kubeadm stacks them; a worker is a Node that a node agent of ours keeps
 * heartbeating. A control-plane load balancer is a TCP proxy on 127.0.0.1. Everything is under one folder of the
 * data folder: the state (state.ts), each machine's certificates, etcd data and logs (`machines/{instanceId}/`).
 *
 * - A launch is idempotent by machine uid (adoption); the instance is pending until its programs answer, then
 *   running. The first control-plane machine of a cluster starts a new etcd cluster; every later one joins as
 *   kubeadm joins (kubeadm app/phases/etcd/local.go CreateStackedEtcdStaticPodManifestFile): a member add on the
 *   existing members, then a start with `--initial-cluster-state existing` and every member in `--initial-cluster`.
 *   The provider never removes an etcd member: the control plane's planner does.
 * - At start the programs of running and pending instances start again, as an instance that reboots: etcd keeps its
 *   data folder and rejoins as the member it was. Programs a crashed host left behind are killed first, only when
 *   their command line names this folder.
 * - `kill` (SIGKILL) leaves an instance `stopped`: its programs are gone and do not come back at the next start,
 *   as a machine that lost power; its Node stops heartbeating and goes Ready=Unknown 40 s later.
 * - `notice` plays EC2's spot notices for a machine's live instances, as the simulated cloud does for its own: each
 *   is told to `onInterruptionNotice` (the host records it on the Machine), and a warned instance is reclaimed when
 *   its notice ends (its programs killed, as `kill`). The reclaim time is kept with the instance, so a restart of
 *   the host keeps it; an instance whose time passed while the host was down is not started again.
 * - The node agent plays the kubelets (each Node registered and updated with the node's own certificate,
 *   system:node:NAME, so the Node authorizer and NodeRestriction apply; a Lease in kube-node-lease), kubeadm's
 *   mark-control-plane phase (the control-plane role label), the cloud node lifecycle controller (the Node of an
 *   instance that is terminated or gone is deleted: k8s.io/cloud-provider controllers/nodelifecycle) and
 *   kube-controller-manager's node lifecycle controller, which does not run here (a Node whose heartbeat is older
 *   than the 40 s node-monitor-grace-period gets Unknown conditions: pkg/controller/nodelifecycle/
 *   node_lifecycle_controller.go tryUpdateNodeHealth).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { issueClientCertificate, type ClusterCertificates } from '../../functions/adapters/kubeadm/index.js';
import type { SimInterruptionNotice } from '../../functions/adapters/sim/index.js';
import { KubernetesClient, httpStatusOf, resourcePath } from '../../functions/adapters/kubernetes-client/rest-client.js';
import type { Node } from '../../functions/adapters/kubernetes-client/types.js';
import type { InstanceFact } from '../../functions/core/observed.js';
import { clusterNetwork, type ClusterSpec } from '../../functions/api/cluster.js';
import { kubeadmInitObjects } from '../../functions/bootstrap/kubeadm-upgrade.js';
import {
  InvalidSpecError,
  ThrottledError,
  type InstanceDeletion,
  type LaunchSpec,
  type MachineProvider,
  type ManagedLoadBalancerFact,
  type ManagedLoadBalancers,
  type ManagedLoadBalancerSpec,
  type TargetGroupRegistrations,
  type TargetGroupTarget,
} from '../../functions/ports.js';
import { EtcdClient, type EtcdCredentials } from '../../functions/adapters/etcd/client.js';
import { healthyKubeletConditions, rfc3339 } from './kubelet-status.js';
import { apiServerFlags, buildKubeBinaries, freePort, kubeBinaries, startChild, stopChild, waitFor, type Child } from './kube.js';
import { LEAF_CERT_SECONDS, SERVICE_CLUSTER_IP_RANGE, kubeletCredentials, pkiFiles, writeControlPlanePki, type PkiFiles } from './pki.js';
import { readState, writeState, type ProcessInstance, type ProcessLoadBalancer, type ProcessState } from './state.js';

/** The resources of the kinds kubeadm init uploads. */
const INIT_OBJECT_PLURALS: Record<string, string> = { ConfigMap: 'configmaps', DaemonSet: 'daemonsets', Deployment: 'deployments', Service: 'services' };

/** kube-controller-manager's --node-monitor-grace-period default. */
export const NODE_MONITOR_GRACE_SECONDS = 40;
/** The kubelet's nodeStatusUpdateFrequency and node lease renewal default. */
export const HEARTBEAT_SECONDS = 10;
/** How long a terminated instance is still listed, as EC2 lists one for about an hour. */
const TERMINATED_RETENTION_MS = 3_600_000;
/** How long a program has to answer after it starts. */
const START_TIMEOUT_MS = 90_000;
/** Between two tries of a boot that failed (etcd of the cluster not answering, the certificates not made yet). */
const BOOT_RETRY_MS = 5_000;

export const PROVIDER_ID_SCHEME = 'process://';

/** `process://{namespace}/{cluster}/{instanceId}`. */
export const processProviderID = (i: Pick<ProcessInstance, 'namespace' | 'clusterName' | 'instanceId'>): string =>
  `${PROVIDER_ID_SCHEME}${i.namespace}/${i.clusterName}/${i.instanceId}`;

const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** The identity of the node agent's controllers: the control plane's own, as kube-controller-manager's is. */
const CONTROLLERS_USER = { commonName: 'clusterless:process-node-lifecycle', organizations: ['system:masters'] };

export interface ClusterCertificateSource {
  /** The cluster's certificates as the kubeadm bootstrap made them; undefined before the first machine's prepare. */
  certificates(namespace: string, clusterName: string): Promise<ClusterCertificates | undefined>;
}

/** A spot notice for a process instance, as the simulated cloud tells one; a warning's with its reclaim time (ISO 8601, this host's time). */
export type ProcessInterruptionNotice = SimInterruptionNotice & { reclaimAt?: string };

export interface ProcessCloudOptions {
  /** The provider's folder (the data folder's `process/`). */
  dir: string;
  ca: ClusterCertificateSource;
  /** Recorded on every instance and load balancer; only those of this installation are seen. */
  installationId?: string;
  /** An instance changed state (running, stopped, terminated): the host reconciles its cluster. */
  onInstanceStateChange?: (change: { namespace: string; clusterName: string; instanceId: string; state: string }) => void;
  /** A spot notice was sent (`notice`): the host records it on the machine, as the instance-events function does. Must not throw. */
  onInterruptionNotice?: (notice: ProcessInterruptionNotice) => void;
  log?: (line: string) => void;
  /** @default HEARTBEAT_SECONDS * 1000 */
  heartbeatMs?: number;
  /** @default NODE_MONITOR_GRACE_SECONDS * 1000 */
  nodeMonitorGraceMs?: number;
  /** Build kube-apiserver and etcd when they are not built (scripts/build-kube.sh). @default true */
  buildBinaries?: boolean;
}

interface Running {
  children: Child[];
  /** The boot in flight. */
  booting?: Promise<void>;
}

export class ProcessCloud {
  private state: ProcessState;
  private readonly statePath: string;
  private readonly running = new Map<string, Running>();
  private readonly servers = new Map<string, Server>();
  private readonly clients = new Map<string, { key: string; client: KubernetesClient }>();
  private saving: Promise<void> = Promise.resolve();
  private launching: Promise<unknown> = Promise.resolve();
  private agentTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private closed = false;
  private readonly roundRobin = new Map<string, number>();
  private readonly lastAgentError = new Map<string, string>();
  /** The reclaim timers of warned instances, by instance id. */
  private readonly reclaims = new Map<string, NodeJS.Timeout>();
  readonly machines: MachineProvider;
  readonly loadBalancers: ManagedLoadBalancers;
  readonly targetGroups: TargetGroupRegistrations;

  private constructor(private readonly options: ProcessCloudOptions) {
    this.statePath = join(options.dir, 'state.json');
    this.state = readState(this.statePath);
    this.machines = {
      create: (spec) => this.create(spec),
      describe: async (namespace, clusterName) => this.instancesOf(namespace, clusterName).map(factOf),
      delete: (target) => this.delete(target),
    };
    this.loadBalancers = {
      describe: async (namespace, clusterName) => this.describeLoadBalancer(namespace, clusterName),
      targetGroupArn: async (namespace, clusterName) => (this.loadBalancerOf(namespace, clusterName) ? targetGroupArn(namespace, clusterName) : undefined),
      // The proxy and its targets are one record: nothing is left when it is gone.
      hasLeftovers: async () => false,
      ensure: (spec) => this.ensureLoadBalancer(spec),
      delete: (namespace, clusterName) => this.deleteLoadBalancer(namespace, clusterName),
      checkTargetGroup: async (arn, namespace, clusterName) => {
        if (arn !== targetGroupArn(namespace, clusterName) || !this.loadBalancerOf(namespace, clusterName))
          throw new InvalidSpecError(`target group ${arn} is not the process load balancer of ${namespace}/${clusterName}`);
      },
    };
    this.targetGroups = {
      register: (arn, target) => this.setTarget(arn, target, true),
      deregister: (arn, target) => this.setTarget(arn, target, false),
    };
  }

  /**
   * Reads the state, kills what a crashed host left running, listens on the load balancers' ports, starts the
   * programs of running and pending instances again and the node agent.
   */
  static async start(options: ProcessCloudOptions): Promise<ProcessCloud> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const cloud = new ProcessCloud(options);
    await cloud.killLeftovers();
    for (const lb of cloud.state.loadBalancers) await cloud.listen(lb);
    // A warned instance whose notice ended while the host was down was reclaimed meanwhile: it does not start again.
    const reclaimed = cloud.state.instances.filter((i) => isLive(i) && i.reclaimAt !== undefined && Date.parse(i.reclaimAt) <= Date.now());
    for (const i of reclaimed) i.state = 'stopped';
    if (reclaimed.length) await cloud.save();
    for (const i of reclaimed) cloud.notify(i);
    for (const i of cloud.state.instances) if (isLive(i)) cloud.boot(i);
    for (const i of cloud.state.instances) if (isLive(i) && i.reclaimAt !== undefined) cloud.scheduleReclaim(i);
    cloud.scheduleAgent(0);
    return cloud;
  }

  /** Stops the node agent, every program (SIGTERM, then SIGKILL) and the load balancers; the state stays as it is. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.agentTimer);
    for (const t of this.reclaims.values()) clearTimeout(t);
    this.reclaims.clear();
    await this.syncing?.catch(() => {});
    await Promise.all([...this.running.values()].map((r) => r.booting?.catch(() => {})));
    await Promise.all([...this.running.keys()].map((id) => this.stopPrograms(id)));
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
    await this.saving;
  }

  /** Resolves once every boot in flight has ended (its programs answer, or it gave up for good). */
  async settled(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.booting?.catch(() => {})));
  }

  /** The pids of every program running now (tests check that none is left after close). */
  pids(): number[] {
    return [...this.running.values()].flatMap((r) => r.children.map((c) => c.process.pid).filter((p): p is number => p !== undefined));
  }

  /** An instance as kept (tests and the host's routes). */
  instance(instanceId: string): Readonly<ProcessInstance> | undefined {
    return this.state.instances.find((i) => i.instanceId === instanceId && this.owns(i));
  }

  /**
   * Kills the programs of a machine's instances (SIGKILL), as a machine that loses power: the instances read
   * `stopped` from then on, and are not started again. Returns the instances killed.
   */
  async kill(namespace: string, machineName: string): Promise<ProcessInstance[]> {
    const killed = this.state.instances.filter((i) => this.owns(i) && i.namespace === namespace && i.machineName === machineName && isLive(i));
    await this.killInstances(killed);
    return killed;
  }

  /** SIGKILL to the instances' programs; they read `stopped`. */
  private async killInstances(instances: ProcessInstance[]): Promise<void> {
    for (const i of instances) {
      for (const c of this.running.get(i.instanceId)?.children ?? []) c.process.kill('SIGKILL');
      i.state = 'stopped';
    }
    await this.save();
    for (const i of instances) this.notify(i);
  }

  /**
   * Sends a spot notice for the live (pending or running) instances of a machine (its uid: a machine made again
   * under the name is another), as EC2 sends one for a spot instance: told to onInterruptionNotice with the
   * machine's identity. A warning is sent once per instance (one already warned keeps its first) and reclaims the
   * instance `reclaimAfterMs` later; a rebalance recommendation changes nothing here. Returns the notices sent now.
   */
  async notice(
    machine: { namespace: string; machineName: string; machineUid: string },
    kind: ProcessInterruptionNotice['kind'],
    options: { at: Date; reclaimAfterMs: number },
  ): Promise<ProcessInterruptionNotice[]> {
    const warning = kind === 'SpotInterruptionWarning';
    const targets = this.state.instances.filter(
      (i) =>
        this.owns(i) &&
        i.namespace === machine.namespace &&
        i.machineName === machine.machineName &&
        i.machineUid === machine.machineUid &&
        isLive(i) &&
        !(warning && i.interruptionNoticeAt !== undefined),
    );
    const at = options.at.toISOString();
    const reclaimAt = new Date(Date.now() + options.reclaimAfterMs).toISOString();
    if (warning && targets.length) {
      for (const i of targets) Object.assign(i, { interruptionNoticeAt: at, reclaimAt });
      await this.save();
      for (const i of targets) this.scheduleReclaim(i);
    }
    const sent = targets.map((i) => ({
      instanceId: i.instanceId,
      machineUid: i.machineUid,
      machineName: i.machineName,
      namespace: i.namespace,
      clusterName: i.clusterName,
      kind,
      at,
      ...(warning ? { reclaimAt } : {}),
    }));
    for (const n of sent) this.options.onInterruptionNotice?.(n);
    return sent;
  }

  /** Kills the programs of a warned instance at its reclaim time, if it is still live then. */
  private scheduleReclaim(i: ProcessInstance): void {
    clearTimeout(this.reclaims.get(i.instanceId));
    const timer = setTimeout(
      () => {
        this.reclaims.delete(i.instanceId);
        if (this.closed || !isLive(i)) return;
        this.log(`process: ${i.namespace}/${i.machineName} (${i.instanceId}) reclaimed at the end of its spot interruption warning`);
        void this.killInstances([i]).catch((err: unknown) => this.log(`warn process: ${i.instanceId} not reclaimed: ${(err as Error).message}`));
      },
      Math.max(0, Date.parse(i.reclaimAt!) - Date.now()),
    );
    timer.unref();
    this.reclaims.set(i.instanceId, timer);
  }

  /** The client URLs of the cluster's etcd members that run here (for an EtcdMembership over them). */
  etcdEndpoints(namespace: string, clusterName: string): string[] {
    return this.instancesOf(namespace, clusterName)
      .filter((i) => i.role === 'control-plane' && i.state === 'running' && i.ports)
      .map((i) => `https://127.0.0.1:${i.ports!.etcdClient}`);
  }

  /** An etcd client certificate of the cluster (the API server's, from its first control-plane machine). */
  etcdCredentials(namespace: string, clusterName: string): EtcdCredentials | undefined {
    const cp = this.instancesOf(namespace, clusterName).find((i) => i.role === 'control-plane' && existsSync(pkiFiles(this.pkiDir(i)).apiserverEtcdClient.key));
    return cp && this.etcdTls(pkiFiles(this.pkiDir(cp)));
  }

  /** `https://127.0.0.1:{port}` of the cluster's API: its load balancer, or else a running control-plane machine's API server. */
  apiServerOf(namespace: string, clusterName: string): string | undefined {
    const lb = this.loadBalancerOf(namespace, clusterName);
    if (lb && this.servers.get(lbKey(lb))?.listening) return `https://127.0.0.1:${lb.port}`;
    const cp = this.instancesOf(namespace, clusterName).find((i) => i.role === 'control-plane' && i.state === 'running' && i.ports);
    return cp && `https://127.0.0.1:${cp.ports!.apiserver}`;
  }

  // -------------------------------------------------------------------------------------------------------
  // Machines

  private owns(i: { installationId?: string }): boolean {
    return i.installationId === this.options.installationId;
  }

  private instancesOf(namespace: string, clusterName: string): ProcessInstance[] {
    return this.state.instances.filter((i) => this.owns(i) && i.namespace === namespace && i.clusterName === clusterName);
  }

  private machineDir(i: ProcessInstance): string {
    return join(this.options.dir, 'machines', i.instanceId);
  }

  private pkiDir(i: ProcessInstance): string {
    return join(this.machineDir(i), 'pki');
  }

  private async create(spec: LaunchSpec): Promise<InstanceFact> {
    // One launch at a time: two executions of one machine's launch agree on one instance.
    const run = this.launching.then(() => this.launch(spec));
    this.launching = run.catch(() => {});
    return run;
  }

  private async launch(spec: LaunchSpec): Promise<InstanceFact> {
    const adopted = this.instancesOf(spec.namespace, spec.clusterName).find((i) => i.machineUid === spec.machineUid && i.state !== 'terminated');
    if (adopted) return factOf(adopted);
    if (this.closed) throw new ThrottledError('the process provider is stopping');
    const controlPlane = spec.role === 'control-plane';
    const instance: ProcessInstance = {
      instanceId: `p-${randomBytes(8).toString('hex')}`,
      machineUid: spec.machineUid,
      machineName: spec.machineName,
      namespace: spec.namespace,
      clusterName: spec.clusterName,
      ...(this.options.installationId !== undefined ? { installationId: this.options.installationId } : {}),
      role: spec.role,
      version: spec.version,
      state: 'pending',
      launchTime: new Date().toISOString(),
      nodeName: spec.machineName,
      ...(controlPlane ? { bootstrap: spec.bootstrap ?? 'join' } : {}),
      ...(spec.taints?.length ? { taints: spec.taints } : {}),
      ...(spec.nodeLabels ? { nodeLabels: spec.nodeLabels } : {}),
      ...(controlPlane ? { ports: { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() } } : {}),
    };
    this.state.instances.push(instance);
    await this.save();
    this.boot(instance);
    return factOf(instance);
  }

  private async delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<InstanceDeletion> {
    const ofMachine = (i: ProcessInstance) =>
      this.owns(i) && i.namespace === target.namespace && i.clusterName === target.clusterName && i.machineUid === target.machineUid;
    const named = target.instanceId ? this.state.instances.find((i) => i.instanceId === target.instanceId) : undefined;
    const refused = named && !ofMachine(named) && named.state !== 'terminated' ? [named.instanceId] : [];
    const doomed = this.state.instances.filter((i) => ofMachine(i) && i.state !== 'terminated');
    for (const i of doomed) {
      // Terminated first, so that a boot in flight stops at its next step instead of starting the programs again.
      i.state = 'terminated';
      i.terminatedAt = new Date().toISOString();
      clearTimeout(this.reclaims.get(i.instanceId));
      this.reclaims.delete(i.instanceId);
      await this.stopPrograms(i.instanceId);
      await this.running.get(i.instanceId)?.booting?.catch(() => {});
      await this.stopPrograms(i.instanceId);
      this.running.delete(i.instanceId);
      delete i.pids;
      await rm(this.machineDir(i), { recursive: true, force: true });
      for (const lb of this.state.loadBalancers) lb.targets = lb.targets.filter((t) => t !== i.instanceId);
    }
    await this.save();
    for (const i of doomed) this.notify(i);
    return { refused };
  }

  private notify(i: ProcessInstance): void {
    this.options.onInstanceStateChange?.({ namespace: i.namespace, clusterName: i.clusterName, instanceId: i.instanceId, state: i.state });
  }

  /** Starts the instance's programs, again and again until they answer, the instance goes, or the provider stops. */
  private boot(i: ProcessInstance): void {
    const entry = this.running.get(i.instanceId) ?? { children: [] };
    this.running.set(i.instanceId, entry);
    if (entry.booting) return;
    entry.booting = (async () => {
      for (;;) {
        if (this.closed || (i.state !== 'pending' && i.state !== 'running')) return;
        try {
          await this.startPrograms(i, entry);
          if (this.closed || (i.state !== 'pending' && i.state !== 'running')) return;
          const changed = i.state !== 'running';
          i.state = 'running';
          await this.save();
          if (changed) this.notify(i);
          return;
        } catch (err) {
          if (this.closed) return;
          this.log(`warn process: ${i.namespace}/${i.machineName} (${i.instanceId}) did not start; trying again: ${(err as Error).message.slice(0, 2000)}`);
          await this.stopPrograms(i.instanceId);
          if (this.closed || (i.state !== 'pending' && i.state !== 'running')) return;
          await new Promise((r) => setTimeout(r, BOOT_RETRY_MS));
        }
      }
    })().finally(() => {
      delete entry.booting;
    });
  }

  private async startPrograms(i: ProcessInstance, entry: Running): Promise<void> {
    const certs = await this.options.ca.certificates(i.namespace, i.clusterName);
    if (!certs) throw new Error(`cluster ${i.namespace}/${i.clusterName} has no certificates yet`);
    await kubeletCredentials(this.pkiDir(i), i.nodeName, certs, new Date());
    if (i.role !== 'control-plane' || !i.ports) return;
    const bins = (this.options.buildBinaries ?? true) ? await buildKubeBinaries() : kubeBinaries();
    const pki = await writeControlPlanePki(this.pkiDir(i), i.nodeName, certs, new Date());
    const logs = join(this.machineDir(i), 'logs');
    await mkdir(logs, { recursive: true, mode: 0o700 });
    const tls = this.etcdTls(pki);
    const { etcdClient, etcdPeer, apiserver } = i.ports;
    const clientUrl = `https://127.0.0.1:${etcdClient}`;
    const peerUrl = `https://127.0.0.1:${etcdPeer}`;
    const dataDir = join(this.machineDir(i), 'etcd');
    if (!i.etcdJoin) {
      i.etcdJoin = await this.etcdJoin(i, peerUrl, tls);
      await this.save();
    }
    const etcd = startChild(
      bins.etcd,
      [
        `--name=${i.nodeName}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${i.etcdJoin.initialCluster}`,
        `--initial-cluster-state=${i.etcdJoin.state}`,
        `--cert-file=${pki.etcdServer.cert}`,
        `--key-file=${pki.etcdServer.key}`,
        `--trusted-ca-file=${pki.etcdCa}`,
        '--client-cert-auth=true',
        `--peer-cert-file=${pki.etcdPeer.cert}`,
        `--peer-key-file=${pki.etcdPeer.key}`,
        `--peer-trusted-ca-file=${pki.etcdCa}`,
        '--peer-client-cert-auth=true',
        '--snapshot-count=10000',
        '--log-level=warn',
      ],
      { log: createWriteStream(join(logs, 'etcd.log'), { flags: 'a', mode: 0o600 }) },
    );
    entry.children.push(etcd);
    await this.recordPids(i, entry);
    await waitFor(`etcd of ${i.machineName}`, etcd, START_TIMEOUT_MS, () => etcdAnswers(clientUrl, tls));
    // The flags kubeadm gives a stacked API server (kubeadm app/phases/controlplane/manifests.go
    // getAPIServerCommand), on 127.0.0.1 only.
    const kubeApiserver = startChild(
      bins.kubeApiserver,
      apiServerFlags({
        etcdServers: clientUrl,
        etcdTls: { ca: pki.etcdCa, cert: pki.apiserverEtcdClient.cert, key: pki.apiserverEtcdClient.key },
        port: apiserver,
        certDir: pki.dir,
        cert: pki.apiserver.cert,
        key: pki.apiserver.key,
        clientCa: pki.ca,
        serviceAccountPub: pki.saPub,
        serviceAccountKey: pki.saKey,
        serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
      }),
      { log: createWriteStream(join(logs, 'kube-apiserver.log'), { flags: 'a', mode: 0o600 }) },
    );
    entry.children.push(kubeApiserver);
    await this.recordPids(i, entry);
    const ca = readFileSync(pki.ca, 'utf8');
    await waitFor(`kube-apiserver of ${i.machineName}`, kubeApiserver, START_TIMEOUT_MS, async () => (await readyz(apiserver, ca)) === 200);
  }

  /**
   * kubeadm init's upload phases on the cluster's first control-plane machine: kubeadm-config, kubelet-config, and
   * the kube-proxy and CoreDNS addons at the machine's version (functions/bootstrap/kubeadm-upgrade.ts
   * kubeadmInitObjects), so that upgrades find the objects a kubeadm cluster has. Objects already there are kept.
   * Note: the process provider knows the cluster's provider settings, not its spec: the cluster network is
   * kubeadm's default.
   */
  private async uploadInitObjects(i: ProcessInstance, certs: ClusterCertificates, server: string): Promise<void> {
    const creds = await issueClientCertificate(certs.ca, CONTROLLERS_USER, new Date(), LEAF_CERT_SECONDS);
    const client = this.client(`init/${i.instanceId}`, server, certs.ca.cert, creds);
    const lb = this.loadBalancerOf(i.namespace, i.clusterName);
    const clusterSpec = {
      provider: { process: {} },
      clusterNetwork: clusterNetwork.parse({}),
      ...(lb ? { controlPlaneEndpoint: { host: '127.0.0.1', port: lb.port } } : {}),
    } as ClusterSpec;
    for (const object of kubeadmInitObjects(i.version, clusterSpec, { clusterName: i.clusterName })) {
      const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
      const plural = INIT_OBJECT_PLURALS[object.kind];
      if (!plural) throw new Error(`kubeadm init uploads no ${object.kind}`);
      const path = resourcePath(group!, version!, plural, object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {});
      await client.create(path, object).catch((err: unknown) => {
        if (httpStatusOf(err) !== 409) throw err;
      });
    }
  }

  /**
   * How etcd starts the first time: the cluster's first control-plane machine starts a new one; a later one is added
   * as a member through the running ones and starts with every member listed. A member already added with this
   * peer URL (a boot that failed after the add) is not added twice.
   */
  private async etcdJoin(i: ProcessInstance, peerUrl: string, tls: EtcdCredentials): Promise<NonNullable<ProcessInstance['etcdJoin']>> {
    // kubeadm init starts a new etcd; kubeadm join never does, even with no member to join yet (it fails, and the
    // boot is tried again): a join that started a cluster of its own would split the control plane's etcd in two.
    if (i.bootstrap === 'init') return { state: 'new', initialCluster: `${i.nodeName}=${peerUrl}` };
    const endpoints = this.etcdEndpoints(i.namespace, i.clusterName).filter((e) => e !== `https://127.0.0.1:${i.ports!.etcdClient}`);
    if (endpoints.length === 0) throw new Error(`${i.machineName} joins the control plane, but no etcd member of ${i.namespace}/${i.clusterName} runs`);
    const client = new EtcdClient({ endpoints, credentials: tls });
    let members: { name: string; peerURLs: string[] }[];
    try {
      members = (await client.memberList()).members;
      if (!members.some((m) => m.peerURLs.includes(peerUrl))) members = (await client.memberAdd([peerUrl])).members;
    } finally {
      client.close();
    }
    const initialCluster = members
      .map((m) => (m.peerURLs.includes(peerUrl) ? `${i.nodeName}=${peerUrl}` : m.name ? `${m.name}=${m.peerURLs[0]}` : undefined))
      .filter((s): s is string => s !== undefined)
      .join(',');
    return { state: 'existing', initialCluster };
  }

  private etcdTls(pki: PkiFiles): EtcdCredentials {
    return {
      ca: readFileSync(pki.etcdCa, 'utf8'),
      cert: readFileSync(pki.apiserverEtcdClient.cert, 'utf8'),
      key: readFileSync(pki.apiserverEtcdClient.key, 'utf8'),
    };
  }

  private async recordPids(i: ProcessInstance, entry: Running): Promise<void> {
    i.pids = entry.children.map((c) => c.process.pid).filter((p): p is number => p !== undefined);
    await this.save();
  }

  private async stopPrograms(instanceId: string): Promise<void> {
    const entry = this.running.get(instanceId);
    if (!entry) return;
    // The API server first, then its etcd, as a machine shuts down.
    for (const c of [...entry.children].reverse()) await stopChild(c.process);
    entry.children = [];
  }

  /**
   * Programs a host that crashed left running: each recorded pid whose command line names this instance's folder
   * (so is ours, not a process that reused the pid) is killed, and waited for so that its ports are free.
   */
  private async killLeftovers(): Promise<void> {
    for (const i of this.state.instances) {
      for (const pid of i.pids ?? []) {
        let cmdline: string;
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        if (!cmdline.includes(this.machineDir(i))) continue;
        this.log(`warn process: killing ${pid}, left running by an earlier host (${i.namespace}/${i.machineName})`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          continue;
        }
        for (let n = 0; n < 50 && existsSync(`/proc/${pid}`) && !isZombie(pid); n++) await new Promise((r) => setTimeout(r, 100));
      }
      delete i.pids;
    }
  }

  private save(): Promise<void> {
    const now = Date.now();
    this.state.instances = this.state.instances.filter((i) => i.state !== 'terminated' || now - Date.parse(i.terminatedAt ?? '') < TERMINATED_RETENTION_MS);
    const snapshot = JSON.parse(JSON.stringify(this.state)) as ProcessState;
    this.saving = this.saving.then(() => writeState(this.statePath, snapshot));
    return this.saving;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  // -------------------------------------------------------------------------------------------------------
  // Load balancers

  private loadBalancerOf(namespace: string, clusterName: string): ProcessLoadBalancer | undefined {
    return this.state.loadBalancers.find((l) => this.owns(l) && l.namespace === namespace && l.clusterName === clusterName);
  }

  private describeLoadBalancer(namespace: string, clusterName: string): ManagedLoadBalancerFact | undefined {
    const lb = this.loadBalancerOf(namespace, clusterName);
    if (!lb) return undefined;
    const listening = this.servers.get(lbKey(lb))?.listening === true;
    return { name: `process-${namespace}-${clusterName}`, dnsName: '127.0.0.1', port: lb.port, state: listening ? 'active' : 'provisioning' };
  }

  private async ensureLoadBalancer(spec: ManagedLoadBalancerSpec): Promise<void> {
    let lb = this.loadBalancerOf(spec.namespace, spec.clusterName);
    if (!lb) {
      lb = {
        namespace: spec.namespace,
        clusterName: spec.clusterName,
        ...(this.options.installationId !== undefined ? { installationId: this.options.installationId } : {}),
        port: await freePort(),
        targets: [],
      };
      this.state.loadBalancers.push(lb);
      await this.save();
    }
    if (!this.servers.get(lbKey(lb))?.listening) await this.listen(lb);
  }

  private async deleteLoadBalancer(namespace: string, clusterName: string): Promise<void> {
    const lb = this.loadBalancerOf(namespace, clusterName);
    if (!lb) return;
    const server = this.servers.get(lbKey(lb));
    this.servers.delete(lbKey(lb));
    if (server) await new Promise<void>((r) => server.close(() => r()));
    this.state.loadBalancers = this.state.loadBalancers.filter((l) => l !== lb);
    await this.save();
  }

  private async setTarget(arn: string, target: TargetGroupTarget, registered: boolean): Promise<void> {
    const lb = this.loadBalancerOf(target.namespace, target.clusterName);
    if (!lb || arn !== targetGroupArn(target.namespace, target.clusterName)) {
      if (registered) throw new InvalidSpecError(`target group ${arn} is not the process load balancer of ${target.namespace}/${target.clusterName}`);
      return;
    }
    const has = lb.targets.includes(target.instanceId);
    if (registered === has) return;
    lb.targets = registered ? [...lb.targets, target.instanceId] : lb.targets.filter((t) => t !== target.instanceId);
    await this.save();
  }

  /** Listens on the load balancer's port (127.0.0.1 only); a port taken since is logged, and tried again at ensure. */
  private async listen(lb: ProcessLoadBalancer): Promise<void> {
    const key = lbKey(lb);
    if (this.servers.get(key)?.listening) return;
    const server = createServer((socket) => this.proxy(lb, socket));
    await new Promise<void>((resolveListen) => {
      server.once('error', (err) => {
        this.log(`error process: the load balancer of ${key} cannot listen on 127.0.0.1:${lb.port}: ${err.message}`);
        resolveListen();
      });
      server.listen(lb.port, '127.0.0.1', () => resolveListen());
    });
    if (server.listening) this.servers.set(key, server);
  }

  /** One connection: to the registered API servers in turn, skipping those that refuse. */
  private proxy(lb: ProcessLoadBalancer, socket: Socket): void {
    const ports = lb.targets
      .map((id) => this.state.instances.find((i) => i.instanceId === id))
      .filter((i): i is ProcessInstance => i?.state === 'running' && i.ports !== undefined)
      .map((i) => i.ports!.apiserver);
    const key = lbKey(lb);
    const start = this.roundRobin.get(key) ?? 0;
    this.roundRobin.set(key, start + 1);
    socket.pause();
    socket.on('error', () => socket.destroy());
    const attempt = (n: number) => {
      if (n >= ports.length || socket.destroyed) return socket.destroy();
      const backend = connect(ports[(start + n) % ports.length]!, '127.0.0.1');
      backend.once('error', () => {
        backend.destroy();
        attempt(n + 1);
      });
      backend.once('connect', () => {
        backend.removeAllListeners('error');
        backend.on('error', () => socket.destroy());
        socket.on('close', () => backend.destroy());
        backend.on('close', () => socket.destroy());
        socket.pipe(backend);
        backend.pipe(socket);
        socket.resume();
      });
    };
    attempt(0);
  }

  // -------------------------------------------------------------------------------------------------------
  // The node agent

  private scheduleAgent(delayMs: number): void {
    if (this.closed) return;
    this.agentTimer = setTimeout(() => {
      this.syncing = this.syncNodes().finally(() => this.scheduleAgent(this.options.heartbeatMs ?? HEARTBEAT_SECONDS * 1000));
    }, delayMs);
    this.agentTimer.unref();
  }

  /** Runs one pass of the node agent now (tests; the timer runs it every heartbeat). */
  async syncNodesNow(): Promise<void> {
    await this.syncing?.catch(() => {});
    await this.syncNodes();
  }

  private async syncNodes(): Promise<void> {
    const clusters = new Map<string, ProcessInstance>();
    for (const i of this.state.instances) if (this.owns(i)) clusters.set(`${i.namespace}/${i.clusterName}`, i);
    for (const [key, { namespace, clusterName }] of clusters) {
      if (this.closed) return;
      try {
        const certs = await this.options.ca.certificates(namespace, clusterName);
        const server = this.apiServerOf(namespace, clusterName);
        if (!certs || !server) continue;
        for (const i of this.instancesOf(namespace, clusterName)) {
          if (i.state !== 'running' || this.closed) continue;
          // kubeadm init uploads once the API serves kube-system; until then each pass tries again.
          if (i.bootstrap === 'init' && !i.initUploaded)
            await this.uploadInitObjects(i, certs, server).then(
              async () => {
                i.initUploaded = true;
                await this.save();
              },
              (err: unknown) => this.log(`warn process: kubeadm init's objects of ${key} not uploaded yet: ${(err as Error).message}`),
            );
          await this.heartbeat(i, certs, server);
        }
        await this.nodeLifecycle(namespace, clusterName, certs, server);
        this.lastAgentError.delete(key);
      } catch (err) {
        // Said once per cluster and failure, not every heartbeat.
        const message = (err as Error).message;
        if (this.lastAgentError.get(key) !== message) this.log(`warn process: node agent of ${key}: ${message}`);
        this.lastAgentError.set(key, message);
      }
    }
  }

  private client(key: string, server: string, ca: string, credentials: { cert: string; key: string }): KubernetesClient {
    const id = `${server}\n${credentials.cert}`;
    const kept = this.clients.get(key);
    if (kept?.key === id) return kept.client;
    kept?.client.close();
    const client = new KubernetesClient({ server, ca, ...credentials }, { timeoutMs: 5000 });
    this.clients.set(key, { key: id, client });
    return client;
  }

  /** What a kubelet does every heartbeat: registers its Node once, posts its status, renews its Lease. */
  private async heartbeat(i: ProcessInstance, certs: ClusterCertificates, server: string): Promise<void> {
    const creds = await kubeletCredentials(this.pkiDir(i), i.nodeName, certs, new Date());
    const kubelet = this.client(`kubelet/${i.instanceId}`, server, certs.ca.cert, creds);
    const path = resourcePath('', 'v1', 'nodes', { name: i.nodeName });
    let node: Node;
    try {
      node = await kubelet.get<Node>(path);
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
      node = await kubelet.create<Node>(resourcePath('', 'v1', 'nodes'), nodeOf(i));
    }
    const now = new Date();
    const conditions = healthyKubeletConditions(node.status?.conditions, now);
    await kubelet.patch(
      `${path}/status`,
      {
        status: {
          conditions,
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: i.nodeName },
          ],
          nodeInfo: { kubeletVersion: i.version },
        },
      },
      'strategic',
    );
    await this.renewLease(kubelet, i.nodeName, now);
  }

  /** The node's Lease in kube-node-lease (the Node authorizer lets a node write its own). */
  private async renewLease(kubelet: KubernetesClient, nodeName: string, now: Date): Promise<void> {
    const path = resourcePath('coordination.k8s.io', 'v1', 'leases', { namespace: 'kube-node-lease', name: nodeName });
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: NODE_MONITOR_GRACE_SECONDS, renewTime: now.toISOString().replace('Z', '000Z') };
    try {
      await kubelet.patch(path, { spec }, 'merge');
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
      await kubelet.create(resourcePath('coordination.k8s.io', 'v1', 'leases', { namespace: 'kube-node-lease' }), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: nodeName, namespace: 'kube-node-lease' },
        spec,
      });
    }
  }

  /** The controllers' pass over the cluster's Nodes that carry one of our providerIDs. */
  private async nodeLifecycle(namespace: string, clusterName: string, certs: ClusterCertificates, server: string): Promise<void> {
    const key = `controllers/${namespace}/${clusterName}`;
    let controllers = this.clients.get(key)?.client;
    if (!controllers || !this.clients.get(key)!.key.startsWith(`${server}\n`)) {
      const creds = await issueClientCertificate(certs.ca, CONTROLLERS_USER, new Date(), LEAF_CERT_SECONDS);
      controllers = this.client(key, server, certs.ca.cert, creds);
    }
    const prefix = `${PROVIDER_ID_SCHEME}${namespace}/${clusterName}/`;
    const nodes = (await controllers.get<{ items?: Node[] }>(resourcePath('', 'v1', 'nodes'))).items ?? [];
    const now = Date.now();
    for (const node of nodes) {
      const providerID = node.spec?.providerID;
      // Note: a Node is judged by the instance its providerID names, never by its name; another's is left alone.
      if (!providerID?.startsWith(prefix)) continue;
      const name = node.metadata?.name ?? '';
      const path = resourcePath('', 'v1', 'nodes', { name });
      const instance = this.instancesOf(namespace, clusterName).find((i) => i.instanceId === providerID.slice(prefix.length));
      if (!instance || instance.state === 'terminated') {
        await controllers.delete(path).catch((err: unknown) => {
          if (httpStatusOf(err) !== 404) throw err;
        });
        continue;
      }
      // kubeadm's mark-control-plane phase: the role label, which NodeRestriction keeps a node from setting itself.
      if (instance.role === 'control-plane' && node.metadata?.labels?.[CONTROL_PLANE_LABEL] === undefined)
        await controllers.patch(path, { metadata: { labels: { [CONTROL_PLANE_LABEL]: '' } } }, 'merge');
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      const heartbeat = Date.parse(String(ready?.lastHeartbeatTime ?? ''));
      if (ready && ready.status !== 'Unknown' && now - heartbeat > (this.options.nodeMonitorGraceMs ?? NODE_MONITOR_GRACE_SECONDS * 1000)) {
        const at = rfc3339(new Date(now));
        const conditions = (node.status?.conditions ?? []).map((c) => ({
          type: c.type,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastHeartbeatTime: c.lastHeartbeatTime,
          lastTransitionTime: at,
        }));
        await controllers.patch(`${path}/status`, { status: { conditions } }, 'strategic');
      }
    }
  }
}

const lbKey = (lb: { namespace: string; clusterName: string }) => `${lb.namespace}/${lb.clusterName}`;

/** The process load balancer's target group, named after its cluster (there is one per cluster). */
/** Pending or running: its programs run, or are being started. */
const isLive = (i: ProcessInstance): boolean => i.state === 'pending' || i.state === 'running';

export const targetGroupArn = (namespace: string, clusterName: string): string => `process:targetgroup/${namespace}/${clusterName}`;

function factOf(i: ProcessInstance): InstanceFact {
  return {
    machineUid: i.machineUid,
    instanceId: i.instanceId,
    providerID: processProviderID(i),
    state: i.state,
    launchTime: i.launchTime,
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: i.nodeName },
    ],
  };
}

/**
 * The Node a kubelet registers: its well-known labels and its class's (--node-labels), and its taints (--register-with-taints) as kubeadm's
 * configuration gives them (functions/bootstrap/kubeadm-config.ts): the control-plane taint, then the machine's own.
 */
function nodeOf(i: ProcessInstance): Node {
  const taints = [
    ...(i.role === 'control-plane' ? [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }] : []),
    ...(i.taints ?? []).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    // The class's labels first: the kubelet's own well-known ones are never overridden (the API refuses them anyway).
    metadata: { name: i.nodeName, labels: { ...i.nodeLabels, 'kubernetes.io/hostname': i.nodeName, 'kubernetes.io/os': 'linux' } },
    spec: { providerID: processProviderID(i), ...(taints.length > 0 ? { taints } : {}) },
  } as Node;
}

/** The member answers its status call and knows a leader. */
async function etcdAnswers(endpoint: string, credentials: EtcdCredentials): Promise<boolean> {
  const client = new EtcdClient({ endpoints: [endpoint], credentials, timeoutMs: 2000 });
  try {
    return (await client.status(endpoint)).leaderId !== '0';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** GET /readyz (anonymous, as system:public-info-viewer allows), checking the server against the cluster CA. */
function readyz(port: number, ca: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', method: 'GET', ca, timeout: 3000 }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
