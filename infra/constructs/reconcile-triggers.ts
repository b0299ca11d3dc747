/**
 * The triggers of reconcile-cluster (DESIGN section 5): the table's stream, the sweep schedule, EC2 instance state
 * changes, and the requeues a reconcile asks for. Each event trigger has a dead-letter queue, so that an event that
 * fails every retry is kept.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../functions/adapters/dynamodb/table.js';
import { DeadLetterQueue } from './dead-letter-queue.js';

export interface StreamTriggerProps {
  readonly table: dynamodb.ITable;
  /** functions/handlers/stream.ts */
  readonly handler: lambda.IFunction;
  /** @default 100 */
  readonly batchSize?: number;
  /** Gathers a burst of writes into one batch: one reconcile per cluster per batch. @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** @default 5 */
  readonly retryAttempts?: number;
}

/**
 * The table's stream -> the stream function: only object items reach it, Events included (an event filter on the
 * kind index attribute, which leases, name claims and the watch log's own items lack, so the leases every reconcile
 * writes cost no invocation and the log never logs itself); the function writes every object's change to the watch
 * log and starts reconciles for objects of a cluster only, never for an Event. Failed batches are split and retried,
 * and what still fails goes to the dead-letter queue.
 */
export class StreamTrigger extends Construct {
  public readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: StreamTriggerProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', { purpose: 'table stream batches' });
    const gsi = TABLE_KEYS.kindIndex.partitionKey;
    props.handler.addEventSource(
      new sources.DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: props.batchSize ?? 100,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 5,
        maxRecordAge: Duration.hours(1),
        reportBatchItemFailures: true,
        onFailure: new sources.SqsDlq(this.deadLetterQueue.queue),
        filters: watchedRecordFilters(gsi),
      }),
    );
  }
}

/** Retries of an asynchronous invocation, then the dead-letter queue (function errors, not delivery errors). */
function asyncFailuresTo(scope: Construct, handler: lambda.IFunction, queue: DeadLetterQueue): lambda.EventInvokeConfig {
  return new lambda.EventInvokeConfig(scope, 'AsyncInvoke', {
    function: handler,
    retryAttempts: 2,
    maxEventAge: Duration.hours(1),
    onFailure: new destinations.SqsDestination(queue.queue),
  });
}

export interface SweepScheduleProps {
  /** functions/handlers/sweep.ts */
  readonly handler: lambda.IFunction;
  /** @default Duration.minutes(1) */
  readonly interval?: Duration;
}

/** EventBridge Scheduler -> the sweep function, every interval, with retries and a dead-letter queue. */
export class SweepSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;
  public readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: SweepScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', { purpose: 'sweep invocations' });
    const interval = props.interval ?? Duration.minutes(1);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'clusterless: starts reconcile-cluster for every cluster that shows drift',
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.LambdaInvoke(props.handler, {
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'clusterless.sweep' }),
        deadLetterQueue: this.deadLetterQueue.queue,
        retryAttempts: 2,
        // A sweep older than its interval has been overtaken by the next one.
        maxEventAge: Duration.seconds(Math.max(60, interval.toSeconds())),
      }),
    });
    asyncFailuresTo(this, props.handler, this.deadLetterQueue);
  }
}

/** What the rule matches; the same as functions/handlers/instance-events.ts expects (a test holds them equal). */
export const INSTANCE_STATE_CHANGE_PATTERN = {
  source: ['aws.ec2'],
  detailType: ['EC2 Instance State-change Notification'],
  detail: { state: ['running', 'stopped', 'shutting-down', 'terminated'] },
};

/** EC2's spot notices; the same detail-types functions/handlers/instance-events.ts records (a test holds them equal). */
export const INSTANCE_NOTICE_PATTERN = {
  source: ['aws.ec2'],
  detailType: ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
};

export interface InstanceEventsRuleProps {
  /** functions/handlers/instance-events.ts */
  readonly handler: lambda.IFunction;
}

/** EventBridge rule: EC2 instance state changes -> the instance-events function, with a dead-letter queue. */
export class InstanceEventsRule extends Construct {
  public readonly rule: events.Rule;
  /** Spot interruption warnings and rebalance recommendations -> the same function (the notice is recorded on the Machine). */
  public readonly noticeRule: events.Rule;
  public readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: InstanceEventsRuleProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', { purpose: 'EC2 instance state-change events' });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'clusterless: EC2 instance state changes reconcile the cluster of the instance',
      eventPattern: INSTANCE_STATE_CHANGE_PATTERN,
      targets: [
        new targets.LambdaFunction(props.handler, {
          deadLetterQueue: this.deadLetterQueue.queue,
          retryAttempts: 4,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    this.noticeRule = new events.Rule(this, 'NoticeRule', {
      description: 'clusterless: EC2 spot interruption warnings and rebalance recommendations replace the machine before its instance goes',
      eventPattern: INSTANCE_NOTICE_PATTERN,
      targets: [
        new targets.LambdaFunction(props.handler, {
          deadLetterQueue: this.deadLetterQueue.queue,
          retryAttempts: 4,
          // A warning is worth acting on within its two minutes; after ten the state change has done the work.
          maxEventAge: Duration.minutes(10),
        }),
      ],
    });
    asyncFailuresTo(this, props.handler, this.deadLetterQueue);
  }
}

export interface RequeueSchedulesProps {
  /**
   * The reconcile-cluster state machine's ARN, formed from its name (ControlPlaneWorkflows.stateMachineArn): the
   * reconcile function is part of its definition, so a reference would be a circular dependency.
   */
  readonly reconcileStateMachineArn: string;
  /** The sweep's interval: requeues due sooner are left to the sweep. @default Duration.minutes(1) */
  readonly sweepInterval?: Duration;
}

/**
 * The requeues of reconcile-cluster on AWS (functions/adapters/scheduler): a schedule group for the one-time
 * schedules the reconcile function makes, one per cluster, and the role EventBridge Scheduler assumes to start
 * reconcile-cluster, allowed nothing else.
 */
export class RequeueSchedules extends Construct {
  public readonly group: scheduler.ScheduleGroup;
  public readonly role: iam.Role;
  private readonly sweepInterval: Duration;

  constructor(scope: Construct, id: string, props: RequeueSchedulesProps) {
    super(scope, id);
    this.sweepInterval = props.sweepInterval ?? Duration.minutes(1);
    this.group = new scheduler.ScheduleGroup(this, 'Group', {});
    this.role = new iam.Role(this, 'SchedulerRole', {
      // Only Scheduler acting for this account (the confused-deputy guard Scheduler's documentation asks for).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } }),
      description: 'clusterless: EventBridge Scheduler starts reconcile-cluster when a requeue is due',
    });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [props.reconcileStateMachineArn] }));
  }

  /** The ARN pattern of the group's schedules. */
  get scheduleArns(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.scheduleGroupName}/*` });
  }

  /** What SchedulerRequeues calls, on this group's schedules only, and passing this role to Scheduler only. */
  grantRequeue(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'], resources: [this.scheduleArns] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
  }

  /** The variables schedulerRequeuesFromEnvironment reads (with RECONCILE_CLUSTER_STATE_MACHINE_ARN and INSTALLATION_ID). */
  get environment(): Record<string, string> {
    return {
      REQUEUE_SCHEDULE_GROUP: this.group.scheduleGroupName,
      REQUEUE_SCHEDULER_ROLE_ARN: this.role.roleArn,
      SWEEP_INTERVAL_SECONDS: String(this.sweepInterval.toSeconds()),
    };
  }
}

/**
 * The stream records of objects (leases, name claims and the watch log lack the kind index attribute), not of
 * Events: they are not mirrored (and their TTL deletions would be batches of nothing). The mirror's stream
 * consumer uses it.
 */
export function objectRecordFilters(gsi: string): Record<string, unknown>[] {
  return [
    lambda.FilterCriteria.filter({ dynamodb: { NewImage: { [gsi]: { S: lambda.FilterRule.notEquals('Event') } } } }),
    lambda.FilterCriteria.filter({ dynamodb: { OldImage: { [gsi]: { S: lambda.FilterRule.notEquals('Event') } } } }),
  ];
}

/**
 * The stream records of objects, Events included (leases, name claims and the watch log lack the kind index
 * attribute): what the stream function reads, so that Events reach the watch log. One mapping for both rather than
 * a second one for Events: DynamoDB Streams throttles a shard read by more than two consumers at once, and the
 * stream function and the mirror are two already; an Event is written just after the object write it tells of, so
 * it mostly rides in a batch that write invokes anyway, and the stream function starts no reconcile for it
 * (functions/handlers/stream.ts: an Event's partition is its namespace's, no cluster's).
 */
export function watchedRecordFilters(gsi: string): Record<string, unknown>[] {
  return [
    lambda.FilterCriteria.filter({ dynamodb: { NewImage: { [gsi]: { S: lambda.FilterRule.exists() } } } }),
    lambda.FilterCriteria.filter({ dynamodb: { OldImage: { [gsi]: { S: lambda.FilterRule.exists() } } } }),
  ];
}
