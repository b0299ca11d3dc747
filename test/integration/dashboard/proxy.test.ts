/**
 * `clusterless dashboard`'s proxy against a recording stand-in for the deployed API: reads are forwarded signed with
 * SigV4 (the CLI's signer) and watches streamed; writes, the kubeconfig route, requests without the session token and
 * requests a browser was made to send from another site never reach the server.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Io } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import { createSigV4Signer } from '../../../cli/sigv4.js';
import { startDashboardProxy, type DashboardProxy } from '../../../dashboard/proxy.js';

const SESSION = 'a'.repeat(64);
const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
let upstream: Server;
let proxy: DashboardProxy;
let base: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.url?.includes('watch=1')) {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'x=1', 'access-control-allow-origin': '*' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
      res.end('{"type":"ADDED","object":{"metadata":{"name":"b"}}}\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'x=1', 'access-control-allow-origin': '*' });
    res.end('{"items":[],"metadata":{"resourceVersion":"7"}}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const server = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  const signer = createSigV4Signer({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
  proxy = await startDashboardProxy({ server, signer, sessionToken: SESSION });
  base = `http://127.0.0.1:${proxy.port}`;
});

afterAll(async () => {
  await proxy?.close();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

beforeEach(() => {
  seen.length = 0;
});

const auth = { authorization: `Bearer ${SESSION}` };

describe('the dashboard proxy', () => {
  it('prints a loopback URL that hands the page its session token in the fragment', () => {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}/#token=${SESSION}`);
  });

  it('serves the page without a token', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script type="module" src="/dashboard/app.js">');
    expect(seen).toHaveLength(0);
  });

  it('forwards a list signed with SigV4, without the page token, and passes no cookie or CORS header back', async () => {
    const res = await fetch(`${base}/apis/clusterless.dev/v1alpha1/clusters?limit=5`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], metadata: { resourceVersion: '7' } });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/apis/clusterless.dev/v1alpha1/clusters?limit=5');
    expect(seen[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
  });

  it('forwards the cost routes (every cluster, one namespace), signed', async () => {
    for (const path of ['/clusterless/v1/cost', '/clusterless/v1/namespaces/team-a/cost'])
      expect((await fetch(base + path, { headers: auth })).status, path).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/clusterless/v1/cost', '/clusterless/v1/namespaces/team-a/cost']);
    expect(seen.every((s) => String(s.headers.authorization).startsWith('AWS4-HMAC-SHA256'))).toBe(true);
  });

  it('streams a watch line by line', async () => {
    const res = await fetch(`${base}/apis/events.k8s.io/v1/events?watch=1&resourceVersion=7`, { headers: auth });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).object.metadata.name)).toEqual(['a', 'b']);
  });

  it.each([
    { name: 'a write', method: 'POST', path: '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters' },
    { name: 'a delete', method: 'DELETE', path: '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/demo' },
    { name: 'the kubeconfig route (admin credentials)', method: 'GET', path: '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/demo/kubeconfig' },
    { name: 'the simulator kill route', method: 'POST', path: '/clusterless/v1/sim/namespaces/default/machines/m/kill' },
    { name: 'another path', method: 'GET', path: '/clusterless/v1/mirror' },
    { name: 'a POST of the cost route', method: 'POST', path: '/clusterless/v1/cost' },
  ])('never forwards $name (405)', async ({ method, path }) => {
    const res = await fetch(base + path, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { reason: string }).reason).toBe('MethodNotAllowed');
    expect(seen).toHaveLength(0);
  });

  it('refuses an API call without the session token (401)', async () => {
    const res = await fetch(`${base}/apis/clusterless.dev/v1alpha1/clusters`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it('refuses what another site made a browser send: a foreign Origin, or a rebound Host (403)', async () => {
    const foreign = await fetch(`${base}/apis/clusterless.dev/v1alpha1/clusters`, { headers: { ...auth, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      request(`${base}/`, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
    expect(rebound).toBe(403);
    expect(seen).toHaveLength(0);
  });
});

describe('clusterless dashboard', () => {
  it('prints the loopback URL, forwards the reads to --server with --token, and stops on Ctrl-C', async () => {
    let stdout = '';
    let stderr = '';
    let interrupt: (() => void) | undefined;
    let code: number | undefined;
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const done = async (io: Io) => (code = await runCli(['dashboard', '--server', upstreamUrl, '--token', 'server-token'], io));
    const printed = new Promise<string>((resolve) => {
      const io: Io = {
        stdout: {
          write: (s) => {
            stdout += s;
            const m = /open (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/.exec(stdout);
            if (m) resolve(m[1]!);
          },
          isTTY: false,
          columns: 200,
        },
        stderr: { write: (s) => void (stderr += s), isTTY: false },
        env: {},
        readStdin: async () => '',
        readFile: async () => '',
        listDir: async () => undefined,
        fetch: globalThis.fetch,
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        onInterrupt: (handler) => {
          interrupt = () => handler('SIGINT');
          return () => {};
        },
        importModule: async () => ({}),
        exit: (code) => {
          throw new Error(`exit ${code}`);
        },
      };
      void done(io);
    });
    const url = new URL(await printed);
    const session = url.hash.slice('#token='.length);
    const res = await fetch(`${url.origin}/apis/clusterless.dev/v1alpha1/machines`, { headers: { authorization: `Bearer ${session}` } });
    expect(res.status).toBe(200);
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer server-token');
    expect(stderr).toContain('Ctrl-C stops it');
    interrupt!();
    await expect.poll(() => code).toBe(0);
    await expect(fetch(`${url.origin}/`)).rejects.toThrow();
  });
});
