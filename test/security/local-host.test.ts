/**
 * The embedded host lets no one in who does not belong: it listens on 127.0.0.1 only (not reachable through
 * any other address of this machine), and with --token every request without the token, or with a wrong
 * one, is refused with 401 and changes nothing, on every route the host serves (the API, the sim kill route,
 * the mirror); the CLI's --token (and CLUSTERLESS_TOKEN) gets through.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../../functions/api/kinds.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../local/embedded-host.js';
import { NAMESPACE, clusterManifests } from '../../soak/manifests.js';
import { cli } from '../support/host-process.js';

const P = `/apis/clusterless.dev/v1alpha1/namespaces/${NAMESPACE}`;
const token = `t-${randomBytes(20).toString('hex')}`;
let host: EmbeddedHost;
let dataDir: string;

const snapshot = async () => JSON.stringify(await Promise.all(KINDS.map((k) => host.runtime.store.list(k.kind as never))));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'clusterless-sec-'));
  host = await startEmbeddedHost({ port: 0, dataDir, token, timeScale: 40 });
  const [mc] = clusterManifests({ name: 'sec', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
  const res = await fetch(`${host.url}${P}/${mc!.plural}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(mc!.object) });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves true when a TCP connection to address:port opens, false when it is refused or times out. */
function reachable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the embedded host binds to loopback only', () => {
  it('serves on 127.0.0.1', async () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
    expect(await reachable('127.0.0.1', host.port)).toBe(true);
  });

  it('cannot be reached through any other address of this machine', async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a): a is NonNullable<typeof a> => !!a && !a.internal && !a.address.startsWith('fe80'))
      .map((a) => a.address);
    // Where the machine has no other address, the bind address above is the whole proof.
    for (const address of others) expect(await reachable(address, host.port), `reachable through ${address}`).toBe(false);
    // IPv6 loopback is another interface too.
    expect(await reachable('::1', host.port)).toBe(false);
  });
});

describe('with --token', () => {
  const attempts = [
    { name: 'no Authorization header', headers: {} as Record<string, string> },
    { name: 'a wrong token', headers: { authorization: `Bearer ${token}x` } },
    { name: 'the token without "Bearer"', headers: { authorization: token } },
    { name: 'a Basic credential', headers: { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` } },
    { name: 'a prefix of the token', headers: { authorization: `Bearer ${token.slice(0, -1)}` } },
    { name: 'an empty bearer', headers: { authorization: 'Bearer ' } },
  ];

  it.each(attempts)('refuses a write with $name: 401 Status, nothing changed', async ({ headers }) => {
    const before = await snapshot();
    const [, cluster] = clusterManifests({ name: 'intruder', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
    for (const [method, path, body] of [
      ['POST', `${P}/clusters`, cluster!.object],
      ['PATCH', `${P}/machineclasses/sec-class`, { spec: { sim: { bootSeconds: 1 } } }],
      ['DELETE', `${P}/machineclasses/sec-class`, undefined],
      ['POST', `/clusterless/v1/sim/namespaces/${NAMESPACE}/machines/any/kill`, undefined],
      ['PUT', '/clusterless/v1/mirror', { kubeconfig: 'apiVersion: v1' }],
    ] as const) {
      const res = await fetch(`${host.url}${path}`, {
        method,
        headers: { ...headers, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    }
    expect(await snapshot()).toBe(before);
  });

  it.each(attempts)('refuses a read with $name (401), the health check and the API document included', async ({ headers }) => {
    for (const path of [`${P}/machineclasses`, '/apis/clusterless.dev/v1alpha1/clusters', '/healthz', '/openapi/v3', '/clusterless/v1/mirror'])
      expect((await fetch(`${host.url}${path}`, { headers })).status, path).toBe(401);
  });

  it('accepts the right token, and the token passed in the query string is not a substitute', async () => {
    expect((await fetch(`${host.url}${P}/machineclasses`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${host.url}${P}/machineclasses?token=${token}`)).status).toBe(401);
    expect((await fetch(`${host.url}${P}/machineclasses?access_token=${token}`)).status).toBe(401);
  });

  it('the CLI gets through with --token or CLUSTERLESS_TOKEN, and is refused without, exiting non-zero with a hint', async () => {
    const ok = await cli(host.url, ['--token', token, 'get', 'machineclasses', '-n', NAMESPACE]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/sec-class/);
    const env = await cli(host.url, ['get', 'machineclasses', '-n', NAMESPACE], { env: { CLUSTERLESS_TOKEN: token } });
    expect(env.code, env.stderr).toBe(0);
    const without = await cli(host.url, ['get', 'machineclasses', '-n', NAMESPACE], { env: { CLUSTERLESS_TOKEN: '' } });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/token/);
    const wrong = await cli(host.url, ['--token', 'nope', 'delete', 'machineclass', 'sec-class', '-n', NAMESPACE]);
    expect(wrong.code).not.toBe(0);
    expect(await host.runtime.store.get('MachineClass', NAMESPACE, 'sec-class')).toBeDefined();
  });
});
