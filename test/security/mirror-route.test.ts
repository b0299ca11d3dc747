/**
 * PUT /clusterless/v1/mirror takes a kubeconfig from whoever may call the host, so it is untrusted input: the
 * route takes inline YAML only, refuses every field that would make @kubernetes/client-node run a program
 * (`exec`, `auth-provider`) or read a file of this machine (`token-file`, `client-certificate`, ...), naming the
 * field, and never echoes what it could not parse. Nothing is run, read or changed for a refused kubeconfig.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { MirrorService, handleMirrorRequest } from '../../functions/adapters/kubernetes/index.js';

let dir: string;
let service: MirrorService;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clusterless-mirror-route-'));
});

afterEach(async () => {
  await service?.stop();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const put = (body: unknown) =>
  handleMirrorRequest(service, { method: 'PUT', path: '/clusterless/v1/mirror', body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A kubeconfig of one cluster (port 1: nothing listens there), one user and one context. */
function kubeconfig(options: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; top?: Record<string, unknown> } = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'target', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true, ...options.cluster } }],
    users: [{ name: 'someone', user: options.user ?? { token: 'abc' } }],
    contexts: [{ name: 'target', context: { cluster: 'target', user: 'someone' } }],
    'current-context': 'target',
    ...options.top,
  });
}

describe('PUT /clusterless/v1/mirror with an untrusted kubeconfig', () => {
  it.each([
    {
      name: 'users[].user.exec',
      marker: 'exec',
      user: (m: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'touch', args: [m], interactiveMode: 'Never' } }),
      field: 'kubeconfig.users[0].user.exec',
    },
    {
      name: 'an auth-provider with a cmd-path',
      marker: 'gcp',
      user: (m: string) => ({ 'auth-provider': { name: 'gcp', config: { 'cmd-path': 'touch', 'cmd-args': m } } }),
      field: 'kubeconfig.users[0].user.auth-provider',
    },
  ])('refuses $name with a 400 naming the field, and runs nothing', async ({ marker, user, field }) => {
    // Prepare
    service = new MirrorService({ store: new MemoryStore(), sweepIntervalMs: 0 });
    const path = join(dir, `ran-${marker}`);
    // Act
    const res = await put({ kubeconfig: kubeconfig({ user: user(path) }) });
    // Assess
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', details: { causes: [{ field }] } });
    expect(existsSync(path)).toBe(false);
    expect(service.status().target).toBeNull();
  });

  it.each([
    { name: 'users[].user.token-file', user: { 'token-file': '/etc/hostname' }, field: 'kubeconfig.users[0].user.token-file' },
    { name: 'users[].user.tokenFile', user: { tokenFile: '/etc/hostname' }, field: 'kubeconfig.users[0].user.tokenFile' },
    {
      name: 'users[].user.client-certificate',
      user: { 'client-certificate': '/etc/hostname', 'client-key-data': 'a2V5' },
      field: 'kubeconfig.users[0].user.client-certificate',
    },
    {
      name: 'users[].user.client-key',
      user: { 'client-certificate-data': 'Y2VydA==', 'client-key': '/etc/hostname' },
      field: 'kubeconfig.users[0].user.client-key',
    },
    {
      name: 'clusters[].cluster.certificate-authority',
      cluster: { 'certificate-authority': '/etc/hostname' },
      field: 'kubeconfig.clusters[0].cluster.certificate-authority',
    },
    { name: 'a field the route does not know (a YAML merge key)', user: { '<<': { token: 'abc' } }, field: 'kubeconfig.users[0].user.<<' },
  ])('refuses $name (a file of this machine, or what a client might read as one) with a 400 naming it', async ({ user, cluster, field }) => {
    service = new MirrorService({ store: new MemoryStore(), sweepIntervalMs: 0 });
    const res = await put({ kubeconfig: kubeconfig({ ...(user ? { user } : {}), ...(cluster ? { cluster } : {}) }) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', details: { causes: [{ field }] } });
    expect(service.status().target).toBeNull();
  });

  it('refuses a file path: the kubeconfig must be sent inline, and the file is never read', async () => {
    // Prepare: a file that is no kubeconfig, and whose content must not come back
    service = new MirrorService({ store: new MemoryStore(), sweepIntervalMs: 0 });
    const secret = join(dir, 'credentials');
    writeFileSync(secret, '[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n');
    // Act
    const res = await put({ kubeconfig: secret });
    // Assess
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'kubeconfig' }] } });
    expect(res.body).not.toContain('wJalrXUtnFEMI');
    expect(res.body).not.toContain('aws_secret_access_key');
  });

  it('answers a malformed kubeconfig with a fixed message that holds none of its text', async () => {
    service = new MirrorService({ store: new MemoryStore(), sweepIntervalMs: 0 });
    const marker = 'zq-secret-7f3a';
    for (const text of [
      `apiVersion: v1\nclusters: [${marker}\n  : {`,
      `apiVersion: v1\nkind: Config\nusers: "${marker}"\n`,
      `apiVersion: v1\n${marker}: [1, 2\n`,
    ]) {
      const res = await put({ kubeconfig: text });
      expect(res.status, text).toBe(400);
      expect(JSON.parse(res.body), text).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
      expect(res.body, text).not.toContain(marker);
    }
  });

  it('takes an inline kubeconfig of data fields only, and uses the context the client names', async () => {
    // Prepare: two contexts; the named one points at a server of our own that records what reaches it
    service = new MirrorService({ store: new MemoryStore(), sweepIntervalMs: 0 });
    const seen: { url: string; authorization: string | undefined }[] = [];
    const recorder = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
    const port = (recorder.address() as AddressInfo).port;
    const text = stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'a', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority-data': 'Y2E=' } },
        { name: 'b', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [
        { name: 'cert', user: { 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' } },
        { name: 'bearer', user: { token: 'tok-b' } },
      ],
      contexts: [
        { name: 'a', context: { cluster: 'a', user: 'cert' } },
        { name: 'b', context: { cluster: 'b', user: 'bearer', namespace: 'x' } },
      ],
      'current-context': 'a',
    });
    try {
      // Act
      const unknownContext = await put({ kubeconfig: text, context: 'c' });
      const named = await put({ kubeconfig: text, context: 'b' });
      // Assess: past the checks, the switch went to context b's server, which refused it
      expect(unknownContext.status).toBe(400);
      expect(JSON.parse(unknownContext.body)).toMatchObject({ details: { causes: [{ field: 'context' }] } });
      expect(named.status).toBe(502);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]).toMatchObject({ url: expect.stringContaining('/apis/clusterless.dev/'), authorization: 'Bearer tok-b' });
      expect(service.status().target).toBeNull();
    } finally {
      await new Promise((r) => recorder.close(r));
    }
  });
});
