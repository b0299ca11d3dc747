/**
 * Alarms reach someone: every dead-letter queue's alarm, a failed/timed-out/aborted executions alarm of each
 * Standard state machine, and an alarm per stepping task on the steps that keep failing (counted from its log) send
 * to one SNS topic the stack exposes, KMS-encrypted and TLS-only.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { TASKS, scaledTimer, type WorkflowDeps } from '../../functions/workflows/index.js';
import { STEPPING_TASKS, type SteppingTask } from '../../infra/constructs/step-failure-alarms.js';
import { STATE_MACHINES } from '../../statemachines/loader.js';
import { ACCOUNT, REGION, resolve } from './iam-eval.js';
import { controlPlaneTemplate, logicalId, resourcesOf, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let topic: string;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  topic = logicalId(app.controlPlane, app.controlPlane.alarmTopic);
});

const alarms = () => Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
const STANDARD = STATE_MACHINES.filter((s) => s.type === 'STANDARD').map((s) => s.name);

describe('the alarm topic', () => {
  it('is encrypted with a customer-managed key that rotates, and is an output', () => {
    const key = (resourcesOf(template, 'AWS::SNS::Topic')[topic]!.Properties['KmsMasterKeyId'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resourcesOf(template, 'AWS::KMS::Key')[key]!.Properties['EnableKeyRotation']).toBe(true);
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } });
  });

  it("lets CloudWatch encrypt alarm messages with its key, for this account's alarms only", () => {
    const key = (resourcesOf(template, 'AWS::SNS::Topic')[topic]!.Properties['KmsMasterKeyId'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = (
      resourcesOf(template, 'AWS::KMS::Key')[key]!.Properties['KeyPolicy'] as {
        Statement: { Principal?: unknown; Action: string | string[]; Condition?: unknown }[];
      }
    ).Statement;
    const cloudwatch = statements.filter((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }));
    expect(cloudwatch).toHaveLength(1);
    expect([cloudwatch[0]!.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    // The confused deputy: CloudWatch acting for another account's alarm may not use the key.
    expect(resolve(cloudwatch[0]!.Condition, template.toJSON()['Resources'] as Resources)).toEqual({
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
    });
  });

  it('refuses requests without TLS, and takes messages from the alarms of this account only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':alarm:*'])] }) },
            },
          }),
        ]),
      },
    });
  });
});

describe('what alarms', () => {
  it.each(['streamTrigger', 'sweepSchedule', 'instanceEventsRule'] as const)("the %s dead-letter queue's alarm sends to the topic", (trigger) => {
    const alarm = resourcesOf(template, 'AWS::CloudWatch::Alarm')[logicalId(app.controlPlane, app.controlPlane[trigger].deadLetterQueue.alarm)]!;
    expect(alarm.Properties['AlarmActions']).toEqual([{ Ref: topic }]);
  });

  it.each(STANDARD)('%s alarms on failed, timed-out and aborted executions, to the topic', (name) => {
    const machine = logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[name]);
    const [, alarm] = alarms().find(([, a]) => JSON.stringify(a.Properties['Metrics'] ?? []).includes(`"${machine}"`)) ?? [];
    expect(alarm, name).toBeDefined();
    const metrics = (alarm!.Properties['Metrics'] as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[]).filter((m) => m.MetricStat);
    expect(metrics.map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of metrics) expect(m.MetricStat!.Metric.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: machine } }]);
    expect(alarm!.Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
    });
  });

  it('reconcile-cluster (Express, retried by every trigger) has no execution alarm', () => {
    const machine = logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines['reconcile-cluster']);
    expect(alarms().filter(([, a]) => JSON.stringify(a.Properties).includes(`"${machine}"`))).toEqual([]);
  });

  it('every alarm of the stack sends to the topic', () => {
    expect(alarms().length).toBe(3 + STANDARD.length + Object.keys(STEPPING_TASKS).length);
    for (const [id, a] of alarms()) expect(a.Properties['AlarmActions'], id).toEqual([{ Ref: topic }]);
  });
});

describe('steps that keep failing (they step again after a backoff, so no execution fails)', () => {
  const filterOf = (task: SteppingTask) => {
    const logGroup = logicalId(app.controlPlane, app.controlPlane.functions[task].logGroup);
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter')).filter(
      (f) => JSON.stringify(f.Properties['LogGroupName']) === JSON.stringify({ Ref: logGroup }),
    );
    expect(filters, task).toHaveLength(1);
    return filters[0]!.Properties as { FilterPattern: string; MetricTransformations: { MetricNamespace: string; MetricName: string; MetricValue: string }[] };
  };

  it.each(Object.keys(STEPPING_TASKS) as SteppingTask[])("%s: its log's failed steps are counted, and 3 in 15 minutes alarm the topic", (task) => {
    const filter = filterOf(task);
    expect(filter.FilterPattern).toBe('"workflow step failed; stepping again"');
    const [metric] = filter.MetricTransformations;
    expect(metric).toMatchObject({ MetricNamespace: 'Clusterless', MetricValue: '1' });
    const alarm = alarms().filter(([, a]) => a.Properties['MetricName'] === metric!.MetricName && a.Properties['Namespace'] === metric!.MetricNamespace);
    expect(alarm).toHaveLength(1);
    expect(alarm[0]![1].Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
    });
  });

  it.each(Object.keys(STEPPING_TASKS) as SteppingTask[])('%s: the line its task logs when a step failed after its retries matches the filter', async (task) => {
    // Prepare: the task function's code, as its state machine's recordStepFailure state calls it
    const lines: string[] = [];
    const record = (message: string) => void lines.push(message);
    const deps = { log: { info: record, warn: record, error: record }, timer: scaledTimer(1) } as unknown as WorkflowDeps;
    // Act
    await TASKS[task](deps, {
      step: 'recordStepFailure',
      namespace: 'default',
      clusterName: 'prod',
      executionBase: 'x',
      error: { Error: 'States.TaskFailed', Cause: 'boom' },
    });
    // Assess: a quoted phrase matches a log event that contains it
    const phrase = JSON.parse(filterOf(task).FilterPattern) as string;
    expect(lines.filter((l) => l.includes(phrase))).toHaveLength(1);
  });
});
