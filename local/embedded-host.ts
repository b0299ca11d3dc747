/**
 * `clusterless up`: the whole control plane on one machine (DESIGN section 8). The embedded store (an SQLite file; dynalite for an earlier version's folder) persisted
 * under the data dir, the real state machines on the local ASL engine with every task in process, the HTTP API
 * on 127.0.0.1, the triggers the cloud has (a write starts a reconcile, as the DynamoDB stream does; a sweep on
 * a timer), the simulated cloud for sim clusters and, with --provider aws, EC2 for aws clusters beside them (the
 * standard AWS credential chain and AWS_ENDPOINT_URL), and the mirror into a management cluster when a kubeconfig is given. With --provider aws
 * and a KMS key (--kms-key-id) the host bootstraps its machines with kubeadm as the AWS tasks do: certificates
 * and bootstrap data in Secrets Manager, control-plane targets in the cluster's target group, and the admin
 * kubeconfig at GET .../clusters/{name}/kubeconfig (`clusterless get kubeconfig`).
 *
 * A restart loses and duplicates nothing: every piece of state is in the store or the simulated cloud's file,
 * the clock carries on from where it stopped, and the first sweep resumes every workflow by its deterministic
 * execution name (provisioning resumes from the intent recorded on the Machine, never launching twice).
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { claimInstallationId } from '../functions/adapters/dynamodb/installation.js';
import { DynamoDbUnavailableOfferings } from '../functions/adapters/dynamodb/unavailable-offerings.js';
import type { Ec2QueryClient } from '../functions/adapters/aws/ec2-query/index.js';
import { clusterImportHooks } from '../functions/handlers/cluster-import-deps.js';
import { Ec2ClusterHandover, Ec2MachineProvider, createEc2Client, createSsmClient, imageParameterResolver } from '../functions/adapters/ec2/index.js';
import { Elbv2ManagedLoadBalancers, Elbv2TargetGroupRegistrations, createElbv2Client } from '../functions/adapters/elbv2/index.js';
import { KubernetesNodeDrainer, KubernetesNodeReader, MirrorService, WorkloadClients, handleMirrorRequest } from '../functions/adapters/kubernetes/index.js';
import { KubernetesNodeLabeler } from '../functions/adapters/kubernetes/node-labeler.js';
import { KubernetesAddonApplier } from '../functions/adapters/kubernetes/addon-applier.js';
import { EtcdMembershipOverClient } from '../functions/adapters/etcd/etcd-membership.js';
import { FilePayloadStore, PayloadOffloadingStore, restoredChanges } from '../functions/adapters/payloads/index.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../functions/adapters/secrets/index.js';
import {
  JsonFileSimPersistence,
  SimCloud,
  SimMachineProvider,
  SimManagedLoadBalancers,
  SimNodeDrainer,
  SimNodeReader,
  SimTargetGroupRegistrations,
  SimulatedNodes,
  SIM_INTERRUPTION_NOTICE_SECONDS,
  type SimInterruptionNotice,
} from '../functions/adapters/sim/index.js';
import { recordInterruptionNotice } from '../functions/workflows/interruption.js';
import { ApiError, handleRequest, statusResponse, type HttpRequest, type HttpResponse } from '../functions/api/http/index.js';
import type { Machine } from '../functions/api/machine.js';
import { ClusterCa, KubeadmBootstrapper, SecretStoreCertificateTransfer } from '../functions/adapters/kubeadm/index.js';
import type { MoveDeps } from '../functions/api/service/move.js';
import { KubeadmWorkloadObjects } from '../functions/adapters/kubeadm/workload-upgrade.js';
import { secretNames } from '../functions/bootstrap/names.js';
import { kubeconfigSources } from '../functions/workflows/bootstrap-hooks.js';
import { CostMeter, handleCostRequest, isCostPath } from '../functions/metering/index.js';
import {
  EtcdUnavailableError,
  noEvents,
  systemClock,
  type Clock,
  type EventRecorder,
  type NodeDrainer,
  type NodeLabeler,
  type SecretStore,
  type Store,
  type UnavailableOfferings,
} from '../functions/ports.js';
import { ChangeRecordingStore, LocalChangeFeed } from '../functions/adapters/store/index.js';
import { KINDS, type KindName } from '../functions/api/kinds.js';
import { EventKind } from '../functions/api/event.js';
import {
  invocationHolder,
  providersByCluster,
  pruneExpiredEvents,
  scaledTimer,
  storeEventRecorder,
  workflowDeps,
  type Logger,
  type ProviderRuntime,
} from '../functions/workflows/index.js';
import { CLIENT_TOKEN_FILE, CONTROLLER_TOKEN_FILE, accessGate, newBearerToken } from './access.js';
import { FileSecretStore } from './file-secret-store.js';
import { ProcessCloud, processProviderID } from './process/index.js';
import {
  CLOCK_FILE,
  DYNAMODB_DIR,
  PROCESS_DIR,
  STORE_DIR,
  SECRETS_DIR,
  SIM_CLOUD_FILE,
  holdPrivateUmask,
  preparePrivateDataDir,
  removeFile,
  writePrivateFile,
} from './data-dir.js';
import { StoreInUseError, startEmbeddedStore } from './embedded-dynamodb.js';
import { openEmbeddedSqliteStore } from './embedded-sqlite.js';
import { dashboardAnswer } from '../dashboard/assets.js';
import { startHttpServer } from './http-server.js';
import { applyDemo, demoProgress } from './demo.js';
import { ControlPlaneRuntime } from './runtime.js';
import { scaledClock } from './scaled-clock.js';

export interface EmbeddedHostOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 8080 */
  port?: number;
  /**
   * The embedded store: 'sqlite' (node:sqlite, one file in `store/`, in this process) or 'dynalite' (the embedded
   * DynamoDB in `dynamodb/`, over the DynamoDB wire protocol on loopback).
   * @default - 'dynalite' for a folder with an earlier version's `dynamodb/` and no `store/` (its state is kept), otherwise 'sqlite'
   */
  store?: HostStoreKind;
  /** @default - `.clusterless` in the working directory */
  dataDir?: string;
  /** @default 'sim' */
  provider?: 'sim' | 'aws';
  /** Where node facts come from: the simulator, or the workload clusters' API. @default - sim for both providers */
  nodes?: 'sim' | 'kubernetes';
  /**
   * With provider aws: the KMS key (id or ARN) the bootstrap secrets are encrypted with. Given, machines are
   * bootstrapped with kubeadm (clusters need spec.controlPlaneEndpoint); absent, instances get no user data.
   */
  kmsKeyId?: string;
  /** Divides every wait, boot time and timeout (tests, demos). @default 1 */
  timeScale?: number;
  /** A management cluster to mirror the objects into (file path or inline YAML). */
  kubeconfig?: string;
  /**
   * When set, every request must carry `Authorization: Bearer <token>` (or the controller token).
   * @default - with provider aws, 32 random bytes made at every start, written to `<dataDir>/client-token` (mode
   * 0600) and required; with sim, none: the API is open to local processes (loopback only)
   */
  token?: string;
  /**
   * The bearer token that may write status (`PUT`/`PATCH .../{name}/status`) over HTTP, which the client token
   * may not; the host's own controllers write the store directly.
   * @default - 32 random bytes made at every start, written to `<dataDir>/controller-token` (mode 0600)
   */
  controllerToken?: string;
  /** The most replicas a MachineDeployment (or MachineSet, ControlPlane) may ask for through the API. @default 1000 */
  maxMachineDeploymentReplicas?: number;
  /** Seconds between sweeps, before time-scaling. @default 60 */
  sweepSeconds?: number;
  /**
   * The Nodes of process machines: the kubelet's heartbeat and kube-controller-manager's --node-monitor-grace-period
   * (a Node whose heartbeat is older goes Ready=Unknown). Tests shorten both to see a killed machine sooner.
   * @default - 10 s and 40 s, Kubernetes' defaults (local/process/process-cloud.ts)
   */
  processNodes?: { heartbeatMs?: number; nodeMonitorGraceMs?: number };
  /** Seed of the simulated cloud. @default 1 */
  seed?: number;
  log?: (line: string) => void;
  /** Applies examples/demo/cluster.yaml (when absent) and logs progress until the cluster is Ready. */
  demo?: boolean;
}

export interface EmbeddedHost {
  url: string;
  port: number;
  dataDir: string;
  /** The bearer token that may write status over HTTP. */
  controllerToken: string;
  /** The bearer token every request must carry: --token, or the one made for --provider aws; none otherwise. */
  clientToken?: string;
  runtime: ControlPlaneRuntime;
  /** What the work since the start would have cost on AWS (GET /clusterless/v1/cost). */
  meter: CostMeter;
  /** The simulated cloud sim clusters run in (on every host). */
  cloud: SimCloud;
  /** The machines of process clusters: real etcd and kube-apiserver programs on this host (on every host). */
  processes: ProcessCloud;
  mirror?: MirrorService;
  /** The installation id claimed in the data folder's store: on everything the host makes in AWS. */
  installationId: string;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_DATA_DIR = '.clusterless';
/** Where the data folder keeps ClusterResourceSets' manifests (FilePayloadStore). */
export const PAYLOADS_DIR = 'payloads';
/** The one table of the embedded DynamoDB. */
export const TABLE_NAME = 'clusterless';
/** How often the embedded host removes expired events (real time), standing in for DynamoDB's TTL. */
const EVENTS_PRUNE_MS = 5 * 60_000;

export type HostStoreKind = 'sqlite' | 'dynalite';

/** The host's store, whichever it is: its objects, the installation id beside them, and its close. */
interface HostStore {
  store: Store;
  /** The offerings launches found without capacity, kept beside the objects (the host is the installation's only one). */
  unavailableOfferings: UnavailableOfferings;
  claimInstallationId(candidate: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Opens the data folder's store. SQLite is the default: in the scale benchmark it brought clusters to Ready about
 * nine times as fast as dynalite, whose every call is an HTTP request, a signature and a LevelDB write. A folder an
 * earlier version filled keeps dynalite, so that no state is left behind.
 */
async function openHostStore(dataDir: string, kind: HostStoreKind | undefined, clock: Clock): Promise<HostStore> {
  const exists = (sub: string) =>
    stat(resolve(dataDir, sub)).then(
      () => true,
      () => false,
    );
  const chosen = kind ?? ((await exists(DYNAMODB_DIR)) && !(await exists(STORE_DIR)) ? 'dynalite' : 'sqlite');
  if (chosen === 'sqlite') {
    const sqlite = await openEmbeddedSqliteStore(resolve(dataDir, STORE_DIR), { clock });
    return {
      store: sqlite.store,
      unavailableOfferings: sqlite.unavailableOfferings,
      claimInstallationId: async (c) => sqlite.claimInstallationId(c),
      close: async () => sqlite.close(),
    };
  }
  const dynalite = await startEmbeddedStore(resolve(dataDir, DYNAMODB_DIR), { tableName: TABLE_NAME, clock });
  return {
    store: dynalite.store,
    unavailableOfferings: new DynamoDbUnavailableOfferings(dynalite.client, TABLE_NAME),
    claimInstallationId: (c) => claimInstallationId(dynalite.client, TABLE_NAME, c),
    close: () => dynalite.close(),
  };
}

/** Another host (in this process or another) runs on the data folder: its store's lock is taken. */
export class DataFolderInUseError extends Error {
  override name = 'DataFolderInUseError';
  constructor(
    readonly dataDir: string,
    options?: ErrorOptions,
  ) {
    super(`another clusterless is using ${dataDir}; stop it first, or give another folder with --data-dir`, options);
  }
}

const json = (status: number, body: unknown): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function logger(log: (line: string) => void): Logger {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    log(`${level} ${message}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`);
  return { info: () => {}, warn: line('warn'), error: line('error') };
}

/**
 * Every admin kubeconfig the host issues is one audit line (as the AWS kubeconfig function logs it): the cluster and
 * how long the credential lasts, never the credential. Locally there is no caller identity beyond the token.
 */
export function auditedKubeconfig(
  sign: (namespace: string, clusterName: string, expirationSeconds: number) => Promise<string | undefined>,
  log: (line: string) => void,
): (namespace: string, clusterName: string, expirationSeconds: number) => Promise<string | undefined> {
  return async (namespace, clusterName, expirationSeconds) => {
    const text = await sign(namespace, clusterName, expirationSeconds);
    if (text !== undefined) log(`audit ${JSON.stringify({ audit: 'AdminKubeconfigIssued', namespace, cluster: clusterName, expirationSeconds })}`);
    return text;
  };
}

export async function startEmbeddedHost(options: EmbeddedHostOptions = {}): Promise<EmbeddedHost> {
  // Refused before anything starts (the data folder, the embedded DynamoDB).
  const cloudKind = options.provider ?? 'sim';
  if (options.kmsKeyId && cloudKind === 'sim') throw new Error('a KMS key is for the kubeadm bootstrap of EC2 machines: give it with --provider aws');
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const timeScale = options.timeScale ?? 1;
  const log = options.log ?? (() => {});
  if (options.controllerToken !== undefined && options.controllerToken.length < 16) throw new Error('the controller token must be at least 16 characters');
  // Every file the host (and LevelDB under it) creates from here on is private; the folder and the files of
  // earlier runs are made so.
  const releaseUmask = holdPrivateUmask();
  const cleanups: (() => Promise<void> | void)[] = [releaseUmask];
  try {
    await preparePrivateDataDir(dataDir, log);
    const clock = scaledClock({ timeScale, stateFile: resolve(dataDir, CLOCK_FILE) });
    let embedded: HostStore;
    try {
      embedded = await openHostStore(dataDir, options.store, clock);
    } catch (err) {
      if (err instanceof StoreInUseError) throw new DataFolderInUseError(dataDir, { cause: err });
      throw err;
    }
    cleanups.unshift(() => embedded.close());
    // The store's lock proves the folder is this host's: only now is anything written in it, so that a second
    // host started on a running host's folder replaces none of its files (the token it checks above all).
    const controllerToken = options.controllerToken ?? newBearerToken();
    const controllerTokenFile = resolve(dataDir, CONTROLLER_TOKEN_FILE);
    // A token given in is not written down; a file of an earlier start would name a token this host refuses.
    if (options.controllerToken === undefined) await writePrivateFile(controllerTokenFile, `${controllerToken}\n`);
    else await removeFile(controllerTokenFile);
    // With EC2 behind it, the API is the user's AWS account: never open to every local process. Without a
    // --token one is made at every start (as the controller token is), and said where; the simulated cloud
    // stays open on loopback, as a newcomer's `npm start` expects.
    const clientTokenFile = resolve(dataDir, CLIENT_TOKEN_FILE);
    let clientToken = options.token || undefined;
    if (clientToken === undefined && cloudKind === 'aws') {
      clientToken = newBearerToken();
      await writePrivateFile(clientTokenFile, `${clientToken}\n`);
      log(
        `client token in ${clientTokenFile}: every request must carry it; e.g. CLUSTERLESS_TOKEN=$(cat ${clientTokenFile}) npx clusterless get clusters, or --token`,
      );
    } else await removeFile(clientTokenFile);
    // Every write, the API's and the workflows', goes into the change feed that watches read.
    const feed = new LocalChangeFeed(clock);
    const store = new ChangeRecordingStore(embedded.store, feed);
    // Events too (the recorder writes them through this store), so a series counted again after a restart is a MODIFIED.
    for (const kind of [...KINDS.map((k) => k.kind as KindName), EventKind.kind]) feed.seed(await embedded.store.list(kind));
    // Written once per data folder: a restart keeps it, a fresh folder is another installation.
    const installationId = await embedded.claimInstallationId(randomUUID());

    let bootstrap: KubeadmBootstrapper | undefined;
    let secretStore: SecretStore = new FileSecretStore({ dir: resolve(dataDir, SECRETS_DIR), installationId });
    let instanceArnPrefix: (() => Promise<string | undefined>) | undefined;
    let reconcileCluster: ((namespace: string, clusterName: string) => void) | undefined;
    let recordNotice: ((notice: SimInterruptionNotice) => void) | undefined;
    let importEc2: Ec2QueryClient | undefined;
    // The simulated cloud always runs, so sim clusters run beside aws ones on a host with --provider aws; it
    // writes its file only once it has something to keep.
    const cloud = new SimCloud({
      clock,
      seed: options.seed ?? 1,
      persistence: new JsonFileSimPersistence(resolve(dataDir, SIM_CLOUD_FILE)),
      // As EC2's state-change events do on AWS (instance-events): the cluster is reconciled at once.
      onInstanceStateChange: (change) => reconcileCluster?.(change.namespace, change.clusterName),
      // As EventBridge's spot notices do on AWS (instance-events): recorded on the machine, then reconciled.
      onInterruptionNotice: (notice) => recordNotice?.(notice),
    });
    const providers: Record<string, ProviderRuntime> = {
      sim: {
        machines: new SimMachineProvider(cloud),
        nodes: new SimNodeReader(cloud),
        drainer: new SimNodeDrainer(cloud),
        managedLoadBalancers: new SimManagedLoadBalancers(cloud),
        targetGroups: new SimTargetGroupRegistrations(cloud),
      },
    };
    // `clusterless move`: only EC2 resources can change installation (the simulated cloud is this folder's alone).
    const handovers: Record<string, MoveDeps['handovers'][string]> = {};
    if (cloudKind === 'aws') {
      // The standard credential chain, region and AWS_ENDPOINT_URL (e.g. a LocalStack or moto_server) apply.
      const ec2 = createEc2Client();
      const elbv2 = createElbv2Client();
      const ssm = createSsmClient();
      cleanups.unshift(
        () => ec2.destroy(),
        () => elbv2.destroy(),
        () => ssm.destroy(),
      );
      importEc2 = ec2;
      const ec2Provider = new Ec2MachineProvider({ client: ec2, clock, installationId, resolveImageParameter: imageParameterResolver({ client: ssm }) });
      log(`installation ${installationId} (tagged on what this host makes in AWS)`);
      handovers['aws'] = new Ec2ClusterHandover(ec2);
      providers['aws'] = {
        machines: ec2Provider,
        nodes: new SimulatedNodes({ provider: ec2Provider, clock }),
        managedLoadBalancers: new Elbv2ManagedLoadBalancers({ elb: elbv2, ec2, installationId }),
        targetGroups: new Elbv2TargetGroupRegistrations(elbv2),
      };
      if (options.kmsKeyId) {
        const secrets = createSecretsManagerClient();
        cleanups.unshift(() => secrets.destroy());
        secretStore = new SecretsManagerSecretStore({ client: secrets, kmsKeyId: options.kmsKeyId, installationId });
        instanceArnPrefix = () => ec2Provider.instanceArnPrefix();
      }
    }
    // The kubeadm bootstrap of process clusters (and, with a KMS key, of aws ones): one bootstrapper, its secrets
    // in Secrets Manager under the key, or else in files of the data folder. The real clock, not the scaled one:
    // certificate validity and token expiry are read by real kube-apiservers and kubelets.
    // Note: with --provider aws and no KMS key the host bootstraps nothing, as before (aws instances get no user
    // data); process clusters cannot be bootstrapped there and their machines stay pending.
    const secretPrefix = `clusterless/${installationId}/`;
    // `clusterless import`: adopting Cluster API AWS's instances needs EC2, so only a host with --provider aws.
    const clusterImport = importEc2 ? clusterImportHooks({ ec2: importEc2, installationId, secrets: secretStore, secretPrefix }) : undefined;
    if (cloudKind === 'aws' && !options.kmsKeyId)
      log('warn process clusters need the kubeadm bootstrap, which --provider aws has only with --kms-key-id: their machines will not start');
    else
      bootstrap = new KubeadmBootstrapper({
        secrets: secretStore,
        secretPrefix,
        // No stack to say it: the account from EC2's own answers, the region from the client.
        ...(instanceArnPrefix ? { instanceArnPrefix } : {}),
        clock: systemClock,
        log: logger(log),
      });
    // Process machines read their cluster's certificates where the bootstrapper keeps them.
    const processes = await ProcessCloud.start({
      dir: resolve(dataDir, PROCESS_DIR),
      ca: new ClusterCa({ secrets: secretStore, clock: systemClock, names: secretNames(secretPrefix) }),
      installationId,
      onInstanceStateChange: (change) => reconcileCluster?.(change.namespace, change.clusterName),
      // As for simulated instances: recorded on the machine, then reconciled.
      onInterruptionNotice: (notice) => recordNotice?.(notice),
      ...options.processNodes,
      log,
    });
    cleanups.unshift(() => processes.close());
    const workload = bootstrap ? kubeconfigSources(bootstrap, store) : undefined;
    // Through the admin credentials the bootstrap makes; without it a cluster's nodes are unknown.
    const workloadClients = new WorkloadClients({ kubeconfigFor: workload?.kubeconfigFor ?? (() => undefined) });
    const kubernetesNodes = new KubernetesNodeReader(workloadClients);
    const kubernetesDrainer = new KubernetesNodeDrainer(workloadClients);
    const kubernetesNodeLabels = new KubernetesNodeLabeler(workloadClients);
    const kubernetesAddons = new KubernetesAddonApplier(workloadClients);
    // Process clusters are real: their nodes are read and drained, their etcd read and changed, and addons applied
    // through their API and etcd members.
    providers['process'] = {
      machines: processes.machines,
      nodes: kubernetesNodes,
      drainer: kubernetesDrainer,
      nodeLabels: kubernetesNodeLabels,
      managedLoadBalancers: processes.loadBalancers,
      targetGroups: processes.targetGroups,
      etcd: new EtcdMembershipOverClient({
        endpointsOf: (target) => processes.etcdEndpoints(target.namespace, target.clusterName),
        // A client certificate of the cluster's etcd CA, as on AWS (ClusterCa).
        credentialsOf: async (target) => {
          const credentials = await bootstrap?.etcdClientCredentials(target.namespace, target.clusterName);
          if (!credentials) throw new EtcdUnavailableError(`${target.namespace}/${target.clusterName} has no etcd CA yet`);
          return credentials;
        },
      }),
      addons: kubernetesAddons,
    };
    // The other providers' clusters have an API to apply addons to only where a real one stands in for it.
    if (options.nodes === 'kubernetes') for (const name of ['sim', 'aws']) if (providers[name]) providers[name].addons = kubernetesAddons;
    const routed = providersByCluster(store, providers);
    const provider = routed.machines;
    let nodes = routed.nodes;
    let drainer: NodeDrainer = routed.drainer;
    let nodeLabels: NodeLabeler = routed.nodeLabels;
    if (options.nodes === 'kubernetes') {
      nodes = kubernetesNodes;
      drainer = kubernetesDrainer;
      nodeLabels = kubernetesNodeLabels;
    }
    // ClusterResourceSets' manifests, kept in the data folder; the API's store puts them back on every read.
    const payloads = new FilePayloadStore(resolve(dataDir, PAYLOADS_DIR));

    let recorder: EventRecorder = noEvents;
    const deps = workflowDeps({
      store,
      provider,
      nodes,
      drainer,
      nodeLabels,
      payloads,
      addons: routed.addons,
      ...(bootstrap ? { bootstrap } : {}),
      managedLoadBalancers: routed.managedLoadBalancers,
      targetGroups: routed.targetGroups,
      etcd: routed.etcd,
      ...(bootstrap ? { kubeadmObjects: new KubeadmWorkloadObjects({ issuer: bootstrap }) } : {}),
      clock,
      timer: scaledTimer(timeScale),
      // One id per host start, a fresh holder per reconcile under it (as each Lambda invocation is one).
      holder: invocationHolder(`host-${randomUUID()}`),
      log: logger(log),
      // Written through the runtime's store once it exists (metered like any write; events trigger nothing).
      events: { record: (e) => recorder.record(e) },
      unavailableOfferings: embedded.unavailableOfferings,
    });
    let mirror: MirrorService | undefined;
    const meter = new CostMeter({ now: () => clock.now() });
    const runtime = new ControlPlaneRuntime({
      deps,
      meter,
      timeScale,
      sweepSeconds: options.sweepSeconds ?? 60,
      onChange: (ns, cluster, obj) => mirror?.onChange(ns, cluster, obj),
    });
    recorder = storeEventRecorder(runtime.store, clock, deps.log);
    reconcileCluster = (namespace, clusterName) => runtime.trigger(namespace, clusterName);
    recordNotice = (n) =>
      void recordInterruptionNotice({ store: runtime.store, workflows: runtime.workflows }, n, n.kind, new Date(n.at), `notice-${randomUUID()}`).then(
        (outcome) => log(`${n.kind} for ${n.instanceId} of machine ${n.namespace}/${n.machineName}: ${outcome}`),
        (err: unknown) => log(`warn ${n.kind} for machine ${n.namespace}/${n.machineName} not recorded: ${(err as Error).message}`),
      );
    const limits = { ...(options.maxMachineDeploymentReplicas !== undefined ? { maxMachineDeploymentReplicas: options.maxMachineDeploymentReplicas } : {}) };
    const apiStore = new PayloadOffloadingStore(runtime.store, payloads);
    mirror = new MirrorService({
      limits,
      store: apiStore,
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      onError: (m: string) => log(`warn mirror: ${m}`),
      onImport: (r) => log(`mirror: ${r.outcome.type} ${r.kind} ${r.namespace}/${r.name} (from the target)`),
    });

    // The routes; who may use them is decided before, on the request's head (accessGate), so the in-process
    // demo calls them as they are.
    const handle = async (req: HttpRequest): Promise<HttpResponse> => {
      if (req.path === '/clusterless/v1/mirror') return handleMirrorRequest(mirror!, req);
      // The clusters' usage records (as the http function answers them on AWS), with the meter's report of everything.
      if (isCostPath(req.path)) return handleCostRequest(req, { store: runtime.store, now: () => clock.now(), report: () => meter.report() });
      const kill = /^\/clusterless\/v1\/sim\/namespaces\/([^/]+)\/machines\/([^/]+)\/kill$/.exec(req.path);
      if (kill) {
        if (req.method !== 'POST') return statusResponse(new ApiError('MethodNotAllowed', `${req.method} is not allowed here`).status);
        const [, namespace, name] = kill as unknown as [string, string, string];
        const machine = await runtime.store.get<Machine>('Machine', namespace, name);
        if (!machine) return statusResponse(new ApiError('NotFound', `machines.clusterless.dev "${name}" not found`, { kind: 'machines', name }).status);
        // A sim machine's instance terminates; a process machine's programs die (SIGKILL) and its instance reads stopped.
        const killed: { instanceId: string; providerID: string }[] = cloud.kill(name, namespace);
        for (const i of await processes.kill(namespace, name)) killed.push({ instanceId: i.instanceId, providerID: processProviderID(i) });
        if (killed.length === 0)
          return statusResponse(new ApiError('NotFound', `machine ${name} has no running instance to kill`, { kind: 'machines', name }).status);
        log(`killed ${killed.map((i) => i.instanceId).join(', ')} of machine ${namespace}/${name}`);
        return json(200, { kind: 'Machine', name, namespace, killed: killed.map((i) => ({ instanceId: i.instanceId, providerID: i.providerID })) });
      }
      const notice = /^\/clusterless\/v1\/sim\/namespaces\/([^/]+)\/machines\/([^/]+)\/(interrupt|rebalance)$/.exec(req.path);
      if (notice) {
        if (req.method !== 'POST') return statusResponse(new ApiError('MethodNotAllowed', `${req.method} is not allowed here`).status);
        const [, namespace, name, kind] = notice as unknown as [string, string, string, 'interrupt' | 'rebalance'];
        const machine = await runtime.store.get<Machine>('Machine', namespace, name);
        if (!machine) return statusResponse(new ApiError('NotFound', `machines.clusterless.dev "${name}" not found`, { kind: 'machines', name }).status);
        // A simulated instance: the simulated cloud sends the notice and reclaims it. A process machine: the notice
        // goes through the same recording, and the warned machine's programs die (SIGKILL) when its two minutes end.
        const simSent = kind === 'interrupt' ? cloud.interrupt(name, namespace) : cloud.recommendRebalance(name, namespace);
        const end = cloud.instances();
        let sent = simSent.map((i) => ({
          instanceId: i.instanceId,
          ...(kind === 'interrupt' ? { terminationTime: end.find((r) => r.instanceId === i.instanceId)?.terminatedAt } : {}),
        }));
        if (sent.length === 0) {
          // The reclaim is counted in this host's time: the notice's simulated two minutes, scaled.
          const at = clock.now();
          const reclaimAt = new Date(at.getTime() + SIM_INTERRUPTION_NOTICE_SECONDS * 1000).toISOString();
          const processSent = await processes.notice(
            { namespace, machineName: name, machineUid: machine.metadata.uid ?? '' },
            kind === 'interrupt' ? 'SpotInterruptionWarning' : 'RebalanceRecommendation',
            {
              at,
              reclaimAfterMs: (SIM_INTERRUPTION_NOTICE_SECONDS * 1000) / timeScale,
            },
          );
          sent = processSent.map((i) => ({ instanceId: i.instanceId, ...(kind === 'interrupt' ? { terminationTime: reclaimAt } : {}) }));
        }
        if (sent.length === 0)
          return statusResponse(
            new ApiError('NotFound', `machine ${name} has no running instance${kind === 'interrupt' ? ' that is not warned already' : ''}`, {
              kind: 'machines',
              name,
            }).status,
          );
        return json(200, { kind: 'Machine', name, namespace, instances: sent });
      }
      return handleRequest(req, {
        limits,
        store: apiStore,
        changes: restoredChanges(feed, apiStore),
        ...(workload ? { kubeconfig: auditedKubeconfig(workload.adminKubeconfig, log) } : {}),
        ...(clusterImport ? { clusterImport } : {}),
        onInternalError: (err) => log(`error internal: ${(err as Error).stack ?? String(err)}`),
        clock,
        move: { installationId, handovers, ...(bootstrap ? { certificates: new SecretStoreCertificateTransfer(secretStore, secretNames(secretPrefix)) } : {}) },
      });
    };

    await runtime.start();
    cleanups.unshift(() => runtime.stop());
    await mirror.start();
    cleanups.unshift(() => mirror!.stop());
    // dynalite has no TTL: expired events go every few minutes (the API never serves them meanwhile).
    const eventsTimer = setInterval(() => {
      void pruneExpiredEvents(runtime.store, clock.now()).catch((err: unknown) => log(`warn events not pruned: ${(err as Error).message}`));
    }, EVENTS_PRUNE_MS);
    eventsTimer.unref();
    cleanups.unshift(() => clearInterval(eventsTimer));
    // The simulated cloud's random spot interruptions (sim classes' interruptionsPerHour): one look a simulated second.
    const noticeTimer = setInterval(() => cloud.deliverDueNotices(), Math.max(20, 1000 / timeScale));
    noticeTimer.unref();
    cleanups.unshift(() => clearInterval(noticeTimer));
    const clockTimer = setInterval(() => clock.persist(), 5_000);
    clockTimer.unref();
    cleanups.unshift(() => {
      clearInterval(clockTimer);
      clock.persist();
    });
    const gate = accessGate({
      ...(clientToken ? { token: clientToken } : {}),
      controllerToken,
      controllerTokenHint: options.controllerToken === undefined ? controllerTokenFile : 'the one the host was started with',
    });
    // The dashboard's page and assets hold no data and need no token; its API calls go through the gate.
    const pages = async (h: { method: string; path: string }) => dashboardAnswer(h.method, h.path);
    const http = await startHttpServer({ port: options.port ?? DEFAULT_PORT, deps: handle, gate, pages });
    cleanups.unshift(() => http.close());
    if (options.demo) {
      const name = await applyDemo(handle, log);
      let last = '';
      const timer = setInterval(() => {
        void demoProgress(store, name).then(
          ({ line, ready }) => {
            if (line !== last) log(line);
            last = line;
            if (ready) {
              clearInterval(timer);
              log(`demo: cluster ${name} is Ready. Try: npx clusterless get machines; npx clusterless describe cluster ${name}`);
            }
          },
          () => {},
        );
      }, 500);
      timer.unref();
      cleanups.unshift(() => clearInterval(timer));
    }
    return {
      url: http.url,
      port: http.port,
      dataDir,
      controllerToken,
      ...(clientToken ? { clientToken } : {}),
      runtime,
      meter,
      cloud,
      processes,
      mirror,
      installationId,
      close: async () => {
        for (const c of cleanups.splice(0)) await c();
      },
    };
  } catch (err) {
    for (const c of cleanups.splice(0)) await Promise.resolve(c()).catch(() => {});
    throw err;
  }
}
