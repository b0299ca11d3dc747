/**
 * api-vs-kube: the embedded host's API (`npm start`'s, over its SQLite store) and a real kube-apiserver + etcd
 * serving the project's CRDs (crds/), started in the same run and driven by the same client with the same
 * request mix: create N MachineClasses, get each, list them all in pages, merge-patch each, and one patch stream
 * fanned out to W watchers. One row per operation, `ratio.<op>` = clusterless throughput over kube-apiserver's
 * (goal >= 1.0).
 *
 * `npm run bench -- api-vs-kube` or `npx tsx bench/api-vs-kube.ts [--objects 10000] [--watchers 50]
 * [--watch-writes 1000] [--concurrency 16] [--page 500] [--host process|in-process]`.
 *
 * The host runs as users run it (`clusterless up`, its own process), as kube-apiserver runs in its own: the client
 * then has this process to itself for both. `--host in-process` starts it in this process instead, where the
 * client's parsing of every watch event shares the host's one thread (what the figures before this option were).
 * `BENCH_HOST_NODE_OPTIONS` is the host process's NODE_OPTIONS (`--cpu-prof --cpu-prof-dir=DIR` profiles it alone).
 *
 * MachineClass is the kind: namespaced, in both APIs, and no controller acts on it, so neither server does work
 * beside the requests. The same HTTP/1.1 client with keep-alive for both; kube-apiserver is reached over TLS (it
 * serves nothing else), clusterless over plain HTTP on loopback, as each is deployed locally.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { startEmbeddedHost } from '../local/embedded-host.js';
import { startHostProcess } from '../test/support/host-process.js';
import { startKube } from '../test/support/kube.js';
import { emit, flag, machineFacts } from './support/output.js';

const GROUP_PATH = '/apis/clusterless.dev/v1alpha1/namespaces/default/machineclasses';

interface Target {
  name: 'clusterless' | 'kube-apiserver';
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: string }>;
  /** Opens a watch; `onEvent` gets each event line. Resolves once the response head is in. */
  watch(path: string, onEvent: (line: string) => void): Promise<() => void>;
  close(): void;
}

function target(name: Target['name'], base: string, options: { token?: string; ca?: string; concurrency: number }): Target {
  const url = new URL(base);
  const tls = url.protocol === 'https:';
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.concurrency, ...(options.ca ? { ca: options.ca } : {}) })
    : new HttpAgent({ keepAlive: true, maxSockets: options.concurrency });
  const headers = (extra: Record<string, string>) => ({
    accept: 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  });
  const send = (method: string, path: string, hdrs: Record<string, string>, body: string | undefined, useAgent: boolean) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(
        {
          host: url.hostname,
          port: url.port,
          path,
          method,
          headers: headers(hdrs),
          // Watches hold their connection: never one of the agent's pooled sockets.
          agent: useAgent ? agent : false,
          ...(tls && options.ca ? { ca: options.ca } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    name,
    async call(method, path, body, contentType = 'application/json') {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const res = await send(method, path, text ? { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) } : {}, text, true);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
    },
    async watch(path, onEvent) {
      const res = await send('GET', path, {}, undefined, false);
      if (res.statusCode !== 200) throw new Error(`${name}: watch answered ${res.statusCode}`);
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        rest += chunk;
        let nl = rest.indexOf('\n');
        while (nl >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line.trim()) onEvent(line);
          nl = rest.indexOf('\n');
        }
      });
      res.on('error', () => {});
      return () => res.destroy();
    },
    close: () => agent.destroy(),
  };
}

/** Runs `count` calls of `op` with at most `concurrency` in flight; returns the seconds taken. */
async function timed(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

const name = (i: number) => `mc-${String(i).padStart(5, '0')}`;

function expectStatus(t: Target, what: string, status: number, wanted: number, body: string): void {
  if (status !== wanted) throw new Error(`${t.name}: ${what} answered ${status} (wanted ${wanted}): ${body.slice(0, 300)}`);
}

interface Throughputs {
  create: number;
  get: number;
  list: number;
  patch: number;
  watch: number;
}

interface Options {
  objects: number;
  concurrency: number;
  page: number;
  watchers: number;
  watchWrites: number;
}

const machineClass = (n: string) => ({
  apiVersion: 'clusterless.dev/v1alpha1',
  kind: 'MachineClass',
  metadata: { name: n, labels: { bench: 'api-vs-kube' } },
  spec: { sim: { bootSeconds: 1 } },
});

/** Each operation's throughput on one target (per second: requests, or objects for list and watch). */
const OPERATIONS: Record<keyof Throughputs, (t: Target, o: Options) => Promise<number>> = {
  async create(t, o) {
    const s = await timed(o.objects, o.concurrency, async (i) => {
      const r = await t.call('POST', GROUP_PATH, machineClass(name(i)));
      expectStatus(t, 'create', r.status, 201, r.body);
    });
    return o.objects / s;
  },
  async get(t, o) {
    const s = await timed(o.objects, o.concurrency, async (i) => {
      const r = await t.call('GET', `${GROUP_PATH}/${name(i)}`);
      expectStatus(t, 'get', r.status, 200, r.body);
    });
    return o.objects / s;
  },
  // Whole lists, one page after another (a list is sequential by nature), three times over.
  async list(t, o) {
    let listed = 0;
    const t0 = performance.now();
    for (let round = 0; round < 3; round++) {
      let cont: string | undefined;
      do {
        const r = await t.call('GET', `${GROUP_PATH}?limit=${o.page}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
        expectStatus(t, 'list', r.status, 200, r.body);
        const page = JSON.parse(r.body) as { items: unknown[]; metadata: { continue?: string } };
        listed += page.items.length;
        cont = page.metadata.continue || undefined;
      } while (cont);
    }
    const rate = listed / ((performance.now() - t0) / 1000);
    if (listed < 3 * o.objects) throw new Error(`${t.name}: listed ${listed} objects, wanted ${3 * o.objects}`);
    return rate;
  },
  async patch(t, o) {
    const s = await timed(o.objects, o.concurrency, async (i) => {
      const r = await t.call('PATCH', `${GROUP_PATH}/${name(i)}`, { metadata: { labels: { patched: 'yes' } } }, 'application/merge-patch+json');
      expectStatus(t, 'patch', r.status, 200, r.body);
    });
    return o.objects / s;
  },
  // W watchers from the list's resourceVersion, then `watchWrites` patches; timed from the first patch to the
  // last event at the last watcher (events delivered per second).
  async watch(t, o) {
    const head = JSON.parse((await t.call('GET', `${GROUP_PATH}?limit=1`)).body) as { metadata: { resourceVersion: string } };
    const seen = new Array<number>(o.watchers).fill(0);
    let done = 0;
    let allSeen!: () => void;
    const finished = new Promise<void>((resolve) => (allSeen = resolve));
    const stops = await Promise.all(
      seen.map((_, w) =>
        t.watch(`${GROUP_PATH}?watch=true&resourceVersion=${head.metadata.resourceVersion}`, (line) => {
          if (!line.includes('"MODIFIED"')) return;
          if (++seen[w]! === o.watchWrites && ++done === o.watchers) allSeen();
        }),
      ),
    );
    const w0 = performance.now();
    await timed(o.watchWrites, o.concurrency, async (i) => {
      const r = await t.call('PATCH', `${GROUP_PATH}/${name(i % o.objects)}`, { metadata: { labels: { watched: `w${i}` } } }, 'application/merge-patch+json');
      expectStatus(t, 'patch (watched)', r.status, 200, r.body);
    });
    await finished;
    const rate = (o.watchers * o.watchWrites) / ((performance.now() - w0) / 1000);
    for (const stop of stops) stop();
    return rate;
  },
};

/** Warms both servers (and this client) up: a few hundred of each request on objects the measurement never sees. */
async function warmUp(t: Target, o: Options): Promise<void> {
  const n = Math.min(300, o.objects);
  await timed(n, o.concurrency, async (i) => {
    const path = `${GROUP_PATH}/warm-${i}`;
    for (const [method, body, status] of [
      ['POST', machineClass(`warm-${i}`), 201],
      ['GET', undefined, 200],
      ['PATCH', { metadata: { labels: { warm: 'yes' } } }, 200],
      ['DELETE', undefined, 200],
    ] as const) {
      const r = await t.call(method, method === 'POST' ? GROUP_PATH : path, body, method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      expectStatus(t, `warm-up ${method}`, r.status, status, r.body);
    }
  });
}

export async function run(argv: string[] = []): Promise<void> {
  const scenario = flag(argv, 'scenario') ?? 'api-vs-kube';
  const o: Options = {
    objects: Number(flag(argv, 'objects') ?? 10_000),
    concurrency: Number(flag(argv, 'concurrency') ?? 16),
    page: Number(flag(argv, 'page') ?? 500),
    watchers: Number(flag(argv, 'watchers') ?? 50),
    watchWrites: Number(flag(argv, 'watch-writes') ?? 1000),
  };
  const hostMode = flag(argv, 'host') ?? 'process';
  if (hostMode !== 'process' && hostMode !== 'in-process') throw new Error(`--host must be process or in-process, not "${hostMode}"`);
  const dir = await mkdtemp(join(tmpdir(), 'clusterless-api-vs-kube-'));
  const [kube, host] = await Promise.all([
    startKube().then(async (k) => {
      await k.installCrds();
      return k;
    }),
    hostMode === 'process'
      ? startHostProcess(
          ['--data-dir', join(dir, 'data')],
          process.env['BENCH_HOST_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_HOST_NODE_OPTIONS'] } : {},
        ).then((h) => ({ url: h.url, close: () => h.stop().then(() => {}) }))
      : startEmbeddedHost({ port: 0, dataDir: join(dir, 'data'), sweepSeconds: 3600, log: () => {} }),
  ]);
  try {
    const config = parse(kube.adminKubeconfigYaml) as {
      clusters: { cluster: { 'certificate-authority-data': string } }[];
      users: { user: { token: string } }[];
    };
    const kt = target('kube-apiserver', kube.server, {
      token: config.users[0]!.user.token,
      ca: Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8'),
      concurrency: o.concurrency,
    });
    const ct = target('clusterless', host.url, { concurrency: o.concurrency });
    // Operation by operation, one server after the other (never at once: each gets the machine to itself), so
    // that whatever else the machine does drifts over both alike.
    await warmUp(ct, o);
    await warmUp(kt, o);
    const ours = {} as Throughputs;
    const theirs = {} as Throughputs;
    for (const op of Object.keys(OPERATIONS) as (keyof Throughputs)[]) {
      ours[op] = await OPERATIONS[op](ct, o);
      theirs[op] = await OPERATIONS[op](kt, o);
    }
    ct.close();
    kt.close();
    const ops = ['create', 'get', 'list', 'patch', 'watch'] as const;
    for (const op of ops) {
      emit(scenario, `clusterless.${op}`, ours[op], op === 'list' || op === 'watch' ? 'objects/s' : 'requests/s');
      emit(scenario, `kube.${op}`, theirs[op], op === 'list' || op === 'watch' ? 'objects/s' : 'requests/s');
      emit(scenario, `ratio.${op}`, ours[op] / theirs[op], 'x');
    }
    console.log(
      `${scenario}: host ${hostMode}, ${o.objects} objects, ${o.concurrency} in flight, pages of ${o.page}, ${o.watchers} watchers x ${o.watchWrites} writes; ` +
        ops.map((op) => `${op} ${(ours[op] / theirs[op]).toFixed(2)}x (${ours[op].toFixed(0)} vs ${theirs[op].toFixed(0)}/s)`).join(', ') +
        `; goal >= 1.0: ${ops.every((op) => ours[op] >= theirs[op]) ? 'met' : `MISSED by ${ops.filter((op) => ours[op] < theirs[op]).join(', ')}`} [${machineFacts()}]`,
    );
  } finally {
    await host.close();
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
