/**
 * The embedded host lets no one in who does not belong: it listens on 127.0.0.1 only (not reachable through
 * any other address of this machine), and with --token every request without the token, or with a wrong
 * one, is refused with 401 and changes nothing, on every route the host serves (the API, the sim kill route,
 * the mirror); the CLI's --token (and CLUSTERLESS_TOKEN) gets through. What a browser on this machine was made
 * to send (another site's page, a DNS-rebound name) is refused with 403 before the body is read. Writing status
 * takes the controller token, which the client token is not; with or without --token. The data folder is the
 * user's alone (0700, files 0600), and the embedded DynamoDB on its loopback port answers only requests signed
 * with the host's own credential, so it is no way around either token.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateTableCommand, DeleteTableCommand, ListTablesCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStore, createDynamoDbClient, createTable } from '../../functions/adapters/dynamodb/index.js';
import { KINDS } from '../../functions/api/kinds.js';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../local/embedded-dynamodb.js';
import { auditedKubeconfig, startEmbeddedHost, type EmbeddedHost } from '../../local/embedded-host.js';
import { NAMESPACE, clusterManifests } from '../../soak/manifests.js';
import { cli, waitUntil } from '../support/host-process.js';

const P = `/apis/clusterless.dev/v1alpha1/namespaces/${NAMESPACE}`;
const token = `t-${randomBytes(20).toString('hex')}`;
let host: EmbeddedHost;
let dataDir: string;

const snapshot = async () => JSON.stringify(await Promise.all(KINDS.map((k) => host.runtime.store.list(k.kind as never))));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'clusterless-sec-'));
  host = await startEmbeddedHost({ port: 0, dataDir, token, timeScale: 40 });
  const [mc] = clusterManifests({ name: 'sec', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
  const res = await fetch(`${host.url}${P}/${mc!.plural}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(mc!.object),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface RawReply {
  status: number;
  json: any;
}

/**
 * One request over node:http, which (unlike fetch) sends the Host and Origin it is given. With `holdBody` the
 * request declares a body and never sends it: only a server that answers without reading the body replies.
 */
function raw(port: number, options: { method: string; path: string; headers: Record<string, string>; body?: unknown; holdBody?: boolean }): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...(options.holdBody ? { 'content-type': 'application/json', 'content-length': '1000' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    if (options.holdBody) req.flushHeaders();
    else req.end(body);
  });
}

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

  it('applies the demo (in process, past the token) when started with --token and --demo', async () => {
    const demoDir = mkdtempSync(join(tmpdir(), 'clusterless-sec-demo-'));
    const lines: string[] = [];
    try {
      const demo = await startEmbeddedHost({ port: 0, dataDir: demoDir, token, demo: true, timeScale: 40, log: (l) => lines.push(l) });
      try {
        expect(lines).toContain('demo: cluster.clusterless.dev/demo created');
        expect(await demo.runtime.store.get('Cluster', 'default', 'demo')).toBeDefined();
      } finally {
        await demo.close();
      }
    } finally {
      rmSync(demoDir, { recursive: true, force: true });
    }
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

describe('the mirror route takes no kubeconfig that reaches into this machine', () => {
  it('refuses an exec kubeconfig sent over HTTP with a 400 naming the field, running nothing (test/security/mirror-route.test.ts has the rest)', async () => {
    // Prepare
    const marker = join(dataDir, 'exec-ran');
    const kubeconfig = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'touch', args: [marker], interactiveMode: 'Never' } } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    });
    // Act
    const r = await raw(host.port, { method: 'PUT', path: '/clusterless/v1/mirror', headers: { authorization: `Bearer ${token}` }, body: { kubeconfig } });
    // Assess
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'kubeconfig.users[0].user.exec' }] } });
    expect(existsSync(marker)).toBe(false);
    expect(host.mirror?.status().target).toBeNull();
  });
});

describe('refuses what a browser on this machine was made to send: 403 before the body is read', () => {
  const auth = () => ({ authorization: `Bearer ${token}` });
  const refused: { name: string; headers: (port: number) => Record<string, string>; field: string }[] = [
    { name: 'a DNS-rebound name as Host', headers: () => ({ host: 'attacker.example' }), field: 'Host' },
    { name: 'a rebound name with the server port', headers: (port) => ({ host: `attacker.example:${port}` }), field: 'Host' },
    { name: 'a name that resolves to loopback but is not ours', headers: (port) => ({ host: `127.0.0.1.nip.io:${port}` }), field: 'Host' },
    { name: 'a loopback Host with another port', headers: () => ({ host: '127.0.0.1:1' }), field: 'Host' },
    { name: "another site's Origin", headers: () => ({ origin: 'http://attacker.example' }), field: 'Origin' },
    { name: 'an opaque Origin (null)', headers: () => ({ origin: 'null' }), field: 'Origin' },
    { name: 'the Origin of another local server', headers: () => ({ origin: 'http://127.0.0.1:1' }), field: 'Origin' },
    { name: 'an https Origin on our host and port', headers: (port) => ({ origin: `https://127.0.0.1:${port}` }), field: 'Origin' },
    { name: 'Sec-Fetch-Site: cross-site', headers: () => ({ 'sec-fetch-site': 'cross-site' }), field: 'Sec-Fetch-Site' },
  ];

  it.each(refused)('refuses $name, on writes and reads alike, changing nothing', async ({ headers, field }) => {
    const before = await snapshot();
    const [, cluster] = clusterManifests({ name: 'browser', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
    const write = await raw(host.port, { method: 'POST', path: `${P}/clusters`, headers: { ...auth(), ...headers(host.port) }, body: cluster!.object });
    expect(write.status).toBe(403);
    expect(write.json).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden', details: { causes: [{ field }] } });
    const read = await raw(host.port, { method: 'GET', path: `${P}/machineclasses`, headers: { ...auth(), ...headers(host.port) } });
    expect(read.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it.each(refused)('answers $name without waiting for the body it declares', async ({ headers }) => {
    // The request declares 1000 bytes and sends none: a server that read the body first would never answer.
    const r = await raw(host.port, { method: 'PUT', path: `${P}/machineclasses/sec-class`, headers: { ...auth(), ...headers(host.port) }, holdBody: true });
    expect(r.status).toBe(403);
  });

  const accepted: { name: string; headers: (port: number) => Record<string, string> }[] = [
    { name: 'Host 127.0.0.1 with the port', headers: (port) => ({ host: `127.0.0.1:${port}` }) },
    { name: 'Host 127.0.0.1 without a port', headers: () => ({ host: '127.0.0.1' }) },
    { name: 'Host localhost with the port', headers: (port) => ({ host: `localhost:${port}` }) },
    { name: 'Host localhost without a port', headers: () => ({ host: 'localhost' }) },
    { name: 'Host [::1] with the port', headers: (port) => ({ host: `[::1]:${port}` }) },
    { name: 'our own Origin, same-origin', headers: (port) => ({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' }) },
    {
      name: 'the localhost Origin, same-site',
      headers: (port) => ({ host: `localhost:${port}`, origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-site' }),
    },
    { name: 'Sec-Fetch-Site: none (typed in the address bar)', headers: () => ({ 'sec-fetch-site': 'none' }) },
  ];

  it.each(accepted)('serves a request with $name', async ({ headers }) => {
    const r = await raw(host.port, { method: 'GET', path: `${P}/machineclasses/sec-class`, headers: { ...auth(), ...headers(host.port) } });
    expect(r.status).toBe(200);
    expect(r.json.metadata.name).toBe('sec-class');
  });
});

describe('writing status takes the controller token', () => {
  const statusPath = `${P}/machineclasses/sec-class/status`;
  const resourceVersion = async () => (await host.runtime.store.get('MachineClass', NAMESPACE, 'sec-class'))!.metadata.resourceVersion;

  it.each([
    { name: 'PATCH', method: 'PATCH', path: statusPath },
    { name: 'PUT', method: 'PUT', path: statusPath },
    { name: 'PATCH with a trailing slash', method: 'PATCH', path: `${statusPath}/` },
    { name: 'PATCH with "status" percent-encoded', method: 'PATCH', path: `${P}/machineclasses/sec-class/%73tatus` },
    // A move's steps import objects with their status.
    { name: 'POST of a move step', method: 'POST', path: `${P}/clusters/sec-cluster/move` },
  ])('refuses a $name of status with the client token: 403, nothing changed', async ({ method, path }) => {
    const before = await snapshot();
    const r = await raw(host.port, {
      method,
      path,
      headers: { authorization: `Bearer ${token}`, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
      body: { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'sec-class' }, status: {} },
    });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden', details: { causes: [{ field: 'status' }] } });
    expect(await snapshot()).toBe(before);
  });

  it('lets the controller token write status, and read and write spec where the client token may', async () => {
    const before = await resourceVersion();
    const headers = { authorization: `Bearer ${host.controllerToken}` };
    const r = await raw(host.port, {
      method: 'PATCH',
      path: statusPath,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      body: { status: {} },
    });
    expect(r.status).toBe(200);
    expect(r.json.metadata.resourceVersion).not.toBe(before);
    expect((await raw(host.port, { method: 'GET', path: `${P}/machineclasses`, headers })).status).toBe(200);
    const spec = await raw(host.port, {
      method: 'PATCH',
      path: `${P}/machineclasses/sec-class`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      body: { metadata: { labels: { 'written-by': 'controller-token' } } },
    });
    expect(spec.status).toBe(200);
    expect((await host.runtime.store.get('MachineClass', NAMESPACE, 'sec-class'))!.metadata.labels?.['written-by']).toBe('controller-token');
  });
});

describe('without --token', () => {
  let open: EmbeddedHost;
  let openDir: string;

  beforeAll(async () => {
    openDir = mkdtempSync(join(tmpdir(), 'clusterless-sec-open-'));
    open = await startEmbeddedHost({ port: 0, dataDir: openDir, timeScale: 40 });
  });

  afterAll(async () => {
    await open?.close();
    if (openDir) rmSync(openDir, { recursive: true, force: true });
  });

  it('keeps spec writes open on loopback, while status writes still take the controller token (from <dataDir>/controller-token)', async () => {
    const [mc] = clusterManifests({ name: 'open', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
    expect((await raw(open.port, { method: 'POST', path: `${P}/${mc!.plural}`, headers: {}, body: mc!.object })).status).toBe(201);
    const path = `${P}/machineclasses/open-class/status`;
    const patch = (headers: Record<string, string>) =>
      raw(open.port, { method: 'PATCH', path, headers: { ...headers, 'content-type': 'application/merge-patch+json' }, body: { status: {} } });
    const before = (await open.runtime.store.get('MachineClass', NAMESPACE, 'open-class'))!.metadata.resourceVersion;
    for (const headers of [{}, { authorization: `Bearer ${token}` }, { authorization: 'Bearer ' }] as Record<string, string>[]) {
      const r = await patch(headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    }
    expect((await open.runtime.store.get('MachineClass', NAMESPACE, 'open-class'))!.metadata.resourceVersion).toBe(before);
    const fromFile = readFileSync(join(openDir, 'controller-token'), 'utf8').trim();
    expect(fromFile).toBe(open.controllerToken);
    expect(fromFile).toMatch(/^[0-9a-f]{64}$/);
    expect((await patch({ authorization: `Bearer ${fromFile}` })).status).toBe(200);
  });
});

describe('with --provider aws and no --token', () => {
  it('makes a client token into <dataDir>/client-token (0600), says where in one line, and requires it; a later sim start removes it', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-sec-aws-'));
    const file = join(dir, 'client-token');
    const lines: string[] = [];
    try {
      // Act
      const aws = await startEmbeddedHost({ port: 0, dataDir: dir, provider: 'aws', timeScale: 40, log: (l) => lines.push(l) });
      try {
        // Assess
        const made = readFileSync(file, 'utf8').trim();
        expect(made).toMatch(/^[0-9a-f]{64}$/);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(aws.clientToken).toBe(made);
        expect(lines.filter((l) => l.includes(file))).toEqual([
          `client token in ${file}: every request must carry it; e.g. CLUSTERLESS_TOKEN=$(cat ${file}) npx clusterless get clusters, or --token`,
        ]);
        const [mc] = clusterManifests({ name: 'aws', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
        expect((await raw(aws.port, { method: 'GET', path: `${P}/machineclasses`, headers: {} })).status).toBe(401);
        expect((await raw(aws.port, { method: 'POST', path: `${P}/${mc!.plural}`, headers: {}, body: mc!.object })).status).toBe(401);
        expect(await aws.runtime.store.get('MachineClass', NAMESPACE, 'aws-class')).toBeUndefined();
        expect(
          (await raw(aws.port, { method: 'POST', path: `${P}/${mc!.plural}`, headers: { authorization: `Bearer ${made}` }, body: mc!.object })).status,
        ).toBe(201);
      } finally {
        await aws.close();
      }
      // The simulated cloud stays open on loopback, and leaves no token of an earlier start behind.
      const sim = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40 });
      try {
        expect(existsSync(file)).toBe(false);
        expect(sim.clientToken).toBeUndefined();
        expect((await raw(sim.port, { method: 'GET', path: `${P}/machineclasses`, headers: {} })).status).toBe(200);
      } finally {
        await sim.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one host per data folder', () => {
  it("refuses a second host on a running host's folder cleanly, and the first host's controller token still works", async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-sec-busy-'));
    const first = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40 });
    try {
      const [mc] = clusterManifests({ name: 'busy', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 });
      expect((await raw(first.port, { method: 'POST', path: `${P}/${mc!.plural}`, headers: {}, body: mc!.object })).status).toBe(201);
      const tokenFile = join(dir, 'controller-token');
      const before = readFileSync(tokenFile, 'utf8');
      // Act
      const second = startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40 });
      // Assess
      await expect(second).rejects.toThrow(`another clusterless is using ${dir}`);
      expect(readFileSync(tokenFile, 'utf8')).toBe(before);
      const fromFile = before.trim();
      const patch = await raw(first.port, {
        method: 'PATCH',
        path: `${P}/machineclasses/busy-class/status`,
        headers: { authorization: `Bearer ${fromFile}`, 'content-type': 'application/merge-patch+json' },
        body: { status: {} },
      });
      expect(patch.status).toBe(200);
      expect(await first.runtime.store.get('MachineClass', NAMESPACE, 'busy-class')).toBeDefined();
    } finally {
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes a controller-token file of an earlier start when the controller token is given in, and writes none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-sec-given-'));
    try {
      writeFileSync(join(dir, 'controller-token'), 'stale-token-of-an-earlier-start\n', { mode: 0o600 });
      const h = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40, controllerToken: 'given-controller-token-0123456789' });
      try {
        expect(existsSync(join(dir, 'controller-token'))).toBe(false);
        expect(h.controllerToken).toBe('given-controller-token-0123456789');
      } finally {
        await h.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the data folder is private to its user', () => {
  /** Every file and folder under `dir` (itself included) with its permission bits. */
  const modes = (dir: string): { path: string; dir: boolean; mode: number }[] => {
    const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o7777 }];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) out.push(...modes(path));
      else out.push({ path, dir: false, mode: statSync(path).mode & 0o7777 });
    }
    return out;
  };
  const loose = (dir: string) =>
    modes(dir)
      .filter((m) => m.mode !== (m.dir ? 0o700 : 0o600))
      .map((m) => `${m.path} ${m.mode.toString(8)}`);

  it('is 0700 with every file 0600 (the token, the clock, the simulated cloud, the embedded store), and a looser one is tightened at start, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-sec-perm-'));
    try {
      // A first run leaves every kind of file the host writes: a cluster gets machines, so the simulated cloud saves.
      let lines: string[] = [];
      let h = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40, log: (l) => lines.push(l) });
      try {
        for (const m of clusterManifests({ name: 'perm', controlPlaneReplicas: 1, workers: 1, strategy: { type: 'Recreate' }, maxUnhealthy: 1 }))
          expect((await raw(h.port, { method: 'POST', path: `${P}/${m.plural}`, headers: {}, body: m.object })).status).toBe(201);
        await waitUntil('the simulated cloud to save its state', async () => existsSync(join(dir, 'sim-cloud.json')));
      } finally {
        await h.close();
      }
      for (const f of ['controller-token', 'clock.json', 'sim-cloud.json', 'store/store.sqlite']) expect(existsSync(join(dir, f)), f).toBe(true);
      expect(loose(dir)).toEqual([]);

      // Loosened as an older version (or a umask of 022) would have left them; the next start tightens them.
      for (const m of modes(dir)) chmodSync(m.path, m.dir ? 0o755 : 0o644);
      lines = [];
      h = await startEmbeddedHost({ port: 0, dataDir: dir, timeScale: 40, log: (l) => lines.push(l) });
      try {
        expect(loose(dir)).toEqual([]);
        expect(lines.join('\n')).toMatch(/data folder .* was readable by other users; tightened: .*clock\.json 0644 -> 0600/);
      } finally {
        await h.close();
      }
      expect(loose(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a data folder that belongs to a shared place (sticky bit, as /tmp), changing nothing in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-sec-sticky-'));
    try {
      chmodSync(dir, 0o1777);
      await expect(startEmbeddedHost({ port: 0, dataDir: dir })).rejects.toThrow(/shared folder/);
      expect(statSync(dir).mode & 0o7777).toBe(0o1777);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the embedded DynamoDB answers only the host's own signed requests", () => {
  const TABLE = 'clusterless';
  let dbDir: string;
  let db: EmbeddedDynamoDb;
  let own: DynamoDBClient;
  let store: DynamoDbStore;

  beforeAll(async () => {
    dbDir = mkdtempSync(join(tmpdir(), 'clusterless-sec-ddb-'));
    db = await startEmbeddedDynamoDb(dbDir);
    // The host's way in: its own client, signing with the credential made at start.
    own = createDynamoDbClient({ endpoint: db.endpoint, region: db.region, credentials: db.credentials });
    await createTable(own, TABLE);
    store = new DynamoDbStore({ client: own, tableName: TABLE });
    await store.create({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineClass',
      metadata: { name: 'kept', namespace: NAMESPACE },
      spec: { sim: {} },
    } as never);
  });

  afterAll(async () => {
    own?.destroy();
    await db?.stop();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  const tableState = async () =>
    JSON.stringify([(await own.send(new ListTablesCommand({}))).TableNames, (await own.send(new ScanCommand({ TableName: TABLE }))).Items]);

  /** A request signed by hand with @smithy/signature-v4, sent as given or with its body swapped afterwards. */
  async function signed(options: {
    target: string;
    body: unknown;
    credentials: { accessKeyId: string; secretAccessKey: string };
    region?: string;
    date?: Date;
    sendBody?: unknown;
    applyChecksum?: boolean;
  }) {
    const url = new URL(db.endpoint);
    const body = JSON.stringify(options.body);
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${options.target}` },
      body,
    });
    const signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region ?? db.region,
      service: 'dynamodb',
      sha256: Sha256,
      applyChecksum: options.applyChecksum ?? false,
    });
    const r = await signer.sign(request, options.date ? { signingDate: options.date } : {});
    const sent = options.sendBody === undefined ? body : JSON.stringify(options.sendBody);
    return rawDynamo({ ...(r.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(sent)) }, sent);
  }

  function rawDynamo(headers: Record<string, string>, body?: string, method = 'POST'): Promise<{ status: number; type?: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(db.endpoint);
      const req = httpRequest({ host: url.hostname, port: Number(url.port), method, path: '/', headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: text.startsWith('{') ? (JSON.parse(text).__type as string | undefined)?.split('#')[1] : undefined }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const intruderTable = {
    TableName: 'intruder',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
  };

  it('refuses an SDK client with other credentials (reads and writes), and one with the right key id but another secret; nothing changes', async () => {
    const before = await tableState();
    for (const [credentials, error] of [
      [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'UnrecognizedClientException'],
      [{ accessKeyId: 'local', secretAccessKey: 'local' }, 'UnrecognizedClientException'],
      [{ accessKeyId: db.credentials.accessKeyId, secretAccessKey: 'not-the-secret' }, 'InvalidSignatureException'],
    ] as const) {
      const other = createDynamoDbClient({ endpoint: db.endpoint, region: db.region, credentials, maxAttempts: 1 });
      try {
        await expect(other.send(new ScanCommand({ TableName: TABLE }))).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 403 } });
        await expect(other.send(new DeleteTableCommand({ TableName: TABLE }))).rejects.toMatchObject({ name: error });
        await expect(other.send(new CreateTableCommand(intruderTable as never))).rejects.toMatchObject({ name: error });
      } finally {
        other.destroy();
      }
    }
    expect(await tableState()).toBe(before);
  });

  it('refuses unsigned requests: a write, the health GET and a browser preflight (403, never reaching dynalite)', async () => {
    const before = await tableState();
    const body = JSON.stringify(intruderTable);
    const write = await rawDynamo(
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.CreateTable', 'content-length': String(body.length) },
      body,
    );
    expect(write).toEqual({ status: 403, type: 'MissingAuthenticationTokenException' });
    expect((await rawDynamo({}, undefined, 'GET')).status).toBe(403);
    expect((await rawDynamo({ origin: 'http://attacker.example', 'access-control-request-method': 'POST' }, undefined, 'OPTIONS')).status).toBe(403);
    expect(await tableState()).toBe(before);
  });

  it('takes a request signed with its credential, and refuses the same one with its body swapped, too old, or signed for another region', async () => {
    const before = await tableState();
    const good = { target: 'CreateTable', body: intruderTable, credentials: db.credentials };
    // Each attempt below is this one request spoiled in one way; the unspoiled one is last, to show it works.
    expect(await signed({ ...good, sendBody: { ...intruderTable, TableName: 'swapped' } })).toEqual({ status: 403, type: 'InvalidSignatureException' });
    expect(await signed({ ...good, applyChecksum: true, sendBody: { ...intruderTable, TableName: 'swapped' } })).toEqual({
      status: 403,
      type: 'InvalidSignatureException',
    });
    expect(await signed({ ...good, date: new Date(Date.now() - 20 * 60 * 1000) })).toEqual({ status: 403, type: 'InvalidSignatureException' });
    expect(await signed({ ...good, region: 'us-east-1' })).toEqual({ status: 403, type: 'InvalidSignatureException' });
    expect(await tableState()).toBe(before);
    expect((await signed({ ...good, body: { ...intruderTable, TableName: 'signed-by-the-host' } })).status).toBe(200);
    expect((await own.send(new ListTablesCommand({}))).TableNames).toContain('signed-by-the-host');
  });

  /**
   * The head of a request that declares a 16 MiB body and sends none of it; resolves with everything the server
   * sent once it closes the connection. A server that read the body before refusing would never answer.
   */
  function headOnly(headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const url = new URL(db.endpoint);
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      const lines = Object.entries({
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.CreateTable',
        'content-length': String(16 * 1024 * 1024),
        ...headers,
      });
      socket.write(`POST / HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    });
  }

  const amzNow = (offsetMs = 0) =>
    new Date(Date.now() + offsetMs)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const authorization = (keyId: string, date: string, region: string) =>
    `AWS4-HMAC-SHA256 Credential=${keyId}/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

  it.each([
    { name: 'no Authorization', headers: () => ({}), type: 'MissingAuthenticationTokenException' },
    {
      name: 'a malformed Authorization',
      headers: () => ({ authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-amz-date': amzNow() }),
      type: 'IncompleteSignatureException',
    },
    {
      name: 'another key id',
      headers: () => ({ authorization: authorization('AKIAIOSFODNN7EXAMPLE', amzNow(), db.region), 'x-amz-date': amzNow() }),
      type: 'UnrecognizedClientException',
    },
    {
      name: 'another region',
      headers: () => ({ authorization: authorization(db.credentials.accessKeyId, amzNow(), 'us-east-1'), 'x-amz-date': amzNow() }),
      type: 'InvalidSignatureException',
    },
    {
      name: 'a date out of the window',
      headers: () => ({ authorization: authorization(db.credentials.accessKeyId, amzNow(-20 * 60_000), db.region), 'x-amz-date': amzNow(-20 * 60_000) }),
      type: 'InvalidSignatureException',
    },
  ])('refuses a request with $name from its head alone, before its body, and closes the connection', async ({ headers, type }) => {
    const before = await tableState();
    const answer = await headOnly(headers());
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toContain(`com.amazon.coral.service#${type}`);
    expect(await tableState()).toBe(before);
  });

  it("keeps the host's own store working through the check", async () => {
    expect((await store.get('MachineClass', NAMESPACE, 'kept'))?.metadata.name).toBe('kept');
    const created = (await store.create({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineClass',
      metadata: { name: 'added', namespace: NAMESPACE },
      spec: { sim: {} },
    } as never)) as { metadata: { resourceVersion?: string } };
    expect((await store.list('MachineClass', NAMESPACE)).map((o) => o.metadata.name).sort()).toEqual(['added', 'kept']);
    expect(created.metadata.resourceVersion).toBeDefined();
  });
});

describe("auditedKubeconfig, the wrapper of the embedded host's kubeconfig route (tested as a helper: issuing one needs the aws provider and a KMS key)", () => {
  it('logs each kubeconfig it passes on as one audit line naming the cluster and the expiry, never the credential; nothing when none is issued', async () => {
    // Prepare
    const lines: string[] = [];
    const credential = 'client-key-data: c2VjcmV0LWtleQ==';
    const sign = async (_ns: string, cluster: string) => (cluster === 'prod' ? `users: [{user: {${credential}}}]` : undefined);
    const audited = auditedKubeconfig(sign, (line) => lines.push(line));
    // Act
    const issued = await audited('team-a', 'prod', 7200);
    const none = await audited('team-a', 'no-certificates', 3600);
    // Assess
    expect(issued).toContain(credential);
    expect(none).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!.replace(/^audit /, ''))).toEqual({
      audit: 'AdminKubeconfigIssued',
      namespace: 'team-a',
      cluster: 'prod',
      expirationSeconds: 7200,
    });
    expect(lines[0]).not.toContain('c2VjcmV0LWtleQ');
  });
});
