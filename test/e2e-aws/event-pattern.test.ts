/**
 * EventBridge event patterns (and Lambda FilterCriteria) in the emulated account, against moto's EventBridge as the
 * oracle. moto's TestEventPattern is not implemented (moto/events/models.py raises NotImplementedError), so each case
 * goes through moto's own matcher the way an event does: a rule with the pattern on a bus of this file, an SQS
 * target, PutEvents, and whether the queue received the event. Each case also states the answer of the AWS
 * documentation's rules (eb-create-pattern-operators.html), so a case where moto and AWS part ways is visible.
 */
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { InvalidEventPatternError, matchesPattern } from '../../e2e/aws/event-sources/pattern.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';

interface Case {
  name: string;
  pattern: object;
  source?: string;
  detailType?: string;
  resources?: string[];
  detail: Record<string, unknown>;
  /** What AWS answers, from the documentation's rules. */
  matches: boolean;
}

const STREAM_FILTER = { detail: { dynamodb: { NewImage: { gsi1pk: { S: [{ exists: true }] } } } } };

const CASES: Case[] = [
  { name: 'exact string', pattern: { source: ['aws.ec2'] }, detail: {}, matches: true },
  { name: 'exact string, other value', pattern: { source: ['aws.s3'] }, detail: {}, matches: false },
  { name: 'one of several values', pattern: { detail: { state: ['running', 'stopped'] } }, detail: { state: 'stopped' }, matches: true },
  { name: 'none of several values', pattern: { detail: { state: ['running', 'stopped'] } }, detail: { state: 'pending' }, matches: false },
  {
    name: 'detail-type and source together',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
    detail: {},
    matches: true,
  },
  { name: 'every key must match', pattern: { source: ['aws.ec2'], 'detail-type': ['other'] }, detail: {}, matches: false },
  { name: 'exact number', pattern: { detail: { n: [5] } }, detail: { n: 5 }, matches: true },
  { name: 'a number never equals a string', pattern: { detail: { n: [5] } }, detail: { n: '5' }, matches: false },
  { name: 'null matches null', pattern: { detail: { v: [null] } }, detail: { v: null }, matches: true },
  { name: 'null does not match a missing field', pattern: { detail: { v: [null] } }, detail: {}, matches: false },
  { name: 'prefix', pattern: { source: [{ prefix: 'aws.' }] }, detail: {}, matches: true },
  { name: 'prefix, no match', pattern: { detail: { id: [{ prefix: 'i-' }] } }, detail: { id: 'vol-1' }, matches: false },
  { name: 'prefix equals-ignore-case', pattern: { detail: { id: [{ prefix: { 'equals-ignore-case': 'I-AB' } }] } }, detail: { id: 'i-abc' }, matches: true },
  { name: 'suffix', pattern: { detail: { file: [{ suffix: '.png' }] } }, detail: { file: 'a/b.png' }, matches: true },
  { name: 'suffix, no match', pattern: { detail: { file: [{ suffix: '.png' }] } }, detail: { file: 'a/b.jpg' }, matches: false },
  { name: 'equals-ignore-case', pattern: { detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, detail: { state: 'running' }, matches: true },
  { name: 'anything-but a value', pattern: { detail: { state: [{ 'anything-but': 'running' }] } }, detail: { state: 'stopped' }, matches: true },
  { name: 'anything-but the value', pattern: { detail: { state: [{ 'anything-but': 'running' }] } }, detail: { state: 'running' }, matches: false },
  { name: 'anything-but a list', pattern: { detail: { state: [{ 'anything-but': ['running', 'stopped'] }] } }, detail: { state: 'stopped' }, matches: false },
  { name: 'anything-but a prefix', pattern: { detail: { id: [{ 'anything-but': { prefix: 'i-' } }] } }, detail: { id: 'vol-1' }, matches: true },
  { name: 'anything-but a prefix, excluded', pattern: { detail: { id: [{ 'anything-but': { prefix: 'i-' } }] } }, detail: { id: 'i-1' }, matches: false },
  { name: 'anything-but needs the field', pattern: { detail: { state: [{ 'anything-but': 'running' }] } }, detail: {}, matches: false },
  { name: 'numeric range', pattern: { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, detail: { n: 5 }, matches: true },
  { name: 'numeric range, outside', pattern: { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, detail: { n: 6 }, matches: false },
  { name: 'numeric equality with a decimal', pattern: { detail: { n: [{ numeric: ['=', 300] }] } }, detail: { n: 300.0 }, matches: true },
  { name: 'numeric on a string', pattern: { detail: { n: [{ numeric: ['>', 0] }] } }, detail: { n: '7' }, matches: false },
  { name: 'exists', pattern: { detail: { tag: [{ exists: true }] } }, detail: { tag: 'x' }, matches: true },
  { name: 'exists, missing', pattern: { detail: { tag: [{ exists: true }] } }, detail: {}, matches: false },
  { name: 'exists false, missing', pattern: { detail: { tag: [{ exists: false }] } }, detail: {}, matches: true },
  { name: 'exists false, present', pattern: { detail: { tag: [{ exists: false }] } }, detail: { tag: 'x' }, matches: false },
  { name: 'exists does not match an object', pattern: { detail: { tag: [{ exists: true }] } }, detail: { tag: { a: 'b' } }, matches: false },
  { name: 'nested objects', pattern: { detail: { a: { b: { c: ['d'] } } } }, detail: { a: { b: { c: 'd' } } }, matches: true },
  { name: 'nested objects, other leaf', pattern: { detail: { a: { b: { c: ['d'] } } } }, detail: { a: { b: { c: 'e' } } }, matches: false },
  {
    name: 'an array value matches when one element does',
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1'] },
    resources: ['arn:x', 'arn:aws:ec2:us-east-1:123456789012:instance/i-1'],
    detail: {},
    matches: true,
  },
  { name: 'an array value, no element matches', pattern: { detail: { tags: ['c'] } }, detail: { tags: ['a', 'b'] }, matches: false },
  { name: 'prefix on an array value', pattern: { detail: { tags: [{ prefix: 'b' }] } }, detail: { tags: ['a', 'bc'] }, matches: true },
  { name: 'wildcard', pattern: { detail: { key: [{ wildcard: 'dir/*.png' }] } }, detail: { key: 'dir/a/b.png' }, matches: true },
  { name: '$or', pattern: { detail: { $or: [{ a: ['1'] }, { b: ['2'] }] } }, detail: { b: '2' }, matches: true },
  {
    name: 'the stream filter of the template: NewImage with the kind index',
    pattern: STREAM_FILTER,
    detail: { dynamodb: { NewImage: { gsi1pk: { S: 'Cluster' } } } },
    matches: true,
  },
  {
    name: 'the stream filter of the template: a lease without it',
    pattern: STREAM_FILTER,
    detail: { dynamodb: { NewImage: { pk: { S: 'x' } } } },
    matches: false,
  },
];

const endpoint = () => motoEndpoint();

/** moto's EventBridge over its JSON protocol (the SDK's EventBridge client is not a dependency). */
async function eventBridge(op: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint()}/`, {
    method: 'POST',
    headers: {
      'X-Amz-Target': `AWSEvents.${op}`,
      'Content-Type': 'application/x-amz-json-1.1',
      // moto routes on the credential scope's service; it checks no signature.
      Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`events ${op}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

let sqs: SQSClient;
let queueUrl: string;
let bus: string;

beforeAll(async () => {
  sqs = new SQSClient(emulatorClientConfig(endpoint()));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('pattern-oracle') }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  bus = uniqueName('pattern-oracle');
  await eventBridge('CreateEventBus', { Name: bus });
  await eventBridge('PutRule', { Name: 'oracle', EventBusName: bus, EventPattern: JSON.stringify({ source: ['never'] }) });
  await eventBridge('PutTargets', { Rule: 'oracle', EventBusName: bus, Targets: [{ Id: 'queue', Arn: queueArn }] });
});

/** moto's answer: the rule takes the pattern, the event is put, and the queue says whether it was delivered. */
async function motoMatches(c: Case): Promise<boolean> {
  await eventBridge('PutRule', { Name: 'oracle', EventBusName: bus, EventPattern: JSON.stringify(c.pattern) });
  await eventBridge('PutEvents', {
    Entries: [
      {
        EventBusName: bus,
        Source: c.source ?? 'aws.ec2',
        DetailType: c.detailType ?? 'EC2 Instance State-change Notification',
        Resources: c.resources ?? [],
        Detail: JSON.stringify(c.detail),
      },
    ],
  });
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  for (const m of out.Messages ?? []) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  return (out.Messages ?? []).length > 0;
}

function eventOf(c: Case) {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': c.detailType ?? 'EC2 Instance State-change Notification',
    source: c.source ?? 'aws.ec2',
    account: '123456789012',
    time: '2026-12-06T00:00:00Z',
    region: 'us-east-1',
    resources: c.resources ?? [],
    detail: c.detail,
  };
}

describe('event patterns', () => {
  // Sequential: the cases share one rule.
  it.each(CASES)('$name: as the AWS documentation says and moto agrees', async (c) => {
    // Prepare / Act
    const ours = matchesPattern(JSON.stringify(c.pattern), eventOf(c));
    const moto = await motoMatches(c);
    // Assess
    expect({ ours, moto }).toEqual({ ours: c.matches, moto: c.matches });
  });

  it('refuses matchers it does not know rather than matching nothing', () => {
    expect(() => matchesPattern({ detail: { a: [{ 'begins-with': 'x' }] } }, eventOf(CASES[0]!))).toThrow(InvalidEventPatternError);
    expect(() => matchesPattern({ detail: { a: [{ numeric: ['>'] }] } }, { detail: { a: 1 } })).toThrow(InvalidEventPatternError);
  });
});
