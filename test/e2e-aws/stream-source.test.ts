/**
 * The table's stream as Lambda's event source mapping runs it (e2e/aws/event-sources/stream.ts): the template's
 * mapping, on a table with a stream on moto, with a fake function that records its batches and fails on purpose.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, CreateTableCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { AccessDeniedError, type AuthorizationRequest, type Invoke, type InvokeResult, type Json } from '../../e2e/aws/account.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { startStreamSource, type StreamSource } from '../../e2e/aws/event-sources/stream.js';
import { Deployment, type TemplateJson } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';

const endpoint = () => motoEndpoint();
let template: TemplateJson;
let stackName: string;
let dir: string;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
let tableName: string;
let streamArn: string;
/** The logical ids the mapping names. */
let ids: { mapping: string; table: string; fn: string; queue: string; role: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stream-source-'));
  const assembly = synthesize(dir, { bundle: false });
  template = assembly.template;
  stackName = assembly.stackName;
  const [mapping] = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping');
  const p = mapping![1].Properties as Record<string, any>;
  const fn = p['FunctionName'].Ref as string;
  ids = {
    mapping: mapping![0],
    table: p['EventSourceArn']['Fn::GetAtt'][0],
    fn,
    queue: p['DestinationConfig'].OnFailure.Destination['Fn::GetAtt'][0],
    role: (template.Resources[fn]!.Properties as any).Role['Fn::GetAtt'][0],
  };
  dynamodb = new DynamoDBClient(emulatorClientConfig(endpoint()));
  sqs = new SQSClient(emulatorClientConfig(endpoint()));
  tableName = uniqueName('stream-source');
  const created = await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  streamArn = created.TableDescription!.LatestStreamArn!;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Setup {
  deployment: Deployment;
  queueUrl: string;
  queueArn: string;
}

/** A deployment of the template (its mapping changed by `tweak`), with this file's table and a queue of its own. */
async function deploy(tweak: (mapping: Record<string, Json>) => void = () => {}): Promise<Setup> {
  const copy = structuredClone(template);
  tweak(copy.Resources[ids.mapping]!.Properties!);
  const deployment = new Deployment(stackName, copy, dir);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('stream-dlq') }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  deployment.setPhysical(ids.table, {
    ref: tableName,
    attributes: { Arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}`, StreamArn: streamArn },
  });
  deployment.setPhysical(ids.fn, { ref: 'Clusterless-stream', attributes: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-stream' } });
  deployment.setPhysical(ids.queue, { ref: queueUrl, attributes: { Arn: queueArn, QueueName: queueArn.split(':')[5]! } });
  return { deployment, queueUrl, queueArn };
}

interface Recorded {
  calls: { principal: string; operation: string; requests: AuthorizationRequest[] }[];
  batches: { fn: string; sequenceNumbers: string[]; records: any[] }[];
}

function recorder(
  answer: (batch: any[], n: number) => InvokeResult = () => ({ ok: true, payload: { batchItemFailures: [] } }),
  deny?: (action: string) => boolean,
) {
  const recorded: Recorded = { calls: [], batches: [] };
  const invoke: Invoke = async (fn, event) => {
    const records = (event as { Records: any[] }).Records;
    recorded.batches.push({ fn, sequenceNumbers: records.map((r) => r.dynamodb.SequenceNumber), records });
    return answer(records, recorded.batches.length);
  };
  const authorize = async (principal: string, operation: string, requests: AuthorizationRequest[]) => {
    recorded.calls.push({ principal, operation, requests });
    if (deny?.(operation)) throw new AccessDeniedError(`${principal} is not authorized to perform: ${operation}`);
  };
  return { recorded, invoke, authorize };
}

let running: StreamSource | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Cluster objects carry the kind index attribute (gsi1pk): the template's filter lets only them through. */
async function putObject(pk: string, sk: string, extra: Record<string, string> = {}) {
  const item: Record<string, { S: string }> = { pk: { S: pk }, sk: { S: sk }, gsi1pk: { S: 'Cluster' } };
  for (const [k, v] of Object.entries(extra)) item[k] = { S: v };
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

async function dlqMessages(queueUrl: string): Promise<any[]> {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
}

const keysOf = (b: Recorded['batches']) => b.flatMap((x) => x.records.map((r) => `${r.dynamodb.Keys.pk.S}/${r.dynamodb.Keys.sk.S}`));

describe('the DynamoDB stream event source', () => {
  it('authorizes the function role to read the stream, then delivers object changes in order as the Lambda DynamoDB event, leases filtered out', async () => {
    // Prepare
    const { deployment } = await deploy();
    const { recorded, invoke, authorize } = recorder();
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 10 });
    const pk = uniqueName('ns#c');
    // Act
    await putObject(pk, 'Cluster/a', { v: '1' });
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: 'lease#reconcile' } } }));
    await putObject(pk, 'Cluster/a', { v: '2' });
    await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: 'Cluster/a' } } }));
    await running.drained();
    // Assess
    expect(recorded.calls.map((c) => [c.principal, c.operation, c.requests[0]!.resource])).toEqual([
      ...['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'].map((a) => [ids.role, a, streamArn]),
      // ListStreams has no resource-level permission.
      [ids.role, 'dynamodb:ListStreams', '*'],
    ]);
    const records = recorded.batches.flatMap((b) => b.records);
    expect(recorded.batches.every((b) => b.fn === ids.fn)).toBe(true);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1]).toMatchObject({
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: streamArn,
      dynamodb: {
        Keys: { pk: { S: pk }, sk: { S: 'Cluster/a' } },
        NewImage: { v: { S: '2' } },
        OldImage: { v: { S: '1' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(typeof records[1].eventID).toBe('string');
    expect(records[1].dynamodb.SizeBytes).toBeGreaterThan(0);
    // Epoch seconds, as Lambda gives it: the write happened during this test.
    expect(Math.abs(records[1].dynamodb.ApproximateCreationDateTime - Date.now() / 1000)).toBeLessThan(600);
    const seqs = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    expect(running.stats).toMatchObject({ records: 3, failures: 0, dlq: 0 });
  });

  it('drained() waits for what was written before it, not for writes that keep coming', async () => {
    const { deployment } = await deploy();
    const { recorded, invoke, authorize } = recorder();
    // Reads far apart, writes close together: every read finds new records.
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 150, timeScale: 10 });
    const pk = uniqueName('ns#c');
    let writing = true;
    // Leases, as every reconcile writes them: records the filter drops, without end.
    const writer = async (w: number) => {
      for (let i = 0; writing; i++) await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: `lease#${w}-${i}` } } }));
    };
    const leases = Promise.all([writer(0), writer(1), writer(2)]);
    await putObject(pk, 'Cluster/a');
    try {
      await running.drained();
    } finally {
      writing = false;
      await leases;
    }
    expect(keysOf(recorded.batches)).toEqual([`${pk}/Cluster/a`]);
  });

  it('delivers batches of at most BatchSize, in order', async () => {
    const { deployment } = await deploy((m) => {
      m['BatchSize'] = 3;
    });
    const { recorded, invoke, authorize } = recorder();
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 1 });
    const pk = uniqueName('ns#c');
    for (let i = 0; i < 8; i++) await putObject(pk, `Cluster/${i}`);
    await running.drained();
    expect(recorded.batches.every((b) => b.records.length <= 3)).toBe(true);
    expect(recorded.batches.length).toBeGreaterThanOrEqual(3);
    expect(keysOf(recorded.batches)).toEqual([...Array(8).keys()].map((i) => `${pk}/Cluster/${i}`));
  });

  it('retries from the first failed sequence number the function reports (ReportBatchItemFailures)', async () => {
    const { deployment } = await deploy();
    let failedOnce = false;
    const { recorded, invoke, authorize } = recorder((records) => {
      const third = records.find((r) => r.dynamodb.Keys.sk.S === 'Cluster/2');
      if (third && !failedOnce) {
        failedOnce = true;
        return { ok: true, payload: { batchItemFailures: [{ itemIdentifier: third.dynamodb.SequenceNumber }] } };
      }
      return { ok: true, payload: { batchItemFailures: [] } };
    });
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 1 });
    const pk = uniqueName('ns#c');
    for (let i = 0; i < 5; i++) await putObject(pk, `Cluster/${i}`);
    await running.drained();
    const keys = keysOf(recorded.batches);
    // Every record once, but those from the failed one on twice: the retry starts there.
    const count = (i: number) => keys.filter((k) => k === `${pk}/Cluster/${i}`).length;
    expect([0, 1, 2].map(count)).toEqual([1, 1, 2]);
    // One batching window, one batch; its retry is the rest of it from the failed record, not split in two.
    expect(recorded.batches[0]!.records).toHaveLength(5);
    expect(recorded.batches[1]!.records.map((r) => r.dynamodb.Keys.sk.S)).toEqual(['Cluster/2', 'Cluster/3', 'Cluster/4']);
    expect(running.stats.failures).toBe(1);
    expect(running.stats.dlq).toBe(0);
  });

  it('splits a failing batch (BisectBatchOnFunctionError) until only the poisoned record fails, and sends it to the on-failure queue after MaximumRetryAttempts', async () => {
    const { deployment, queueUrl } = await deploy((m) => {
      m['MaximumRetryAttempts'] = 2;
    });
    const { recorded, invoke, authorize } = recorder((records) =>
      records.some((r) => r.dynamodb.Keys.sk.S === 'Cluster/poison') ? { ok: false, errorType: 'Error', errorMessage: 'poisoned' } : { ok: true, payload: {} },
    );
    const pk = uniqueName('ns#c');
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 1 });
    const keys = ['Cluster/0', 'Cluster/1', 'Cluster/poison', 'Cluster/3'];
    for (const k of keys) await putObject(pk, k);
    await running.drained();
    // The four writes fall in one batching window: one batch, then its halves, then the poisoned record alone.
    expect(recorded.batches[0]!.records).toHaveLength(4);
    const singles = recorded.batches.filter((b) => b.records.length === 1 && b.records[0].dynamodb.Keys.sk.S === 'Cluster/poison');
    // The poisoned record alone: the first try and two retries.
    expect(singles.length).toBe(3);
    const processed = new Set(keysOf(recorded.batches.filter((b) => !b.records.some((r) => r.dynamodb.Keys.sk.S === 'Cluster/poison'))));
    expect([...processed].sort()).toEqual([`${pk}/Cluster/0`, `${pk}/Cluster/1`, `${pk}/Cluster/3`]);
    const dlq = await dlqMessages(queueUrl);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-stream',
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: { batchSize: 1, streamArn, startSequenceNumber: singles[0]!.sequenceNumbers[0], endSequenceNumber: singles[0]!.sequenceNumbers[0] },
    });
    expect(running.stats.dlq).toBe(1);
  });

  it('without bisecting, retries the whole batch MaximumRetryAttempts times and sends it to the queue, authorized with the function role', async () => {
    const { deployment, queueUrl, queueArn } = await deploy((m) => {
      m['BisectBatchOnFunctionError'] = false;
      m['MaximumRetryAttempts'] = 1;
    });
    const { recorded, invoke, authorize } = recorder(() => ({ ok: false, errorType: 'Error', errorMessage: 'down' }));
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 1 });
    const pk = uniqueName('ns#c');
    await putObject(pk, 'Cluster/0');
    await running.drained();
    expect(recorded.batches).toHaveLength(2);
    const dlq = await dlqMessages(queueUrl);
    expect(dlq.map((d) => [d.requestContext.condition, d.DDBStreamBatchInfo.batchSize])).toEqual([['RetryAttemptsExhausted', 1]]);
    expect(recorded.calls.at(-1)).toMatchObject({
      principal: ids.role,
      operation: 'sqs:SendMessage',
      requests: [{ action: 'sqs:SendMessage', resource: queueArn }],
    });
  });

  it('retries a throttled batch whole, neither split nor counted against MaximumRetryAttempts, as Lambda retries throttles', async () => {
    // Prepare: the function is at its reserved concurrency for the first three tries
    const { deployment, queueUrl } = await deploy((m) => {
      m['MaximumRetryAttempts'] = 1;
      m['BatchSize'] = 2;
    });
    const { recorded, invoke, authorize } = recorder((_batch, n) =>
      n <= 3 ? { ok: false, errorType: 'Lambda.TooManyRequestsException', errorMessage: 'Rate Exceeded' } : { ok: true, payload: { batchItemFailures: [] } },
    );
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 1 });
    const pk = uniqueName('ns#c');
    // Act
    await dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: ['Cluster/0', 'Cluster/1'].map((sk) => ({ PutRequest: { Item: { pk: { S: pk }, sk: { S: sk }, gsi1pk: { S: 'Cluster' } } } })),
        },
      }),
    );
    await running.drained();
    // Assess: four tries of the same two records, then delivered; nothing given up
    expect(recorded.batches.map((b) => b.sequenceNumbers.length)).toEqual([2, 2, 2, 2]);
    expect(running.stats.dlq).toBe(0);
    expect(await dlqMessages(queueUrl)).toEqual([]);
  });

  it('gives a batch up once its records are older than MaximumRecordAgeInSeconds (scaled)', async () => {
    const { deployment, queueUrl } = await deploy((m) => {
      m['BisectBatchOnFunctionError'] = false;
      m['MaximumRetryAttempts'] = -1;
      m['MaximumRecordAgeInSeconds'] = 60;
    });
    const { invoke, authorize } = recorder(() => ({ ok: false, errorType: 'Error', errorMessage: 'down' }));
    // 60 s of the account pass in 0.1 s.
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20, timeScale: 600 });
    await putObject(uniqueName('ns#c'), 'Cluster/0');
    await running.drained();
    const dlq = await dlqMessages(queueUrl);
    expect(dlq.map((d) => d.requestContext.condition)).toEqual(['RecordAgeExceeded']);
  });

  it('a role denied GetRecords reads nothing, and the denial is reported', async () => {
    const { deployment } = await deploy();
    const { recorded, invoke, authorize } = recorder(undefined, (op) => op === 'dynamodb:GetRecords');
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20 });
    await putObject(uniqueName('ns#c'), 'Cluster/0');
    await running.drained();
    expect(running.mappings).toEqual([]);
    expect(running.errors.map((e) => e.name)).toEqual(['AccessDeniedError']);
    expect(recorded.batches).toEqual([]);
  });

  it('a role denied sqs:SendMessage sends nothing to the queue, and the denial is reported', async () => {
    const { deployment, queueUrl } = await deploy((m) => {
      m['BisectBatchOnFunctionError'] = false;
      m['MaximumRetryAttempts'] = 0;
    });
    const { invoke, authorize } = recorder(
      () => ({ ok: false, errorType: 'Error', errorMessage: 'down' }),
      (op) => op === 'sqs:SendMessage',
    );
    running = await startStreamSource({ deployment, endpoint: endpoint(), invoke, authorize, pollMs: 20 });
    await putObject(uniqueName('ns#c'), 'Cluster/0');
    await running.drained();
    expect(await dlqMessages(queueUrl)).toEqual([]);
    expect(running.errors.map((e) => e.name)).toEqual(['AccessDeniedError']);
  });
});
