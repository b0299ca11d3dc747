/**
 * The embedded host and the CLI as a user runs them: child processes (`clusterless up`, `clusterless ...`),
 * speaking only HTTP to each other.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitUntil as waitUntilEvery } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'cli/bin.mjs');

export interface HostProcess {
  url: string;
  output: () => string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startHostProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<HostProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'up', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start in time:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(server: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolveResult) => {
    const child = execFile(
      process.execPath,
      [BIN, '--server', server, ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, timeout: options.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolveResult({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** The CLI, failing the test with its stderr when it does not exit 0. */
export async function cliOk(server: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await cli(server, args, options);
  if (r.code !== 0) throw new Error(`clusterless ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * waitUntil (wait.ts) polling once a second by default, for checks that run the CLI: each run is a Node process of
 * about half a second of CPU, so that polling every 200 ms kept a core busy with CLI start-ups while a test waited.
 */
export function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 1000): Promise<T> {
  return waitUntilEvery(what, check, timeoutMs, intervalMs);
}
