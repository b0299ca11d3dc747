/**
 * The seed scenario, run through the deployed control plane as users and AWS would drive it: every request goes
 * through API Gateway with a team's SigV4 signature, every reconcile through the template's triggers and state
 * machines, every cloud call through the IAM gateway. Each step checks what users rely on; a failed step ends the
 * scenario (the rest depend on it), and teardown still runs.
 */
import { DescribeInstancesCommand, TerminateInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, UpdateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { generateCluster } from '../../cli/commands/generate.js';
import type { ApiClient } from '../../cli/client.js';
import { ApiRequestError } from '../../cli/errors.js';
import { API_VERSION, Annotations, Labels } from '../../functions/api/common.js';
import { TagKeys, clusterTagValue } from '../../functions/adapters/aws/tags.js';
import { isWatchLogPartition } from '../../functions/adapters/dynamodb/watch-log.js';
import { TABLE_KEYS, USAGE_PREFIX } from '../../functions/adapters/dynamodb/table.js';
import { UNAVAILABLE_OFFERINGS_PARTITION } from '../../functions/adapters/dynamodb/unavailable-offerings.js';
import type { CallerName } from './assembly.js';

export interface ScenarioAws {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  secrets: SecretsManagerClient;
  dynamodb: DynamoDBClient;
  scheduler: SchedulerClient;
}

export interface ScenarioContext {
  /** The API as each caller reaches it (API Gateway, SigV4 with the caller's role). */
  api(caller: CallerName): ApiClient;
  /** The account administrator's clients, straight to moto (observation and out-of-band changes only). */
  aws: ScenarioAws;
  tableName: string;
  secretsNamePrefix: string;
  /** Secrets under the prefix that the operator made (the mirror's kubeconfig): not the cluster's leftovers. */
  operatorSecrets?: string[];
  /** With the mirror on: whether the object is in the management cluster. */
  mirrored?(plural: string, namespace: string, name: string): Promise<boolean>;
  network: { subnets: { id: string; availabilityZone: string }[]; securityGroupId: string };
  imageId: string;
  /** A public SSM parameter naming an AMI, when the account has one: the MachineClass names its image by it. */
  imageSsmParameter?: string;
  /** Serves the workload API of a cluster on 127.0.0.1:port once its CA exists (workload.ts). */
  serveWorkload(namespace: string, clusterName: string, port: number): Promise<void>;
  /** The names of the cluster's Nodes (all Ready: the node agent keeps one per running instance). */
  workloadNodes(namespace: string, clusterName: string): Promise<string[]>;
  freePort(): Promise<number>;
  /** Crash every busy environment of the provision function right after its next RunInstances answered. */
  crashAfterNextLaunch(): void;
  /** Answer the next `count` calls of an operation (e.g. `ec2:RunInstances`) with the service's throttling error. */
  throttle(operation: string, count: number): void;
  /** How many throttled answers were sent so far. */
  throttledSoFar(): number;
  /** Deliveries of EC2 state-change events to the instance-events function, per instance id. */
  instanceEventsFor(instanceId: string): number;
  /** How many times schedules of this group fired, and whether they were created by the reconcile function. */
  requeuesFired(): number;
  sweepSchedule: { group: string; name: string };
  /** Why the run is already lost (a control-plane principal was refused by IAM): every wait ends at once. */
  abortReason(): string | undefined;
  log(line: string): void;
}

export interface StepResult {
  name: string;
  passed: boolean;
  seconds: number;
  detail?: string;
}

const NAMESPACE = 'team-a';
const CLUSTER = 'e2e';
const DEPLOYMENT = `${CLUSTER}-md-0`;
const BASE = `/apis/${API_VERSION}/namespaces/${NAMESPACE}`;
const MERGE = 'application/merge-patch+json';

/** The fields of the API's objects the scenario reads. */
interface Obj {
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    clusterName?: string;
    version?: string;
    strategy?: { rollingUpdate?: { maxSurge?: number; maxUnavailable?: number } };
  };
  status?: {
    phase?: string;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    replicas?: number;
    infrastructure?: { instanceId?: string };
  };
}

export class ScenarioFailure extends Error {
  override name = 'ScenarioFailure';
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScenarioFailure(message);
}

/** Why waiting any longer is pointless (the run is lost), or undefined. */
type AbortReason = () => string | undefined;
const never: AbortReason = () => undefined;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, abortReason = never, every = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const aborted = abortReason();
    if (aborted) throw new ScenarioFailure(`stopped waiting for ${what}: ${aborted}`);
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new ScenarioFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The promise's value, unless the run is lost or the time is up first. */
async function unlessAborted<T>(what: string, promise: Promise<T>, timeoutMs: number, abortReason: AbortReason): Promise<T> {
  let settled = false;
  const watcher = waitFor(what, timeoutMs, async () => settled || undefined, abortReason);
  watcher.catch(() => undefined);
  try {
    return await Promise.race([promise, watcher.then(() => promise)]);
  } finally {
    settled = true;
  }
}

async function refused(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof ApiRequestError ? err.httpStatus : -1;
  }
}

export async function runScenario(ctx: ScenarioContext, options: { short?: boolean } = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>) => waitFor(what, timeoutMs, probe, ctx.abortReason);
  const writer = ctx.api('TeamAWriter');
  const reader = ctx.api('TeamAReader');
  let failed = false;
  const step = async (name: string, run: () => Promise<string | undefined>, options: { always?: boolean } = {}) => {
    if (failed && !options.always) return;
    const started = Date.now();
    ctx.log(`step: ${name}`);
    try {
      const detail = await run();
      results.push({ name, passed: true, seconds: (Date.now() - started) / 1000, ...(detail ? { detail } : {}) });
      ctx.log(`  passed in ${((Date.now() - started) / 1000).toFixed(1)} s${detail ? `: ${detail}` : ''}`);
    } catch (err) {
      failed = true;
      results.push({ name, passed: false, seconds: (Date.now() - started) / 1000, detail: (err as Error).message });
      ctx.log(`  FAILED: ${(err as Error).message}`);
    }
  };

  const machines = async (): Promise<Obj[]> => (await reader.list<Obj>(`${BASE}/machines`)).filter((m) => m.spec?.clusterName === CLUSTER);
  const workers = async () => (await machines()).filter((m) => m.metadata.labels?.[Labels.deploymentName] === DEPLOYMENT);
  const running = (ms: Obj[]) => ms.filter((m) => m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);
  const get = async (plural: string, name: string) => (await reader.get<Obj>(`${BASE}/${plural}/${name}`)).body;
  const liveInstances = async (): Promise<Instance[]> => {
    const out = await ctx.aws.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${TagKeys.cluster}`, Values: [clusterTagValue(NAMESPACE, CLUSTER)] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
        ],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  };
  /** No machine was ever launched twice: one live instance per machine uid. */
  const noDuplicateInstances = async () => {
    const byUid = new Map<string, number>();
    for (const i of await liveInstances()) {
      const uid = i.Tags?.find((t) => t.Key === TagKeys.machineUid)?.Value ?? '?';
      byUid.set(uid, (byUid.get(uid) ?? 0) + 1);
    }
    const twice = [...byUid].filter(([, n]) => n > 1);
    check(twice.length === 0, `machines with more than one live instance: ${twice.map(([u, n]) => `${u} (${n})`).join(', ')}`);
  };
  /** One machine in a failure message: name, set, version, phase and resourceVersion. */
  const describeMachine = (m: Obj) =>
    `${m.metadata.name} (${m.metadata.labels?.[Labels.setName] ?? '?'}, ${m.spec?.version ?? '?'}, ${m.status?.phase ?? 'no phase'}, rv ${m.metadata.resourceVersion ?? '?'})`;
  const deploymentSettled = async (replicas: number) => {
    const md = await get('machinedeployments', DEPLOYMENT);
    const ws = await workers();
    return (
      (md.status?.availableReplicas ?? 0) === replicas &&
      (md.status?.updatedReplicas ?? 0) === replicas &&
      (md.status?.replicas ?? 0) === replicas &&
      running(ws).length === replicas &&
      ws.length === replicas
    );
  };
  /**
   * Polls while a rollout runs, holding maxSurge and maxUnavailable at every observation: at most replicas + maxSurge
   * machines that are not being deleted, and at least replicas - maxUnavailable of them serving, that is with a Ready
   * Node in the workload cluster (what users count on; the machines' own status is written a moment after the
   * controller has seen the node, and is no fair clock to hold it to).
   */
  const watchRollout = async (replicas: number, maxSurge: number, maxUnavailable: number, done: () => Promise<boolean>, timeoutMs: number) => {
    let observations = 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [ws, instances] = await Promise.all([workers(), liveInstances()]);
      const nodes = new Set(await ctx.workloadNodes(NAMESPACE, CLUSTER));
      const dns = new Map(instances.map((i) => [i.InstanceId, i.PrivateDnsName]));
      const live = ws.filter((m) => !m.metadata.deletionTimestamp);
      const serving = live.filter((m) => nodes.has(dns.get(m.status?.infrastructure?.instanceId) ?? ''));
      check(
        live.length <= replicas + maxSurge,
        `maxSurge broken: ${live.length} machines for ${replicas} replicas (maxSurge ${maxSurge}): ${live.map(describeMachine).join(', ')}`,
      );
      check(
        serving.length >= replicas - maxUnavailable,
        `maxUnavailable broken: ${serving.length} machines with a Ready node for ${replicas} replicas (maxUnavailable ${maxUnavailable})`,
      );
      observations++;
      if (await done()) return observations;
      if (Date.now() > deadline) throw new ScenarioFailure(`the rollout did not complete in ${timeoutMs / 1000} s (${observations} observations)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const port = await ctx.freePort();
  const controlPlanes = options.short ? 1 : 3;
  const replicas = options.short ? 1 : 5;

  await step('teams are held to their namespaces (execute-api:Invoke per namespace)', async () => {
    const cm = { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'probe', namespace: NAMESPACE }, spec: { sim: {} } };
    const byReader = await refused(reader.request('POST', `${BASE}/machineclasses`, { body: cm }));
    check(byReader === 403, `a reader of team-a could create in team-a (answer ${byReader ?? 'accepted'})`);
    const byOtherTeam = await refused(ctx.api('TeamBWriter').request('POST', `${BASE}/machineclasses`, { body: cm }));
    check(byOtherTeam === 403, `team-b could create in team-a (answer ${byOtherTeam ?? 'accepted'})`);
    const readByOtherTeam = await refused(ctx.api('TeamBWriter').get(`${BASE}/clusters`));
    check(readByOtherTeam === 403, `team-b could list team-a's clusters (answer ${readByOtherTeam ?? 'accepted'})`);
    const list = await reader.get<{ items: unknown[] }>(`${BASE}/clusters`);
    check(Array.isArray(list.body.items), 'the reader could not list its own namespace');
    return 'reader refused a create, team-b refused a create and a list in team-a, the reader lists';
  });

  await step(`create a cluster: ${controlPlanes} control-plane machines and a MachineDeployment of ${replicas}`, async () => {
    const generated = generateCluster(CLUSTER, {
      provider: 'aws',
      namespace: NAMESPACE,
      kubernetesVersion: 'v1.31.2',
      controlPlaneMachineCount: String(controlPlanes),
      workerMachineCount: String(replicas),
      awsRegion: 'us-east-1',
      awsSubnet: ctx.network.subnets.map((s) => `${s.id}:${s.availabilityZone}`),
      awsSecurityGroupId: [ctx.network.securityGroupId],
      ...(ctx.imageSsmParameter ? { awsImageSsmParameter: ctx.imageSsmParameter } : { awsAmi: ctx.imageId }),
      awsInstanceType: ['m7i.large'],
      awsControlPlaneEndpoint: `127.0.0.1:${port}`,
    });
    for (const obj of generated.objects) {
      const o = obj as { kind: string; spec: { provider?: { aws?: Record<string, unknown> } } };
      // The endpoint stands for the user's DNS name in front of the load balancer clusterless still makes.
      if (o.kind === 'Cluster' && o.spec.provider?.aws) o.spec.provider.aws['controlPlaneLoadBalancer'] = { scheme: 'internal' };
      const plural = `${o.kind.toLowerCase()}${o.kind.endsWith('s') ? 'es' : 's'}`;
      await writer.request('POST', `${BASE}/${plural}`, { body: o });
    }
    // The workload API comes up once provision has made the cluster's CA.
    await unlessAborted('the workload API (it waits for the cluster CA)', ctx.serveWorkload(NAMESPACE, CLUSTER, port), 180_000, ctx.abortReason);
    await until('the control plane and the workers to be up', options.short ? 120_000 : 240_000, async () => {
      const cp = await get('controlplanes', `${CLUSTER}-control-plane`);
      return (cp.status?.readyReplicas ?? 0) === controlPlanes && (await deploymentSettled(replicas));
    });
    const cluster = await get('clusters', CLUSTER);
    const lbs = await ctx.aws.elbv2.send(new DescribeLoadBalancersCommand({}));
    check((lbs.LoadBalancers ?? []).length === 1, `expected one load balancer, found ${(lbs.LoadBalancers ?? []).length}`);
    const tgs = await ctx.aws.elbv2.send(new DescribeTargetGroupsCommand({}));
    const tg = tgs.TargetGroups?.[0];
    check(tg, 'no target group');
    // Provision registers a control-plane machine's target once its node is Ready, after the machine counts as ready.
    const targets = async () =>
      (await ctx.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions ?? [];
    await until(`${controlPlanes} control-plane targets in the target group`, 60_000, async () => (await targets()).length === controlPlanes);
    await noDuplicateInstances();
    const mirrored = ctx.mirrored;
    if (mirrored) await until('the Cluster in the management cluster (the mirror)', 60_000, () => mirrored('clusters', NAMESPACE, CLUSTER));
    return `cluster phase ${cluster.status?.phase ?? '?'}, ${(await liveInstances()).length} instances, ${controlPlanes} control-plane targets${mirrored ? ', mirrored into the management cluster' : ''}`;
  });

  if (!options.short) {
    await step('scale the MachineDeployment to 7, through a crash of provision mid-task and a burst of EC2 throttling', async () => {
      ctx.crashAfterNextLaunch();
      const throttledBefore = ctx.throttledSoFar();
      ctx.throttle('ec2:RunInstances', 6);
      await writer.request('PATCH', `${BASE}/machinedeployments/${DEPLOYMENT}`, { body: { spec: { replicas: 7 } }, contentType: MERGE });
      await until('7 available workers', 240_000, () => deploymentSettled(7));
      await noDuplicateInstances();
      const throttled = ctx.throttledSoFar() - throttledBefore;
      check(throttled === 6, `the throttling burst answered ${throttled} calls, not 6`);
      return `7 workers, one live instance per machine after the crash and ${throttled} throttled launches`;
    });

    await step('rolling upgrade to v1.31.3 within maxSurge 1 and maxUnavailable 0 at every observed step', async () => {
      const md = await get('machinedeployments', DEPLOYMENT);
      const maxSurge = md.spec?.strategy?.rollingUpdate?.maxSurge ?? 1;
      const maxUnavailable = md.spec?.strategy?.rollingUpdate?.maxUnavailable ?? 0;
      const before = new Set((await workers()).map((m) => m.metadata.uid));
      await writer.request('PATCH', `${BASE}/machinedeployments/${DEPLOYMENT}`, {
        body: { spec: { template: { spec: { version: 'v1.31.3' } } } },
        contentType: MERGE,
      });
      const observations = await watchRollout(
        7,
        maxSurge,
        maxUnavailable,
        async () => (await deploymentSettled(7)) && (await workers()).every((m) => m.spec?.version === 'v1.31.3' && !before.has(m.metadata.uid)),
        300_000,
      );
      await noDuplicateInstances();
      return `${observations} observations, every worker replaced`;
    });

    // The rollback under a wider strategy than the upgrade's: several machines replaced at once (and as many taken
    // down first), each observation still within both bounds. A strategy change alone starts no rollout.
    const wide = { maxSurge: 3, maxUnavailable: 1 };
    await step(`roll back to the previous revision (v1.31.2) within maxSurge ${wide.maxSurge} and maxUnavailable ${wide.maxUnavailable}`, async () => {
      await writer.request('PATCH', `${BASE}/machinedeployments/${DEPLOYMENT}`, {
        body: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: wide } } },
        contentType: MERGE,
      });
      const revision = (await get('machinedeployments', DEPLOYMENT)).metadata.annotations?.[Annotations.revision];
      await writer.request('POST', `${BASE}/machinedeployments/${DEPLOYMENT}/rollback`, { body: {} });
      const observations = await watchRollout(
        7,
        wide.maxSurge,
        wide.maxUnavailable,
        async () => (await deploymentSettled(7)) && (await workers()).every((m) => m.spec?.version === 'v1.31.2'),
        300_000,
      );
      const after = (await get('machinedeployments', DEPLOYMENT)).metadata.annotations?.[Annotations.revision];
      check(after !== revision, `the rollback made no new revision (still ${revision})`);
      return `${observations} observations, revision ${revision} -> ${after}`;
    });

    await step('an instance terminated out of band is replaced through the EventBridge path (sweep paused)', async () => {
      const sweep = await ctx.aws.scheduler.send(new GetScheduleCommand({ GroupName: ctx.sweepSchedule.group, Name: ctx.sweepSchedule.name }));
      const setSweep = (State: 'ENABLED' | 'DISABLED') =>
        ctx.aws.scheduler.send(
          new UpdateScheduleCommand({
            Name: sweep.Name!,
            GroupName: sweep.GroupName!,
            ScheduleExpression: sweep.ScheduleExpression!,
            FlexibleTimeWindow: sweep.FlexibleTimeWindow!,
            Target: sweep.Target!,
            State,
          }),
        );
      await setSweep('DISABLED');
      try {
        const victim = running(await workers())[0]!;
        const instanceId = victim.status?.infrastructure?.instanceId;
        check(instanceId, `machine ${victim.metadata.name} has no instance id`);
        await ctx.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        await until('the machine of the terminated instance to be replaced', 180_000, async () => {
          const ws = await workers();
          return !ws.some((m) => m.metadata.uid === victim.metadata.uid) && (await deploymentSettled(7));
        });
        check(ctx.instanceEventsFor(instanceId) > 0, `no state-change event of ${instanceId} reached the instance-events function`);
        return `${victim.metadata.name} (${instanceId}) replaced; ${ctx.instanceEventsFor(instanceId)} events delivered`;
      } finally {
        await setSweep('ENABLED');
      }
    });

    await step('a requeue is honoured: minReadySeconds past the next sweep makes reconcile schedule itself', async () => {
      const firedBefore = ctx.requeuesFired();
      await writer.request('PATCH', `${BASE}/machinedeployments/${DEPLOYMENT}`, { body: { spec: { minReadySeconds: 600, replicas: 8 } }, contentType: MERGE });
      await until('a requeue schedule made by reconcile to fire', 120_000, async () => ctx.requeuesFired() > firedBefore);
      await writer.request('PATCH', `${BASE}/machinedeployments/${DEPLOYMENT}`, { body: { spec: { minReadySeconds: 0, replicas: 7 } }, contentType: MERGE });
      await until('7 available workers again', 180_000, () => deploymentSettled(7));
      return `${ctx.requeuesFired() - firedBefore} requeues fired`;
    });
  }

  await step(
    'delete the cluster and its MachineClass: nothing is left',
    async () => {
      await writer.request('DELETE', `${BASE}/clusters/${CLUSTER}`);
      await until('the cluster to be gone', 300_000, async () => (await refused(reader.get(`${BASE}/clusters/${CLUSTER}`))) === 404);
      // The class is the user's (clusters copy it into their machines): deleted as it was applied, by the user.
      await writer.request('DELETE', `${BASE}/machineclasses/${CLUSTER}`);
      // Reconciles the last writes started may still hold the cluster's lease for a moment.
      const left = await settledLeftovers(ctx, ctx.abortReason() ? 0 : 60_000);
      check(left.length === 0, `left behind: ${left.join('; ')}`);
      const nodes = await ctx.workloadNodes(NAMESPACE, CLUSTER);
      check(nodes.length === 0, `the workload cluster still has the nodes ${nodes.join(', ')}`);
      return 'no instance, load balancer, target group, secret, table item or workload node left';
    },
    { always: true },
  );
  return results;
}

/** What the cluster left in the account: live instances, load balancers, target groups, secrets, table items of it. */
async function leftovers(ctx: Pick<ScenarioContext, 'aws' | 'tableName' | 'secretsNamePrefix' | 'operatorSecrets'>): Promise<string[]> {
  const out: string[] = [];
  const instances = await ctx.aws.ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] }] }),
  );
  for (const i of (instances.Reservations ?? []).flatMap((r) => r.Instances ?? [])) out.push(`instance ${i.InstanceId}`);
  for (const lb of (await ctx.aws.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []) out.push(`load balancer ${lb.LoadBalancerName}`);
  for (const tg of (await ctx.aws.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []) out.push(`target group ${tg.TargetGroupName}`);
  for (const s of (await ctx.aws.secrets.send(new ListSecretsCommand({}))).SecretList ?? [])
    if (s.Name?.startsWith(ctx.secretsNamePrefix) && !s.DeletedDate && !ctx.operatorSecrets?.includes(s.Name)) out.push(`secret ${s.Name}`);
  const items = await ctx.aws.dynamodb.send(new ScanCommand({ TableName: ctx.tableName }));
  // The watch log's items (the stream function's record of the changes), Events (what happened, kept after their
  // object as Kubernetes keeps them), the clusters' usage records (the month's cost, a deleted cluster's included) and
  // the marks of offerings without capacity (the installation's) are not the cluster's: each carries the table's TTL.
  const ttl = (item: Record<string, { S?: string; N?: string }>) => item[TABLE_KEYS.timeToLiveAttribute]?.N !== undefined;
  const expiring = (item: Record<string, { S?: string; N?: string }>) =>
    isWatchLogPartition(item['pk']?.S) ||
    ((item[TABLE_KEYS.kindIndex.partitionKey]?.S === 'Event' ||
      item['pk']?.S?.startsWith(USAGE_PREFIX) === true ||
      item['pk']?.S === UNAVAILABLE_OFFERINGS_PARTITION) &&
      ttl(item));
  for (const item of items.Items ?? []) if (!expiring(item)) out.push(`table item ${item['pk']?.S ?? '?'} ${item['sk']?.S ?? '?'}`);
  return out;
}

/** What is left once the account has been quiet, or after `timeoutMs`: a reconcile in flight holds a lease for a moment. */
export async function settledLeftovers(
  ctx: Pick<ScenarioContext, 'aws' | 'tableName' | 'secretsNamePrefix' | 'operatorSecrets'>,
  timeoutMs: number,
): Promise<string[]> {
  let left = await leftovers(ctx);
  for (const until = Date.now() + timeoutMs; left.length > 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 1000));
    left = await leftovers(ctx);
  }
  return left;
}
