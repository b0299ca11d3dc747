/**
 * EventBridge Scheduler in the emulated account (e2e/aws/event-sources/schedules.ts): the template's sweep schedule and
 * the requeues the reconcile function's adapter (SchedulerRequeues) creates, as moto holds them, run with a fake
 * function and a fake StartExecution. Each test runs the schedule groups it made, as moto is shared with other files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { AccessDeniedError, type AuthorizationRequest, type Invoke, type Json, type StartExecution } from '../../e2e/aws/account.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { ScheduleError, parseScheduleExpression, startSchedules, type Schedules } from '../../e2e/aws/event-sources/schedules.js';
import { Deployment } from '../../e2e/aws/template.js';
import { SchedulerRequeues } from '../../functions/adapters/scheduler/index.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { waitUntil } from '../support/wait.js';

const endpoint = () => motoEndpoint();
const SWEEP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-sweep';
const RECONCILE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Clusterless-reconcile-cluster';
let deployment: Deployment;
let dir: string;
let scheduler: SchedulerClient;
let sqs: SQSClient;
let ids: { sweepSchedule: string; sweep: string; sweepRole: string; sweepQueue: string; group: string; requeueRole: string };
let queueUrl: string;
let queueArn: string;

const byType = (d: Deployment, type: string, contains: string) => d.ofType(type).find((id) => id.includes(contains))!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schedules-'));
  const assembly = synthesize(dir, { bundle: false });
  deployment = new Deployment(assembly.stackName, assembly.template, dir);
  const sweepSchedule = deployment.ofType('AWS::Scheduler::Schedule')[0]!;
  const target = deployment.resource(sweepSchedule).Properties!['Target'] as any;
  ids = {
    sweepSchedule,
    sweep: target.Arn['Fn::GetAtt'][0],
    sweepRole: target.RoleArn['Fn::GetAtt'][0],
    sweepQueue: target.DeadLetterConfig.Arn['Fn::GetAtt'][0],
    group: deployment.ofType('AWS::Scheduler::ScheduleGroup')[0]!,
    requeueRole: byType(deployment, 'AWS::IAM::Role', 'RequeuesSchedulerRole'),
  };
  scheduler = new SchedulerClient(emulatorClientConfig(endpoint()));
  sqs = new SQSClient(emulatorClientConfig(endpoint()));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('sweep-dlq') }))).QueueUrl!;
  queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  deployment.setPhysical(ids.sweep, { ref: 'Clusterless-sweep', attributes: { Arn: SWEEP_ARN } });
  deployment.setPhysical(ids.sweepRole, {
    ref: 'Clusterless-SweepSchedulerRole',
    attributes: { Arn: 'arn:aws:iam::123456789012:role/Clusterless-SweepSchedulerRole' },
  });
  deployment.setPhysical(ids.sweepQueue, { ref: queueUrl, attributes: { Arn: queueArn, QueueName: queueArn.split(':')[5]! } });
  deployment.setPhysical(ids.requeueRole, { ref: 'Clusterless-RequeuesRole', attributes: { Arn: 'arn:aws:iam::123456789012:role/Clusterless-RequeuesRole' } });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A group of this test's own, in which the template's schedules are created as deploy.ts creates them. */
async function group(): Promise<string> {
  const name = uniqueName('schedules');
  await scheduler.send(new CreateScheduleGroupCommand({ Name: name }));
  return name;
}

async function createTemplateSchedule(groupName: string, overrides: Partial<CreateScheduleCommandInput> = {}): Promise<string> {
  const p = deployment.resolve(deployment.resource(ids.sweepSchedule).Properties as Json) as any;
  const name = uniqueName('sweep');
  await scheduler.send(new CreateScheduleCommand({ Name: name, GroupName: groupName, ...p, ...overrides }));
  return name;
}

function fakes(options: { deny?: (op: string, action: string) => boolean; start?: StartExecution } = {}) {
  const invocations: { fn: string; event: unknown }[] = [];
  const executions: { arn: string; input: string }[] = [];
  const calls: { principal: string; operation: string; requests: AuthorizationRequest[] }[] = [];
  const invoke: Invoke = async (fn, event) => {
    invocations.push({ fn, event });
    return { ok: true, payload: null };
  };
  const authorize = async (principal: string, operation: string, requests: AuthorizationRequest[]) => {
    calls.push({ principal, operation, requests });
    if (options.deny?.(operation, requests[0]!.action)) throw new AccessDeniedError(`${principal} is not authorized to perform: ${requests[0]!.action}`);
  };
  const startExecution: StartExecution = async (arn, input) => {
    executions.push({ arn, input });
    if (options.start) return options.start(arn, input);
    return { executionArn: `${arn.replace(':stateMachine:', ':execution:')}:x` };
  };
  return { invocations, executions, calls, invoke, authorize, startExecution };
}

let running: Schedules | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('EventBridge Scheduler', () => {
  it('reads the expressions Scheduler takes', () => {
    expect(parseScheduleExpression('rate(1 minute)')).toEqual({ kind: 'rate', seconds: 60 });
    expect(parseScheduleExpression('rate(2 hours)')).toEqual({ kind: 'rate', seconds: 7200 });
    expect(parseScheduleExpression('at(2026-03-01T12:00:05)')).toEqual({ kind: 'at', at: Date.UTC(2026, 2, 1, 12, 0, 5) });
    expect(parseScheduleExpression('cron(0 12 * * ? *)')).toEqual({ kind: 'cron' });
    expect(parseScheduleExpression('rate(0 minutes)')).toBeUndefined();
    expect(parseScheduleExpression('every minute')).toBeUndefined();
  });

  it('runs the template’s rate schedule: invokes the sweep function with its input, as the schedule’s role', async () => {
    const groupName = await group();
    const name = await createTemplateSchedule(groupName);
    const f = fakes();
    // rate(1 minute) every 0.1 s.
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('two sweeps', async () => (running!.fired[name] ?? 0) >= 2, 20_000, 20);
    await running.settled();
    expect(f.invocations.length).toBeGreaterThanOrEqual(2);
    expect(f.invocations[0]).toEqual({ fn: ids.sweep, event: { source: 'clusterless.sweep' } });
    expect(f.calls[0]).toEqual({
      principal: ids.sweepRole,
      operation: 'scheduler:Invoke',
      requests: [{ action: 'lambda:InvokeFunction', resource: SWEEP_ARN, context: {} }],
    });
    expect(running.errors).toEqual([]);
  });

  it('starts reconcile-cluster when a requeue the reconcile function made is due, then deletes it', async () => {
    const groupName = await group();
    deployment.setPhysical(ids.group, { ref: groupName, attributes: { Arn: `arn:aws:scheduler:us-east-1:123456789012:schedule-group/${groupName}` } });
    const requeues = new SchedulerRequeues({
      client: scheduler,
      installationId: deployment.installationId,
      groupName,
      stateMachineArn: RECONCILE_ARN,
      roleArn: 'arn:aws:iam::123456789012:role/Clusterless-RequeuesRole',
      clock: { now: () => new Date() },
      sweepIntervalSeconds: 60,
    });
    const f = fakes();
    // A requeue in 300 s is due in 0.5 s.
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, timeScale: 600, pollMs: 20, groups: [groupName] });
    await requeues.requeue('team-a', 'alpha', 300);
    await waitUntil('the requeue', async () => f.executions.length > 0, 20_000, 20);
    expect(f.executions).toEqual([{ arn: RECONCILE_ARN, input: JSON.stringify({ namespace: 'team-a', clusterName: 'alpha', trigger: 'requeue' }) }]);
    expect(f.calls[0]).toEqual({
      principal: ids.requeueRole,
      operation: 'scheduler:Invoke',
      requests: [{ action: 'states:StartExecution', resource: RECONCILE_ARN, context: {} }],
    });
    const [name] = Object.keys(running.fired);
    await waitUntil(
      'the schedule deleted',
      async () =>
        scheduler.send(new GetScheduleCommand({ Name: name!, GroupName: groupName })).then(
          () => false,
          (err: Error) => err.name === 'ResourceNotFoundException',
        ),
      20_000,
      20,
    );
    expect(running.fired).toEqual({ [name!]: 1 });
  });

  it('a cron schedule is an error naming it, and a DISABLED schedule never fires', async () => {
    const groupName = await group();
    const enabled = await createTemplateSchedule(groupName);
    const disabled = await createTemplateSchedule(groupName, { State: 'DISABLED' });
    const cron = await createTemplateSchedule(groupName, { ScheduleExpression: 'cron(0/1 * * * ? *)' });
    const f = fakes();
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('three sweeps of the enabled schedule', async () => (running!.fired[enabled] ?? 0) >= 3, 20_000, 20);
    expect(running.fired[disabled]).toBeUndefined();
    expect(running.fired[cron]).toBeUndefined();
    expect(running.errors).toHaveLength(1);
    expect(running.errors[0]).toBeInstanceOf(ScheduleError);
    expect(running.errors[0]!.message).toContain(cron);
  });

  it('a denied invoke is not retried: the input goes to the dead-letter queue, sent as the schedule’s role, with Scheduler’s attributes', async () => {
    const groupName = await group();
    const name = await createTemplateSchedule(groupName);
    const f = fakes({ deny: (op) => op === 'scheduler:Invoke' });
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('a fire', async () => (running!.fired[name] ?? 0) >= 1, 20_000, 20);
    await running.stop();
    expect(f.invocations).toEqual([]);
    expect(f.calls.filter((c) => c.operation === 'scheduler:Invoke')).toHaveLength(running.fired[name]!);
    expect(f.calls).toContainEqual({
      principal: ids.sweepRole,
      operation: 'sqs:SendMessage',
      requests: [{ action: 'sqs:SendMessage', resource: queueArn, context: {} }],
    });
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const mine = (out.Messages ?? []).filter((m) => m.MessageAttributes?.['SCHEDULE_ARN']?.StringValue?.endsWith(`/${name}`));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0]!.Body).toBe('{"source":"clusterless.sweep"}');
    expect(mine[0]!.MessageAttributes?.['ERROR_CODE']?.StringValue).toBe('AccessDeniedException');
    expect(mine[0]!.MessageAttributes?.['TARGET_ARN']?.StringValue).toBe(SWEEP_ARN);
    expect(running.errors.some((e) => e instanceof AccessDeniedError)).toBe(true);
  });

  it('a Lambda target is invoked asynchronously: a function error is retried under the function’s EventInvokeConfig, then sent to its destination', async () => {
    const groupName = await group();
    const name = uniqueName('sweep-once');
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: groupName,
        ScheduleExpression: `at(${new Date(Date.now() + 60_000).toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: SWEEP_ARN, RoleArn: 'arn:aws:iam::123456789012:role/Clusterless-SweepSchedulerRole', Input: '{"source":"once"}' },
      }),
    );
    const f = fakes();
    let calls = 0;
    const failing: Invoke = async (fn, event) => {
      calls++;
      return fn === ids.sweep && (event as { source?: string }).source === 'once'
        ? { ok: false, errorType: 'Error', errorMessage: 'sweep broke' }
        : f.invoke(fn, event);
    };
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, invoke: failing, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('the fire', async () => running!.fired[name] === 1, 20_000, 20);
    await running.settled();
    // The sweep function's EventInvokeConfig: two retries, then its OnFailure destination (the sweep's queue).
    expect(calls).toBe(3);
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const records = (out.Messages ?? []).map((m) => JSON.parse(m.Body!)).filter((b) => b.requestPayload?.source === 'once');
    expect(records).toMatchObject([
      { requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, responsePayload: { errorMessage: 'sweep broke' } },
    ]);
    expect(running.stats).toMatchObject({ delivered: 0, failures: 1, dlq: 1 });
  });

  it('a throttled Lambda target (the function at its reserved concurrency) is retried as Lambda does, not counted against its retries', async () => {
    // Prepare: throttled four times, more than the sweep's EventInvokeConfig allows function errors (two retries)
    const groupName = await group();
    const name = uniqueName('sweep-throttled');
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: groupName,
        ScheduleExpression: `at(${new Date(Date.now() + 60_000).toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: SWEEP_ARN, RoleArn: 'arn:aws:iam::123456789012:role/Clusterless-SweepSchedulerRole', Input: '{"source":"throttled"}' },
      }),
    );
    const f = fakes();
    let calls = 0;
    const throttling: Invoke = async (fn, event) =>
      ++calls <= 4 ? { ok: false, errorType: 'Lambda.TooManyRequestsException', errorMessage: 'Rate Exceeded' } : f.invoke(fn, event);
    // Act
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, invoke: throttling, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('the fire', async () => running!.fired[name] === 1, 20_000, 20);
    await running.settled();
    // Assess: delivered on the fifth try, nothing dead-lettered
    expect(calls).toBe(5);
    expect(f.invocations).toEqual([{ fn: ids.sweep, event: { source: 'throttled' } }]);
    expect(running.stats).toMatchObject({ delivered: 1, failures: 0, dlq: 0 });
  });

  it('a StartExecution that fails is retried under the target’s RetryPolicy, then dead-lettered', async () => {
    const groupName = await group();
    const name = uniqueName('requeue');
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: groupName,
        ScheduleExpression: `at(${new Date(Date.now() + 60_000).toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: RECONCILE_ARN,
          RoleArn: 'arn:aws:iam::123456789012:role/Clusterless-RequeuesRole',
          Input: '{"namespace":"team-a","clusterName":"beta","trigger":"requeue"}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: queueArn },
        },
      }),
    );
    const f = fakes({
      start: async () => {
        throw new Error('ExecutionLimitExceeded');
      },
    });
    running = await startSchedules({ deployment, endpoint: endpoint(), ...f, timeScale: 600, pollMs: 20, groups: [groupName] });
    await waitUntil('the fire', async () => running!.fired[name] === 1, 20_000, 20);
    await running.settled();
    expect(f.executions).toHaveLength(3);
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const mine = (out.Messages ?? []).filter((m) => m.MessageAttributes?.['SCHEDULE_ARN']?.StringValue?.endsWith(`/${name}`));
    expect(mine.map((m) => [m.MessageAttributes?.['EXHAUSTED_RETRY_CONDITION']?.StringValue, m.MessageAttributes?.['RETRY_ATTEMPTS']?.StringValue])).toEqual([
      ['MaximumRetryAttemptsExceeded', '2'],
    ]);
  });
});
