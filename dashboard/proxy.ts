/**
 * `clusterless dashboard`: the page on 127.0.0.1, and a proxy that sends its API calls to the deployed server signed
 * with the user's AWS credentials (SigV4, or the --token bearer), so that the browser holds no credential and no new
 * endpoint is opened on AWS. The proxy forwards reads only: GET on the clusterless.dev and events.k8s.io list and
 * get routes (watches included, streamed) and the cost meter; never a write, never the kubeconfig route (it issues
 * admin credentials) nor anything else. Anyone on this machine can reach 127.0.0.1, so the proxy also makes a
 * session token of its own, handed to the page in the printed URL's fragment (never sent to a server, never logged
 * by one) and required on every API call; and it keeps the embedded host's browser guard (loopback Host, own Origin,
 * no cross-site request), so another site's page can neither read nor use it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ApiError, statusResponse } from '../functions/api/http/index.js';
import { bearerMatches, newBearerToken } from '../local/access.js';
import { browserRefusal } from '../local/browser-guard.js';
import { dashboardAnswer } from './assets.js';

/** Signs a request for the server: the headers to send (the SigV4 signer of cli/sigv4.ts has this shape). */
export type ProxySigner = (request: { method: string; url: URL; headers: Record<string, string> }) => Promise<Record<string, string>>;

export interface DashboardProxyOptions {
  /** The deployed API (its SigV4 door), or any clusterless server. */
  server: URL;
  /** Signs each forwarded request; without one, requests go unsigned (or with `bearer`). */
  signer?: ProxySigner;
  /** A bearer token for the server (`--token`), in place of a signature. */
  bearer?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** The page's token for the proxy. @default - 32 random bytes */
  sessionToken?: string;
  fetch?: typeof fetch;
}

export interface DashboardProxy {
  /** The page's address with the session token in its fragment: what the user opens. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The paths the proxy forwards (GET only): the two API groups' reads and the cost routes, not the kubeconfig route. */
export function isForwarded(method: string, path: string): boolean {
  if (method !== 'GET') return false;
  if (path === '/clusterless/v1/cost' || /^\/clusterless\/v1\/namespaces\/[a-z0-9-]+\/cost$/.test(path)) return true;
  if (!/^\/apis\/(clusterless\.dev\/v1alpha1|events\.k8s\.io\/v1)(\/[a-z0-9.-]+)*$/.test(path)) return false;
  return !path.endsWith('/kubeconfig');
}

/** A refusal as the API words it: a Kubernetes Status; the connection is not kept for a body nobody reads. */
function refuse(res: ServerResponse, err: ApiError): void {
  const r = statusResponse(err.status);
  res.writeHead(r.status, { ...r.headers, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'close' });
  res.end(r.body);
}

export async function startDashboardProxy(options: DashboardProxyOptions): Promise<DashboardProxy> {
  const sessionToken = options.sessionToken ?? newBearerToken();
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.server.href.replace(/\/+$/, '');
  const shutdown = new AbortController();

  const handle = async (req: IncomingMessage, res: ServerResponse, port: number): Promise<void> => {
    const refused = browserRefusal(req.headers, port);
    if (refused) return refuse(res, refused);
    const target = req.url ?? '/';
    if (!target.startsWith('/')) return refuse(res, new ApiError('BadRequest', 'the request target must be a path (origin-form)'));
    const q = target.search(/[?#]/);
    const path = q < 0 ? target : target.slice(0, q);
    const method = req.method ?? 'GET';
    const page = await dashboardAnswer(method, path);
    if (page) {
      res.writeHead(page.status, page.headers);
      res.end(page.body);
      return;
    }
    if (!bearerMatches(req.headers.authorization, sessionToken))
      return refuse(res, new ApiError('Unauthorized', 'open the dashboard with the URL `clusterless dashboard` printed (it carries the session token)'));
    if (!isForwarded(method, path))
      return refuse(res, new ApiError('MethodNotAllowed', `the dashboard proxy forwards reads of the API only, not ${method} ${path}`));
    const url = new URL(base + target);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.bearer) headers['authorization'] = `Bearer ${options.bearer}`;
    const signed = options.signer ? await options.signer({ method, url, headers }) : headers;
    const left = new AbortController();
    res.on('close', () => left.abort());
    let upstream: Response;
    try {
      upstream = await doFetch(url, { method, headers: signed, signal: AbortSignal.any([left.signal, shutdown.signal]), redirect: 'error' });
    } catch (err) {
      if (left.signal.aborted) return;
      return refuse(res, new ApiError('ServiceUnavailable', `the server ${options.server.host} could not be reached: ${(err as Error).message}`));
    }
    // Only what the page reads is passed on: no cookie, no CORS header from the server.
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (!upstream.body) return void res.end();
    res.flushHeaders();
    Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  let port = 0;
  const server = createServer((req, res) => {
    handle(req, res, port).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, new ApiError('InternalError', (err as Error).message));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/#token=${sessionToken}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        shutdown.abort();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
