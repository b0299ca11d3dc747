/**
 * The embedded host's SQLite store keeps the data folder's rules: its files are 0600 whatever the umask, one
 * host holds the file (another opener, in this process or another, is refused before it writes), what was
 * written is there after a reopen, and the installation id is claimed once. A folder an earlier version filled
 * (dynalite's `dynamodb/`) keeps its store, so an upgrade loses no state.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreInUseError } from '../../../local/embedded-dynamodb.js';
import { SQLITE_FILE, openEmbeddedSqliteStore } from '../../../local/embedded-sqlite.js';
import { startEmbeddedHost } from '../../../local/embedded-host.js';
import { cluster } from '../../support/store-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'clusterless-sqlite-'));
  dirs.push(dir);
  return dir;
}

describe('the embedded SQLite store', () => {
  it('makes its files 0600 even under a permissive umask', async () => {
    // Prepare
    const dir = join(await tempDir(), 'store');
    const umask = process.umask(0o022);
    try {
      // Act
      const opened = await openEmbeddedSqliteStore(dir);
      await opened.store.create(cluster('c1'));
      // Assess
      for (const name of [SQLITE_FILE, `${SQLITE_FILE}-wal`].filter((n) => existsSync(join(dir, n))))
        expect(statSync(join(dir, name)).mode & 0o777, name).toBe(0o600);
      expect(statSync(join(dir, SQLITE_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      opened.close();
    } finally {
      process.umask(umask);
    }
  });

  it('refuses a second opener in this process while the first holds it, and keeps what was written across a reopen', async () => {
    // Prepare
    const dir = join(await tempDir(), 'store');
    const first = await openEmbeddedSqliteStore(dir);
    await first.store.create(cluster('kept'));
    // Act
    const second = openEmbeddedSqliteStore(dir);
    // Assess
    await expect(second).rejects.toBeInstanceOf(StoreInUseError);
    expect(await first.store.get('Cluster', 'default', 'kept')).toBeDefined();
    first.close();
    const reopened = await openEmbeddedSqliteStore(dir);
    try {
      expect((await reopened.store.get('Cluster', 'default', 'kept'))?.metadata.name).toBe('kept');
    } finally {
      reopened.close();
    }
  });

  it('refuses another process while a host holds the file', async () => {
    // Prepare
    const dir = join(await tempDir(), 'store');
    const held = await openEmbeddedSqliteStore(dir);
    const script = `import { openEmbeddedSqliteStore } from ${JSON.stringify(resolve('local/embedded-sqlite.ts'))};
      try { (await openEmbeddedSqliteStore(${JSON.stringify(dir)})).close(); console.log('opened'); } catch (e) { console.log(e.name); }`;
    try {
      // Act
      const { stdout } = await promisify(execFile)(resolve('node_modules/.bin/node'), [
        '--no-warnings',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ]);
      // Assess
      expect(stdout.trim()).toBe('StoreInUseError');
    } finally {
      held.close();
    }
  });

  it('claims the installation id once: later candidates get the first', async () => {
    const opened = await openEmbeddedSqliteStore(join(await tempDir(), 'store'));
    try {
      expect(opened.claimInstallationId('first-installation')).toBe('first-installation');
      expect(opened.claimInstallationId('second-installation')).toBe('first-installation');
      expect(() => opened.claimInstallationId('no')).toThrow(RangeError);
    } finally {
      opened.close();
    }
  });
});

describe('the embedded host', () => {
  it('keeps the dynalite store of a folder an earlier version filled, and starts a new folder on SQLite', async () => {
    // Prepare: a folder whose state is in dynalite, as an earlier version left it.
    const earlier = await tempDir();
    const before = await startEmbeddedHost({ port: 0, dataDir: earlier, sweepSeconds: 3600, store: 'dynalite' });
    await before.runtime.store.create(cluster('from-earlier'));
    const id = before.installationId;
    await before.close();
    const fresh = await tempDir();
    // Act
    const upgraded = await startEmbeddedHost({ port: 0, dataDir: earlier, sweepSeconds: 3600 });
    const created = await startEmbeddedHost({ port: 0, dataDir: fresh, sweepSeconds: 3600 });
    try {
      // Assess
      expect(await upgraded.runtime.store.get('Cluster', 'default', 'from-earlier')).toBeDefined();
      expect(upgraded.installationId).toBe(id);
      expect(existsSync(join(earlier, 'store'))).toBe(false);
      expect(existsSync(join(fresh, 'store', SQLITE_FILE))).toBe(true);
      expect(existsSync(join(fresh, 'dynamodb'))).toBe(false);
    } finally {
      await upgraded.close();
      await created.close();
    }
  });
});
