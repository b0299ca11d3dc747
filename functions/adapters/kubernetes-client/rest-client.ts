/**
 * A small client of the Kubernetes REST API over node:https, for the workload adapters of the task functions:
 * @kubernetes/client-node with its HTTP, WebSocket and YAML stacks is about 2 MB of their bundles, for a handful
 * of calls. It speaks JSON, merge patch and strategic merge patch, authenticates with the kubeconfig's client
 * certificate, bearer token or basic credentials, and turns a refusal into a KubernetesApiError that carries the
 * HTTP status and the Status body (API concepts: https://kubernetes.io/docs/reference/using-api/api-concepts/).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { loadKubeconfig, type Kubeconfig, type KubeconfigSource } from './kubeconfig.js';
import type { Status } from './types.js';

/** The patch content types the API server takes (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/). */
export const PatchType = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
export type PatchType = keyof typeof PatchType;

/** The API server refused the call: `code` is the HTTP status, `status` the Status body when there was one. */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    readonly code: number,
    readonly status: Status | undefined,
    /** Seconds the server asks the client to wait (Retry-After, or the Status's details.retryAfterSeconds): 429 and some 5xx. */
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** No answer within the client's timeout; the request is abandoned (its socket destroyed). */
export class KubernetesTimeoutError extends Error {
  override name = 'KubernetesTimeoutError';
}

/** The HTTP status of a refusal; undefined for transport errors (refused, reset, TLS, timeout). */
export function httpStatusOf(err: unknown): number | undefined {
  return err instanceof KubernetesApiError ? err.code : undefined;
}

/** A short text for logs and status: `code: Status message` for a refusal, the error and its cause's code otherwise. */
export function errorMessage(err: unknown): string {
  if (err instanceof KubernetesApiError) return `${err.code}: ${err.status?.message ?? err.message}`;
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message ?? e?.code;
  return `${e?.message ?? String(err)}${cause && !e?.message?.includes(cause) ? ` (${cause})` : ''}`;
}

export interface KubernetesClientOptions {
  /**
   * How long one call may take, connect to last byte.
   * @default 10000
   */
  timeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** @default 'application/json' when there is a body */
  contentType?: string;
}

/** `/api/v1/namespaces/{namespace}/{resource}[/{name}]` and its apis/ form, with names escaped. */
export function resourcePath(group: string, version: string, resource: string, o: { namespace?: string; name?: string; subresource?: string } = {}): string {
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const ns = o.namespace !== undefined ? `/namespaces/${encodeURIComponent(o.namespace)}` : '';
  const name = o.name !== undefined ? `/${encodeURIComponent(o.name)}` : '';
  const sub = o.subresource !== undefined ? `/${o.subresource}` : '';
  return `${base}${ns}/${resource}${name}${sub}`;
}

/** How many seconds a Retry-After header says (delta-seconds, or an HTTP date). */
function retryAfter(header: string | undefined, status: Status | undefined, now: number): number | undefined {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  return status?.details?.retryAfterSeconds;
}

export class KubernetesClient {
  readonly config: Kubeconfig;
  readonly timeoutMs: number;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly headers: Record<string, string>;

  constructor(source: KubeconfigSource, options: KubernetesClientOptions = {}) {
    this.config = loadKubeconfig(source);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.base = new URL(this.config.server);
    const c = this.config;
    // One keep-alive agent per client: a warm Lambda container reuses its TLS connection to the cluster.
    this.agent =
      this.base.protocol === 'http:'
        ? new HttpAgent({ keepAlive: true })
        : new HttpsAgent({
            keepAlive: true,
            ...(c.ca ? { ca: c.ca } : {}),
            ...(c.cert ? { cert: c.cert } : {}),
            ...(c.key ? { key: c.key } : {}),
            ...(c.tlsServerName ? { servername: c.tlsServerName } : {}),
            rejectUnauthorized: c.insecureSkipTlsVerify !== true,
          });
    this.headers = {
      accept: 'application/json',
      'user-agent': 'clusterless',
      ...(c.token
        ? { authorization: `Bearer ${c.token}` }
        : c.username !== undefined
          ? { authorization: `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}` }
          : {}),
    };
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T>(path: string, body: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: PatchType[type] });
  }

  delete<T = Status>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body === undefined ? {} : { body });
  }

  /** One call; resolves with the parsed JSON body of a 2xx answer, rejects with KubernetesApiError otherwise. */
  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.base.toString());
    url.pathname = `${this.base.pathname.replace(/\/$/, '')}${path}`;
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers = {
      ...this.headers,
      ...(payload ? { 'content-type': options.contentType ?? 'application/json', 'content-length': String(payload.length) } : {}),
    };
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent }, (res) => {
        readBody(res).then((text) => {
          const code = res.statusCode ?? 0;
          const json = parseJson(text);
          if (code >= 200 && code < 300) return resolve(json as T);
          const status = json && typeof json === 'object' && (json as Status).kind === 'Status' ? (json as Status) : undefined;
          const wait = retryAfter(header(res, 'retry-after'), status, Date.now());
          const message = status?.message ?? (text.slice(0, 300) || res.statusMessage || `HTTP ${code}`);
          reject(new KubernetesApiError(code, status, wait, `${method} ${path}: ${code} ${message}`));
        }, reject);
      });
      // A dead endpoint can hold a TCP connect for minutes.
      const timer = setTimeout(() => req.destroy(new KubernetesTimeoutError(`${method} ${path}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(payload);
    });
  }

  /** Closes the kept connections (a host that stops). */
  close(): void {
    this.agent.destroy();
  }
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
