import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * Where scripts/setup-test-env.sh keeps the moto venv: a per-user cache outside the clone, so that a fresh
 * clone (CI) reuses it. CLUSTERLESS_MOTO_VENV overrides it, as in the script.
 */
export function motoVenvDir(): string {
  return process.env.CLUSTERLESS_MOTO_VENV ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clusterless', 'moto-venv');
}

export function motoServerBin(): string {
  return join(motoVenvDir(), 'bin', 'moto_server');
}

/**
 * moto_server started through moto-server-atomic.py, which handles one request at a time: AWS makes each call atomic
 * (a DynamoDB condition is checked and the item written in one step), moto's threaded server does not.
 */
const ATOMIC_LAUNCHER = join(import.meta.dirname, 'moto-server-atomic.py');

export interface RunningMoto {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on a free 127.0.0.1 port and waits until it answers HTTP. */
export async function startMotoServer(options: { timeoutMs?: number } = {}): Promise<RunningMoto> {
  const bin = motoServerBin();
  if (!existsSync(bin)) throw new Error(`moto_server not found at ${bin}. Set up the test environment first: bash scripts/setup-test-env.sh`);
  let lastError: unknown;
  // A port that was free can be taken before moto binds it; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(join(motoVenvDir(), 'bin', 'python'), [ATOMIC_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilAnswering(endpoint, child, options.timeoutMs ?? 60_000);
      return { endpoint, stop: () => stopProcess(child) };
    } catch (e) {
      lastError = new Error(`moto_server did not start on ${endpoint}: ${(e as Error).message}\n${stderr}`, { cause: e });
      await stopProcess(child);
    }
  }
  throw lastError;
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if the process has not exited within 5 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
