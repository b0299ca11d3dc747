/**
 * `clusterless sim interrupt` against the embedded host: the host-only route sends the simulated spot warning, the
 * host records it on the Machine through the same code as the instance-events function, and the pool replaces the
 * machine before its instance is reclaimed, with no sweep (an hour of simulated time away) to help.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../../functions/api/machine.js';
import type { Io } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';

let host: EmbeddedHost;
let dataDir: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(host.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

const until = <T>(what: string, check: () => Promise<T | undefined | false>) => waitUntil(what, check, 40_000, 50);
const workers = async () =>
  ((await api('GET', `${NS_PATH}/default/machines`)).json.items as Machine[]).filter(
    (m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'spot-md',
  );
const isReady = (m: Machine) => !m.metadata.deletionTimestamp && m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s) => void (stdout += s), isTTY: false, columns: 200 },
    stderr: { write: (s) => void (stderr += s), isTTY: false },
    env: { CLUSTERLESS_SERVER: host.url },
    readStdin: async () => '',
    readFile: async () => '',
    listDir: async () => undefined,
    fetch: globalThis.fetch,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    onInterrupt: () => () => {},
    importModule: async () => ({}),
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-spot-'));
  host = await startEmbeddedHost({ port: 0, dataDir, timeScale: 20, sweepSeconds: 3600 });
  for (const m of clusterManifests({ name: 'spot', controlPlaneReplicas: 1, workers: 2 })) {
    if (m.plural === 'machineclasses') m.object.spec = { sim: { bootSeconds: 5, nodeReadySeconds: 0 } };
    const r = await api('POST', `${NS_PATH}/default/${m.plural}`, m.object);
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  }
  await until('2 workers Ready', async () => (await workers()).filter(isReady).length === 2);
  await host.runtime.workflows.idle();
});

afterAll(async () => {
  await host?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('clusterless sim interrupt', () => {
  it('warns the machine, which the host records and the pool replaces before the instance is reclaimed', async () => {
    const before = await workers();
    const victim = before[0]!;
    const r = await cli(['sim', 'interrupt', victim.metadata.name]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^machine.clusterless.dev/${victim.metadata.name}: interruption warning sent for i-[0-9a-f]+, terminated at \\S+\\n$`));
    const terminationTime = Date.parse(r.stdout.trim().split(' ').at(-1)!);

    const fresh = await until('a Ready replacement and the warned machine gone', async () => {
      const now = await workers();
      const made = now.filter((m) => !before.some((b) => b.metadata.uid === m.metadata.uid));
      return !now.some((m) => m.metadata.uid === victim.metadata.uid) && made.length === 1 && isReady(made[0]!) ? made[0] : undefined;
    });
    // Ready before EC2 would have reclaimed the warned instance.
    const readyAt = Date.parse(fresh.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!);
    expect(readyAt).toBeLessThan(terminationTime);
    expect((await workers()).filter(isReady)).toHaveLength(2);
  });

  it('answers 404 for a machine with no running simulated instance', async () => {
    const r = await cli(['sim', 'interrupt', 'no-such-machine']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not found/);
  });
});
