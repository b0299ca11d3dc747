/**
 * DynamoDB's capacity arithmetic (on-demand request units) and the sizes of the store's items, laid out as
 * adapters/dynamodb/table.ts and dynamodb-store.ts write them.
 *
 * From the DynamoDB developer guide (read/write capacity, item sizes):
 * - a write consumes 1 WRU per 1 KB of the item (rounded up), a failed conditional write too;
 * - a strongly consistent read of an item consumes 1 RRU per 4 KB (rounded up), an eventually consistent
 *   read half of that;
 * - a Query consumes units for the total size of the items it returns per 1 MB page, rounded up to 4 KB
 *   (so 14 small items cost what one 4 KB item costs), at least one unit;
 * - an item's size is the UTF-8 length of its attribute names plus the sizes of their values; a number takes
 *   about one byte per two significant digits, plus one.
 * - a write to an item with the index keys also writes the global secondary index entry (projection ALL).
 */
import type { ApiObject } from '../api/kind.js';
import { kindByName } from '../api/kinds.js';

export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;
export const QUERY_PAGE_BYTES = 1024 * 1024;

export function writeUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
}

export function readUnits(itemBytes: number, consistent: boolean): number {
  return Math.max(1, Math.ceil(itemBytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);
}

/** Read units and requests (1 MB pages) of a paginated Query returning items of these sizes. */
export function queryCost(itemBytes: readonly number[], consistent: boolean): { readUnits: number; pages: number } {
  let units = 0;
  let page = 0;
  let pages = 0;
  for (const b of itemBytes) {
    if (page > 0 && page + b > QUERY_PAGE_BYTES) {
      units += Math.ceil(page / READ_UNIT_BYTES);
      pages++;
      page = 0;
    }
    page += b;
  }
  if (page > 0 || pages === 0) {
    units += Math.max(1, Math.ceil(page / READ_UNIT_BYTES));
    pages++;
  }
  return { readUnits: units * (consistent ? 1 : 0.5), pages };
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** DynamoDB's size of a number: (significant digits + 1) / 2, plus one byte. */
const numberBytes = (n: number) => Math.ceil((String(Math.abs(Math.trunc(n))).replace(/0+$/, '').length + 1) / 2) + 1;

/**
 * Bytes of an object's item: pk, sk, gsi1pk, gsi1sk, rv, uid and obj (its JSON), as DynamoDbStore.objectItem
 * writes them. `json` may be passed when the caller has it already.
 */
export function objectItemBytes(obj: ApiObject, json: string = JSON.stringify(obj)): number {
  const ns = obj.metadata.namespace || 'default';
  const pk = objectPartitionKey(obj);
  return (
    2 +
    utf8(pk) +
    2 +
    utf8(obj.kind) +
    1 +
    utf8(obj.metadata.name) +
    6 +
    utf8(obj.kind) +
    6 +
    utf8(ns) +
    1 +
    utf8(obj.metadata.name) +
    2 +
    utf8(obj.metadata.resourceVersion ?? '') +
    3 +
    utf8(obj.metadata.uid ?? '') +
    3 +
    utf8(json)
  );
}

/**
 * Bytes of a name claim: pk `{ns}/{Kind}/{name}`, sk `claim`, objectPk, uid, claimedAt. The object's
 * partition is not known to a reader by name: a cluster name as long as the object's name stands in for it.
 */
export function claimItemBytes(kind: string, namespace: string, name: string, objectPk = `${namespace}#${name}`): number {
  return 2 + utf8(`${namespace}/${kind}/${name}`) + 2 + 5 + 8 + utf8(objectPk) + 3 + 36 + 9 + numberBytes(Date.UTC(2026, 0));
}

/** The partition key of an object's item (`{ns}#{cluster}`, or `{ns}` for namespace-level kinds). */
export function objectPartitionKey(obj: ApiObject): string {
  const ns = obj.metadata.namespace || 'default';
  const cluster = kindByName(obj.kind)?.clusterNameOf(obj as never);
  return cluster === undefined ? ns : `${ns}#${cluster}`;
}

/**
 * Bytes of a cluster's usage record (adapters/dynamodb/table.ts): pk `usage/{YYYY-MM}`, sk `{ns}#{cluster}`, ns,
 * cluster, since, ttl, and a `c_{name}` number per counter (counted as 20 digits, more than a sum here reaches).
 */
export function usageItemBytes(namespace: string, clusterName: string, counterNames: readonly string[]): number {
  const n = numberBytes(Date.UTC(2026, 0));
  let bytes = 2 + 13 + 2 + utf8(`${namespace}#${clusterName}`) + 2 + utf8(namespace) + 7 + utf8(clusterName) + 5 + n + 3 + n;
  for (const name of counterNames) bytes += 2 + utf8(name) + 12;
  return bytes;
}

/** Bytes of a lease: pk `{ns}#{cluster}`, sk `lease#{name}`, holder, expiresAt. */
export function leaseItemBytes(namespace: string, clusterName: string, name: string, holder: string): number {
  return 2 + utf8(`${namespace}#${clusterName}`) + 2 + 6 + utf8(name) + 6 + utf8(holder) + 9 + numberBytes(Date.UTC(2026, 0));
}
