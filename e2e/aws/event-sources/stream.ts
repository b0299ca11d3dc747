/**
 * The template's event source mappings on a DynamoDB stream, as Lambda's stream poller runs them
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Configuring partial batch response",
 * "Error handling"): one poller per shard, in order, that reads the stream on moto, drops the records no filter
 * matches, gathers batches of at most BatchSize for up to MaximumBatchingWindowInSeconds, and invokes the function
 * synchronously. A shard waits on its batch: a failed batch is retried (from the first failed sequence number when
 * the function reports batchItemFailures), split in two first when BisectBatchOnFunctionError, until it succeeds,
 * runs out of MaximumRetryAttempts or its oldest record is older than MaximumRecordAgeInSeconds; then the failure
 * record goes to DestinationConfig.OnFailure (SQS) and the poller moves past the batch.
 */
import { streamReadRequests } from '../iam/requests.js';
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { AccessDeniedError, type Json } from '../account.js';
import type { Deployment } from '../template.js';
import { Queues, THROTTLED, functionArn, functionLogicalId, motoClientConfig, sleep, type EventSourceOptions } from './common.js';
import { matchesPattern, parsePattern, type EventPattern } from './pattern.js';

export interface StreamSourceOptions extends EventSourceOptions {}

export interface StreamSourceStats {
  /** Invocations of the function. */
  batches: number;
  /** Records the function processed (checkpointed after a success). */
  records: number;
  /** Invocations that failed: a function error, or batchItemFailures. */
  failures: number;
  /** Records sent to the on-failure destination (or dropped without one). */
  dlq: number;
}

export interface StreamSource {
  /** The mappings (logical ids) that poll; a mapping whose role was denied does not. */
  mappings: string[];
  stats: StreamSourceStats;
  /** Denials (AccessDeniedError) and failures of the pollers, as the mapping's StateTransitionReason would say. */
  errors: Error[];
  /** Every record written before the call delivered, or sent to the on-failure destination. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

interface Mapping {
  id: string;
  functionId: string;
  role: string;
  streamArn: string;
  batchSize: number;
  windowMs: number;
  filters: EventPattern[];
  reportBatchItemFailures: boolean;
  bisect: boolean;
  /** -1: until the record expires. */
  maximumRetryAttempts: number;
  /** -1: never. */
  maximumRecordAgeSeconds: number;
  onFailure?: string;
  startingPosition: ShardIteratorType;
}

function mappingOf(deployment: Deployment, id: string, timeScale: number): Mapping | undefined {
  const p = deployment.resource(id).Properties ?? {};
  const streamArn = String(deployment.resolve(p['EventSourceArn']));
  if (!/^arn:[^:]+:dynamodb:.*\/stream\//.test(streamArn)) return undefined;
  if (p['Enabled'] === false) return undefined;
  const functionId = functionLogicalId(deployment, p['FunctionName']);
  const filters = ((p['FilterCriteria'] as { Filters?: { Pattern: string }[] } | undefined)?.Filters ?? []).map((f) => parsePattern(f.Pattern));
  const destination = (p['DestinationConfig'] as { OnFailure?: { Destination?: Json } } | undefined)?.OnFailure?.Destination;
  const batchSize = Number(p['BatchSize'] ?? 100);
  return {
    id,
    functionId,
    role: deployment.roleOfFunction(functionId),
    streamArn,
    batchSize,
    windowMs: (Number(p['MaximumBatchingWindowInSeconds'] ?? 0) * 1000) / timeScale,
    filters,
    reportBatchItemFailures: ((p['FunctionResponseTypes'] ?? []) as string[]).includes('ReportBatchItemFailures'),
    bisect: p['BisectBatchOnFunctionError'] === true,
    maximumRetryAttempts: Number(p['MaximumRetryAttempts'] ?? -1),
    maximumRecordAgeSeconds: Number(p['MaximumRecordAgeInSeconds'] ?? -1),
    ...(destination ? { onFailure: String(deployment.resolve(destination)) } : {}),
    startingPosition: (p['StartingPosition'] ?? 'LATEST') as ShardIteratorType,
  };
}

/** The record as the function sees it: the SDK's dates as epoch seconds, the mapping's stream ARN. */
function lambdaRecord(r: StreamRecord, streamArn: string): Record<string, unknown> {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      Keys: d.Keys,
      ...(d.NewImage ? { NewImage: d.NewImage } : {}),
      ...(d.OldImage ? { OldImage: d.OldImage } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
  };
}

interface ShardProgress {
  readsStarted: number;
  readsCompleted: number;
  /** The last sequence number read (filtered out or not). */
  lastRead?: string;
  /** The first record not yet handled: in the batch being delivered, or waiting for one. */
  pendingFrom?: string;
}

interface Pending {
  record: Record<string, unknown>;
  sequenceNumber: string;
  /** When the record reached the stream (ms). */
  arrival: number;
}

const seqLess = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);

export async function startStreamSource(options: StreamSourceOptions): Promise<StreamSource> {
  const { deployment, invoke, authorize } = options;
  const pollMs = options.pollMs ?? 100;
  const timeScale = options.timeScale ?? 1;
  const streams = new DynamoDBStreamsClient(motoClientConfig(options.endpoint));
  const queues = new Queues(options.endpoint);
  const stats: StreamSourceStats = { batches: 0, records: 0, failures: 0, dlq: 0 };
  const errors: Error[] = [];
  let stopped = false;
  const loops: Promise<void>[] = [];
  /** How far each shard's poller has got, for drained(). */
  const progress = new Map<string, ShardProgress>();
  const mappings: string[] = [];

  const deny = (err: unknown) => {
    if (err instanceof AccessDeniedError) {
      errors.push(err);
      return true;
    }
    return false;
  };

  for (const id of deployment.ofType('AWS::Lambda::EventSourceMapping')) {
    const m = mappingOf(deployment, id, timeScale);
    if (!m) continue;
    try {
      // What Lambda's poller calls with the function's role (with-ddb.html, "Execution role permissions");
      // ListStreams has no resource-level permission.
      for (const request of await streamReadRequests(m.streamArn)) await authorize(m.role, request.action, [request]);
    } catch (err) {
      if (deny(err)) continue;
      throw err;
    }
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: m.streamArn }))).StreamDescription?.Shards ?? [];
    mappings.push(id);
    for (const shard of shards) {
      const iterator = (
        await streams.send(new GetShardIteratorCommand({ StreamArn: m.streamArn, ShardId: shard.ShardId!, ShardIteratorType: m.startingPosition }))
      ).ShardIterator;
      const key = `${id}/${shard.ShardId}`;
      const p: ShardProgress = { readsStarted: 0, readsCompleted: 0 };
      progress.set(key, p);
      loops.push(
        pollShard(m, shard.ShardId!, iterator, p).catch((err: unknown) => {
          errors.push(err as Error);
        }),
      );
    }
  }

  async function pollShard(m: Mapping, shardId: string, first: string | undefined, p: ShardProgress): Promise<void> {
    let iterator = first;
    const buffer: Pending[] = [];
    let bufferedSince = 0;
    while (!stopped && iterator) {
      p.readsStarted++;
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      iterator = out.NextShardIterator;
      for (const r of out.Records ?? []) {
        if (r.dynamodb?.SequenceNumber) p.lastRead = r.dynamodb.SequenceNumber;
        const record = lambdaRecord(r, m.streamArn);
        // Filtered out records are dropped (and checkpointed) before batching (invocation-eventfiltering.html).
        if (m.filters.length > 0 && !m.filters.some((f) => matchesPattern(f, record))) continue;
        const created = r.dynamodb?.ApproximateCreationDateTime;
        if (buffer.length === 0) bufferedSince = Date.now();
        buffer.push({ record, sequenceNumber: r.dynamodb?.SequenceNumber ?? '', arrival: created ? new Date(created).getTime() : Date.now() });
      }
      p.readsCompleted++;
      p.pendingFrom = buffer[0]?.sequenceNumber;
      if (buffer.length > 0 && (buffer.length >= m.batchSize || Date.now() - bufferedSince >= m.windowMs)) {
        const batch = buffer.splice(0, m.batchSize);
        bufferedSince = Date.now();
        await deliver(m, shardId, batch);
        p.pendingFrom = buffer[0]?.sequenceNumber;
        continue;
      }
      await sleep(buffer.length > 0 ? Math.min(pollMs, Math.max(1, m.windowMs - (Date.now() - bufferedSince))) : pollMs);
    }
  }

  const expired = (m: Mapping, records: Pending[]) =>
    m.maximumRecordAgeSeconds >= 0 && records.some((r) => ((Date.now() - r.arrival) * timeScale) / 1000 > m.maximumRecordAgeSeconds);

  /** One batch until it is processed or given up: the shard waits on it (records of a shard stay in order). */
  async function deliver(m: Mapping, shardId: string, batch: Pending[]): Promise<void> {
    // Each part carries its own retry count: splitting a batch does not use a retry.
    const parts: { records: Pending[]; attempts: number }[] = [{ records: batch, attempts: 0 }];
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (expired(m, part.records)) {
        await giveUp(m, shardId, part.records, 'RecordAgeExceeded', part.attempts);
        continue;
      }
      stats.batches++;
      const result = await invoke(m.functionId, { Records: part.records.map((r) => r.record) });
      // A throttled batch never ran: Lambda retries it, neither split nor counted, until its records are too old (with-ddb.html).
      if (!result.ok && result.errorType === THROTTLED) {
        if (stopped) return;
        parts.unshift(part);
        await sleep(pollMs);
        continue;
      }
      let failedFrom = 0;
      if (result.ok) {
        failedFrom = m.reportBatchItemFailures ? firstFailure(result.payload, part.records) : part.records.length;
        if (failedFrom === part.records.length) {
          stats.records += part.records.length;
          continue;
        }
      }
      stats.failures++;
      stats.records += failedFrom;
      const rest = part.records.slice(failedFrom);
      const attempts = part.attempts + 1;
      if (stopped) return;
      // A partial batch response is already "bisected at the returned sequence number" (with-ddb.html): only a
      // function error splits what is left in two.
      if (m.bisect && !result.ok && rest.length > 1) {
        const half = Math.ceil(rest.length / 2);
        parts.unshift({ records: rest.slice(0, half), attempts: part.attempts }, { records: rest.slice(half), attempts: part.attempts });
      } else if (m.maximumRetryAttempts >= 0 && attempts > m.maximumRetryAttempts) {
        await giveUp(m, shardId, rest, 'RetryAttemptsExhausted', attempts);
        continue;
      } else parts.unshift({ records: rest, attempts });
      await sleep(pollMs);
    }
  }

  /**
   * The index of the first record to retry from a partial batch response: the lowest failed sequence number.
   * An identifier that is empty or names no record of the batch fails the whole batch (with-ddb.html, "Success and
   * failure conditions").
   */
  function firstFailure(payload: unknown, records: Pending[]): number {
    const failures = (payload as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length === 0) return records.length;
    let lowest: string | undefined;
    for (const f of failures) {
      const id = f?.itemIdentifier;
      if (typeof id !== 'string' || !records.some((r) => r.sequenceNumber === id)) return 0;
      if (lowest === undefined || seqLess(id, lowest)) lowest = id;
    }
    return records.findIndex((r) => r.sequenceNumber === lowest);
  }

  /** The failure record Lambda sends for a stream batch it gives up on (with-ddb.html, "On-failure destinations"). */
  async function giveUp(m: Mapping, shardId: string, records: Pending[], condition: string, attempts: number): Promise<void> {
    stats.dlq += records.length;
    if (!m.onFailure) return;
    try {
      await authorize(m.role, 'sqs:SendMessage', [{ action: 'sqs:SendMessage', resource: m.onFailure, context: {} }]);
    } catch (err) {
      if (deny(err)) return;
      throw err;
    }
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const message = {
      requestContext: { requestId: randomUUID(), functionArn: functionArn(deployment, m.functionId), condition, approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(first.arrival).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.arrival).toISOString(),
        batchSize: records.length,
        streamArn: m.streamArn,
      },
    };
    await queues.send(m.onFailure, JSON.stringify(message));
  }

  return {
    mappings,
    stats,
    errors,
    async drained() {
      // Per shard: a read that began after this call has seen every record written before it; once the poller is
      // past the last record that read saw (nothing waiting at or before it), those records are done. Writes that
      // keep coming (the leases of every reconcile) do not hold this up.
      const marks = [...progress.values()].map((p) => ({ p, after: p.readsStarted, target: undefined as string | undefined, seen: false }));
      const done = (mark: (typeof marks)[number]) => {
        if (mark.p.readsCompleted <= mark.after) return false;
        if (!mark.seen) {
          mark.seen = true;
          mark.target = mark.p.lastRead;
        }
        return mark.target === undefined || mark.p.pendingFrom === undefined || seqLess(mark.target, mark.p.pendingFrom);
      };
      while (!stopped && !marks.every(done)) {
        const failure = errors.find((e) => !(e instanceof AccessDeniedError));
        if (failure) throw failure;
        await sleep(Math.max(10, pollMs / 2));
      }
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      streams.destroy();
      queues.stop();
    },
  };
}
