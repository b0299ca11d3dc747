/**
 * The HTTP API on a plain node:http server, for the embedded host. Listens on 127.0.0.1 only, so that it is
 * not reachable from other machines, and refuses what a browser on this machine was made to send (see
 * browser-guard.ts) before it reads a byte of the body.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  MAX_BODY_BYTES,
  handleRequest,
  maxBodyBytesFor,
  statusResponse,
  tooLarge,
  type HttpRequest,
  type HttpResponse,
  type RouterDeps,
} from '../functions/api/http/index.js';
import { browserRefusal } from './browser-guard.js';

/** Answers one request: the router, or a host that adds routes of its own in front of it. */
export type RequestHandler = (req: HttpRequest) => Promise<HttpResponse>;

/** What a gate sees: the request line and headers, before the body is read. */
export interface RequestHead {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** Refuses a request from its head alone (a response), or lets it go on (undefined). */
export type RequestGate = (head: RequestHead) => HttpResponse | undefined;

export const LOOPBACK = '127.0.0.1';

/**
 * Past the body limit the rest of a request is read and thrown away, so that the client (still sending)
 * gets its 413 instead of a reset connection; past this much more it is cut off.
 */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

export interface HttpServerOptions {
  /** 0 picks any free port. */
  port: number;
  /** The router's dependencies, or a handler of the host's own (which usually ends in the router). */
  deps: RouterDeps | RequestHandler;
  /** Checked after the browser guard and before the body is read (the host's credentials). */
  gate?: RequestGate;
  /**
   * Pages anyone on loopback may read (the dashboard's files, which hold no data): answered after the browser
   * guard and before the gate; undefined passes the request on to the gate and the handler.
   */
  pages?: PageHandler;
}

/** Answers a request for a page from its head alone, or undefined when the path is no page's. */
export type PageHandler = (head: RequestHead) => Promise<HttpResponse | undefined>;

export interface RunningHttpServer {
  url: string;
  port: number;
  /** Stops accepting connections, lets requests in flight finish (a few seconds at most) and resolves. */
  close(): Promise<void>;
}

type Body = { ok: true; text: string } | { ok: false };

/** Reads the body without ever holding more than the limit in memory. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        if (size > limit + DISCARD_LIMIT_BYTES) {
          req.pause();
          resolve({ ok: false });
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? { ok: false } : { ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: HttpResponse, close = false): void {
  res.writeHead(r.status, { ...r.headers, ...(close ? { connection: 'close' } : {}) });
  res.end(r.body);
}

/**
 * Writes a watch: the headers at once (no content-length, so node:http sends it chunked), then each line as it
 * comes, until the stream ends, the client goes away or the server shuts down.
 */
async function sendStream(res: ServerResponse, r: HttpResponse, stream: NonNullable<HttpResponse['stream']>, shutdown: AbortSignal): Promise<void> {
  const left = new AbortController();
  const stop = () => left.abort();
  res.on('close', stop);
  const signal = AbortSignal.any([left.signal, shutdown]);
  try {
    res.writeHead(r.status, r.headers);
    res.flushHeaders();
    for await (const line of stream(signal)) {
      if (signal.aborted) break;
      // A client that reads slowly holds the stream back rather than the server's memory.
      if (!res.write(line))
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
    }
  } finally {
    res.off('close', stop);
    // On shutdown the connection goes too: server.close() waits for every open connection.
    const socket = res.socket;
    res.end(() => shutdown.aborted && socket?.destroy());
  }
}

/** The request listener: node:http request -> router request -> node:http response. */
export function requestListener(
  deps: RouterDeps | RequestHandler,
  gate?: RequestGate,
  shutdown: AbortSignal = new AbortController().signal,
  pages?: PageHandler,
) {
  const handle: RequestHandler = typeof deps === 'function' ? deps : (r) => handleRequest(r, deps);
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES + DISCARD_LIMIT_BYTES) {
        res.on('finish', () => req.destroy());
        return send(res, statusResponse(tooLarge(MAX_BODY_BYTES).status), true);
      }
      // Refusals from the head alone come before the body is read; the connection is closed rather than
      // kept for a body nobody will read.
      const browser = browserRefusal(req.headers, req.socket.localPort ?? 0);
      if (browser) return send(res, statusResponse(browser.status), true);
      // The path as sent, not as the URL parser resolves it (dot segments, `//`): the router refuses what is not
      // canonical, as it does behind API Gateway, so that path-based permissions and the router agree. Only an
      // origin-form target (`/a/b?q`) has one: an absolute-form (`http://host/a/../b`, which proxies are sent)
      // or asterisk-form target is nothing a client of this server sends, and is refused rather than resolved.
      const path = rawPath(req.url);
      if (path === undefined) return send(res, statusResponse(notOriginForm().status), true);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const method = req.method ?? 'GET';
      const page = await pages?.({ method, path, headers });
      if (page) return send(res, page);
      const refused = gate?.({ method, path, headers });
      if (refused) return send(res, refused, true);
      // ClusterResourceSet writes take larger bodies (their manifests); the router holds every route to its own limit.
      const limit = maxBodyBytesFor(path);
      const body = await readBody(req, limit);
      if (!body.ok) {
        if (!req.complete) res.on('finish', () => req.destroy());
        return send(res, statusResponse(tooLarge(limit).status), !req.complete);
      }
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
      const answer = await handle({ method, path, query, headers, ...(body.text ? { body: body.text } : {}) });
      if (answer.stream) return await sendStream(res, answer, answer.stream, shutdown);
      send(res, answer);
    })().catch(() => {
      // The client went away while sending; there is nobody to answer.
      req.destroy();
    });
  };
}

const notOriginForm = () => {
  const message = 'the request target must be a path such as /apis/clusterless.dev/v1alpha1/clusters (origin-form), not a URL or "*"';
  return new ApiError('BadRequest', message, { causes: [{ reason: 'FieldValueInvalid', message, field: 'requestTarget' }] });
};

/** The path of an origin-form request target (`/a/b?q`), untouched; undefined for any other form. */
function rawPath(target: string | undefined): string | undefined {
  if (!target?.startsWith('/')) return undefined;
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

/** Starts the server on 127.0.0.1 (never another interface) and resolves once it listens. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  // Closing ends the watches (they would otherwise hold the server open for up to their timeout).
  const shutdown = new AbortController();
  const server = createServer(requestListener(options.deps, options.gate, shutdown.signal, options.pages));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        shutdown.abort();
        const force = setTimeout(() => server.closeAllConnections(), 5_000);
        server.close((err) => {
          clearTimeout(force);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
