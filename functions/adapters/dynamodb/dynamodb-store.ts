/**
 * The Store on one DynamoDB table (layout in table.ts). Semantics come from BaseStore; this file maps its
 * primitives onto single-item conditional writes, never TransactWriteItems, so that DynamoDB, moto and
 * dynalite (which has no transactions) behave the same.
 *
 * Names are unique per kind and namespace, but objects live in their cluster's partition, and
 * `GET .../machines/foo` does not say the cluster. A small immutable "name claim" item per object,
 * `{ns}/{Kind}/{name}` -> (objectPk, uid, claimedAt), both finds an object's partition with a strongly
 * consistent read and keeps the name unique across clusters:
 *
 *   create: 1. put claim  if absent          2. put object if absent    3. re-read claim: still ours?
 *   delete: 1. delete object if version      2. delete claim if uid
 *
 * The object item is the truth; a claim without its object (same uid) is an "orphan", and readers treat the
 * name as free. The crash windows:
 * - create dies after 1, before 2: an orphan claim, no object. Nothing is lost or visible. A later create
 *   of the name takes the claim over (conditional on the orphan's uid) once the claim is older than
 *   `claimGraceSeconds`; a younger one may belong to a create still in flight, so it gets AlreadyExists.
 * - delete dies after 1, before 2: an orphan claim whose claimedAt is the old object's creation, usually
 *   long past, so a new create takes it over at once.
 * - a create stalled longer than the grace (its claim taken over meanwhile) finds in step 3 that the claim
 *   is no longer its own, removes the object it wrote and reports AlreadyExists: never two objects.
 * - only if such a stalled create also dies between its steps 2 and 3 does an unclaimed object remain. get
 *   ignores it (its uid is not the claim's); a create of that name in its cluster removes it (step 2); in
 *   another cluster it stays visible to listCluster until deleted. That takes a stall longer than the grace
 *   and a crash within one request's time, together.
 * Updates never touch the claim: the partition of an object cannot change (BaseStore refuses).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { ApiObject } from '../../api/kind.js';
import { EventKind, eventExpiresAt, type Event } from '../../api/event.js';
import type { StoredKindName } from '../../api/kinds.js';
import { AlreadyExistsError, StoreError, StoreUnavailableError, type ObjectKey, type UsageRecord } from '../../ports.js';
import {
  BaseStore,
  clusterNameOf,
  keyOf,
  namespaceOf,
  type BaseStoreOptions,
  type KindPage,
  type LeaseRecord,
  type ListPosition,
  type WriteOutcome,
} from '../store/base-store.js';
import { TABLE_KEYS, claimKey, kindIndexSortKey, leaseSortKey, objectSortKey, partitionKey, usageCounterAttribute, usagePartition } from './table.js';

type Item = Record<string, AttributeValue>;

/**
 * Events (events.k8s.io) always live in their namespace's partition, so their item is found from the key alone: no
 * name claim is written for them (one write per event, not two), and their item carries the table's TTL.
 */
const isEvent = (kind: string) => kind === EventKind.kind;

export interface DynamoDbStoreOptions extends BaseStoreOptions {
  /** A client that retries throttling inside the SDK (aws/clients.ts: createDynamoDbClient). */
  client: DynamoDBClient;
  tableName: string;
  /**
   * Items per Query page; DynamoDB's own limit is 1 MB per page whatever this says. Tests set it low so
   * that pagination is exercised with few objects.
   * @default - no item limit, pages of 1 MB
   */
  pageLimit?: number;
  /**
   * How old a claim without its object must be before a create may take the name over (see the file
   * comment). Longer than any create takes between its first and second write.
   * @default 30
   */
  claimGraceSeconds?: number;
}

/** Error names the SDK retries as throttling and that we report as StoreUnavailableError once it gives up. */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/** Turns what the SDK throws after its own retries into the Store's errors. */
export function toStoreError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (THROTTLING.has(e.name) || (status !== undefined && status >= 500))
    return new StoreUnavailableError(`DynamoDB refused the request: ${e.name}: ${e.message}`, { cause: e });
  return e;
}

export class DynamoDbStore extends BaseStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly pageLimit: number | undefined;
  private readonly claimGraceMs: number;

  constructor(options: DynamoDbStoreOptions) {
    super(options);
    this.client = options.client;
    this.tableName = options.tableName;
    this.pageLimit = options.pageLimit;
    this.claimGraceMs = (options.claimGraceSeconds ?? 30) * 1000;
  }

  // --- objects ------------------------------------------------------------------------------------------

  protected async getObject(key: ObjectKey, hint?: ApiObject): Promise<ApiObject | undefined> {
    const sk = objectSortKey(key.kind, key.name);
    if (isEvent(key.kind)) {
      const item = await this.getItem(partitionKey(key.namespace, undefined), sk);
      return item && parseObject(item);
    }
    let tried: string | undefined;
    if (hint) {
      // Writers pass the object they hold; its cluster is almost always right, which saves the claim read.
      tried = partitionKey(key.namespace, clusterNameOf(hint));
      const item = await this.getItem(tried, sk);
      if (item) return parseObject(item);
    }
    const claim = await this.getItem(claimKey(key).pk, claimKey(key).sk);
    if (!claim) return undefined;
    const objectPk = str(claim, 'objectPk');
    if (objectPk === tried) return undefined;
    const item = await this.getItem(objectPk, sk);
    // An object that is not the claim's is the leftover of a create that lost its claim: not there.
    return item && str(item, 'uid') === str(claim, 'uid') ? parseObject(item) : undefined;
  }

  protected async putIfAbsent(obj: ApiObject): Promise<void> {
    const key = keyOf(obj);
    if (isEvent(key.kind)) {
      if (!(await this.conditionalPut(this.objectItem(obj), 'attribute_not_exists(pk)', {})).ok) throw new AlreadyExistsError(key);
      return;
    }
    const uid = obj.metadata.uid ?? '';
    const objectPk = partitionKey(key.namespace, clusterNameOf(obj));
    const claim = { ...claimKey(key) };
    const claimItem: Item = { pk: s(claim.pk), sk: s(claim.sk), objectPk: s(objectPk), uid: s(uid), claimedAt: n(this.clock.now().getTime()) };

    // 1. Claim the name, or take over an orphaned claim.
    for (let attempt = 0; ; attempt++) {
      const taken = await this.conditionalPut(claimItem, 'attribute_not_exists(pk)', {});
      if (taken.ok) break;
      const old = taken.item ?? (await this.getItem(claim.pk, claim.sk));
      if (!old) {
        if (attempt < 5) continue; // released meanwhile: claim again
        throw new AlreadyExistsError(key);
      }
      const existing = await this.getItem(str(old, 'objectPk'), objectSortKey(key.kind, key.name));
      if (existing && str(existing, 'uid') === str(old, 'uid')) throw new AlreadyExistsError(key);
      // No object behind the claim: a crashed create or delete, or a create in flight if the claim is young.
      if (this.clock.now().getTime() - Number(old.claimedAt?.N ?? 0) < this.claimGraceMs) throw new AlreadyExistsError(key);
      const takeover = await this.conditionalPut(claimItem, 'uid = :old', { ':old': s(str(old, 'uid')) });
      if (takeover.ok) break;
      throw new AlreadyExistsError(key);
    }

    // 2. The object. If an item is there and the claim is still ours, that item is unclaimed: the leftover
    // of a create that lost its claim, removed (that create, if alive, fails its step 3) before trying again.
    const objectKey = { pk: s(objectPk), sk: s(objectSortKey(key.kind, key.name)) };
    for (let attempt = 0; ; attempt++) {
      const put = await this.conditionalPut(this.objectItem(obj), 'attribute_not_exists(pk)', {});
      if (put.ok) break;
      const leftover = put.item ?? (await this.getItem(objectPk, objectSortKey(key.kind, key.name)));
      const ours = await this.getItem(claim.pk, claim.sk);
      if (attempt < 2 && leftover && ours && str(ours, 'uid') === uid && str(leftover, 'uid') !== uid) {
        await this.conditionalDelete(objectKey, 'uid = :uid', { ':uid': s(str(leftover, 'uid')) });
        continue;
      }
      await this.conditionalDelete({ pk: s(claim.pk), sk: s(claim.sk) }, 'uid = :uid', { ':uid': s(uid) });
      throw new AlreadyExistsError(key);
    }

    // 3. Still our claim? If a takeover happened while we stalled, the other create owns the name.
    const now = await this.getItem(claim.pk, claim.sk);
    if (!now || str(now, 'uid') !== uid) {
      await this.conditionalDelete(objectKey, 'uid = :uid', { ':uid': s(uid) });
      throw new AlreadyExistsError(key);
    }
  }

  protected async putIfVersion(next: ApiObject, current: ApiObject): Promise<WriteOutcome> {
    const put = await this.conditionalPut(this.objectItem(next), 'rv = :rv', { ':rv': s(current.metadata.resourceVersion ?? '') });
    return put.ok ? { ok: true } : { ok: false, current: await this.lostTo(current, put.item) };
  }

  protected async deleteIfVersion(current: ApiObject): Promise<WriteOutcome> {
    const key = keyOf(current);
    const objectPk = partitionKey(key.namespace, clusterNameOf(current));
    const del = await this.conditionalDelete({ pk: s(objectPk), sk: s(objectSortKey(key.kind, key.name)) }, 'rv = :rv', {
      ':rv': s(current.metadata.resourceVersion ?? ''),
    });
    if (!del.ok) return { ok: false, current: await this.lostTo(current, del.item) };
    if (isEvent(key.kind)) return { ok: true };
    // Release the name; if this fails or never happens the claim is an orphan that the next create takes over.
    const claim = claimKey(key);
    await this.conditionalDelete({ pk: s(claim.pk), sk: s(claim.sk) }, 'uid = :uid', { ':uid': s(current.metadata.uid ?? '') });
    return { ok: true };
  }

  protected async queryCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': s(partitionKey(namespace, clusterName)) },
      ConsistentRead: true,
    });
    return items.filter((i) => i.obj !== undefined).map(parseObject);
  }

  protected async queryKindPage(
    kind: StoredKindName,
    namespace: string | undefined,
    after: ListPosition | undefined,
    limit: number | undefined,
  ): Promise<KindPage> {
    const { indexName, partitionKey: ipk, sortKey: isk } = TABLE_KEYS.kindIndex;
    // A page resumes with a condition on the index's sort key `{ns}#{name}`, not with ExclusiveStartKey: a
    // continue token then holds no table key, and the object it stopped at may be gone. '#' sorts below every
    // character of a name and '~' above, so `{after}#` is the first key past `after` and `{ns}#~` past the
    // namespace's last.
    const values: Record<string, AttributeValue> = { ':kind': s(kind) };
    let condition = '#ipk = :kind';
    if (namespace !== undefined && after) {
      condition += ' AND #isk BETWEEN :from AND :to';
      values[':from'] = s(`${kindIndexSortKey(after.namespace, after.name)}#`);
      values[':to'] = s(kindIndexSortKey(namespace, '~'));
    } else if (namespace !== undefined) {
      condition += ' AND begins_with(#isk, :prefix)';
      values[':prefix'] = s(kindIndexSortKey(namespace, ''));
    } else if (after) {
      condition += ' AND #isk > :after';
      values[':after'] = s(kindIndexSortKey(after.namespace, after.name));
    }
    // Index reads are eventually consistent on DynamoDB (GSIs allow no ConsistentRead), like a Kubernetes
    // list served from the watch cache; reconcilers read their cluster with listCluster, which is consistent.
    const input: Omit<QueryCommandInput, 'TableName'> = {
      IndexName: indexName,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: condition.includes('#isk') ? { '#ipk': ipk, '#isk': isk } : { '#ipk': ipk },
      ExpressionAttributeValues: values,
    };
    const want = Math.min(limit ?? Infinity, this.pageLimit ?? Infinity);
    // One response (the caller decides whether to read on). Only a response that holds nothing and still has a
    // LastEvaluatedKey is followed, so that an empty read always means the end.
    let start: Item | undefined;
    for (;;) {
      const out = await this.query({ ...input, ...(Number.isFinite(want) ? { Limit: want } : {}), ...(start ? { ExclusiveStartKey: start } : {}) });
      start = out.LastEvaluatedKey;
      const items = out.Items ?? [];
      if (items.length > 0 || !start) return { objects: items.map(parseObject), more: start !== undefined };
    }
  }

  // --- leases -------------------------------------------------------------------------------------------

  protected async putLease(namespace: string, clusterName: string, lease: LeaseRecord, nowMs: number): Promise<boolean> {
    const put = await this.conditionalPut(
      { pk: s(partitionKey(namespace, clusterName)), sk: s(leaseSortKey(lease.name)), holder: s(lease.holder), expiresAt: n(lease.expiresAtMs) },
      'attribute_not_exists(pk) OR expiresAt <= :now OR holder = :holder',
      { ':now': n(nowMs), ':holder': s(lease.holder) },
    );
    return put.ok;
  }

  protected async deleteLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    await this.conditionalDelete({ pk: s(partitionKey(namespace, clusterName)), sk: s(leaseSortKey(name)) }, 'holder = :holder', {
      ':holder': s(holder),
    });
  }

  // --- usage -------------------------------------------------------------------------------------------

  /** One UpdateItem: ADD of every counter, `since` set by the first add; the item expires about 13 months after its period. */
  protected async addUsageCounters(
    namespace: string,
    clusterName: string,
    period: string,
    counters: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<void> {
    // Every attribute by a name placeholder: several of these words are DynamoDB reserved words.
    const names: Record<string, string> = { '#ttl': TABLE_KEYS.timeToLiveAttribute, '#ns': 'ns', '#cluster': 'cluster', '#since': 'since' };
    const values: Item = { ':ns': s(namespace), ':cluster': s(clusterName), ':now': n(nowMs), ':ttl': n(usageExpiry(period)) };
    const adds = Object.entries(counters).map(([name, value], i) => {
      names[`#c${i}`] = usageCounterAttribute(name);
      values[`:c${i}`] = { N: decimal(value) };
      return `#c${i} :c${i}`;
    });
    await this.send(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(usagePartition(period)), sk: s(`${namespace}#${clusterName}`) },
          UpdateExpression: `SET #ns = :ns, #cluster = :cluster, #since = if_not_exists(#since, :now), #ttl = :ttl${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  protected async queryUsage(period: string, namespace: string | undefined): Promise<UsageRecord[]> {
    const items = await this.queryAll({
      KeyConditionExpression: namespace === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': s(usagePartition(period)), ...(namespace === undefined ? {} : { ':prefix': s(`${namespace}#`) }) },
      ConsistentRead: true,
    });
    const prefix = usageCounterAttribute('');
    return items.map((item) => ({
      namespace: str(item, 'ns'),
      clusterName: str(item, 'cluster'),
      period,
      since: new Date(Number(item['since']?.N ?? 0)).toISOString(),
      counters: Object.fromEntries(
        Object.entries(item)
          .filter(([k, v]) => k.startsWith(prefix) && v.N !== undefined)
          .map(([k, v]) => [k.slice(prefix.length), Number(v.N)]),
      ),
    }));
  }

  // --- DynamoDB calls -----------------------------------------------------------------------------------

  private objectItem(obj: ApiObject): Item {
    const ns = namespaceOf(obj);
    const { partitionKey: pk, sortKey: sk, kindIndex } = TABLE_KEYS;
    return {
      [pk]: s(partitionKey(ns, clusterNameOf(obj))),
      [sk]: s(objectSortKey(obj.kind, obj.metadata.name)),
      [kindIndex.partitionKey]: s(obj.kind),
      [kindIndex.sortKey]: s(kindIndexSortKey(ns, obj.metadata.name)),
      rv: s(obj.metadata.resourceVersion ?? ''),
      uid: s(obj.metadata.uid ?? ''),
      obj: s(JSON.stringify(obj)),
      ...(isEvent(obj.kind) ? { [TABLE_KEYS.timeToLiveAttribute]: n(Math.ceil(eventExpiresAt(obj as Event).getTime() / 1000)) } : {}),
    };
  }

  /** The object a conditional write lost to: from ALL_OLD when the service returned it, else a fresh read. */
  private async lostTo(current: ApiObject, old: Item | undefined): Promise<ApiObject | undefined> {
    if (old) return parseObject(old);
    const key = keyOf(current);
    const item = await this.getItem(partitionKey(key.namespace, clusterNameOf(current)), objectSortKey(key.kind, key.name));
    return item && parseObject(item);
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.send(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: s(pk), sk: s(sk) }, ConsistentRead: true })));
    return out.Item;
  }

  private async conditionalPut(item: Item, condition: string, values: Item): Promise<{ ok: boolean; item?: Item }> {
    return this.conditional(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  private async conditionalDelete(key: Item, condition: string, values: Item): Promise<{ ok: boolean; item?: Item }> {
    return this.conditional(() =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  /** Runs a conditional write; a failed condition is an answer, not an error. */
  private async conditional(call: () => Promise<unknown>): Promise<{ ok: boolean; item?: Item }> {
    try {
      await this.send(call);
      return { ok: true };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return e.Item ? { ok: false, item: e.Item } : { ok: false };
      throw e;
    }
  }

  /** Every item the query matches, following LastEvaluatedKey (pages of `pageLimit` items, or 1 MB). */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.query({ ...input, ...(this.pageLimit ? { Limit: this.pageLimit } : {}), ...(start ? { ExclusiveStartKey: start } : {}) });
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>) {
    return this.send(() => this.client.send(new QueryCommand({ ...input, TableName: this.tableName })));
  }

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw toStoreError(e);
    }
  }
}

function s(value: string): AttributeValue {
  return { S: value };
}

function n(value: number): AttributeValue {
  return { N: String(value) };
}

function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new StoreError(`item ${item.pk?.S}/${item.sk?.S} has no string attribute ${name}`);
  return v;
}

function parseObject(item: Item): ApiObject {
  return JSON.parse(str(item, 'obj')) as ApiObject;
}

/** A number in plain decimal notation (never `1e-7`), rounded to 15 places: what an ADD of a usage counter sends. */
export function decimal(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(15).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '' || fixed === '-0' ? '0' : fixed;
}

/** A usage record's expiry (epoch seconds): 400 days after its period ends, so a year of months can be compared. */
function usageExpiry(period: string): number {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return Date.UTC(year, month, 1) / 1000 + 400 * 24 * 3600;
}
