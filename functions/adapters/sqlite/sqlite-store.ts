/**
 * The Store in an SQLite database (node:sqlite, built into Node 22): the embedded host's store, one file in its
 * data folder. The semantics are BaseStore's; this file only keeps rows. node:sqlite is synchronous and each
 * primitive is one statement (or a read and a statement with no await between them), so every primitive is
 * atomic in this process; the host holds the file's lock, so no other process writes it (local/embedded-sqlite.ts).
 *
 * A row per object keyed (kind, namespace, name): names are unique per kind and namespace, whatever the cluster;
 * the cluster is a column with its own index, for listCluster. Lists run on the primary key, which SQLite
 * compares as bytes: the (namespace, name) order of JavaScript's string comparison for the ASCII names of
 * Kubernetes.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ApiObject } from '../../api/kind.js';
import type { StoredKindName } from '../../api/kinds.js';
import { AlreadyExistsError, type ObjectKey, type UsageRecord } from '../../ports.js';
import {
  BaseStore,
  clusterNameOf,
  keyOf,
  type BaseStoreOptions,
  type KindPage,
  type LeaseRecord,
  type ListPosition,
  type WriteOutcome,
} from '../store/base-store.js';

export interface SqliteStoreOptions extends BaseStoreOptions {
  /** An open database; the store creates its tables if they are missing and never closes it. */
  database: DatabaseSync;
}

/** What one read of a kind returns at most, as DynamoDB's Query (1 MB): paging and its metering behave as on the table. */
export const SQLITE_READ_BYTES = 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  cluster TEXT, resource_version TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_by_cluster ON objects (namespace, cluster);
CREATE TABLE IF NOT EXISTS leases (
  namespace TEXT NOT NULL, cluster TEXT NOT NULL, name TEXT NOT NULL, holder TEXT NOT NULL, expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (namespace, cluster, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage (
  period TEXT NOT NULL, namespace TEXT NOT NULL, cluster TEXT NOT NULL, counter TEXT NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (period, namespace, cluster, counter)
) WITHOUT ROWID;
`;

/** The counter row that holds when a usage record began (epoch ms): not a counter, so it takes a name no counter can have. */
const USAGE_SINCE = '#since';

type Row = { body: string };

export class SqliteStore extends BaseStore {
  private readonly db: DatabaseSync;
  private readonly s: Record<
    | 'get'
    | 'insert'
    | 'update'
    | 'delete'
    | 'cluster'
    | 'kindAll'
    | 'kindAllAfter'
    | 'kindNamespace'
    | 'kindNamespaceAfter'
    | 'lease'
    | 'putLease'
    | 'deleteLease'
    | 'addUsage'
    | 'usageSince'
    | 'usageAll'
    | 'usageNamespace',
    StatementSync
  >;

  constructor(options: SqliteStoreOptions) {
    super(options);
    const db = options.database;
    db.exec(SCHEMA);
    const page = (where: string) => db.prepare(`SELECT body FROM objects WHERE kind = ?${where} ORDER BY namespace, name`);
    this.s = {
      get: db.prepare('SELECT body FROM objects WHERE kind = ? AND namespace = ? AND name = ?'),
      insert: db.prepare('INSERT INTO objects (kind, namespace, name, cluster, resource_version, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      update: db.prepare('UPDATE objects SET body = ?, resource_version = ? WHERE kind = ? AND namespace = ? AND name = ? AND resource_version = ?'),
      delete: db.prepare('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ? AND resource_version = ?'),
      cluster: db.prepare('SELECT body FROM objects WHERE namespace = ? AND cluster = ?'),
      kindAll: page(''),
      kindAllAfter: page(' AND (namespace, name) > (?, ?)'),
      kindNamespace: page(' AND namespace = ?'),
      kindNamespaceAfter: page(' AND namespace = ? AND name > ?'),
      lease: db.prepare('SELECT holder, expires_at_ms FROM leases WHERE namespace = ? AND cluster = ? AND name = ?'),
      putLease: db.prepare(
        'INSERT INTO leases (namespace, cluster, name, holder, expires_at_ms) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (namespace, cluster, name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms ' +
          'WHERE leases.expires_at_ms <= ? OR leases.holder = excluded.holder',
      ),
      deleteLease: db.prepare('DELETE FROM leases WHERE namespace = ? AND cluster = ? AND name = ? AND holder = ?'),
      addUsage: db.prepare(
        'INSERT INTO usage (period, namespace, cluster, counter, value) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (period, namespace, cluster, counter) DO UPDATE SET value = usage.value + excluded.value',
      ),
      usageSince: db.prepare(`INSERT INTO usage (period, namespace, cluster, counter, value) VALUES (?, ?, ?, '${USAGE_SINCE}', ?) ON CONFLICT DO NOTHING`),
      usageAll: db.prepare('SELECT namespace, cluster, counter, value FROM usage WHERE period = ?'),
      usageNamespace: db.prepare('SELECT namespace, cluster, counter, value FROM usage WHERE period = ? AND namespace = ?'),
    };
    this.db = db;
  }

  private read(key: ObjectKey): ApiObject | undefined {
    const row = this.s.get.get(key.kind, key.namespace, key.name) as Row | undefined;
    return row && (JSON.parse(row.body) as ApiObject);
  }

  protected async getObject(key: ObjectKey): Promise<ApiObject | undefined> {
    return this.read(key);
  }

  protected async putIfAbsent(obj: ApiObject): Promise<void> {
    const key = keyOf(obj);
    const { changes } = this.s.insert.run(
      key.kind,
      key.namespace,
      key.name,
      clusterNameOf(obj) ?? null,
      obj.metadata.resourceVersion ?? '',
      JSON.stringify(obj),
    );
    if (changes === 0) throw new AlreadyExistsError(key);
  }

  protected async putIfVersion(next: ApiObject, current: ApiObject): Promise<WriteOutcome> {
    const key = keyOf(current);
    const { changes } = this.s.update.run(
      JSON.stringify(next),
      next.metadata.resourceVersion ?? '',
      key.kind,
      key.namespace,
      key.name,
      current.metadata.resourceVersion ?? '',
    );
    return changes === 1 ? { ok: true } : { ok: false, current: this.read(key) };
  }

  protected async deleteIfVersion(current: ApiObject): Promise<WriteOutcome> {
    const key = keyOf(current);
    const { changes } = this.s.delete.run(key.kind, key.namespace, key.name, current.metadata.resourceVersion ?? '');
    return changes === 1 ? { ok: true } : { ok: false, current: this.read(key) };
  }

  protected async queryCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
    return (this.s.cluster.all(namespace, clusterName) as Row[]).map((r) => JSON.parse(r.body) as ApiObject);
  }

  protected async queryKindPage(
    kind: StoredKindName,
    namespace: string | undefined,
    after: ListPosition | undefined,
    limit: number | undefined,
  ): Promise<KindPage> {
    let rows: Iterator<unknown>;
    if (namespace === undefined) rows = after ? this.s.kindAllAfter.iterate(kind, after.namespace, after.name) : this.s.kindAll.iterate(kind);
    // A place in another namespace: before this one, all of it follows; after it, nothing does.
    else if (after && after.namespace === namespace) rows = this.s.kindNamespaceAfter.iterate(kind, namespace, after.name);
    else if (after && after.namespace > namespace) return { objects: [], more: false };
    else rows = this.s.kindNamespace.iterate(kind, namespace);
    const objects: ApiObject[] = [];
    let bytes = 0;
    try {
      for (;;) {
        const next = rows.next();
        if (next.done) return { objects, more: false };
        if ((limit !== undefined && objects.length >= limit) || bytes >= SQLITE_READ_BYTES) return { objects, more: true };
        const { body } = next.value as Row;
        objects.push(JSON.parse(body) as ApiObject);
        bytes += Buffer.byteLength(body, 'utf8');
      }
    } finally {
      rows.return?.();
    }
  }

  protected async putLease(namespace: string, clusterName: string, lease: LeaseRecord, nowMs: number): Promise<boolean> {
    const { changes } = this.s.putLease.run(namespace, clusterName, lease.name, lease.holder, lease.expiresAtMs, nowMs);
    return changes === 1;
  }

  protected async deleteLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    this.s.deleteLease.run(namespace, clusterName, name, holder);
  }

  protected async addUsageCounters(
    namespace: string,
    clusterName: string,
    period: string,
    counters: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<void> {
    // One transaction: the counters of an add land together or not at all.
    this.db.exec('BEGIN');
    try {
      this.s.usageSince.run(period, namespace, clusterName, nowMs);
      for (const [name, value] of Object.entries(counters)) this.s.addUsage.run(period, namespace, clusterName, name, value);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  protected async queryUsage(period: string, namespace: string | undefined): Promise<UsageRecord[]> {
    const rows = (namespace === undefined ? this.s.usageAll.all(period) : this.s.usageNamespace.all(period, namespace)) as {
      namespace: string;
      cluster: string;
      counter: string;
      value: number;
    }[];
    const records = new Map<string, UsageRecord>();
    for (const r of rows) {
      const id = `${r.namespace}/${r.cluster}`;
      const record = records.get(id) ?? { namespace: r.namespace, clusterName: r.cluster, period, since: '', counters: {} };
      if (r.counter === USAGE_SINCE) record.since = new Date(r.value).toISOString();
      else record.counters[r.counter] = r.value;
      records.set(id, record);
    }
    return [...records.values()];
  }
}
