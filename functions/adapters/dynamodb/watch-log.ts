/**
 * The change feed on AWS: a watch log in the object table, written by the stream function from the table's stream
 * and read by the API function's watches (functions/api/http/watch.ts).
 *
 * | item      | pk            | sk                                  | other attributes                                   |
 * |-----------|---------------|-------------------------------------|----------------------------------------------------|
 * | watch log | `watch#{Kind}`| `{resourceVersion, 20 digits}#{ns}/{name}` | type, ns, obj (JSON), prev (JSON, MODIFIED), ttl (epoch s) |
 *
 * - One item per changed object, its key made only of what the stream record holds, so a retried batch writes the
 *   same items again (idempotent). The name in the sort key keeps two changes at one version (two removals in one
 *   second, below) apart.
 * - Objects as stored: a ClusterResourceSet carries its payload references; the API's host puts the manifests back.
 * - A removal writes no version of its own to the table (DeleteItem), so its DELETED carries the later of the old
 *   image's version + 1 and the record's ApproximateCreationDateTime (whole seconds) in microseconds.
 * - The items carry no kind index attribute, so the stream mappings' filters (objects only) and the sweep (the kind
 *   index) never see them; `ttl` is the table's TTL attribute (DynamoDB removes expired items within days; readers
 *   never rely on it, they know an item's age from its version).
 * - Versions are wall-clock microseconds (BaseStore.nextResourceVersion), so a version's age is known: one older than
 *   the retention is expired (410), and a reader holds back what is newer than now - the settle delay, because the
 *   stream's shards and batches deliver out of order and late. A change logged later than that still reaches every
 *   watch open then, up to the late-arrival window (60 s) behind its cursor (`lateArrivalWindow`: watch.ts reads
 *   that far back and sends each object's changes once, never an older after a newer); one logged later still, or
 *   after the watch it belonged to ended, reaches watchers only through their next list.
 */
import { PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ApiObject } from '../../api/kind.js';
import type { KindName } from '../../api/kinds.js';
import { systemClock, type Change, type ChangeFeed, type ChangeType, type Clock } from '../../ports.js';
import { TABLE_KEYS, watchLogPartition } from './table.js';

/** The partition prefix of the watch log; `watch#{Kind}` is no cluster's partition (a Kind is upper-case, cluster names never are). */
/** How far back a watch may resume: kube-apiserver's watch cache keeps about as long (its default event TTL). */
export const WATCH_LOG_RETENTION_SECONDS = 15 * 60;
/** How long a logged change is held back, for the stream's late and out-of-order deliveries (batching window 1 s). */
export const DEFAULT_SETTLE_MS = 4000;
/** How often a waiting watch asks the log again. */
export const DEFAULT_POLL_MS = 1000;
/**
 * How late a change may be logged and still reach an open watch: watches read this far back behind their cursor
 * (watch.ts), for a stream batch retried, throttled or delivered late.
 */
export const DEFAULT_LATE_ARRIVAL_MS = 60_000;

const VERSION_DIGITS = 20;
const pad = (version: number) => String(version).padStart(VERSION_DIGITS, '0');

export { WATCH_LOG_PREFIX, isWatchLogPartition, watchLogPartition } from './table.js';

/** The attributes of one stream image this log reads (the object item's `obj`; aws-lambda's and the SDK's shapes both fit). */
export type StreamImage = Record<string, { S?: string } | undefined>;

/** One record of the table's stream, as far as the log needs it. */
export interface StreamChange {
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | undefined;
  newImage?: StreamImage | undefined;
  oldImage?: StreamImage | undefined;
  /** Epoch seconds (DynamoDB Streams' ApproximateCreationDateTime). */
  approximateCreationSeconds?: number | undefined;
}

/** Whether an image is an object item (only those carry the kind index attribute, as the stream filters say). */
const isObjectImage = (image: StreamImage | undefined): image is StreamImage => image?.[TABLE_KEYS.kindIndex.partitionKey]?.S !== undefined;
const parse = (image: StreamImage) => JSON.parse(image['obj']?.S ?? 'null') as ApiObject | null;

/** The log items of a batch of stream records: one per change of an object, nothing for other items. */
export function watchLogItems(records: readonly StreamChange[], retentionSeconds = WATCH_LOG_RETENTION_SECONDS): Record<string, AttributeValue>[] {
  const items: Record<string, AttributeValue>[] = [];
  for (const r of records) {
    const image = r.eventName === 'REMOVE' ? r.oldImage : r.newImage;
    if (!isObjectImage(image)) continue;
    let object = parse(image);
    if (!object) continue;
    const previous = r.eventName === 'MODIFY' && isObjectImage(r.oldImage) ? parse(r.oldImage) : null;
    const type: ChangeType = r.eventName === 'INSERT' ? 'ADDED' : r.eventName === 'MODIFY' ? 'MODIFIED' : 'DELETED';
    let version = Number(object.metadata.resourceVersion);
    if (!Number.isSafeInteger(version)) continue;
    if (type === 'DELETED') {
      version = Math.max(version + 1, (r.approximateCreationSeconds ?? 0) * 1_000_000);
      object = { ...object, metadata: { ...object.metadata, resourceVersion: String(version) } };
    }
    const ns = object.metadata.namespace ?? '';
    items.push({
      [TABLE_KEYS.partitionKey]: { S: watchLogPartition(object.kind) },
      [TABLE_KEYS.sortKey]: { S: `${pad(version)}#${ns}/${object.metadata.name}` },
      type: { S: type },
      ns: { S: ns },
      obj: { S: JSON.stringify(object) },
      ...(previous ? { prev: { S: JSON.stringify(previous) } } : {}),
      // From the version, not the clock, so a retry writes the same item; a margin past the retention.
      [TABLE_KEYS.timeToLiveAttribute]: { N: String(Math.floor(version / 1_000_000) + retentionSeconds + 60) },
    });
  }
  return items;
}

export interface DynamoDbWatchLogOptions {
  client: DynamoDBClient;
  tableName: string;
  /** @default systemClock: must agree with the writers' clocks, whose microseconds the versions are */
  clock?: Clock;
  /** @default WATCH_LOG_RETENTION_SECONDS */
  retentionSeconds?: number;
  /** @default DEFAULT_SETTLE_MS */
  settleMs?: number;
  /** @default DEFAULT_POLL_MS */
  pollMs?: number;
  /** @default DEFAULT_LATE_ARRIVAL_MS */
  lateArrivalMs?: number;
}

/** The watch log: `append` for the stream function, the ChangeFeed for the API's watches. */
export class DynamoDbWatchLog implements ChangeFeed {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly retentionSeconds: number;
  private readonly settleMs: number;
  private readonly pollMs: number;
  /** In versions (microseconds). */
  readonly lateArrivalWindow: number;

  constructor(options: DynamoDbWatchLogOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.retentionSeconds = options.retentionSeconds ?? WATCH_LOG_RETENTION_SECONDS;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.lateArrivalWindow = (options.lateArrivalMs ?? DEFAULT_LATE_ARRIVAL_MS) * 1000;
  }

  /** Writes the log items of a batch of stream records (plain puts: a retried batch puts the same items). */
  async append(records: readonly StreamChange[]): Promise<number> {
    const items = watchLogItems(records, this.retentionSeconds);
    await Promise.all(items.map((Item) => this.client.send(new PutItemCommand({ TableName: this.tableName, Item }))));
    return items.length;
  }

  /** Everything up to now - the settle delay is logged, whatever the kind. */
  async currentVersion(): Promise<string> {
    return String(this.settledVersion());
  }

  async changesSince(kind: KindName, namespace: string | undefined, after: string): Promise<Change[] | 'expired'> {
    const settled = this.settledVersion();
    const from = Number(after);
    if (from < this.clock.now().getTime() * 1000 - this.retentionSeconds * 1_000_000) return 'expired';
    if (from >= settled) return [];
    const { partitionKey: pk, sortKey: sk } = TABLE_KEYS;
    const changes: Change[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ...(namespace !== undefined ? { FilterExpression: '#ns = :ns' } : {}),
          ExpressionAttributeNames: { '#pk': pk, '#sk': sk, ...(namespace !== undefined ? { '#ns': 'ns' } : {}) },
          ExpressionAttributeValues: {
            ':pk': { S: watchLogPartition(kind) },
            // Every sort key of a version in (after, settled]: `{version}#...` sorts above `{version}` and below `{version+1}`.
            ':from': { S: pad(from + 1) },
            ':to': { S: `${pad(settled)}#\uffff` },
            ...(namespace !== undefined ? { ':ns': { S: namespace } } : {}),
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const prev = item['prev']?.S;
        changes.push({
          type: item['type']!.S as ChangeType,
          object: JSON.parse(item['obj']!.S!) as ApiObject,
          ...(prev ? { previous: JSON.parse(prev) as ApiObject } : {}),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return changes;
  }

  /** Polls: resolves after the poll interval (the caller asks the log again), or when `signal` aborts. */
  waitForChange(_after: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private settledVersion(): number {
    return (this.clock.now().getTime() - this.settleMs) * 1000;
  }
}
