/**
 * The one DynamoDB table (DESIGN section 4): its key schema, the keys of each item type, and createTable for
 * the embedded host and the tests. The CDK stack declares the same keys from these constants.
 *
 * Items:
 * | item         | pk                        | sk               | other attributes                          |
 * |--------------|---------------------------|------------------|-------------------------------------------|
 * | object       | `{ns}#{cluster}` or `{ns}`| `{Kind}#{name}`  | gsi1pk=Kind, gsi1sk=`{ns}#{name}`, rv, uid, obj (JSON) |
 * | name claim   | `{ns}/{Kind}/{name}`      | `claim`          | objectPk, uid, claimedAt (epoch ms)        |
 * | lease        | `{ns}#{cluster}`          | `lease#{name}`   | holder, expiresAt (epoch ms)               |
 * | event        | `{ns}`                    | `Event#{name}`   | as an object, plus ttl (epoch s); no claim |
 * | watch log    | `watch#{Kind}`            | `{rv:020}#{ns}/{name}` | type, ns, obj, prev, ttl (epoch s): written by the stream function (watch-log.ts) |
 * | unavailable offering | `#unavailable-offerings` | `{market}:{type}:{zone}` | expiresAt (epoch ms), ttl (epoch s): written by the provision function (unavailable-offerings.ts) |
 * | usage        | `usage/{YYYY-MM}`         | `{ns}#{cluster}` | ns, cluster, since (epoch ms), `c_{counter}` numbers, ttl (epoch s) |
 *
 * Namespace-level objects (MachineClass) live in the partition `{ns}`, which no cluster partition can equal
 * (`#` is not allowed in a namespace). Claims contain `/`, which neither namespaces nor names may contain, so
 * they never share a partition with objects. Leases use a lower-case sort key prefix, which no Kind has.
 * Only objects carry the GSI attributes, so the kind index holds objects only (and the stream mappings, which filter
 * on it, see objects only). A usage partition holds one `/`, a claim two, so neither is the other's nor an object's.
 * A watch log partition `watch#{Kind}` is no cluster's: a Kind starts upper-case, a cluster name never does.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ObjectKey } from '../../ports.js';

export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Lists objects of one kind: pk = Kind, sk = `{namespace}#{name}`. Projects everything. */
  kindIndex: { indexName: 'kind-index', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * The table's TTL attribute (epoch seconds): Event items carry it, an hour after they were last observed, and so
   * do the watch log's items and the unavailable offerings' marks (watch-log.ts, unavailable-offerings.ts).
   * DynamoDB deletes them some time after (readers skip expired ones meanwhile); dynalite never does, so the
   * embedded host removes them itself.
   */
  timeToLiveAttribute: 'ttl',
} as const;

/** The partition of a cluster's objects and leases, or of a namespace's namespace-level objects. */
export function partitionKey(namespace: string, clusterName: string | undefined): string {
  return clusterName === undefined ? namespace : `${namespace}#${clusterName}`;
}

export function objectSortKey(kind: string, name: string): string {
  return `${kind}#${name}`;
}

export function kindIndexSortKey(namespace: string, name: string): string {
  // '#' sorts below every character a name may hold, so this order is (namespace, name).
  return `${namespace}#${name}`;
}

export function claimKey(key: ObjectKey): { pk: string; sk: string } {
  return { pk: `${key.namespace}/${key.kind}/${key.name}`, sk: 'claim' };
}

export function leaseSortKey(name: string): string {
  return `lease#${name}`;
}

/** The prefix of the usage partitions (IAM's LeadingKeys condition of the tasks' UpdateItem). */
export const USAGE_PREFIX = 'usage/';
/** The partition of a period's usage records (one per cluster, sort key `{ns}#{cluster}`). */
export const usagePartition = (period: string) => `${USAGE_PREFIX}${period}`;
/** A usage counter's attribute: prefixed, so no counter name can be a key or a bookkeeping attribute. */
export const usageCounterAttribute = (name: string) => `c_${name}`;

/** The watch log's partitions, `watch#{Kind}` (watch-log.ts). */
export const WATCH_LOG_PREFIX = 'watch#';
export const watchLogPartition = (kind: string) => `${WATCH_LOG_PREFIX}${kind}`;
export const isWatchLogPartition = (pk: string | undefined) => pk?.startsWith(WATCH_LOG_PREFIX) === true;

/** Which object an item is: its namespace, its cluster (none for namespace-level objects and events), kind and name. */
export interface ObjectItemKeys {
  namespace: string;
  clusterName?: string;
  kind: string;
  name: string;
}

const CLAIM_SORT_KEY = claimKey({ kind: 'Cluster', namespace: 'x', name: 'x' }).sk;

/**
 * The object an item is, read from its keys (the layout above); undefined for name claims, leases and the watch log.
 * `#` is allowed in neither namespaces nor names: the first one splits each key.
 */
export function objectOfItemKeys(pk: string | undefined, sk: string | undefined): ObjectItemKeys | undefined {
  if (!pk || !sk || sk.startsWith(leaseSortKey('')) || sk === CLAIM_SORT_KEY || pk.includes('/') || isWatchLogPartition(pk)) return undefined;
  const k = sk.indexOf('#');
  if (k <= 0 || k === sk.length - 1) return undefined;
  const c = pk.indexOf('#');
  if (c === 0 || c === pk.length - 1) return undefined;
  const namespace = c < 0 ? pk : pk.slice(0, c);
  return { namespace, ...(c < 0 ? {} : { clusterName: pk.slice(c + 1) }), kind: sk.slice(0, k), name: sk.slice(k + 1) };
}

/** Stream sequence numbers are decimal strings of up to 40 digits: the lowest of some, compared as numbers without losing digits. */
export function lowestSequenceNumber(sequenceNumbers: readonly string[]): string | undefined {
  const less = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);
  return sequenceNumbers.reduce<string | undefined>((low, s) => (low === undefined || less(s, low) ? s : low), undefined);
}

export interface CreateTableOptions {
  /** @default 60_000 */
  timeoutMs?: number;
}

/**
 * Creates the table (on-demand billing, the kind index) and waits until it and its index are ACTIVE.
 * Does nothing but wait when the table exists already.
 */
export async function createTable(client: DynamoDBClient, tableName: string, options: CreateTableOptions = {}): Promise<void> {
  const { partitionKey: pk, sortKey: sk, kindIndex } = TABLE_KEYS;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [pk, sk, kindIndex.partitionKey, kindIndex.sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: pk, KeyType: 'HASH' },
          { AttributeName: sk, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: kindIndex.indexName,
            KeySchema: [
              { AttributeName: kindIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: kindIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let delay = 20; ; delay = Math.min(delay * 2, 1000)) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE after ${options.timeoutMs ?? 60_000} ms (status ${Table?.TableStatus})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
