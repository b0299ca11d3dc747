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
import { AlreadyExistsError, type ObjectKey } from '../../ports.js';
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
`;

type Row = { body: string };

export class SqliteStore extends BaseStore {
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
    | 'deleteLease',
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
    };
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
}
