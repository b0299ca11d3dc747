/**
 * The embedded host's data folder is private to the user who runs it: the folder 0700, every file the host
 * writes in it 0600. It holds the whole declared and observed state, the controller token and, with the AWS
 * provider, nothing less than what the clusters are made of; another account on the machine must read none of
 * it. Files are made private by the umask while a host runs (LevelDB creates files of its own at any time, with
 * no mode option), and those of earlier runs are tightened at start.
 */
import { constants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CLIENT_TOKEN_FILE, CONTROLLER_TOKEN_FILE } from './access.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The scaled clock's state (scaled-clock.ts) and the simulated cloud's (functions/adapters/sim/persistence.ts). */
export const CLOCK_FILE = 'clock.json';
export const SIM_CLOUD_FILE = 'sim-cloud.json';
export const DYNAMODB_DIR = 'dynamodb';
/** The embedded SQLite store (local/embedded-sqlite.ts): the store of a folder without a `dynamodb/` of an earlier version. */
export const STORE_DIR = 'store';
/** The process provider's state, and its machines' certificates, etcd data and logs (local/process). */
export const PROCESS_DIR = 'process';
/** The kubeadm bootstrap's secrets when no Secrets Manager is used (local/file-secret-store.ts). */
export const SECRETS_DIR = 'secrets';

/**
 * The files the host writes directly in the data folder (the embedded store keeps its own in `store/`, or `dynamodb/`),
 * and the clock's temporary file, which a crash can leave behind. The simulated cloud's temporary files have
 * the process id in their names (SIM_CLOUD_LEFTOVER).
 */
export const DATA_FILES = [CLOCK_FILE, `${CLOCK_FILE}.tmp`, SIM_CLOUD_FILE, CONTROLLER_TOKEN_FILE, CLIENT_TOKEN_FILE] as const;
/** A temporary file of the simulated cloud that a crash left between its write and its rename. */
const SIM_CLOUD_LEFTOVER = /^sim-cloud\.json\.\d+\.tmp$/;

const STICKY_BIT = 0o1000;
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

let umaskHolders = 0;
let savedUmask: number | undefined;

/**
 * Masks group and other bits from every file and folder this process creates until the returned function is
 * called (counted, so that two hosts in one process share it). The umask is the process's: while a host runs,
 * anything else the process writes is private as well, which is the safe side.
 */
export function holdPrivateUmask(): () => void {
  if (umaskHolders++ === 0) savedUmask = process.umask(0o077);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--umaskHolders === 0 && savedUmask !== undefined) process.umask(savedUmask);
  };
}

/**
 * An entry of the data folder the host will read, write or tighten, as lstat sees it (undefined when absent).
 * A formerly loose folder may hold what another user put there: a link would make the host read, chmod or
 * write the file it points at, and a file of theirs could be read or rewritten by them later. Either is
 * refused, naming the entry, and nothing is changed through it; the user removes it.
 */
export async function ownEntry(path: string, uid: number | undefined): Promise<Stats | undefined> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const fix = 'remove it, or give another folder with --data-dir';
  if (st.isSymbolicLink()) throw new Error(`the data folder holds ${path}, a symbolic link: the host follows no link in its folder (${fix})`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`the data folder holds ${path}, which belongs to another user (uid ${st.uid}) (${fix})`);
  return st;
}

/** A folder of the host's and everything in it, each entry vouched for by ownEntry (a folder before its entries). */
async function ownTree(path: string, uid: number | undefined, into: [string, Stats | undefined][]): Promise<void> {
  const st = await ownEntry(path, uid);
  if (!st) return;
  into.push([path, st]);
  if (st.isDirectory()) for (const name of await readdir(path)) await ownTree(join(path, name), uid, into);
}

/** Drops group and other bits of an entry lstat has vouched for; a line for the log when it changed. */
async function tighten(path: string, st: Stats | undefined, mode: number): Promise<string | undefined> {
  if (!st || (st.mode & 0o077) === 0) return undefined;
  await chmod(path, mode);
  return `${path} ${octal(st.mode)} -> ${octal(mode)}`;
}

/**
 * Creates the data folder (0700) or checks the one that is there: it must belong to this user and not be a
 * shared folder (sticky bit, as /tmp); looser permissions are tightened, with a warning in the log, the folder
 * first so that nobody else can add to it meanwhile. Only the host's own entries are looked at (the folder may
 * be one the user keeps other things in), and each must be the user's own and no link (ownEntry).
 */
export async function preparePrivateDataDir(dir: string, log: (line: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = await stat(dir);
  if (!st.isDirectory()) throw new Error(`the data folder ${dir} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new Error(`the data folder ${dir} belongs to another user (uid ${st.uid}); give a folder of your own with --data-dir`);
  if (st.mode & STICKY_BIT) throw new Error(`the data folder ${dir} is a shared folder (sticky bit, as /tmp); give a folder of your own with --data-dir`);
  const changed: string[] = [];
  const note = (c: string | undefined) => c && changed.push(c);
  note(await tighten(dir, st, PRIVATE_DIR_MODE));
  const leftovers = (await readdir(dir)).filter((name) => SIM_CLOUD_LEFTOVER.test(name));
  const files: [string, Stats | undefined][] = [];
  for (const name of [...DATA_FILES, ...leftovers]) files.push([join(dir, name), await ownEntry(join(dir, name), uid)]);
  const stores: [string, Stats | undefined][] = [];
  for (const sub of [DYNAMODB_DIR, STORE_DIR]) {
    const db = join(dir, sub);
    const dbStat = await ownEntry(db, uid);
    if (dbStat && !dbStat.isDirectory())
      throw new Error(`the data folder holds ${db}, which is not a folder (remove it, or give another folder with --data-dir)`);
    stores.push([db, dbStat]);
    if (dbStat) for (const name of await readdir(db)) files.push([join(db, name), await ownEntry(join(db, name), uid)]);
  }
  // The process provider's folder and the bootstrap's secrets: every entry, at any depth (etcd data, logs, keys).
  for (const sub of [PROCESS_DIR, SECRETS_DIR]) await ownTree(join(dir, sub), uid, files);
  // The folder is closed to others already; its entries are changed only once every one has passed.
  for (const [db, dbStat] of stores) note(await tighten(db, dbStat, PRIVATE_DIR_MODE));
  for (const [path, fileStat] of files) note(await tighten(path, fileStat, fileStat?.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE));
  if (changed.length > 0) log(`warn data folder ${dir} was readable by other users; tightened: ${changed.join(', ')}`);
}

/** Removes a file of the data folder, if it is there. */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/**
 * Writes a secret to a new file of mode 0600, replacing any file of that name (its permissions or a link there
 * are not inherited: the old name is removed and the new file created exclusively).
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  await removeFile(path);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(content);
    await handle.chmod(PRIVATE_FILE_MODE);
  } finally {
    await handle.close();
  }
}
