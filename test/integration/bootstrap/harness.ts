/**
 * The whole control plane with the kubeadm bootstrap on emulators: the workflow runtime of the embedded host
 * (local/runtime.ts) over EC2, Secrets Manager and ELBv2 on moto_server, nodes simulated from the instances,
 * and the workload API (join tokens, uploaded certificates) on a real kube-apiserver. Every log line is kept,
 * so tests can scan them for secrets.
 */
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { Ec2MachineProvider, TagKeys } from '../../../functions/adapters/ec2/index.js';
import { Elbv2ManagedLoadBalancers, Elbv2TargetGroupRegistrations, createElbv2Client } from '../../../functions/adapters/elbv2/index.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { SimulatedNodes } from '../../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest, type HttpResponse } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import { kubeconfigSources } from '../../../functions/workflows/bootstrap-hooks.js';
import type { NodeFact } from '../../../functions/core/observed.js';
import { noWorkloadsDrainer, type MachineProvider, type NodeDrainer, type NodeReader, type SecretStore, type TargetGroupRegistrations } from '../../../functions/ports.js';
import { invocationHolder, scaledTimer, type WorkflowDeps } from '../../../functions/workflows/index.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { scaledClock, type ScaledClock } from '../../../local/scaled-clock.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { clusterManifests, NS_PATH } from '../../support/control-plane.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from '../../support/ec2.js';
import { waitUntil } from '../../support/wait.js';

export const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/6f1c1b52-1f5e-4d2b-9b1e-2d2f0c1e4a11';
/** moto's account: the owner of every instance it runs. */
export const INSTANCE_ARN_PREFIX = 'arn:aws:ec2:us-east-1:123456789012:instance/';

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** Records every secret name written and deleted, and passes through. */
export class RecordingSecretStore implements SecretStore {
  readonly written: string[] = [];
  readonly deleted: string[] = [];
  constructor(readonly inner: SecretStore) {}
  async create(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<boolean> {
    const created = await this.inner.create(name, value, tags);
    if (created) this.written.push(name);
    return created;
  }
  async put(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<void> {
    await this.inner.put(name, value, tags);
    this.written.push(name);
  }
  get(name: string): Promise<Uint8Array | undefined> {
    return this.inner.get(name);
  }
  async delete(name: string): Promise<void> {
    await this.inner.delete(name);
    this.deleted.push(name);
  }
  tag(name: string, tags: Record<string, string>): Promise<void> {
    return this.inner.tag(name, tags);
  }
}

export interface BootstrapWorld {
  /** Tagged on everything the world makes on moto; secrets are named under `clusterless/{installationId}/`. */
  installationId: string;
  runtime: ControlPlaneRuntime;
  store: MemoryStore;
  clock: ScaledClock;
  ec2: ReturnType<typeof motoEc2Client>;
  elb: ElasticLoadBalancingV2Client;
  network: MotoNetwork;
  /** A target group on moto with the installation's tag (and the cluster's, given targetGroupCluster). */
  targetGroupArn: string;
  secrets: RecordingSecretStore;
  bootstrap: KubeadmBootstrapper;
  logs: LogLine[];
  /** Which instances' nodes register (the others never join); every one by default. */
  joins: { allowed: (instanceId: string) => boolean };
  /** Target registrations and instance terminations, in the order they happened (`register i-1`, `terminate i-1`). */
  events: string[];
  api(method: string, path: string, body?: unknown): Promise<HttpResponse & { json: any }>;
  waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface BootstrapWorldOptions {
  motoEndpoint: string;
  /** The workload API the bootstrap makes tokens in (a real kube-apiserver's admin kubeconfig). */
  workloadKubeconfig: string;
  timeScale?: number;
  nodes?: (sim: NodeReader) => NodeReader;
  /** The cluster (`{namespace}/{name}`) `targetGroupArn` is tagged for, besides the installation. @default - none */
  targetGroupCluster?: string;
  drainer?: NodeDrainer;
}

export async function startBootstrapWorld(o: BootstrapWorldOptions): Promise<BootstrapWorld> {
  const timeScale = o.timeScale ?? 40;
  const clock = scaledClock({ timeScale });
  const store = new MemoryStore({ clock });
  const ec2 = motoEc2Client(o.motoEndpoint);
  const network = await createMotoNetwork(ec2);
  const elb = createElbv2Client(emulatorClientConfig(o.motoEndpoint));
  const installationId = uniqueName('boot');
  // Tagged as the user tags a target group they name in a cluster: the control plane registers into no other.
  const Tags = [
    { Key: TagKeys.installation, Value: installationId },
    ...(o.targetGroupCluster ? [{ Key: TagKeys.cluster, Value: o.targetGroupCluster }] : []),
  ];
  const tg = await elb.send(new CreateTargetGroupCommand({ Name: uniqueName('cp').slice(0, 32), Protocol: 'TCP', Port: 6443, VpcId: network.vpcId, TargetType: 'instance', Tags }));
  const targetGroupArn = tg.TargetGroups![0]!.TargetGroupArn!;
  const events: string[] = [];
  const ec2Provider = new Ec2MachineProvider({ client: ec2, clock, installationId });
  const provider: MachineProvider = {
    create: (spec, hooks) => ec2Provider.create(spec, hooks),
    describe: (ns, c) => ec2Provider.describe(ns, c),
    delete: async (target) => {
      const result = await ec2Provider.delete(target);
      events.push(`terminate ${target.instanceId ?? target.machineUid}`);
      return result;
    },
  };
  const elbTargets = new Elbv2TargetGroupRegistrations(elb);
  const targetGroups: TargetGroupRegistrations = {
    register: async (tg, t) => {
      await elbTargets.register(tg, t);
      events.push(`register ${t.instanceId}`);
    },
    deregister: async (tg, t) => {
      await elbTargets.deregister(tg, t);
      events.push(`deregister ${t.instanceId}`);
    },
  };
  const joins = { allowed: (_instanceId: string) => true };
  const sim = new SimulatedNodes({ provider, clock, readySeconds: 10 });
  const joinable: NodeReader = { listNodes: async (ns, c) => (await sim.listNodes(ns, c)).filter((n: NodeFact) => joins.allowed(n.providerID?.split('/').pop() ?? '')) };
  const secrets = new RecordingSecretStore(new SecretsManagerSecretStore({ client: createSecretsManagerClient(emulatorClientConfig(o.motoEndpoint)), kmsKeyId: KMS_KEY_ARN, installationId }));
  const logs: LogLine[] = [];
  const log = {
    info: (message: string, fields?: Record<string, unknown>) => void logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message: string, fields?: Record<string, unknown>) => void logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message: string, fields?: Record<string, unknown>) => void logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  const bootstrap = new KubeadmBootstrapper({
    secrets,
    clock,
    secretPrefix: `clusterless/${installationId}/`,
    instanceArnPrefix: INSTANCE_ARN_PREFIX,
    workloadKubeconfig: () => o.workloadKubeconfig,
    log,
  });
  const deps: WorkflowDeps = {
    store,
    provider,
    nodes: o.nodes ? o.nodes(joinable) : joinable,
    drainer: o.drainer ?? noWorkloadsDrainer,
    clock,
    timer: scaledTimer(timeScale),
    holder: invocationHolder('bootstrap-test'),
    pollSeconds: 5,
    log,
    bootstrap,
    targetGroups,
    managedLoadBalancers: new Elbv2ManagedLoadBalancers({ elb, ec2, installationId }),
  };
  const runtime = new ControlPlaneRuntime({ deps, timeScale, sweepSeconds: 30 });
  await runtime.start();
  const { adminKubeconfig } = kubeconfigSources(bootstrap, store);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await handleRequest(
      jsonRequest(method, path, body),
      { store: runtime.store, kubeconfig: adminKubeconfig },
    );
    let json: any;
    try {
      json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { ...res, json };
  };
  return {
    installationId,
    runtime,
    store,
    clock,
    ec2,
    elb,
    network,
    targetGroupArn,
    secrets,
    bootstrap,
    logs,
    joins,
    events,
    api,
    waitFor: <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> => waitUntil(what, check, timeoutMs, 50),
    stop: () => runtime.stop(),
  };
}

/** The manifests of an aws cluster with a control-plane endpoint and target group, for kubeadm. */
/**
 * The cluster's manifests with the kubeadm bootstrap's settings: with a target group, the user's load balancer
 * (and an endpoint of its own); without one, a load balancer clusterless makes (its endpoint recorded then).
 */
export function bootstrapClusterManifests(o: { name: string; network: MotoNetwork; targetGroupArn?: string; controlPlaneReplicas: number; workers: number; version: string }) {
  return clusterManifests({ name: o.name, network: o.network, controlPlaneReplicas: o.controlPlaneReplicas, workers: o.workers, version: o.version }).map((m) => {
    if (m.plural !== 'clusters') return m;
    const spec = m.object.spec as { provider: { aws: Record<string, unknown> } };
    return {
      ...m,
      object: {
        ...m.object,
        spec: {
          ...spec,
          ...(o.targetGroupArn ? { controlPlaneEndpoint: { host: `${o.name}-cp.example.internal`, port: 6443 } } : {}),
          provider: { aws: { ...spec.provider.aws, controlPlaneLoadBalancer: { scheme: 'internal', ...(o.targetGroupArn ? { targetGroupArn: o.targetGroupArn } : {}) } } },
        },
      },
    };
  });
}

export async function applyManifests(world: BootstrapWorld, manifests: { plural: string; object: unknown }[], namespace = 'default'): Promise<void> {
  for (const m of manifests) {
    const r = await world.api('POST', `${NS_PATH}/${namespace}/${m.plural}`, m.object);
    if (r.status !== 201) throw new Error(`create ${m.plural}: ${r.status} ${r.body}`);
  }
}

export type { ApiObject };
