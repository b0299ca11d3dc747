/**
 * The whole control plane in a test: the runtime of the embedded host (real ASL on the local engine, the real
 * task code) over a store and a provider, with the API's ObjectService to make changes as a user would (and the
 * HTTP router, for tests whose subject is the HTTP form). Providers:
 * the simulator (with its load balancers), or EC2 on moto_server with simulated nodes (no kubelet can join an
 * instance moto runs).
 */
import { randomUUID } from 'node:crypto';
import type { Ec2QueryClient } from '../../functions/adapters/aws/ec2-query/index.js';
import { MemoryStore, MemoryUnavailableOfferings } from '../../functions/adapters/memory/index.js';
import { Ec2MachineProvider } from '../../functions/adapters/ec2/index.js';
import {
  SimCloud,
  SimMachineProvider,
  SimNodeDrainer,
  SimManagedLoadBalancers,
  SimNodeReader,
  SimTargetGroupRegistrations,
  SimulatedNodes,
} from '../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest, type HttpResponse } from '../../functions/api/http/index.js';
import type { ApiObject } from '../../functions/api/kind.js';
import { ObjectService, keyOf, type Applied } from '../../functions/api/service/index.js';
import type { KindName } from '../../functions/api/kinds.js';
import {
  noEvents,
  type EtcdMembership,
  type EventRecorder,
  type MachineProvider,
  type NodeReader,
  type Store,
  type UnavailableOfferings,
} from '../../functions/ports.js';
import {
  invocationHolder,
  providersByCluster,
  scaledTimer,
  silentLogger,
  storeEventRecorder,
  workflowDeps,
  type ProviderRuntime,
} from '../../functions/workflows/index.js';
import { recordInterruptionNotice } from '../../functions/workflows/interruption.js';
import { ControlPlaneRuntime, type RuntimeOptions } from '../../local/runtime.js';
import { scaledClock, type ScaledClock } from '../../local/scaled-clock.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from './ec2.js';
import { waitUntil } from './wait.js';

export const API = 'clusterless.dev/v1alpha1';
export const NS_PATH = '/apis/clusterless.dev/v1alpha1/namespaces';

export interface TestControlPlane {
  runtime: ControlPlaneRuntime;
  /** The store under the runtime (its writes do not trigger reconciles: use for reading back). */
  store: Store;
  clock: ScaledClock;
  provider: MachineProvider;
  nodes: NodeReader;
  cloud?: SimCloud;
  ec2?: { client: Ec2QueryClient; network: MotoNetwork };
  /** The API's operations over the runtime's store: its writes trigger reconciles, as the API's do. */
  service: ObjectService;
  /** Applies each object in order (the API's apply); throws the first refusal's ApiError. */
  apply(objects: readonly Record<string, unknown>[]): Promise<Applied[]>;
  /** One request through the HTTP router, parsed. */
  api(method: string, path: string, body?: unknown): Promise<HttpResponse & { json: any }>;
  /** Polls `check` until it returns a truthy value (or throws with the last value seen). */
  waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  list<T extends ApiObject>(kind: KindName, namespace?: string): Promise<T[]>;
  stop(): Promise<void>;
}

export interface TestControlPlaneOptions {
  /** 'sim+ec2': both, each cluster's machines launched by its own provider. @default 'sim' */
  provider?: 'sim' | 'ec2' | 'sim+ec2';
  motoEndpoint?: string;
  timeScale?: number;
  seed?: number;
  /** Replaces the EC2 client (e.g. one with fault-injection middleware). */
  ec2Client?: Ec2QueryClient;
  store?: Store;
  sweepSeconds?: number;
  taskMiddleware?: RuntimeOptions['taskMiddleware'];
  /** Replaces the node reader (e.g. a Kubernetes one reading real Node objects). */
  nodes?: NodeReader;
  /** The ec2 provider's installation id. @default - a new one per control plane */
  installationId?: string;
  /** What the sim provider runs for its clusters' etcd, given its cloud and its machines. @default noEtcd */
  simEtcd?: (cloud: SimCloud, machines: MachineProvider) => EtcdMembership;
  /** Wraps the sim provider's MachineProvider (e.g. to check what happens before an instance is terminated). */
  wrapSimMachines?: (machines: MachineProvider) => MachineProvider;
  /** Records Kubernetes Events through the runtime's store, as the embedded host does. @default false (noEvents) */
  events?: boolean;
  /**
   * Where launches keep the offerings they found without capacity, as the embedded host keeps them in its store.
   * @default - in this control plane's memory
   */
  unavailableOfferings?: UnavailableOfferings;
}

export async function startTestControlPlane(options: TestControlPlaneOptions = {}): Promise<TestControlPlane> {
  const timeScale = options.timeScale ?? 40;
  const clock = scaledClock({ timeScale });
  const store = options.store ?? new MemoryStore({ clock });
  let cloud: SimCloud | undefined;
  let ec2: TestControlPlane['ec2'];
  const kind = options.provider ?? 'sim';
  const runtimes: Record<string, ProviderRuntime> = {};
  if (kind === 'sim' || kind === 'sim+ec2') {
    // Spot notices are recorded on the machine, as the embedded host and the instance-events function do.
    cloud = new SimCloud({
      clock,
      seed: options.seed ?? 1,
      onInterruptionNotice: (n) =>
        void recordInterruptionNotice({ store: runtime.store, workflows: runtime.workflows }, n, n.kind, new Date(n.at), `notice-${randomUUID()}`).catch(
          () => {},
        ),
    });
    const simMachines = new SimMachineProvider(cloud);
    const machines = options.wrapSimMachines ? options.wrapSimMachines(simMachines) : simMachines;
    runtimes['sim'] = {
      machines,
      ...(options.simEtcd ? { etcd: options.simEtcd(cloud, simMachines) } : {}),
      nodes: options.nodes ?? new SimNodeReader(cloud),
      managedLoadBalancers: new SimManagedLoadBalancers(cloud),
      targetGroups: new SimTargetGroupRegistrations(cloud),
      // The Node of a deleted machine goes when asked, as the embedded host's sim does.
      drainer: new SimNodeDrainer(cloud),
    };
  }
  if (kind === 'ec2' || kind === 'sim+ec2') {
    if (!options.motoEndpoint) throw new Error('the ec2 provider needs motoEndpoint');
    const client = options.ec2Client ?? motoEc2Client(options.motoEndpoint);
    const network = await createMotoNetwork(client);
    const ec2Provider = new Ec2MachineProvider({ client, clock, installationId: options.installationId ?? randomUUID() });
    runtimes['aws'] = { machines: ec2Provider, nodes: options.nodes ?? new SimulatedNodes({ provider: ec2Provider, clock, readySeconds: 10 }) };
    ec2 = { client, network };
  }
  // One provider: that provider itself; both: each call goes to the provider of its cluster.
  const routed = providersByCluster(store, runtimes);
  const { machines: provider, nodes } = routed;
  const deps = workflowDeps({
    store,
    provider,
    nodes,
    managedLoadBalancers: routed.managedLoadBalancers,
    targetGroups: routed.targetGroups,
    etcd: routed.etcd,
    drainer: routed.drainer,
    clock,
    timer: scaledTimer(timeScale),
    holder: invocationHolder('test-host'),
    pollSeconds: 5,
    log: silentLogger,
    ...(options.events ? { events: { record: (e) => recorder.record(e) } } : {}),
    unavailableOfferings: options.unavailableOfferings ?? new MemoryUnavailableOfferings(),
  });
  let recorder: EventRecorder = noEvents;
  const runtime = new ControlPlaneRuntime({
    deps,
    timeScale,
    sweepSeconds: options.sweepSeconds ?? 30,
    ...(options.taskMiddleware ? { taskMiddleware: options.taskMiddleware } : {}),
  });
  recorder = storeEventRecorder(runtime.store, clock, silentLogger);
  await runtime.start();
  const service = new ObjectService({ store: runtime.store });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await handleRequest(jsonRequest(method, path, body), { store: runtime.store, clock });
    return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
  };
  return {
    runtime,
    store,
    clock,
    provider,
    nodes,
    ...(cloud ? { cloud } : {}),
    ...(ec2 ? { ec2 } : {}),
    service,
    async apply(objects) {
      const out: Applied[] = [];
      for (const o of objects) out.push(await service.apply(keyOf(o), o));
      return out;
    },
    api,
    list: <T extends ApiObject>(kind: KindName, namespace?: string) => store.list<T>(kind, namespace),
    waitFor: <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000) => waitUntil(what, check, timeoutMs, 25),
    async stop() {
      await runtime.stop();
    },
  };
}

/** A sim or aws cluster as a user declares it: MachineClass, Cluster, ControlPlane, MachineDeployment. */
export function clusterManifests(o: {
  name: string;
  namespace?: string;
  controlPlaneReplicas?: number;
  workers?: number;
  version?: string;
  strategy?: Record<string, unknown>;
  network?: MotoNetwork;
  bootSeconds?: number;
  healthCheck?: boolean;
  /** A sim cluster's opt-in to a simulated control-plane load balancer. */
  controlPlaneLoadBalancer?: boolean;
  /** The MachineDeployment's mixed capacity (spec.capacity, api/capacity.ts). */
  capacity?: Record<string, unknown>;
}): { plural: string; object: { spec: unknown } & Record<string, unknown> }[] {
  const namespace = o.namespace ?? 'default';
  const version = o.version ?? 'v1.31.2';
  const metadata = (name: string) => ({ name, namespace });
  const classSpec = o.network
    ? { aws: { instanceTypes: ['t3.micro', 't3.small'], ami: o.network.ami } }
    : { sim: { bootSeconds: o.bootSeconds ?? 20, nodeReadySeconds: 10 } };
  const provider = o.network
    ? { aws: { region: 'us-east-1', subnets: o.network.subnets, securityGroupIds: [o.network.securityGroupId] } }
    : { sim: { failureDomains: ['zone-a', 'zone-b', 'zone-c'], ...(o.controlPlaneLoadBalancer ? { controlPlaneLoadBalancer: {} } : {}) } };
  const out: { plural: string; object: { spec: unknown } & Record<string, unknown> }[] = [
    { plural: 'machineclasses', object: { apiVersion: API, kind: 'MachineClass', metadata: metadata(`${o.name}-class`), spec: classSpec } },
    { plural: 'clusters', object: { apiVersion: API, kind: 'Cluster', metadata: metadata(o.name), spec: { provider } } },
    {
      plural: 'controlplanes',
      object: {
        apiVersion: API,
        kind: 'ControlPlane',
        metadata: metadata(`${o.name}-cp`),
        spec: { clusterName: o.name, replicas: o.controlPlaneReplicas ?? 3, version, machineClassRef: { name: `${o.name}-class` } },
      },
    },
    {
      plural: 'machinedeployments',
      object: {
        apiVersion: API,
        kind: 'MachineDeployment',
        metadata: metadata(`${o.name}-md`),
        spec: {
          clusterName: o.name,
          replicas: o.workers ?? 5,
          template: { spec: { version, machineClassRef: { name: `${o.name}-class` } } },
          ...(o.strategy ? { strategy: o.strategy } : {}),
          ...(o.capacity ? { capacity: o.capacity } : {}),
        },
      },
    },
  ];
  if (o.healthCheck)
    out.push({
      plural: 'machinehealthchecks',
      object: {
        apiVersion: API,
        kind: 'MachineHealthCheck',
        metadata: metadata(`${o.name}-mhc`),
        spec: {
          clusterName: o.name,
          selector: { matchLabels: { 'clusterless.dev/deployment-name': `${o.name}-md` } },
          unhealthyConditions: [
            { type: 'Ready', status: 'Unknown', timeout: '60s' },
            { type: 'Ready', status: 'False', timeout: '60s' },
          ],
          maxUnhealthy: '40%',
        },
      },
    });
  return out;
}
