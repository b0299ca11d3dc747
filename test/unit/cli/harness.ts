/**
 * Runs the CLI in process: a fake terminal (TTY or not, any env), a clock that moves only when the CLI
 * sleeps, and `fetch` answered by the real router on a memory store, so that commands are tested against
 * the API's real behaviour without a socket.
 */
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { ChangeRecordingStore, LocalChangeFeed } from '../../../functions/adapters/store/index.js';
import { handleRequest, type RouterDeps } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Io } from '../../../cli/io.js';
import { runCli, type CliDeps } from '../../../cli/program.js';
import { FakeClock } from '../../support/fake-clock.js';

export const SERVER = 'http://api.test';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface FakeWorld {
  clock: FakeClock;
  store: MemoryStore;
  /** Every request the CLI sent, in order. */
  requests: Request[];
  /** Called after each sleep of the CLI, e.g. to move a rollout along while `rollout status` waits. */
  onSleep?: (ms: number) => Promise<void> | void;
  /** Answers instead of the router when it returns a Response (for host endpoints the router lacks). */
  intercept?: (req: Request) => Response | undefined | Promise<Response | undefined>;
  /** Handlers registered by commands with onInterrupt. */
  interrupts: Set<(signal: string) => void>;
  run(argv: string[], options?: RunOptions): Promise<Captured>;
  /** Calls the API as a test would (the router directly), returning the parsed JSON. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; json: any }>;
  create(obj: ApiObject): Promise<any>;
  /** What the command running now has printed so far. */
  output(): string;
}

export interface WorldOptions {
  /** Serves watches (`?watch=true`) from a change feed of the store, as the embedded host does. @default false */
  watch?: boolean;
}

export interface RunOptions {
  tty?: boolean;
  env?: Record<string, string | undefined>;
  stdin?: string;
  files?: Record<string, string>;
  deps?: CliDeps;
  importModule?: Io['importModule'];
}

export function fakeWorld(start = '2026-01-01T00:00:00Z', worldOptions: WorldOptions = {}): FakeWorld {
  const clock = new FakeClock(start);
  const store = new MemoryStore({ clock });
  const feed = worldOptions.watch ? new LocalChangeFeed(clock) : undefined;
  const deps: RouterDeps = feed ? { store: new ChangeRecordingStore(store, feed), changes: feed, clock } : { store, clock };
  let printed = '';
  const requests: Request[] = [];
  const interrupts = new Set<(signal: string) => void>();

  const route = async (req: Request, signal: AbortSignal | undefined): Promise<Response> => {
    const r = await handleRequest(req, deps);
    if (r.stream) {
      const lines = r.stream(signal ?? new AbortController().signal);
      const encoder = new TextEncoder();
      const bytes = (async function* () {
        for await (const line of lines) yield encoder.encode(line);
      })();
      return new Response(ReadableStream.from(bytes), { status: r.status, headers: r.headers });
    }
    return new Response(r.body, { status: r.status, headers: r.headers });
  };

  const world: FakeWorld = {
    clock,
    store,
    requests,
    interrupts,
    async run(argv, options = {}) {
      let stdout = '';
      let stderr = '';
      printed = '';
      const tty = options.tty ?? false;
      const io: Io = {
        stdout: { write: (s) => void ((stdout += s), (printed = stdout)), isTTY: tty, columns: 120 },
        stderr: { write: (s) => void (stderr += s), isTTY: tty },
        env: { CLUSTERLESS_SERVER: SERVER, ...options.env },
        readStdin: async () => options.stdin ?? '',
        readFile: async (path) => {
          const text = options.files?.[path];
          if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
          return text;
        },
        listDir: async (path) => {
          if (options.files?.[path] === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
          return undefined;
        },
        fetch: (async (input: string | URL | globalThis.Request, init?: RequestInit) => {
          const url = new URL(String(input));
          const headers: Record<string, string> = {};
          for (const [k, v] of new Headers(init?.headers)) headers[k] = v;
          const req: Request = {
            method: init?.method ?? 'GET',
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers,
            body: typeof init?.body === 'string' ? init.body : undefined,
          };
          requests.push(req);
          return (await world.intercept?.(req)) ?? route(req, init?.signal ?? undefined);
        }) as typeof fetch,
        now: () => clock.now().getTime(),
        sleep: async (ms) => {
          clock.advance(ms / 1000);
          await world.onSleep?.(ms);
        },
        onInterrupt: (handler) => {
          interrupts.add(handler);
          return () => interrupts.delete(handler);
        },
        importModule:
          options.importModule ??
          (async (s) => {
            throw Object.assign(new Error(`Cannot find module '/repo/${s.replace('../', '')}' imported from /repo/cli/main.ts`), {
              code: 'ERR_MODULE_NOT_FOUND',
            });
          }),
        exit: (code) => {
          throw new Error(`exit ${code}`);
        },
      };
      const code = await runCli(argv, io, options.deps ?? {});
      return { code, stdout, stderr };
    },
    async api(method, path, body, contentType) {
      const r = await handleRequest(
        {
          method,
          path,
          headers: body === undefined ? {} : { 'content-type': contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json') },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        },
        deps,
      );
      return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
    },
    output: () => printed,
    async create(obj) {
      const plural = `${obj.kind.toLowerCase()}${obj.kind.endsWith('Class') ? 'es' : 's'}`;
      const r = await world.api('POST', `/apis/clusterless.dev/v1alpha1/namespaces/${obj.metadata.namespace ?? 'default'}/${plural}`, obj);
      if (r.status !== 201) throw new Error(`create ${obj.kind}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
  };
  return world;
}
