/**
 * A data folder that was once loose (0777, or an older version's) may hold what another user put there. The host
 * follows no link in it and trusts no entry of another user: such an entry is refused at start, naming it, and
 * nothing is read, tightened or written through it. The files the host writes itself (the clock, the simulated
 * cloud) are made anew at every save, so that neither the mode of a leftover nor the target of a link is inherited.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonFileSimPersistence, type SimSnapshot } from '../../functions/adapters/sim/index.js';
import { startEmbeddedHost } from '../../local/embedded-host.js';
import { ownEntry } from '../../local/data-dir.js';
import { scaledClock } from '../../local/scaled-clock.js';

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A file outside the data folder that a planted link points at: it must come out as it went in. */
function victim(): { path: string; unchanged: () => void } {
  const path = join(tempDir('clusterless-victim-'), 'victim');
  writeFileSync(path, "not the host's\n", { mode: 0o644 });
  chmodSync(path, 0o644);
  return {
    path,
    unchanged: () => {
      expect(readFileSync(path, 'utf8')).toBe("not the host's\n");
      expect(statSync(path).mode & 0o777).toBe(0o644);
    },
  };
}

/** The snapshot of an empty simulated cloud, as SimCloud saves it. */
const emptySnapshot = { instances: [], nodes: [], counter: 0 } as unknown as SimSnapshot;

describe('a data folder once readable by others', () => {
  it.each([
    'clock.json.tmp',
    'clock.json',
    'controller-token',
    'client-token',
    'sim-cloud.json',
    'sim-cloud.json.4242.tmp',
    'dynamodb',
    'dynamodb/CURRENT',
    'store',
    'store/store.sqlite',
  ])('refuses a symbolic link planted at %s, naming it, and changes nothing through it', async (name) => {
    // Prepare
    const dir = tempDir('clusterless-planted-');
    chmodSync(dir, 0o777);
    const target = victim();
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    symlinkSync(target.path, join(dir, name));
    // Act
    const started = startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40 });
    // Assess
    await expect(started).rejects.toThrow(`the data folder holds ${join(dir, name)}, a symbolic link`);
    target.unchanged();
    expect(lstatSync(join(dir, name)).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, 'controller-token')) && !lstatSync(join(dir, 'controller-token')).isSymbolicLink()).toBe(false);
  });

  // No one but root can make a file of another user, so the host's uid is the one pretended here: a file of this
  // test's is another user's to a host of any other uid. The check is the one preparePrivateDataDir makes of every
  // entry before it reads, tightens or writes it (the symbolic-link cases above go through the same check).
  it('refuses an entry that belongs to another user, naming it, and leaves it as it is', async () => {
    // Prepare
    const dir = tempDir('clusterless-foreign-');
    const planted = join(dir, 'clock.json');
    writeFileSync(planted, JSON.stringify({ now: 0 }));
    chmodSync(planted, 0o666);
    const owner = statSync(planted).uid;
    // Act
    const checked = ownEntry(planted, owner + 1);
    // Assess
    await expect(checked).rejects.toThrow(`the data folder holds ${planted}, which belongs to another user (uid ${owner})`);
    expect(statSync(planted).mode & 0o777).toBe(0o666);
    expect(readFileSync(planted, 'utf8')).toBe(JSON.stringify({ now: 0 }));
    await expect(ownEntry(planted, owner)).resolves.toMatchObject({ uid: owner });
  });

  it("tightens the simulated cloud's temporary files that a crash left behind, saying so", async () => {
    // Prepare
    const dir = tempDir('clusterless-leftover-');
    const leftover = join(dir, 'sim-cloud.json.4242.tmp');
    writeFileSync(leftover, '{}', { mode: 0o644 });
    chmodSync(leftover, 0o644);
    const lines: string[] = [];
    // Act
    const host = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40, log: (l) => lines.push(l) });
    await host.close();
    // Assess
    expect(statSync(leftover).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toContain(`${leftover} 0644 -> 0600`);
  });
});

describe('the files the host saves are made anew', () => {
  it('the simulated cloud writes its temporary file 0600, whatever a leftover of the same process id had, and follows no link there', () => {
    // Prepare: a leftover of an earlier process that had this process's id, readable by all
    const dir = tempDir('clusterless-sim-save-');
    const path = join(dir, 'sim-cloud.json');
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, 'leftover', { mode: 0o644 });
    chmodSync(tmp, 0o644);
    // Act
    new JsonFileSimPersistence(path).save(emptySnapshot);
    // Assess
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(emptySnapshot);
    // And a link at the temporary name is replaced, not written through.
    const target = victim();
    symlinkSync(target.path, tmp);
    new JsonFileSimPersistence(path).save(emptySnapshot);
    target.unchanged();
    expect(lstatSync(path).isFile()).toBe(true);
  });

  it('the clock writes its temporary file 0600 and follows no link there', () => {
    // Prepare
    const dir = tempDir('clusterless-clock-save-');
    const stateFile = join(dir, 'clock.json');
    const target = victim();
    symlinkSync(target.path, `${stateFile}.tmp`);
    const clock = scaledClock({ stateFile, realNow: () => 1_000 });
    // Act
    clock.persist();
    // Assess
    target.unchanged();
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({ now: 1_000 });
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  });
});
