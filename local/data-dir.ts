/**
 * The embedded host's data folder is private to the user who runs it: the folder 0700, every file the host
 * writes in it 0600. It holds the whole declared and observed state, the controller token and, with the AWS
 * provider, nothing less than what the clusters are made of; another account on the machine must read none of
 * it. Files are made private by the umask while a host runs (LevelDB creates files of its own at any time, with
 * no mode option), and those of earlier runs are tightened at start.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * The files the host writes directly in the data folder (the embedded DynamoDB keeps its own in `dynamodb/`),
 * and the clock's temporary file, which a crash can leave behind and the next save writes again in place,
 * keeping its mode (the simulated cloud's has the process id in its name, so it is always new).
 */
export const DATA_FILES = ['clock.json', 'clock.json.tmp', 'sim-cloud.json', 'controller-token'] as const;
export const DYNAMODB_DIR = 'dynamodb';

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

async function tighten(path: string, mode: number): Promise<string | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return undefined;
  }
  if ((st.mode & 0o077) === 0) return undefined;
  await chmod(path, mode);
  return `${path} ${octal(st.mode)} -> ${octal(mode)}`;
}

/**
 * Creates the data folder (0700) or checks the one that is there: it must belong to this user and not be a
 * shared folder (sticky bit, as /tmp), and looser permissions are tightened, with a warning in the log. Only the
 * host's own files are touched: the folder may be one the user keeps other things in.
 */
export async function preparePrivateDataDir(dir: string, log: (line: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = await stat(dir);
  if (!st.isDirectory()) throw new Error(`the data folder ${dir} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`the data folder ${dir} belongs to another user (uid ${st.uid}); give a folder of your own with --data-dir`);
  if (st.mode & STICKY_BIT) throw new Error(`the data folder ${dir} is a shared folder (sticky bit, as /tmp); give a folder of your own with --data-dir`);
  const changed: string[] = [];
  const note = (c: string | undefined) => c && changed.push(c);
  note(await tighten(dir, PRIVATE_DIR_MODE));
  for (const f of DATA_FILES) note(await tighten(join(dir, f), PRIVATE_FILE_MODE));
  const db = join(dir, DYNAMODB_DIR);
  note(await tighten(db, PRIVATE_DIR_MODE));
  const entries = await readdir(db, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isFile()) note(await tighten(join(db, e.name), PRIVATE_FILE_MODE));
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
