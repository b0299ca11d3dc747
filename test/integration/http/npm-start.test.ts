/**
 * `npm start -- --port 0 --data-dir DIR`: starts, answers, keeps its data across a restart, stops on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { machineClass, ns } from '../../unit/http/fixtures.js';

const ROOT = resolve(import.meta.dirname, '../../..');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Runs `npm start` in its own process group, so that npm, tsx and node all get the signal, as from a terminal. */
async function npmStart(dataDir: string): Promise<Started> {
  const child = spawn('npm', ['start', '--', '--port', '0', '--data-dir', dataDir], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  // 'close', not 'exit': npm may exit on the signal before the host it started has finished shutting down; the
  // output ends only when every process of the group holding the pipes is gone.
  const exited = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      running.delete(child);
      r(code);
    }),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolveUrl(m[1]!);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}

function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-start-'));
});

afterEach(() => {
  // A failed test must not leave a server behind.
  for (const child of running) terminate(child, 'SIGKILL');
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves the API on 127.0.0.1, keeps data across a restart and stops on SIGTERM', async () => {
    // Act: first run, create an object, stop.
    const first = await npmStart(dataDir);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const created = await fetch(first.url + ns('default', 'machineclasses'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(machineClass('kept')),
    });
    expect(created.status).toBe(201);
    const uid = ((await created.json()) as { metadata: { uid: string } }).metadata.uid;
    terminate(first.child);
    await first.exited;
    expect(first.output()).toContain('stopped');
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    // Assess: a second run on the same directory still has the object.
    const second = await npmStart(dataDir);
    const got = await fetch(second.url + ns('default', 'machineclasses', 'kept'));
    expect(got.status).toBe(200);
    expect(((await got.json()) as { metadata: { uid: string } }).metadata.uid).toBe(uid);
    terminate(second.child, 'SIGINT');
    await second.exited;
    expect(second.output()).toContain('stopped');
  });

  it('refuses an invalid port with a message and a non-zero exit', async () => {
    const child = spawn('npm', ['start', '--', '--port', 'eighty'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    child.stderr!.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) =>
      child.on('exit', (c) => {
        running.delete(child);
        r(c);
      }),
    );
    expect(code).not.toBe(0);
    expect(out).toMatch(/must be a port number/);
  });
});
