/**
 * A Store that tells the meter which DynamoDB requests each call costs, whatever store is underneath (the
 * memory store in benchmarks, DynamoDB in the embedded host). It models what DynamoDbStore
 * (adapters/dynamodb/dynamodb-store.ts) sends for each call:
 *
 * | call                 | requests                                                                         |
 * |----------------------|----------------------------------------------------------------------------------|
 * | create               | PutItem claim, PutItem object (+ index entry), GetItem claim                     |
 * | get                  | GetItem claim, GetItem object (when the claim exists)                            |
 * | update, updateStatus | GetItem object (its cluster is known), PutItem object (+ index entry); when the  |
 * |                      | last finalizer of a deleting object goes: DeleteItem object (+ index), claim     |
 * | delete               | GetItem claim, GetItem object, then PutItem (deletionTimestamp) or DeleteItem    |
 * |                      | object and claim                                                                 |
 * | listCluster          | Query of the cluster's partition, strongly consistent (objects and its lease),   |
 * |                      | one request per 1 MB page                                                        |
 * | list                 | Query of the kind index, eventually consistent, one request per 1 MB page        |
 * | listPage             | the same, one request per read the page made (each at most 1 MB), for every      |
 * |                      | object read: those the filter dropped and the one read past a full page too      |
 * | acquire/releaseLease | PutItem / DeleteItem lease                                                       |
 * | addUsage             | UpdateItem of the cluster's usage record (every counter ADDed in one request)    |
 * | listUsage            | Query of the period's usage partition, strongly consistent                       |
 *
 * Not seen from here: DynamoDbStore's own re-reads after a lost race inside one call (rare; a lost race the
 * caller sees is counted as the read it cost), and a delete of an object already deleting, which writes
 * nothing but is counted as a PutItem (an upper bound).
 */
import type { ApiObject } from '../api/kind.js';
import type { KindName } from '../api/kinds.js';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  type DeleteOptions,
  type DeleteResult,
  type Lease,
  type ListPage,
  type ListPageOptions,
  type Store,
  type UsageRecord,
} from '../ports.js';
import { claimItemBytes, leaseItemBytes, objectItemBytes, objectPartitionKey, queryCost, readUnits, usageItemBytes, writeUnits } from './dynamodb-units.js';
import type { CostMeter } from './meter.js';

const claimOf = (obj: ApiObject) => claimItemBytes(obj.kind, obj.metadata.namespace || 'default', obj.metadata.name, objectPartitionKey(obj));

/** A lease's holder as the hosts write it (a Lambda request id or a host uuid). */
const TYPICAL_HOLDER = '00000000-0000-0000-0000-000000000000';

export class MeteredStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly meter: CostMeter,
  ) {}

  private getItem(target: 'object' | 'claim', bytes: number): void {
    this.meter.recordDynamoDb('GetItem', target, { readUnits: readUnits(bytes, true) });
  }

  private writeObject(action: 'PutItem' | 'DeleteItem', obj: ApiObject): void {
    const units = writeUnits(objectItemBytes(obj));
    this.meter.recordDynamoDb(action, 'object', { writeUnits: units });
    // Every object item carries the kind index keys: the index entry is written with it.
    this.meter.recordDynamoDb(action, 'kind-index', { writeUnits: units });
  }

  private writeClaim(action: 'PutItem' | 'DeleteItem', obj: ApiObject): void {
    this.meter.recordDynamoDb(action, 'claim', { writeUnits: writeUnits(claimOf(obj)) });
  }

  /** The read that finds an object's current version before a write (with its cluster known, no claim read). */
  private readCurrent(obj: ApiObject | undefined): void {
    this.getItem('object', obj ? objectItemBytes(obj) : 0);
  }

  async create<T extends ApiObject>(obj: T): Promise<T> {
    try {
      const created = await this.inner.create(obj);
      this.writeClaim('PutItem', created);
      this.writeObject('PutItem', created);
      this.getItem('claim', claimOf(created));
      return created;
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        // The claim's conditional put fails (and is billed), then the claim and its object are read.
        this.writeClaim('PutItem', obj);
        this.getItem('claim', claimOf(obj));
        this.getItem('object', objectItemBytes(obj));
      }
      throw err;
    }
  }

  async get<T extends ApiObject = ApiObject>(kind: KindName, namespace: string, name: string): Promise<T | undefined> {
    const found = await this.inner.get<T>(kind, namespace, name);
    this.getItem('claim', claimItemBytes(kind, namespace, name));
    if (found) this.getItem('object', objectItemBytes(found));
    return found;
  }

  async update<T extends ApiObject>(obj: T): Promise<T> {
    return this.written(obj, () => this.inner.update(obj));
  }

  async updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    return this.written(obj, () => this.inner.updateStatus(obj));
  }

  private async written<T extends ApiObject>(obj: T, write: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (err) {
      if (err instanceof ConflictError) this.readCurrent(err.current ?? obj);
      else if (err instanceof NotFoundError) {
        this.readCurrent(undefined);
        this.getItem('claim', 0);
      }
      throw err;
    }
    this.readCurrent(result);
    if (result.metadata.deletionTimestamp && !result.metadata.finalizers?.length) {
      this.writeObject('DeleteItem', result);
      this.writeClaim('DeleteItem', result);
    } else this.writeObject('PutItem', result);
    return result;
  }

  async delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    let result: DeleteResult;
    try {
      result = await this.inner.delete(kind, namespace, name, options);
    } catch (err) {
      this.getItem('claim', 0);
      if (err instanceof ConflictError) this.readCurrent(err.current);
      throw err;
    }
    this.getItem('claim', claimOf(result.object));
    this.readCurrent(result.object);
    if (result.removed) {
      this.writeObject('DeleteItem', result.object);
      this.writeClaim('DeleteItem', result.object);
    } else this.writeObject('PutItem', result.object);
    return result;
  }

  async listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    const objects = await this.inner.listCluster(namespace, clusterName);
    // The partition also holds the reconcile lease, which the reconciler holds while it reads.
    const sizes = [...objects.map((o) => objectItemBytes(o)), leaseItemBytes(namespace, clusterName, 'reconcile', TYPICAL_HOLDER)];
    const { readUnits: units, pages } = queryCost(sizes, true);
    this.meter.recordDynamoDb('Query', 'partition', { readUnits: units }, pages);
    return objects;
  }

  async list<T extends ApiObject = ApiObject>(kind: KindName, namespace?: string): Promise<T[]> {
    const objects = await this.inner.list<T>(kind, namespace);
    const { readUnits: units, pages } = queryCost(
      objects.map((o) => objectItemBytes(o)),
      false,
    );
    this.meter.recordDynamoDb('Query', 'kind-index', { readUnits: units }, pages);
    return objects;
  }

  /** One Query per read of the store, for everything it read; counted as it happens, so a page that fails is too. */
  async listPage<T extends ApiObject = ApiObject>(kind: KindName, namespace: string | undefined, options: ListPageOptions): Promise<ListPage<T>> {
    return this.inner.listPage<T>(kind, namespace, {
      ...options,
      onRead: (objects) => {
        options.onRead?.(objects);
        const bytes = objects.reduce((sum, o) => sum + objectItemBytes(o), 0);
        this.meter.recordDynamoDb('Query', 'kind-index', { readUnits: readUnits(bytes, false) }, 1);
      },
    });
  }

  async acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined> {
    const lease = await this.inner.acquireLease(namespace, clusterName, name, holder, ttlSeconds);
    // Billed whether the conditional put succeeds or not.
    this.meter.recordDynamoDb('PutItem', 'lease', { writeUnits: writeUnits(leaseItemBytes(namespace, clusterName, name, holder)) });
    return lease;
  }

  async releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    await this.inner.releaseLease(namespace, clusterName, name, holder);
    this.meter.recordDynamoDb('DeleteItem', 'lease', { writeUnits: writeUnits(leaseItemBytes(namespace, clusterName, name, holder)) });
  }

  async addUsage(namespace: string, clusterName: string, period: string, counters: Readonly<Record<string, number>>): Promise<void> {
    await this.inner.addUsage(namespace, clusterName, period, counters);
    this.meter.recordDynamoDb('UpdateItem', 'usage', { writeUnits: writeUnits(usageItemBytes(namespace, clusterName, Object.keys(counters))) });
  }

  async listUsage(period: string, namespace?: string): Promise<UsageRecord[]> {
    const records = await this.inner.listUsage(period, namespace);
    const { readUnits: units, pages } = queryCost(
      records.map((r) => usageItemBytes(r.namespace, r.clusterName, Object.keys(r.counters))),
      true,
    );
    this.meter.recordDynamoDb('Query', 'usage', { readUnits: units }, pages);
    return records;
  }
}
