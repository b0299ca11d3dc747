/**
 * The mirror into a management cluster on AWS (functions/handlers/mirror.ts), optional: a function of its own,
 * fed by a second event source mapping on the table's stream (its own retries and dead-letter queue, so the
 * reconcile trigger never slows down or fails because the management cluster is down), and run every minute by
 * EventBridge Scheduler to import kubectl edits and deletes and resync. It reads one secret, the kubeconfig,
 * under the installation's prefix.
 *
 * Note: kubectl writes come back by that scheduled import, not by a ValidatingAdmissionWebhook: a webhook needs an
 * https endpoint the management cluster can call (a public API Gateway route with a shared secret, or mTLS), and a
 * webhook that fails closed blocks every kubectl write there while clusterless is unreachable, one that fails open
 * loses edits silently. The import needs no inbound path; its cost is up to a minute before an edit or a delete
 * lands (the mirror's finalizer keeps a deleted object until then, so none is missed).
 */
import { Aws, Duration, Stack, Validations, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { objectRecordFilters } from './reconcile-triggers.js';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../functions/adapters/dynamodb/table.js';
import type { AddonPayloads } from './addon-payloads.js';
import type { BootstrapSecrets } from './bootstrap-secrets.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';
import type { LogEncryption } from './log-encryption.js';
import type { ObjectTable } from './object-table.js';
import type { WorkloadNetwork } from './workload-network.js';

/** MIRROR_KUBECONFIG_SECRET_ENV and MIRROR_SYNC_EVENT of functions/handlers/mirror.ts (kept out of the handler's imports here). */
const SECRET_ENV = 'MIRROR_KUBECONFIG_SECRET';
const SYNC_EVENT = { source: 'clusterless.mirror' };

/** What ControlPlaneStackProps.mirror takes. */
export interface MirrorOptions {
  /**
   * The secret holding the management cluster's kubeconfig (YAML, data fields only: inline certificates or a
   * token, no exec, no file paths), named relative to the installation's prefix `clusterless/<installation id>/`.
   * You make it; encrypt it with Secrets Manager's own key or the installation's secrets key.
   * @default 'mirror/kubeconfig'
   */
  readonly kubeconfigSecretName?: string;
  /** How often kubectl edits and deletes are imported and everything resynced. @default Duration.minutes(1) */
  readonly syncInterval?: Duration;
}

export interface MirrorProps extends MirrorOptions {
  readonly objectTable: ObjectTable;
  /** ControlPlaneStack.installationId: the secrets' prefix is `clusterless/<installation id>/`. */
  readonly installationId: string;
  /** Its prefix names the secret; its key may have encrypted it. */
  readonly secrets: BootstrapSecrets;
  /** ClusterResourceSets' manifests are mirrored as written, not as the table's references. */
  readonly addonPayloads: AddonPayloads;
  readonly logs: LogEncryption;
  /** TABLE_NAME, PAYLOAD_BUCKET, the replica limit. */
  readonly environment: Record<string, string>;
  /** @default lambda.Runtime.NODEJS_22_X */
  readonly runtime?: lambda.Runtime;
  /** For a management cluster whose API server is internal. @default - Lambda's own network */
  readonly network?: WorkloadNetwork;
}

export class Mirror extends Construct {
  public readonly handler: HandlerFunction;
  /** The full name of the kubeconfig secret. */
  public readonly kubeconfigSecretName: string;
  /** Stream batches that failed every retry (the management cluster unreachable for the stream's retries). */
  public readonly streamDeadLetterQueue: DeadLetterQueue;
  /** Scheduled syncs that failed every retry. */
  public readonly syncDeadLetterQueue: DeadLetterQueue;
  public readonly schedule: scheduler.Schedule;
  private readonly relativeSecretName: string;

  constructor(scope: Construct, id: string, props: MirrorProps) {
    super(scope, id);
    this.relativeSecretName = props.kubeconfigSecretName ?? 'mirror/kubeconfig';
    this.kubeconfigSecretName = `${props.secrets.namePrefix}${this.relativeSecretName}`;
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'functions/handlers/mirror.ts',
      serviceName: 'clusterless-mirror',
      description: 'clusterless: mirrors the objects into a management cluster and imports kubectl edits and deletes made there',
      timeout: Duration.seconds(60),
      memorySize: 256,
      logs: props.logs,
      environment: { ...props.environment, [SECRET_ENV]: this.kubeconfigSecretName },
      // One at a time: a sync and stream batches in parallel would only race each other on the same objects.
      reservedConcurrentExecutions: 1,
      ...(props.runtime ? { runtime: props.runtime } : {}),
      ...(props.network ? { network: props.network } : {}),
    });
    const role = this.handler.role;
    // Imports write objects as the API does; the stream's reads come with the event source.
    props.objectTable.grantStore(role);
    props.addonPayloads.grantReadWrite(role);
    const secretArn = (name: string) =>
      Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // The secret's ARN ends with Secrets Manager's six random characters.
        resources: [secretArn(`${this.kubeconfigSecretName}-??????`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.secrets.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    );

    this.streamDeadLetterQueue = new DeadLetterQueue(this, 'StreamDeadLetters', { purpose: 'mirror stream batches' });
    const gsi = TABLE_KEYS.kindIndex.partitionKey;
    this.handler.function.addEventSource(
      new sources.DynamoEventSource(props.objectTable.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 3,
        // What is older the scheduled sync will have resynced anyway.
        maxRecordAge: Duration.minutes(10),
        reportBatchItemFailures: true,
        onFailure: new sources.SqsDlq(this.streamDeadLetterQueue.queue),
        // Objects only, not Events (the stream function reads Events too, for the watch log).
        filters: objectRecordFilters(gsi),
      }),
    );

    this.syncDeadLetterQueue = new DeadLetterQueue(this, 'SyncDeadLetters', { purpose: 'mirror syncs' });
    const interval = props.syncInterval ?? Duration.minutes(1);
    this.schedule = new scheduler.Schedule(this, 'Sync', {
      description: 'clusterless: imports kubectl edits and deletes from the management cluster and resyncs it',
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.LambdaInvoke(this.handler.function, {
        input: scheduler.ScheduleTargetInput.fromObject(SYNC_EVENT),
        deadLetterQueue: this.syncDeadLetterQueue.queue,
        retryAttempts: 2,
        // A sync older than its interval has been overtaken by the next one.
        maxEventAge: Duration.seconds(Math.max(60, interval.toSeconds())),
      }),
    });
    new lambda.EventInvokeConfig(this, 'AsyncInvoke', {
      function: this.handler.function,
      retryAttempts: 0,
      onFailure: new destinations.SqsDestination(this.syncDeadLetterQueue.queue),
    });
    this.acknowledge(props);
  }

  /** The cdk-nag findings this construct accepts, each with its reason (as infra/nag/acknowledgments.ts does). */
  private acknowledge(props: MirrorProps): void {
    const stack = Stack.of(this);
    const ack = (scope: Construct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.handler.role,
      'AwsSolutions-IAM5[Resource::*]',
      'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), and dynamodb:ListStreams (the event source mapping), have no resource-level permissions, so they are granted on *.',
    );
    ack(
      this.handler.function,
      'AwsSolutions-L1',
      'DESIGN section 2 pins nodejs22.x, the Node.js line the whole test suite runs on (the node@22 devDependency); ControlPlaneStackProps.runtime moves every function at once.',
    );
    // cdk-nag names a finding by the resource as written, the installation id's intrinsic functions included.
    const prefix = `clusterless/${JSON.stringify(stack.resolve(props.installationId))}/`;
    ack(
      this.handler.role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}${this.relativeSecretName}-??????]`,
      "GetSecretValue of the one kubeconfig secret: the pattern is only Secrets Manager's six random characters at the end of its ARN, which are not known before you make it.",
    );
    ack(
      this.handler.role,
      `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.addonPayloads.bucket.node.defaultChild as never)}.Arn>/payloads/sha256/*]`,
      'Payload keys are content digests not known at deploy time: GetObject and PutObject under payloads/sha256/ of the addon payloads bucket only, for the ClusterResourceSets the mirror applies and imports.',
    );
    for (const queue of [this.streamDeadLetterQueue, this.syncDeadLetterQueue])
      ack(
        queue.queue,
        'AwsSolutions-SQS3',
        "This queue is itself the dead-letter queue of the mirror's stream mapping or its schedule, which cdk-nag cannot see; a dead-letter queue of it would only move the messages, and its alarm fires at the first one.",
      );
    // On the stack: LambdaInvoke's role is the stack's one SchedulerRoleForTarget-*, shared with the sweep's schedule.
    ack(
      stack,
      `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.handler.function.node.defaultChild as never)}.Arn>:*]`,
      'The Scheduler target role (made by aws-scheduler-targets LambdaInvoke) may invoke the mirror function and its versions; the schedule invokes the unqualified function only.',
    );
  }
}
