/**
 * The CLI's only way to the control plane: HTTP to --server, Kubernetes-style paths, Status errors turned
 * into one-line reasons, an optional bearer token or SigV4 signature.
 */
import { API_VERSION } from '../functions/api/group-version.js';
import type { KindDef } from '../functions/api/kind.js';
import { ApiRequestError, UnreachableError, statusMessage, type StatusBody } from './errors.js';
import type { RequestSigner } from './sigv4.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const MERGE_PATCH = 'application/merge-patch+json';
/** Server-side apply, as `kubectl apply --server-side` sends it; the body may be JSON (JSON is YAML). */
export const APPLY_PATCH = 'application/apply-patch+yaml';
/** The field manager the CLI names on writes that need one (apply). */
export const FIELD_MANAGER = 'clusterless';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ClientOptions {
  server: string;
  /** Sent as `Authorization: Bearer`; takes the place of a signature. */
  token?: string;
  fetch: typeof fetch;
  /** Resolved once, at the first request: the SigV4 signer, or undefined to send requests unsigned. */
  signer?: () => Promise<RequestSigner | undefined>;
  requestTimeoutMs?: number;
  /** Checks the server URL before the first request, throwing the error to show. */
  validate?: (server: string) => unknown;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | undefined>;
  /** The reply body as the server sent it (text such as a kubeconfig), instead of parsed JSON. */
  raw?: boolean;
}

/** A Kubernetes list as it comes over the wire. */
interface ListBody<T> {
  metadata?: { continue?: string };
  items?: T[];
}

export interface Reply<T> {
  status: number;
  body: T;
}

/** `/apis/clusterless.dev/v1alpha1/namespaces/{ns}/{plural}[/{name}[/{sub}]]`, or the cross-namespace list. */
export function resourcePath(def: KindDef, namespace: string | undefined, name?: string, sub?: string): string {
  const base = `/apis/${API_VERSION}`;
  if (namespace === undefined) return `${base}/${def.plural}`;
  return [`${base}/namespaces/${encodeURIComponent(namespace)}/${def.plural}`, name && encodeURIComponent(name), sub].filter(Boolean).join('/');
}

export class ApiClient {
  readonly server: string;
  private readonly options: ClientOptions;
  private signer: Promise<RequestSigner | undefined> | undefined;

  constructor(options: ClientOptions) {
    this.options = options;
    this.server = options.server.replace(/\/+$/, '');
  }

  url(path: string, query: Record<string, string | undefined> = {}): URL {
    // The server may carry a path of its own (an API Gateway stage: https://x.execute-api.../prod).
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    this.options.validate?.(this.server);
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const { headers, signed } = await this.headersFor(method, url, body, options.contentType);
    let res: Response;
    let text: string;
    try {
      res = await this.options.fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    const json = parseJson(text);
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: (options.raw ? text : json) as T };
    throw this.refusal(method, url, res, text, json, signed);
  }

  private async headersFor(method: string, url: URL, body: string | undefined, contentType: string | undefined) {
    let headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    let signed = false;
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    else if (this.options.signer) {
      this.signer ??= this.options.signer();
      const sign = await this.signer;
      if (sign) {
        headers = await sign({ method, url, headers, ...(body !== undefined ? { body } : {}) });
        signed = true;
      }
    }
    return { headers, signed };
  }

  /**
   * A watch (`?watch=true` on a list path): its events as they come, until the server ends the stream or `signal`
   * aborts. Undefined when the answer is not a watch stream (a server without watch answers with a list), so that
   * the caller can poll instead.
   */
  async watch<T = unknown>(
    path: string,
    query: Record<string, string | undefined>,
    signal: AbortSignal,
  ): Promise<AsyncIterable<WatchEventBody<T>> | undefined> {
    this.options.validate?.(this.server);
    const url = this.url(path, { ...query, watch: 'true' });
    const { headers, signed } = await this.headersFor('GET', url, undefined, undefined);
    // The request timeout holds until the headers come; then only the caller's signal ends the watch.
    const aborted = new AbortController();
    const stop = () => aborted.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    const timer = setTimeout(stop, this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    signal.addEventListener('abort', () => aborted.abort(), { once: true });
    let res: Response;
    try {
      res = await this.options.fetch(url, { method: 'GET', headers, signal: aborted.signal });
    } catch (err) {
      throw this.unreachable(err);
    } finally {
      clearTimeout(timer);
    }
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text().catch(() => '');
      throw this.refusal('GET', url, res, text, parseJson(text), signed);
    }
    if (!res.body) return undefined;
    // From here on only the caller's signal ends it: a watch lasts as long as the server keeps it open.
    const lines = readLines(res.body, signal);
    const first = await lines.next();
    const event = first.done ? undefined : parseJson(first.value);
    if (!isWatchEvent(event)) {
      await lines.return(undefined);
      return undefined;
    }
    return (async function* () {
      yield event as WatchEventBody<T>;
      for await (const line of lines) {
        const e = parseJson(line);
        if (isWatchEvent(e)) yield e as WatchEventBody<T>;
      }
    })();
  }

  get<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<Reply<T>> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  /**
   * Every item of a list, page after page: the server answers a list in pages (500 items, fewer when they are
   * large) and says `metadata.continue` while more remain, as kube-apiserver does for kubectl.
   */
  async list<T = unknown>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    for (;;) {
      const page = (await this.get<ListBody<T>>(path, { ...query, ...(token ? { continue: token } : {}) })).body;
      items.push(...(page?.items ?? []));
      token = page?.metadata?.continue || undefined;
      if (token === undefined) return items;
      // A server that hands out the same token twice would keep us here for ever.
      if (seen.has(token)) throw new Error(`the server repeated a continue token while listing ${path}`);
      seen.add(token);
    }
  }

  private unreachable(err: unknown): UnreachableError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'no answer in time' : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
    const hint = this.server === DEFAULT_SERVER ? ' (is it running? start one with `clusterless up`)' : '';
    return new UnreachableError(`cannot reach the clusterless API at ${this.server}: ${why}${hint}`, { cause: err });
  }

  private refusal(method: string, url: URL, res: Response, text: string, json: unknown, signed: boolean): ApiRequestError {
    const status = isStatus(json) ? json : undefined;
    if (status) return new ApiRequestError(statusMessage(status, `${res.status} ${res.statusText}`), res.status, status);
    // Not a Status: API Gateway's own refusals ({"message": ...}) or a proxy's page.
    const message =
      json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string' ? (json as { message: string }).message : undefined;
    let line = message
      ? `${message} (HTTP ${res.status} from ${method} ${url.pathname})`
      : `the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} to ${method} ${url.pathname}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`;
    if ((res.status === 401 || res.status === 403) && !signed && !this.options.token)
      line += url.protocol === 'https:' ? '; no AWS credentials were found to sign the request' : '; pass --token or set CLUSTERLESS_TOKEN';
    return new ApiRequestError(line, res.status, undefined);
  }
}

/** One event of a watch stream (metav1.WatchEvent). */
export interface WatchEventBody<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const isWatchEvent = (v: unknown): v is WatchEventBody =>
  v !== null && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { object?: unknown }).object === 'object';

/** The lines of a body as they arrive; ends quietly when the stream ends or is aborted. */
async function* readLines(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      let end = buffered.indexOf('\n');
      while (end >= 0) {
        const line = buffered.slice(0, end).trim();
        buffered = buffered.slice(end + 1);
        if (line) yield line;
        end = buffered.indexOf('\n');
      }
    }
    if (buffered.trim()) yield buffered.trim();
  } finally {
    signal.removeEventListener('abort', cancel);
    cancel();
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isStatus(v: unknown): v is StatusBody {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'Status';
}

/** True when the server answered 404 because it does not serve the path at all (not "no such object"). */
export function isRouteNotFound(err: unknown): boolean {
  return err instanceof ApiRequestError && err.httpStatus === 404 && !err.status?.details?.name;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiRequestError && err.httpStatus === 404;
}
