import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS, MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV, parseReplicaLimit } from '../functions/api/http/limits.js';
import { INSTALLATION_ENV } from '../functions/installation.js';
import type { TaskFunctionName } from '../statemachines/loader.js';
import { AlarmTopic } from './constructs/alarm-topic.js';
import { BootstrapSecrets } from './constructs/bootstrap-secrets.js';
import { grantClusterTransfer } from './constructs/cluster-transfer.js';
import type { IClusterlessControlPlane } from './constructs/cluster-fleet.js';
import { ControlPlaneWorkflows } from './constructs/control-plane-workflows.js';
import {
  grantDescribe,
  grantImageParameters,
  grantLaunchInstances,
  grantManagedLoadBalancers,
  grantTargetRegistration,
  grantTerminateInstances,
  type MachineNetworkProps,
} from './constructs/ec2-permissions.js';
import { FleetProvider } from './constructs/fleet-provider.js';
import { HandlerFunction } from './constructs/handler-function.js';
import { HttpApi } from './constructs/http-api.js';
import { LogEncryption } from './constructs/log-encryption.js';
import { NodeRoles } from './constructs/node-roles.js';
import { AddonPayloads } from './constructs/addon-payloads.js';
import { ObjectTable } from './constructs/object-table.js';
import { WorkloadNetwork, talksToWorkloads, type WorkloadNetworkProps } from './constructs/workload-network.js';
import { InstanceEventsRule, RequeueSchedules, StreamTrigger, SweepSchedule } from './constructs/reconcile-triggers.js';
import { StepFailureAlarms } from './constructs/step-failure-alarms.js';
import { OperationsDashboard } from './constructs/operations-dashboard.js';
import { Mirror, type MirrorOptions } from './constructs/mirror.js';
import { acknowledgeControlPlaneFindings } from './nag/acknowledgments.js';

/** Every Lambda handler of functions/handlers, by name. */
export type HandlerName =
  | 'http'
  | 'kubeconfig'
  | 'cluster-transfer'
  | 'token-authorizer'
  | TaskFunctionName
  | 'stream'
  | 'sweep'
  | 'instance-events'
  | 'fleet-resource';

interface HandlerSpec {
  entry: string;
  serviceName: string;
  description: string;
  timeout: Duration;
  memorySize: number;
}

const task = (name: TaskFunctionName, what: string, timeout = Duration.seconds(60)): HandlerSpec => ({
  entry: `functions/handlers/tasks/${name}.ts`,
  serviceName: 'clusterless-tasks',
  description: `clusterless task: ${what}`,
  timeout,
  memorySize: 512,
});

/** Timeouts follow the states' TimeoutSeconds in statemachines/ (reconcile 240 s, the steps 60 s). */
export const HANDLERS: Record<HandlerName, HandlerSpec> = {
  http: {
    entry: 'functions/handlers/http.ts',
    serviceName: 'clusterless-api',
    description: 'clusterless: the resource API',
    // The longest watch it streams (MAX_STREAMED_WATCH_SECONDS, 290 s, functions/handlers/http.ts) and 10 s to end it;
    // its API Gateway integrations wait as long.
    timeout: Duration.seconds(300),
    memorySize: 512,
  },
  kubeconfig: {
    entry: 'functions/handlers/kubeconfig.ts',
    serviceName: 'clusterless-kubeconfig',
    description: 'clusterless: signs admin kubeconfigs (GET .../clusters/{name}/kubeconfig)',
    timeout: Duration.seconds(29),
    memorySize: 512,
  },
  'cluster-transfer': {
    entry: 'functions/handlers/cluster-transfer.ts',
    serviceName: 'clusterless-cluster-transfer',
    description: 'clusterless: the steps of `clusterless import` and `clusterless move` (certificates, adopt, move)',
    timeout: Duration.seconds(29),
    memorySize: 512,
  },
  'token-authorizer': {
    entry: 'functions/handlers/token-authorizer.ts',
    serviceName: 'clusterless-token-authorizer',
    description: 'clusterless: the kubectl door authorizer (EKS-style tokens, STS GetCallerIdentity)',
    timeout: Duration.seconds(10),
    memorySize: 256,
  },
  reconcile: task('reconcile', 'reconcile one cluster', Duration.seconds(240)),
  provision: task('provision', 'the steps of provision-machine'),
  rollout: task('rollout', 'the steps of rolling-upgrade'),
  remediate: task('remediate', 'the steps of remediate'),
  teardown: task('teardown', 'the steps of delete-cluster'),
  'fleet-upgrade': task('fleet-upgrade', 'the steps of fleet-upgrade'),
  stream: {
    entry: 'functions/handlers/stream.ts',
    serviceName: 'clusterless-stream',
    description: 'clusterless: table changes start reconciles',
    timeout: Duration.seconds(60),
    memorySize: 256,
  },
  sweep: {
    entry: 'functions/handlers/sweep.ts',
    serviceName: 'clusterless-sweep',
    description: 'clusterless: reconciles the clusters that drift',
    timeout: Duration.seconds(60),
    memorySize: 512,
  },
  'instance-events': {
    entry: 'functions/handlers/instance-events.ts',
    serviceName: 'clusterless-instance-events',
    description: 'clusterless: EC2 instance state changes start reconciles',
    timeout: Duration.seconds(30),
    memorySize: 256,
  },
  'fleet-resource': {
    entry: 'functions/handlers/fleet-resource.ts',
    serviceName: 'clusterless-fleet',
    description: 'clusterless: applies ClusterFleet manifests (custom resource)',
    timeout: Duration.minutes(5),
    memorySize: 512,
  },
};

/**
 * Reserved concurrency where a runaway loop could cost: reconcile (the stream -> reconcile -> write -> stream
 * loop ends when a reconcile writes nothing, but a bug could keep it going), the sweep (one at a time is
 * enough), instance events (a mass termination). The step tasks are paced by their state machines' Waits.
 */
export const DEFAULT_RESERVED_CONCURRENCY: Partial<Record<HandlerName, number>> = { reconcile: 50, sweep: 1, 'instance-events': 10 };

export interface ControlPlaneStackProps extends StackProps {
  /** @default Duration.minutes(1) */
  readonly sweepInterval?: Duration;
  /**
   * Roles of your own that MachineClasses may name through their iamInstanceProfile, besides the stack's
   * NodeRoles: the provision task may pass these (iam:PassRole to EC2) and no other.
   * @default - the NodeRoles only
   */
  readonly additionalNodeRoles?: iam.IRole[];
  /**
   * The subnets and security groups machines may be launched into, by id. App context:
   * `-c machineNetwork='{"subnetIds":["subnet-..."],"securityGroupIds":["sg-..."]}'`.
   * @default - those tagged clusterless.dev/installation={installation id}
   */
  readonly machineNetwork?: MachineNetworkProps;
  /**
   * The most replicas a MachineDeployment may ask for (MAX_MACHINE_DEPLOYMENT_REPLICAS of the API and the fleet
   * resource, which refuse more): a typo of 10000 should not launch ten thousand instances. A whole number from 1 to
   * 2147483647 (int32, as replicas are), checked at synth by the same rule the functions read it with.
   * @default DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS (functions/api/http/limits.ts)
   */
  readonly maxMachineDeploymentReplicas?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency per function, or false to reserve none (accounts whose Lambda concurrency quota is
   * too low to reserve any).
   * @default DEFAULT_RESERVED_CONCURRENCY
   */
  readonly reservedConcurrency?: false | Partial<Record<HandlerName, number>>;
  /**
   * What happens to the table, its key and the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /** @default lambda.Runtime.NODEJS_22_X */
  readonly runtime?: lambda.Runtime;
  /** @default 'v1' */
  readonly apiStageName?: string;
  /**
   * A VPC for the functions that reach workload API servers (the five tasks and the sweep): needed when the
   * control planes' load balancers are internal, the default scheme. Its subnets must reach DynamoDB, Step
   * Functions, EC2, ELBv2, Secrets Manager, KMS, SSM (image parameters), CloudWatch Logs and X-Ray (a NAT gateway
   * or VPC endpoints). App context:
   * `-c workloadNetwork='{"vpcId":"vpc-...","subnets":[{"id":"subnet-...","availabilityZone":"..."}]}'`.
   * @default - Lambda's own network: only internet-facing API servers are reachable
   */
  readonly workloadNetwork?: WorkloadNetworkProps;
  /**
   * Mirror the objects into a management cluster whose kubeconfig you keep in Secrets Manager, and import the
   * kubectl edits and deletes made there (infra/constructs/mirror.ts).
   * @default - no mirror
   */
  readonly mirror?: MirrorOptions;
}

/**
 * The serverless control plane (DESIGN section 10): the table, the handlers, the five state machines, the
 * API, the three reconcile triggers, the secrets key, the machines' node roles, the alarm topic and the fleet
 * custom resource provider; every permission on cloud resources scoped to this installation (installationId).
 * Env-agnostic: nothing is looked up, so `cdk synth` needs no credentials.
 */
export class ControlPlaneStack extends Stack implements IClusterlessControlPlane {
  /**
   * The installation id (functions/installation.ts): the UUID part of the stack's id
   * (`arn:...:stack/{name}/{uuid}`), fixed for the stack's life, which is the table's. Every resource the control
   * plane makes carries it in the tag clusterless.dev/installation, and the IAM policies require it.
   */
  public readonly installationId: string;
  public readonly logs: LogEncryption;
  public readonly objectTable: ObjectTable;
  /** The bucket of ClusterResourceSets' manifests. */
  public readonly addonPayloads: AddonPayloads;
  public readonly secrets: BootstrapSecrets;
  /** The machines' roles and instance profiles (what a MachineClass without iamInstanceProfile launches with). */
  public readonly nodeRoles: NodeRoles;
  public readonly functions: Record<HandlerName, HandlerFunction>;
  public readonly workflows: ControlPlaneWorkflows;
  public readonly httpApi: HttpApi;
  public readonly streamTrigger: StreamTrigger;
  public readonly sweepSchedule: SweepSchedule;
  /** The one-time schedules that carry out reconciles' requeues, and the role Scheduler starts them with. */
  public readonly requeueSchedules: RequeueSchedules;
  public readonly instanceEventsRule: InstanceEventsRule;
  public readonly fleetProvider: FleetProvider;
  /** Where every alarm goes (the dead-letter queues, the Standard state machines' failed executions): subscribe to it. */
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: AlarmTopic;
  /** Steps of rolling-upgrade, remediate and delete-cluster that keep failing (they step again rather than fail). */
  public readonly stepFailureAlarms: StepFailureAlarms;
  public readonly workloadNetwork: WorkloadNetwork | undefined;
  /** The mirror into a management cluster, when the mirror prop asks for one. */
  public readonly mirror: Mirror | undefined;

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps = {}) {
    super(scope, id, { description: 'clusterless: a serverless Cluster API control plane', ...props });
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.installationId = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    this.logs = new LogEncryption(this, 'Logs', { ...(props.logRetention ? { retention: props.logRetention } : {}), removalPolicy });
    this.objectTable = new ObjectTable(this, 'Objects', { removalPolicy });
    // The secrets of this installation only: every secret permission and the key policy follow the prefix.
    this.secrets = new BootstrapSecrets(this, 'Secrets', { namePrefix: `clusterless/${this.installationId}/`, installationId: this.installationId });
    this.nodeRoles = new NodeRoles(this, 'NodeRoles', { secrets: this.secrets });
    this.addonPayloads = new AddonPayloads(this, 'AddonPayloads', { removalPolicy });
    const payloads = this.addonPayloads.environment;

    this.workloadNetwork = props.workloadNetwork ? new WorkloadNetwork(this, 'WorkloadNetwork', props.workloadNetwork) : undefined;
    const reserved = props.reservedConcurrency === false ? {} : (props.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY);
    const tableName = { TABLE_NAME: this.objectTable.table.tableName };
    const installation = { [INSTALLATION_ENV.id]: this.installationId };
    // The functions refuse to start with a value parseReplicaLimit refuses: refuse it here, before a deploy.
    const maxReplicas =
      props.maxMachineDeploymentReplicas === undefined
        ? DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS
        : parseReplicaLimit(String(props.maxMachineDeploymentReplicas), 'maxMachineDeploymentReplicas');
    const replicasLimit = { [MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV]: String(maxReplicas) };
    const make = (name: HandlerName, environment: Record<string, string>) => {
      const spec = HANDLERS[name];
      return new HandlerFunction(this, `${name}-handler`, {
        ...spec,
        logs: this.logs,
        environment: { ...environment, ...(this.workloadNetwork && talksToWorkloads(name) ? this.workloadNetwork.environment : {}) },
        ...(props.runtime ? { runtime: props.runtime } : {}),
        ...(reserved[name] !== undefined ? { reservedConcurrentExecutions: reserved[name] } : {}),
        ...(this.workloadNetwork && talksToWorkloads(name) ? { network: this.workloadNetwork } : {}),
      });
    };

    // The tasks first: the state machines name them.
    const tasks = {
      // Every task reaches workload clusters through their CA (functions/bootstrap): all are told the secrets key.
      reconcile: make('reconcile', { ...tableName, ...installation, ...this.secrets.environment, ...payloads }),
      provision: make('provision', {
        ...tableName,
        ...installation,
        ...this.secrets.environment,
        ...this.nodeRoles.environment,
        // A machine's bootstrap secret is bound to its instance by this ARN (BootstrapSecrets.grantFetchBootstrapData).
        [INSTALLATION_ENV.instanceArnPrefix]: `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/`,
      }),
      rollout: make('rollout', { ...tableName, ...installation, ...this.secrets.environment, ...payloads }),
      remediate: make('remediate', { ...tableName, ...installation, ...this.secrets.environment, ...payloads }),
      teardown: make('teardown', { ...tableName, ...installation, ...this.secrets.environment, ...payloads }),
      // Reads FleetUpgrades and Clusters and writes their topology and status: the object table only.
      'fleet-upgrade': make('fleet-upgrade', { ...tableName, ...installation }),
    } satisfies Record<TaskFunctionName, HandlerFunction>;
    // Only provision launches: it alone writes the offerings a launch found without capacity (and reads them).
    for (const t of Object.values(tasks)) this.objectTable.grantStore(t.role, { writesUnavailableOfferings: t === tasks.provision });
    // Each invocation of a cluster's step adds its cost to the cluster's usage record (metering/cluster-usage.ts); a
    // fleet-upgrade step names no cluster and counts nothing.
    for (const t of [tasks.reconcile, tasks.provision, tasks.rollout, tasks.remediate, tasks.teardown]) this.objectTable.grantUsageCount(t.role);
    /** The tasks whose every step reconciles the cluster (the plan's deletions and infrastructure included). */
    const reconciling = [tasks.reconcile, tasks.rollout, tasks.remediate, tasks.teardown];
    // Every step reconciles, and a reconcile applies due ClusterResourceSets: it reads their payloads.
    for (const t of reconciling) this.addonPayloads.grantRead(t.role);
    // What each task's code calls (adapters/ec2): every step reconciles (describe, terminate); only
    // provision launches.
    grantDescribe(tasks.provision.role, ['ec2:DescribeInstances', 'ec2:DescribeImages']);
    grantLaunchInstances(tasks.provision.role, {
      installationId: this.installationId,
      nodeRoles: [...this.nodeRoles.roles, ...(props.additionalNodeRoles ?? [])],
      ...(props.machineNetwork ? { machineNetwork: props.machineNetwork } : {}),
    });
    grantImageParameters(tasks.provision.role);
    for (const t of reconciling) {
      grantDescribe(t.role, ['ec2:DescribeInstances']);
      grantTerminateInstances(t.role, this.installationId);
    }
    // The kubeadm bootstrap (functions/bootstrap): provision makes the certificates and bootstrap secrets and
    // registers control-plane targets; every reconciling step reads the CA (certificates only), deletes what
    // bootstrap data is left and deregisters a control-plane target before its instance goes.
    this.secrets.grantManage(tasks.provision.role);
    grantTargetRegistration(tasks.provision.role, ['elasticloadbalancing:RegisterTargets'], this.installationId);
    for (const t of reconciling) {
      this.secrets.grantReadCertificates(t.role);
      this.secrets.grantDelete(t.role);
      grantTargetRegistration(t.role, ['elasticloadbalancing:DeregisterTargets'], this.installationId);
    }
    // The control-plane load balancers clusterless makes (clusters that name no target group): every reconciling
    // step may make or delete one; provision only finds its target group.
    for (const t of reconciling) grantManagedLoadBalancers(t.role, { manage: true, installationId: this.installationId });
    grantManagedLoadBalancers(tasks.provision.role, { manage: false, installationId: this.installationId });

    this.workflows = new ControlPlaneWorkflows(this, 'Workflows', {
      taskFunctions: {
        reconcile: tasks.reconcile.function,
        provision: tasks.provision.function,
        rollout: tasks.rollout.function,
        remediate: tasks.remediate.function,
        teardown: tasks.teardown.function,
        'fleet-upgrade': tasks['fleet-upgrade'].function,
      },
      logs: this.logs,
    });
    const reconcileArn = this.workflows.reconcileEnvironment;

    // The requeues a reconcile asks for (functions/adapters/scheduler): the reconcile function makes one-time
    // schedules in this group that start reconcile-cluster, named by its ARN formed from its name (no cycle).
    this.requeueSchedules = new RequeueSchedules(this, 'Requeues', {
      reconcileStateMachineArn: this.workflows.stateMachineArn('reconcile-cluster'),
      ...(props.sweepInterval ? { sweepInterval: props.sweepInterval } : {}),
    });
    this.requeueSchedules.grantRequeue(tasks.reconcile.role);
    const requeueEnvironment = {
      ...this.requeueSchedules.environment,
      RECONCILE_CLUSTER_STATE_MACHINE_ARN: this.workflows.stateMachineArn('reconcile-cluster'),
    };
    for (const [key, value] of Object.entries(requeueEnvironment)) tasks.reconcile.function.addEnvironment(key, value);

    // The resource API: the table, and nothing of the secrets (no secret, no use of their key).
    const http = make('http', { ...tableName, ...replicasLimit, ...payloads });
    this.objectTable.grantStore(http.role);
    this.addonPayloads.grantReadWrite(http.role);
    // GET .../clusters/{name}/kubeconfig has a function of its own, the only one of the API that signs with a cluster
    // CA: it reads the Cluster (GetItem) and the certificates, nothing else.
    const kubeconfig = make('kubeconfig', { ...tableName, ...installation, ...this.secrets.environment });
    this.objectTable.grantGetItem(kubeconfig.role);
    this.secrets.grantReadCertificates(kubeconfig.role);
    // `clusterless import` and `clusterless move` have a function of their own too, the only one of the API that tags
    // instances or writes secrets: the table (a move writes objects with their status and forgets them), the addon
    // payloads (a move copies ClusterResourceSets whole), the clusters' certificates (create and read) and
    // tag-conditioned CreateTags (infra/constructs/cluster-transfer.ts). API Gateway lets only a grant that writes the
    // namespace and its status call it (api/access-entries.ts mayTransfer).
    const transfer = make('cluster-transfer', { ...tableName, ...installation, ...payloads, ...this.secrets.environment });
    this.objectTable.grantStore(transfer.role);
    this.addonPayloads.grantReadWrite(transfer.role);
    this.secrets.grantCreateCertificates(transfer.role);
    grantClusterTransfer(transfer.role, { installationId: this.installationId });
    // The kubectl door's authorizer: STS GetCallerIdentity needs no permission, so its role writes its logs only.
    const tokenAuthorizer = make('token-authorizer', {});
    this.httpApi = new HttpApi(this, 'Api', {
      handler: http.function,
      handlerTimeout: HANDLERS.http.timeout,
      kubeconfigHandler: kubeconfig.function,
      transferHandler: transfer.function,
      tokenAuthorizer: tokenAuthorizer.function,
      logs: this.logs,
      ...(props.apiStageName ? { stageName: props.apiStageName } : {}),
    });

    const stream = make('stream', { ...reconcileArn, ...this.workflows.fleetUpgradeEnvironment, ...tableName });
    this.workflows.grantStartReconcile(stream.role);
    // A FleetUpgrade created starts its execution (functions/handlers/stream.ts).
    this.workflows.grantStartFleetUpgrade(stream.role);
    // It writes the watch log the API's watches read, and nothing else of the table.
    this.objectTable.grantWatchLogWrite(stream.role);
    this.streamTrigger = new StreamTrigger(this, 'StreamTrigger', { table: this.objectTable.table, handler: stream.function });

    const sweep = make('sweep', { ...tableName, ...reconcileArn, ...installation, ...this.secrets.environment });
    this.objectTable.grantStoreRead(sweep.role);
    this.workflows.grantStartReconcile(sweep.role);
    // It lists the nodes of clusters with a MachineHealthCheck, through a kubeconfig signed with the cluster CA.
    this.secrets.grantReadCertificates(sweep.role);
    this.sweepSchedule = new SweepSchedule(this, 'Sweep', { handler: sweep.function, ...(props.sweepInterval ? { interval: props.sweepInterval } : {}) });

    const instanceEvents = make('instance-events', { ...tableName, ...reconcileArn, ...installation });
    // The instance's cluster, installation and machine tags (no resource-level permission exists for it).
    grantDescribe(instanceEvents.role, ['ec2:DescribeTags']);
    // A spot notice is recorded on its one Machine: get and conditional put of single items only.
    this.objectTable.grantItemUpdate(instanceEvents.role);
    this.workflows.grantStartReconcile(instanceEvents.role);
    this.instanceEventsRule = new InstanceEventsRule(this, 'InstanceEvents', { handler: instanceEvents.function });

    const fleet = make('fleet-resource', { ...tableName, ...replicasLimit });
    this.objectTable.grantStore(fleet.role);
    this.fleetProvider = new FleetProvider(this, 'Fleets', { handler: fleet.function, logs: this.logs });

    this.mirror = props.mirror
      ? new Mirror(this, 'Mirror', {
          ...props.mirror,
          objectTable: this.objectTable,
          installationId: this.installationId,
          secrets: this.secrets,
          addonPayloads: this.addonPayloads,
          logs: this.logs,
          environment: { ...tableName, ...replicasLimit, ...payloads },
          ...(props.runtime ? { runtime: props.runtime } : {}),
          ...(this.workloadNetwork ? { network: this.workloadNetwork } : {}),
        })
      : undefined;

    this.functions = {
      ...tasks,
      http,
      kubeconfig,
      'cluster-transfer': transfer,
      'token-authorizer': tokenAuthorizer,
      stream,
      sweep,
      'instance-events': instanceEvents,
      'fleet-resource': fleet,
    };

    this.stepFailureAlarms = new StepFailureAlarms(this, 'StepFailures', {
      logGroups: { rollout: tasks.rollout.logGroup, remediate: tasks.remediate.logGroup, teardown: tasks.teardown.logGroup },
    });
    this.alarms = new AlarmTopic(this, 'Alarms');
    this.alarmTopic = this.alarms.topic;
    this.alarms.notify(
      this.streamTrigger.deadLetterQueue.alarm,
      this.sweepSchedule.deadLetterQueue.alarm,
      this.instanceEventsRule.deadLetterQueue.alarm,
      ...Object.values(this.workflows.failedExecutionsAlarms),
      ...Object.values(this.stepFailureAlarms.alarms),
      ...(this.mirror ? [this.mirror.streamDeadLetterQueue.alarm, this.mirror.syncDeadLetterQueue.alarm] : []),
    );

    new OperationsDashboard(this, 'Operations', {
      stateMachines: this.workflows.stateMachines,
      functions: Object.fromEntries(Object.entries(this.functions).map(([name, f]) => [name, f.function])),
      deadLetterQueues: {
        'table stream': this.streamTrigger.deadLetterQueue.queue,
        sweep: this.sweepSchedule.deadLetterQueue.queue,
        'instance events': this.instanceEventsRule.deadLetterQueue.queue,
        ...(this.mirror ? { 'mirror stream': this.mirror.streamDeadLetterQueue.queue, 'mirror sync': this.mirror.syncDeadLetterQueue.queue } : {}),
      },
      apis: { sigv4: this.httpApi.api, ...(this.httpApi.kubectlApi ? { kubectl: this.httpApi.kubectlApi } : {}) },
      table: this.objectTable.table,
    });
    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.api.url, description: 'clusterless --server (requests are SigV4-signed)' });
    new CfnOutput(this, 'KubectlApiUrl', {
      value: this.httpApi.kubectlApi!.url,
      description: 'kubectl --server, with the kubeconfig of `clusterless kubeconfig --server <this>` (EKS-style tokens)',
    });
    new CfnOutput(this, 'InstallationId', {
      value: this.installationId,
      description: 'the value of the clusterless.dev/installation tag on what this control plane makes',
    });
    new CfnOutput(this, 'TableName', { value: this.objectTable.table.tableName });
    new CfnOutput(this, 'ReconcileClusterStateMachineArn', { value: this.workflows.stateMachines['reconcile-cluster'].stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'every alarm of the control plane: subscribe your paging to it' });
    new CfnOutput(this, 'FleetServiceToken', { value: this.fleetServiceToken, description: 'ClusterFleet serviceToken' });

    acknowledgeControlPlaneFindings(this);
  }

  get fleetServiceToken(): string {
    return this.fleetProvider.serviceToken;
  }
}
