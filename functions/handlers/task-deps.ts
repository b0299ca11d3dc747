/**
 * The workflow tasks' dependencies on AWS, built once per Lambda container from the environment the stack
 * sets: TABLE_NAME for the store, INSTALLATION_ID for everything made in the cloud (required), the region's EC2
 * for machines (and SSM for MachineClasses that name their image by imageSsmParameter), NODE_INSTANCE_PROFILES
 * for machines whose class names no instance profile.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbStore, DynamoDbUnavailableOfferings, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { Ec2MachineProvider, createEc2Client, createSsmClient, imageParameterResolver } from '../adapters/ec2/index.js';
import { schedulerRequeuesFromEnvironment } from '../adapters/scheduler/index.js';
import { Elbv2ManagedLoadBalancers, Elbv2TargetGroupRegistrations, createElbv2Client } from '../adapters/elbv2/index.js';
// The workload adapters' own modules, not adapters/kubernetes/index.js: that one also exports the mirror and its @kubernetes/client-node.
import { KubernetesNodeDrainer } from '../adapters/kubernetes/node-drainer.js';
import { KubernetesNodeLabeler } from '../adapters/kubernetes/node-labeler.js';
import { KubernetesNodeReader } from '../adapters/kubernetes/node-reader.js';
import { WorkloadClients } from '../adapters/kubernetes/workload.js';
import { KubeadmWorkloadObjects } from '../adapters/kubeadm/workload-upgrade.js';
import type { KubeadmBootstrapper } from '../adapters/kubeadm/kubeadm-bootstrapper.js';
import { EtcdMembershipOverClient, instanceClientUrls } from '../adapters/etcd/etcd-membership.js';
import { KubernetesAddonApplier } from '../adapters/kubernetes/addon-applier.js';
import { payloadStoreFromEnvironment } from '../adapters/payloads/index.js';
import { kubeconfigSources } from '../workflows/bootstrap-hooks.js';
import { EtcdUnavailableError, NodeReaderUnavailableError, noWorkloadsDrainer, systemClock, type NodeReader, type Store } from '../ports.js';
import { invocationHolder, scaledTimer, workflowDeps, type Logger as TaskLogger, type WorkflowDeps } from '../workflows/deps.js';
// Not through workflows/index.ts, which imports every task: each task function's bundle carries its own task only.
import { storeEventRecorder } from '../workflows/events.js';
import { meteredInvocation } from '../metering/index.js';
import type { TaskFunctionName } from '../../statemachines/loader.js';
import { bootstrapperFromEnvironment, installationIdFromEnvironment, nodeInstanceProfilesFromEnvironment } from './bootstrap-deps.js';

export const logger = new Logger({ serviceName: 'clusterless-tasks' });

/**
 * A task without the secrets key (SECRETS_KMS_KEY_ARN) cannot reach workload clusters: node facts are then
 * unknown rather than absent, and nothing is concluded from them.
 */
const unreadableNodes: NodeReader = {
  listNodes: async () => {
    throw new NodeReaderUnavailableError('workload cluster credentials are not available yet');
  },
};

export function taskDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the task needs the name of the clusterless table');
  const installationId = installationIdFromEnvironment(env);
  const nodeInstanceProfiles = nodeInstanceProfilesFromEnvironment(env);
  const clock = systemClock;
  const container = randomUUID();
  const log: TaskLogger = {
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
  };
  const dynamodb = createDynamoDbClient();
  const store = new DynamoDbStore({ client: dynamodb, tableName, clock });
  const ec2 = createEc2Client();
  const elbv2 = createElbv2Client();
  const payloads = payloadStoreFromEnvironment(env);
  return workflowDeps({
    store,
    ...(payloads ? { payloads } : {}),
    provider: new Ec2MachineProvider({
      client: ec2,
      clock,
      installationId,
      nodeInstanceProfiles,
      resolveImageParameter: imageParameterResolver({ client: createSsmClient(), clock }),
    }),
    ...workloadDepsFromEnvironment(env, store, log, elbv2),
    managedLoadBalancers: new Elbv2ManagedLoadBalancers({ elb: elbv2, ec2, installationId }),
    clock,
    ...requeuesFromEnvironment(env, clock),
    timer: scaledTimer(1),
    holder: invocationHolder(container),
    log,
    // Events go to the same table (their own partition, with a TTL; the stream's filter leaves them out).
    events: storeEventRecorder(store, clock, log),
    unavailableOfferings: new DynamoDbUnavailableOfferings(dynamodb, tableName),
  });
}

/** Requeues through EventBridge Scheduler where the stack gave the function a schedule group (the reconcile function). */
const requeuesFromEnvironment = (env: NodeJS.ProcessEnv, clock: WorkflowDeps['clock']): Partial<Pick<WorkflowDeps, 'requeues'>> => {
  const requeues = schedulerRequeuesFromEnvironment(env, clock);
  return requeues ? { requeues } : {};
};

/**
 * The kubeadm bootstrap and the workload-cluster adapters, from SECRETS_KMS_KEY_ARN (the key every
 * secret is encrypted with) and SECRETS_NAME_PREFIX: the bootstrap over Secrets Manager, the node reader and
 * drainer through an admin kubeconfig made from the cluster's CA, kubeadm's objects in workload clusters, and the
 * ELBv2 target groups.
 */
export function workloadDepsFromEnvironment(
  env: NodeJS.ProcessEnv,
  store: Store,
  log: TaskLogger,
  elbv2 = createElbv2Client(),
): Pick<WorkflowDeps, 'nodes' | 'drainer' | 'targetGroups'> & Partial<Pick<WorkflowDeps, 'bootstrap' | 'kubeadmObjects' | 'etcd' | 'addons' | 'nodeLabels'>> {
  const targetGroups = new Elbv2TargetGroupRegistrations(elbv2);
  const bootstrap = bootstrapperFromEnvironment(env, { log });
  if (!bootstrap) return { nodes: unreadableNodes, drainer: noWorkloadsDrainer, targetGroups };
  // One client per workload cluster for both reading nodes and draining them.
  const clients = new WorkloadClients({ kubeconfigFor: kubeconfigSources(bootstrap, store).kubeconfigFor });
  return {
    nodes: new KubernetesNodeReader(clients),
    drainer: new KubernetesNodeDrainer(clients),
    nodeLabels: new KubernetesNodeLabeler(clients),
    addons: new KubernetesAddonApplier(clients),
    bootstrap,
    targetGroups,
    kubeadmObjects: new KubeadmWorkloadObjects({ issuer: bootstrap }),
    ...etcdFromEnvironment(env, bootstrap),
  };
}

/**
 * The control planes' etcd, read directly at each control-plane instance's private address on ETCD_CLIENT_PORT,
 * which the stack sets only for functions in the workload network: elsewhere the members cannot be reached, and
 * the planners infer them from machines and nodes (noEtcd) rather than wait on an etcd they never read.
 */
export function etcdFromEnvironment(env: NodeJS.ProcessEnv, bootstrap: KubeadmBootstrapper): Partial<Pick<WorkflowDeps, 'etcd'>> {
  const port = Number(env['ETCD_CLIENT_PORT']);
  if (!Number.isInteger(port) || port <= 0) return {};
  return {
    etcd: new EtcdMembershipOverClient({
      endpointsOf: (target) => instanceClientUrls(target.instances, port),
      credentialsOf: async (target) => {
        const credentials = await bootstrap.etcdClientCredentials(target.namespace, target.clusterName);
        if (!credentials) throw new EtcdUnavailableError(`${target.namespace}/${target.clusterName} has no etcd CA yet`);
        return credentials;
      },
    }),
  };
}

/**
 * A Lambda handler for one task function: dependencies built on first use and kept for the container. Each invocation
 * of a cluster's step adds what it cost to the cluster's usage record (metering/cluster-usage.ts), as the embedded
 * host does around the same tasks.
 */
export function taskHandler(
  run: (deps: WorkflowDeps, input: Record<string, unknown>) => Promise<unknown>,
  name: TaskFunctionName,
  build: () => WorkflowDeps = taskDepsFromEnvironment,
) {
  let deps: WorkflowDeps | undefined;
  return async (event: Record<string, unknown>): Promise<unknown> => {
    deps ??= build();
    logger.appendKeys({ step: event['step'], cluster: `${String(event['namespace'])}/${String(event['clusterName'])}` });
    const d = deps;
    return meteredInvocation(d, name, event, (metered) => run(metered, event), {
      now: () => d.clock.now(),
      onUsageError: (err) => logger.warn('task usage not counted', { error: String(err) }),
    });
  };
}
