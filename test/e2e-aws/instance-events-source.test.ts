/**
 * EC2 state-change events in the emulated account (e2e/aws/event-sources/instance-events.ts): instances on moto change
 * state, the template's rule matches, and a fake function records what it gets and fails on purpose. moto is shared
 * with other test files, whose instances change state too: every assertion looks at this file's instances only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { AccessDeniedError, type AuthorizationRequest, type Invoke, type InvokeResult } from '../../e2e/aws/account.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { startInstanceEvents, type InstanceEvents } from '../../e2e/aws/event-sources/instance-events.js';
import { Deployment, type TemplateJson } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { createMotoNetwork, motoSdkEc2Client, type MotoNetwork } from '../support/ec2.js';

const endpoint = () => motoEndpoint();
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-instance-events';
let template: TemplateJson;
let stackName: string;
let dir: string;
let ec2: EC2Client;
let network: MotoNetwork;
let sqs: SQSClient;
let ids: { rule: string; fn: string; queue: string; role: string; permission: string };
let otherRules: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'instance-events-'));
  const assembly = synthesize(dir, { bundle: false });
  template = assembly.template;
  stackName = assembly.stackName;
  const rules = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
  // The state-change rule; the spot notices' rule (same function) matches no state change and is only deployed.
  const rule = rules.find(([, r]) => JSON.stringify((r.Properties as any).EventPattern).includes('EC2 Instance State-change Notification'));
  const target = (rule![1].Properties as any).Targets[0];
  const fn = target.Arn['Fn::GetAtt'][0] as string;
  const [permission] = Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Permission' &&
      (r.Properties as any).Principal === 'events.amazonaws.com' &&
      (r.Properties as any).SourceArn?.['Fn::GetAtt']?.[0] === rule![0],
  )!;
  otherRules = rules.filter(([id]) => id !== rule![0]).map(([id]) => id);
  ids = {
    rule: rule![0],
    fn,
    queue: target.DeadLetterConfig.Arn['Fn::GetAtt'][0],
    role: (template.Resources[fn]!.Properties as any).Role['Fn::GetAtt'][0],
    permission,
  };
  // The SDK's client: this test drives moto itself (StopInstances...), it passes no client into an adapter.
  ec2 = motoSdkEc2Client(endpoint());
  network = await createMotoNetwork(ec2);
  sqs = new SQSClient(emulatorClientConfig(endpoint()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function deploy(tweak: (t: TemplateJson) => void = () => {}) {
  const copy = structuredClone(template);
  tweak(copy);
  const deployment = new Deployment(stackName, copy, dir);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('instance-dlq') }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  deployment.setPhysical(ids.rule, {
    ref: 'Clusterless-InstanceEventsRule',
    attributes: { Arn: 'arn:aws:events:us-east-1:123456789012:rule/Clusterless-InstanceEventsRule' },
  });
  for (const [i, id] of otherRules.entries())
    deployment.setPhysical(id, { ref: `Clusterless-Rule${i}`, attributes: { Arn: `arn:aws:events:us-east-1:123456789012:rule/Clusterless-Rule${i}` } });
  deployment.setPhysical(ids.fn, { ref: 'Clusterless-instance-events', attributes: { Arn: FUNCTION_ARN } });
  deployment.setPhysical(ids.queue, { ref: queueUrl, attributes: { Arn: queueArn, QueueName: queueArn.split(':')[5]! } });
  return { deployment, queueUrl, queueArn };
}

/** A fake function: records the events of this file's instances and answers with `answer`; others succeed. */
function fakes(
  mine: Set<string>,
  answer: (event: any) => InvokeResult | Promise<InvokeResult> = () => ({ ok: true, payload: null }),
  deny?: (op: string) => boolean,
) {
  const invocations: { fn: string; event: any }[] = [];
  const calls: { principal: string; operation: string; requests: AuthorizationRequest[] }[] = [];
  const invoke: Invoke = async (fn, event) => {
    const e = event as any;
    if (!mine.has(e.detail['instance-id'])) return { ok: true, payload: null };
    invocations.push({ fn, event: e });
    return answer(e);
  };
  const authorize = async (principal: string, operation: string, requests: AuthorizationRequest[]) => {
    calls.push({ principal, operation, requests });
    if (deny?.(operation)) throw new AccessDeniedError(`${principal} is not authorized to perform: ${operation}`);
  };
  return { invocations, calls, invoke, authorize };
}

async function runInstance(mine: Set<string>): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({ ImageId: network.ami, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: network.subnets[0]!.id }),
  );
  const id = out.Instances![0]!.InstanceId!;
  mine.add(id);
  return id;
}

async function dlq(queueUrl: string, mine: Set<string>) {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
  return (out.Messages ?? [])
    .map((m) => ({ body: JSON.parse(m.Body!), attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])) }))
    .filter((m) => mine.has(m.body.detail?.['instance-id'] ?? m.body.requestPayload?.detail?.['instance-id']));
}

let running: InstanceEvents | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('EC2 instance state-change events', () => {
  it('makes the state-change event of every change it sees and delivers the watched ones to the rule’s function', async () => {
    // Prepare
    const { deployment } = await deploy();
    const mine = new Set<string>();
    const { invocations, invoke, authorize } = fakes(mine);
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    // Act
    const id = await runInstance(mine);
    await running.drained();
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await running.drained();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await running.drained();
    // Assess
    expect(invocations.map((i) => [i.fn, i.event.detail.state])).toEqual([
      [ids.fn, 'running'],
      [ids.fn, 'stopped'],
      [ids.fn, 'terminated'],
    ]);
    expect(invocations[0]!.event).toMatchObject({
      version: '0',
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      account: '123456789012',
      region: 'us-east-1',
      resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${id}`],
      detail: { 'instance-id': id, state: 'running' },
    });
    expect(invocations[0]!.event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(new Set(invocations.map((i) => i.event.id)).size).toBe(3);
  });

  it('delivers nothing for a DISABLED rule', async () => {
    const { deployment } = await deploy((t) => {
      (t.Resources[ids.rule]!.Properties as any).State = 'DISABLED';
    });
    const mine = new Set<string>();
    const { invocations, invoke, authorize } = fakes(mine);
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    await runInstance(mine);
    await running.drained();
    expect(running.events.some((e) => mine.has(e.detail['instance-id']))).toBe(true);
    expect(invocations).toEqual([]);
  });

  it('without a Lambda permission for the rule, does not invoke, counts a delivery failure and dead-letters the event', async () => {
    const { deployment, queueUrl } = await deploy((t) => {
      delete t.Resources[ids.permission];
    });
    const mine = new Set<string>();
    const { invocations, invoke, authorize } = fakes(mine);
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    const id = await runInstance(mine);
    await running.drained();
    expect(invocations).toEqual([]);
    expect(running.stats.failures).toBeGreaterThan(0);
    expect(running.errors.some((e) => e.name === 'DeliveryError' && /no AWS::Lambda::Permission/.test(e.message))).toBe(true);
    const messages = await dlq(queueUrl, mine);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      body: { detail: { 'instance-id': id, state: 'running' } },
      attributes: {
        ERROR_CODE: 'NO_PERMISSIONS',
        RULE_ARN: 'arn:aws:events:us-east-1:123456789012:rule/Clusterless-InstanceEventsRule',
        TARGET_ARN: FUNCTION_ARN,
      },
    });
  });

  it('a function error is retried as Lambda retries an asynchronous invocation, then goes to its on-failure destination with the function role', async () => {
    const { deployment, queueUrl, queueArn } = await deploy();
    const mine = new Set<string>();
    const { invocations, calls, invoke, authorize } = fakes(mine, () => ({ ok: false, errorType: 'Error', errorMessage: 'broken on purpose' }));
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    const id = await runInstance(mine);
    await running.drained();
    // The function's EventInvokeConfig: MaximumRetryAttempts 2.
    expect(invocations).toHaveLength(3);
    const messages = await dlq(queueUrl, mine);
    expect(messages.map((m) => m.body)).toMatchObject([
      {
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: `${FUNCTION_ARN}:$LATEST` },
        requestPayload: { detail: { 'instance-id': id } },
        responsePayload: { errorType: 'Error', errorMessage: 'broken on purpose' },
      },
    ]);
    expect(calls).toContainEqual({
      principal: ids.role,
      operation: 'sqs:SendMessage',
      requests: [{ action: 'sqs:SendMessage', resource: queueArn, context: {} }],
    });
  });

  it('an invocation that cannot be made is retried under the target’s RetryPolicy, then dead-lettered', async () => {
    const { deployment, queueUrl } = await deploy((t) => {
      (t.Resources[ids.rule]!.Properties as any).Targets[0].RetryPolicy.MaximumRetryAttempts = 1;
    });
    const mine = new Set<string>();
    let attempts = 0;
    const { invoke, authorize } = fakes(mine, () => {
      attempts++;
      throw new Error('the runtime is unreachable');
    });
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    await runInstance(mine);
    await running.drained();
    expect(attempts).toBe(2);
    const messages = await dlq(queueUrl, mine);
    expect(messages.map((m) => m.attributes['ERROR_CODE'])).toEqual(['SDK_CLIENT_ERROR']);
  });

  it('a denied send to the on-failure destination sends nothing and is reported', async () => {
    const { deployment, queueUrl } = await deploy();
    const mine = new Set<string>();
    const { invoke, authorize } = fakes(
      mine,
      () => ({ ok: false, errorType: 'Error', errorMessage: 'broken' }),
      (op) => op === 'sqs:SendMessage',
    );
    running = await startInstanceEvents({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 50 });
    await runInstance(mine);
    await running.drained();
    expect(await dlq(queueUrl, mine)).toEqual([]);
    expect(running.errors.some((e) => e instanceof AccessDeniedError)).toBe(true);
  });
});
