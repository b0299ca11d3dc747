/** The three reconcile triggers: the table stream, the sweep schedule and EC2 instance state changes. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_DETAIL_TYPES, STATE_CHANGE_DETAIL_TYPE, WATCHED_STATES } from '../../functions/handlers/instance-events.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { INSTANCE_NOTICE_PATTERN, INSTANCE_STATE_CHANGE_PATTERN } from '../../infra/constructs/reconcile-triggers.js';
import { matchesPattern } from '../../e2e/aws/event-sources/pattern.js';
import { actionsOf, controlPlaneTemplate, logicalId, statementsOfRole } from './support.js';

let app: ClusterlessApp;
let template: Template;
let id: (c: unknown) => string;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  id = (c) => logicalId(app.controlPlane, c);
});

describe('the table stream trigger', () => {
  it('feeds the stream function from the table stream, newest records first', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(app.controlPlane.objectTable.table), 'StreamArn'] },
      FunctionName: { Ref: id(app.controlPlane.functions.stream.function) },
      StartingPosition: 'LATEST',
    });
  });

  it('batches, splits failed batches and retries a bounded number of times', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('sends what still fails to its dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(app.controlPlane.streamTrigger.deadLetterQueue.queue), 'Arn'] } } },
    });
  });

  it('lets only object items through, Events included for the watch log (leases, name claims and the log itself lack the kind index attribute)', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(app.controlPlane.functions.stream.function) },
      FilterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ dynamodb: { NewImage: { gsi1pk: { S: [{ exists: true }] } } } }) },
          { Pattern: JSON.stringify({ dynamodb: { OldImage: { gsi1pk: { S: [{ exists: true }] } } } }) },
        ],
      },
    });
  });

  // The filters as Lambda evaluates them (e2e/aws/event-sources/pattern.ts, the emulated account's matcher).
  const mappingFilters = () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: Record<string, any> }[];
    const stream = mappings.find((m) => m.Properties['FunctionName']?.Ref === id(app.controlPlane.functions.stream.function))!;
    return (stream.Properties['FilterCriteria'].Filters as { Pattern: string }[]).map((f) => f.Pattern);
  };
  const admitted = (record: unknown) => mappingFilters().some((p) => matchesPattern(p, record));
  const item = (attributes: Record<string, { S: string }>) => ({ ...attributes, pk: { S: 'x' }, sk: { S: 'y' } });

  it.each(
    [
      ['an Event written (INSERT)', { eventName: 'INSERT', dynamodb: { NewImage: item({ gsi1pk: { S: 'Event' } }) } }, true],
      [
        'an Event expired by TTL (REMOVE by dynamodb.amazonaws.com)',
        {
          eventName: 'REMOVE',
          userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
          dynamodb: { OldImage: item({ gsi1pk: { S: 'Event' } }) },
        },
        true,
      ],
      [
        'a Machine changed',
        { eventName: 'MODIFY', dynamodb: { NewImage: item({ gsi1pk: { S: 'Machine' } }), OldImage: item({ gsi1pk: { S: 'Machine' } }) } },
        true,
      ],
      ['the watch log’s own item', { eventName: 'INSERT', dynamodb: { NewImage: item({ type: { S: 'ADDED' }, obj: { S: '{}' } }) } }, false],
      ['the watch log’s item expired by TTL', { eventName: 'REMOVE', dynamodb: { OldImage: item({ type: { S: 'ADDED' }, obj: { S: '{}' } }) } }, false],
      ['a lease', { eventName: 'MODIFY', dynamodb: { NewImage: item({ holder: { S: 'h' } }) } }, false],
    ].map(([what, record, expected]) => [what, expected, record] as const),
  )('%s: admitted %s', (_what, expected, record) => {
    expect(admitted(record)).toBe(expected);
  });
});

describe('the sweep schedule', () => {
  it('invokes the sweep function every minute', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [id(app.controlPlane.functions.sweep.function), 'Arn'] } }),
    });
  });

  it('retries and then keeps the invocation in its dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(app.controlPlane.sweepSchedule.deadLetterQueue.queue), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
      }),
    });
  });

  it('sends failed sweep invocations to the same queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(app.controlPlane.functions.sweep.function) },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(app.controlPlane.sweepSchedule.deadLetterQueue.queue), 'Arn'] } } },
    });
  });
});

describe('the EC2 instance state-change rule', () => {
  it('matches EC2 state changes to running, stopped, shutting-down and terminated', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['running', 'stopped', 'shutting-down', 'terminated'] },
      },
    });
  });

  it('matches what the instance-events handler expects', () => {
    expect(INSTANCE_STATE_CHANGE_PATTERN.detailType).toEqual([STATE_CHANGE_DETAIL_TYPE]);
    expect(INSTANCE_STATE_CHANGE_PATTERN.detail.state).toEqual([...WATCHED_STATES]);
  });

  it('targets the instance-events function with a dead-letter queue and retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id(app.controlPlane.functions['instance-events'].function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(app.controlPlane.instanceEventsRule.deadLetterQueue.queue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
  });

  it('lets EventBridge write to that dead-letter queue (for this rule only)', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(app.controlPlane.instanceEventsRule.deadLetterQueue.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [id(app.controlPlane.instanceEventsRule.rule), 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});

describe('the EC2 spot notice rule', () => {
  it('matches spot interruption warnings and rebalance recommendations, the detail-types the handler records', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'] },
    });
    expect(INSTANCE_NOTICE_PATTERN.detailType).toEqual(Object.keys(NOTICE_DETAIL_TYPES));
  });

  it('targets the instance-events function with the same dead-letter queue, giving up on notices older than ten minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail-type': INSTANCE_NOTICE_PATTERN.detailType }),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id(app.controlPlane.functions['instance-events'].function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(app.controlPlane.instanceEventsRule.deadLetterQueue.queue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600 },
        }),
      ],
    });
  });
});

describe('the requeue schedules', () => {
  const stateMachineArn = () => app.controlPlane.workflows.stateMachineArn('reconcile-cluster');

  it('has a schedule group of their own', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: app.controlPlane.requeueSchedules.group.scheduleGroupName });
  });

  it('gives Scheduler a role that only Scheduler acting for this account may assume', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
        Version: '2012-10-17',
      },
      Description: Match.stringLikeRegexp('reconcile-cluster'),
    });
  });

  it('lets that role start reconcile-cluster and nothing else', () => {
    const statements = statementsOfRole(template, id(app.controlPlane.requeueSchedules.role));
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['states:StartExecution']);
    expect(JSON.stringify(statements[0]!.Resource)).toBe(JSON.stringify(app.controlPlane.resolve(stateMachineArn())));
  });

  it('tells the reconcile function the group, the role, reconcile-cluster and the sweep interval', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          REQUEUE_SCHEDULE_GROUP: app.controlPlane.requeueSchedules.group.scheduleGroupName,
          REQUEUE_SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [id(app.controlPlane.requeueSchedules.role), 'Arn'] },
          RECONCILE_CLUSTER_STATE_MACHINE_ARN: app.controlPlane.resolve(stateMachineArn()),
          SWEEP_INTERVAL_SECONDS: '60',
          INSTALLATION_ID: Match.anyValue(),
        }),
      },
      Description: Match.stringLikeRegexp('reconcile one cluster'),
    });
  });
});
