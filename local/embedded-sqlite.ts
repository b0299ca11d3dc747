/**
 * The embedded host's store as an SQLite file (node:sqlite, built into Node 22) in its data folder: the Store
 * semantics of functions/adapters/sqlite, in this process, with no server and no port at all, so nothing on the
 * machine but this process can reach it (the folder is 0700, the files 0600).
 *
 * One host per file: the database is opened in exclusive locking mode and the lock taken at once, so a second
 * host (another process, or another in this one) is refused with StoreInUseError before it writes anything.
 * Write-ahead log with synchronous=NORMAL: a crash of the process loses nothing committed; a power cut may lose
 * the last writes, as LevelDB under dynalite (which never syncs) could too.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SqliteStore } from '../functions/adapters/sqlite/index.js';
import { checkInstallationId } from '../functions/installation.js';
import { offeringKey, type UnavailableOffering } from '../functions/core/machine/offerings.js';
import type { Clock, UnavailableOfferings } from '../functions/ports.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './data-dir.js';
import { StoreInUseError } from './embedded-dynamodb.js';

/** The database file in the store's folder. */
export const SQLITE_FILE = 'store.sqlite';

export interface EmbeddedSqliteStore {
  store: SqliteStore;
  /** The offerings launches found without capacity, in a table of the same file (kept across restarts). */
  unavailableOfferings: UnavailableOfferings;
  /** Stores `candidate` as the installation id unless one is stored, and returns the stored one. */
  claimInstallationId(candidate: string): string;
  /** Closes the database (and so releases its lock): everything written is in the file. */
  close(): void;
}

/**
 * node:sqlite, without the one-time ExperimentalWarning Node 22 prints when the module is first loaded: the store
 * runs the Store contract like the others, and the warning on every `npm start` (and on stderr of `clusterless up`)
 * would read as a fault. Every other warning passes.
 */
async function loadSqlite(): Promise<typeof import('node:sqlite')> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (/^SQLite is an experimental feature/.test(message)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}

const isBusy = (err: unknown) => {
  const e = err as { errcode?: number; message?: string };
  // SQLITE_BUSY (5) and SQLITE_LOCKED (6), whatever the extended code.
  return ((e.errcode ?? 0) & 0xff) === 5 || ((e.errcode ?? 0) & 0xff) === 6 || /database is locked/.test(e.message ?? '');
};

/** Opens (or creates) the store in `dir`, holding its lock until close. */
export async function openEmbeddedSqliteStore(dir: string, options: { clock?: Clock } = {}): Promise<EmbeddedSqliteStore> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const path = join(dir, SQLITE_FILE);
  // Made 0600 before SQLite opens it; SQLite gives its -wal and -journal files the database file's mode.
  await (await open(path, 'a', PRIVATE_FILE_MODE)).close();
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    // Exclusive mode takes the lock at the first write and keeps it: write now, so a second host fails here.
    db.exec(
      'BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS installation (id TEXT NOT NULL); ' +
        'CREATE TABLE IF NOT EXISTS unavailable_offerings (offering TEXT PRIMARY KEY, mark TEXT NOT NULL, expires_at INTEGER NOT NULL); COMMIT;',
    );
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new StoreInUseError(dir, { cause: err });
    throw err;
  }
  const store = new SqliteStore({ database: db, ...(options.clock ? { clock: options.clock } : {}) });
  const unavailableOfferings: UnavailableOfferings = {
    list: async (now) =>
      (db.prepare('SELECT mark FROM unavailable_offerings WHERE expires_at > ?').all(now.getTime()) as { mark: string }[]).map(
        (row) => JSON.parse(row.mark) as UnavailableOffering,
      ),
    mark: async (offering) => {
      const { instanceType, availabilityZone, capacityType, expiresAt } = offering;
      // The later expiry stays, as DynamoDB's conditional put keeps it (adapters/dynamodb/unavailable-offerings.ts).
      db.prepare(
        'INSERT INTO unavailable_offerings (offering, mark, expires_at) VALUES (?, ?, ?) ' +
          'ON CONFLICT (offering) DO UPDATE SET mark = excluded.mark, expires_at = excluded.expires_at WHERE excluded.expires_at > expires_at',
      ).run(offeringKey(offering), JSON.stringify({ instanceType, availabilityZone, capacityType, expiresAt }), Date.parse(expiresAt));
    },
  };
  return {
    store,
    unavailableOfferings,
    claimInstallationId(candidate) {
      checkInstallationId(candidate);
      db.prepare('INSERT INTO installation (id) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM installation)').run(candidate);
      const row = db.prepare('SELECT id FROM installation').get() as { id: string };
      return checkInstallationId(row.id);
    },
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}
