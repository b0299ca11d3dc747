import { systemClock, type ChangeFeed, type Clock, type Store } from '../../ports.js';
import { GROUP, VERSION } from '../common.js';
import type { KindDef } from '../kind.js';
import type { KindName } from '../kinds.js';
import { kindByPlural } from '../kinds.js';
import { ObjectService, isName, storeErrorStatus, type ObjectKey } from '../service/object-service.js';
import {
  APPLY_PATCH_TYPE,
  JSON_TYPE,
  MERGE_PATCH_TYPE,
  MAX_BODY_BYTES,
  maxBodyBytesFor,
  mediaType,
  objectBodyFormat,
  parseJson,
  parseObjectBody,
  parseYaml,
  requireObject,
  serialize,
  wantsYaml,
} from './body.js';
import { serveImportRoute, type ClusterImportHooks, type ImportRoute } from './cluster-import.js';
import { discoveryResponse, type DiscoveredGroupVersion, type DiscoveryRoute } from './discovery.js';
import { EVENTS_GROUP } from '../event.js';
import { EVENTS_GROUP_VERSION, serveEvents, watchEventsResponse } from './events.js';
import type { ApiLimits } from './limits.js';
import { LIST_BYTE_BUDGET, listItemBytes, listLimit } from './paging.js';
import { checkApplyQuery, checkQuery } from './query.js';
import { parseDeleteOptions } from './delete-options.js';
import { JSON_PATCH_TYPE, parseJsonPatch, type JsonPatchOperation } from './json-patch.js';
import { SCALABLE_KINDS, scale } from './scale.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { objectTable, parseIncludeObject, tableVersionAsked } from './table.js';
import { isWatchRequest, watchResponse } from './watch.js';
import { serveMove } from './move.js';
import type { MoveDeps } from '../service/move.js';
import { ApiError, badRequest, internalError, methodNotAllowed, notFound, unsupportedMediaType, type Status } from './status.js';

/** A request as both hosts see it: API Gateway's proxy event and node:http both become this. */
/** A request as a JSON client sends it (PATCH as a merge patch), for callers of handleRequest in process. */
export function jsonRequest(method: string, path: string, body?: unknown): HttpRequest {
  return {
    method,
    path,
    query: {},
    headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

export interface HttpRequest {
  method: string;
  /** The path without the query string, e.g. /apis/clusterless.dev/v1alpha1/namespaces/default/clusters. */
  path: string;
  /** Query parameters, decoded; the first value when one is repeated. */
  query?: Record<string, string | undefined>;
  /** Header names in any case. */
  headers?: Record<string, string | undefined>;
  /** The body as text (hosts decode base64 and enforce the size limit while reading). */
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** A watch: lines the host writes as they come (chunked), until the iterable ends or `signal` aborts (the client left). */
  stream?: (signal: AbortSignal) => AsyncIterable<string>;
}

export interface RouterDeps {
  store: Store;
  /**
   * The admin kubeconfig of a workload cluster, signed by its CA, its client certificate valid for
   * `expirationSeconds` (KUBECONFIG_EXPIRATION); undefined when the cluster has no certificates (yet). Without the
   * hook the route answers 404, as on the simulator.
   */
  kubeconfig?: (namespace: string, clusterName: string, expirationSeconds: number) => Promise<string | undefined>;
  /** `clusterless import` (cluster-import.ts): certificates and instance adoption. Without it those routes answer 404. */
  clusterImport?: ClusterImportHooks;
  /** Told about every error that became a 500, so the host can log it. */
  onInternalError?(err: unknown): void;
  /** What this installation allows beyond validity (replica counts). @default - see ApiLimits */
  limits?: ApiLimits;
  /** Group versions discovery lists next to clusterless.dev (their routes are served elsewhere). @default - none */
  apiGroups?: readonly DiscoveredGroupVersion[];
  /** The store's recent changes: with it, `?watch=true` on a list streams events (watch.ts), and lists carry a resourceVersion. */
  changes?: ChangeFeed;
  /**
   * The store's clock: ages in server-side printing, events' expiry and caching headers are reckoned by it (the
   * embedded host's is scaled). @default - the system clock
   */
  clock?: Clock;
  /** With it, a Cluster's `move` subresource serves `clusterless move` (move.ts); without it, 404. */
  move?: MoveDeps;
}

const PREFIX = ['apis', GROUP, VERSION] as const;

type Route =
  | { type: 'healthz' }
  | DiscoveryRoute
  | { type: 'list-all'; def: KindDef }
  | { type: 'collection'; def: KindDef; namespace: string }
  | { type: 'object' | 'status' | 'rollback' | 'scale'; def: KindDef; namespace: string; name: string }
  | { type: 'kubeconfig'; def: KindDef; namespace: string; name: string }
  | { type: 'move'; def: KindDef; namespace: string; name: string }
  | (ImportRoute & { def: KindDef })
  | { type: 'events'; rest: string[] };

const ALLOWED: Record<Route['type'], readonly string[]> = {
  healthz: ['GET'],
  version: ['GET'],
  api: ['GET'],
  openapi: ['GET'],
  'openapi-group-version': ['GET'],
  apis: ['GET'],
  group: ['GET'],
  resources: ['GET'],
  'list-all': ['GET'],
  collection: ['GET', 'POST'],
  object: ['GET', 'PUT', 'PATCH', 'DELETE'],
  status: ['GET', 'PUT', 'PATCH'],
  scale: ['GET', 'PUT', 'PATCH'],
  rollback: ['POST'],
  kubeconfig: ['GET'],
  move: ['GET', 'POST'],
  certificates: ['POST'],
  adopt: ['POST'],
  // Read-only: only the control plane writes events.
  events: ['GET'],
};

const resourceNotFound = () => new ApiError('NotFound', 'the server could not find the requested resource', {});

/**
 * The segments of a path in canonical form. Anything else is refused with the canonical form named, so that
 * a policy written on API Gateway paths (IAM, resource policies) and the router always read a path the same
 * way: no empty segment (`//`, a trailing slash), no `.` or `..`, and no percent-encoding, which no segment of
 * a route needs (names and namespaces are DNS labels; the rest are fixed words).
 */
function segmentsOf(path: string): string[] {
  const raw = path.split('?')[0]!;
  if (raw === '' || raw === '/') return [];
  const segments = (raw.startsWith('/') ? raw.slice(1) : raw).split('/');
  const problem = segments.some((s) => s === '' || s === '.' || s === '..')
    ? 'empty, "." or ".." segments'
    : segments.some((s) => s.includes('%'))
      ? 'percent-encoded characters (names are DNS labels and need none)'
      : !raw.startsWith('/')
        ? 'no leading slash'
        : undefined;
  if (problem === undefined) return segments;
  throw badRequest(`the path ${shownPath(raw)} is not in canonical form: it has ${problem}; send ${shownPath(canonicalPath(segments))}`);
}

/** What a client most likely meant: dot segments resolved (RFC 3986 section 5.2.4), empty ones dropped, escapes decoded. */
function canonicalPath(segments: readonly string[]): string {
  const out: string[] = [];
  for (const s of segments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      decoded = s; // not validly percent-encoded: shown as sent
    }
    if (decoded === '' || decoded === '.') continue;
    if (decoded === '..') out.pop();
    else out.push(decoded);
  }
  return `/${out.join('/')}`;
}

/** A path in a message: JSON-quoted when it holds characters a terminal or log would mangle, and never huge. */
function shownPath(p: string): string {
  const cut = p.length > 300 ? `${p.slice(0, 300)}...` : p;
  return /^[\x21-\x7e]*$/.test(cut) ? cut : JSON.stringify(cut);
}

function route(path: string): Route {
  const seg = segmentsOf(path);
  if (seg.length === 1 && seg[0] === 'healthz') return { type: 'healthz' };
  // Discovery and OpenAPI (discovery.ts answers): /version, /api, /openapi/v3[/apis/{group}/{version}], /apis/{group}[/{version}].
  if (seg.length === 1 && (seg[0] === 'version' || seg[0] === 'api')) return { type: seg[0] };
  if (seg[0] === 'openapi' && seg[1] === 'v3') return seg.length === 2 ? { type: 'openapi' } : { type: 'openapi-group-version', path: seg.slice(2).join('/') };
  if (seg[0] !== PREFIX[0]) throw resourceNotFound();
  if (seg.length === 1) return { type: 'apis' };
  if (seg.length === 2) return { type: 'group', group: seg[1]! };
  if (seg.length === 3 && (seg[1] !== PREFIX[1] || seg[2] !== PREFIX[2])) return { type: 'resources', group: seg[1]!, version: seg[2]! };
  if (seg[1] === EVENTS_GROUP) return { type: 'events', rest: seg.slice(2) };
  if (seg[1] !== PREFIX[1]) throw resourceNotFound();
  if (seg[2] !== PREFIX[2]) throw resourceNotFound();
  const rest = seg.slice(3);
  if (rest.length === 0) return { type: 'resources', group: PREFIX[1], version: PREFIX[2] };
  const kind = (plural: string | undefined) => {
    const def = plural === undefined ? undefined : kindByPlural(plural);
    if (!def) throw resourceNotFound();
    return def;
  };
  if (rest.length === 1) return { type: 'list-all', def: kind(rest[0]) };
  if (rest[0] !== 'namespaces' || rest.length < 3) throw resourceNotFound();
  const [, namespace, plural, name, sub] = rest as [string, string, string, string?, string?];
  const def = kind(plural);
  if (rest.length === 3) return { type: 'collection', def, namespace };
  if (rest.length === 4) return { type: 'object', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'status') return { type: 'status', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'scale' && SCALABLE_KINDS.has(def.kind)) return { type: 'scale', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'rollback' && def.kind === 'MachineDeployment') return { type: 'rollback', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'kubeconfig' && def.kind === 'Cluster') return { type: 'kubeconfig', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'move' && def.kind === 'Cluster') return { type: 'move', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'certificates' && def.kind === 'Cluster') return { type: 'certificates', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'adopt' && def.kind === 'Machine') return { type: 'adopt', def, namespace, name: name! };
  throw resourceNotFound();
}

/**
 * The HTTP API of DESIGN section 3, Kubernetes-style. Shared by the API Gateway handler and the local
 * server; it never sees either. Every refusal is a Status and leaves the store as it was.
 */
export async function handleRequest(req: HttpRequest, deps: RouterDeps): Promise<HttpResponse> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const yaml = wantsYaml(headers['accept']);
  let pretty = false;
  try {
    const r = route(req.path);
    const method = req.method.toUpperCase();
    if (!ALLOWED[r.type].includes(method)) {
      const res = statusResponse(methodNotAllowed(method, req.path).status, yaml);
      res.headers['allow'] = ALLOWED[r.type].join(', ');
      return res;
    }
    const isApply = method === 'PATCH' && r.type === 'object' && mediaType(headers['content-type']) === APPLY_PATCH_TYPE;
    const options = isApply ? checkApplyQuery(req.query ?? {}) : checkQuery(method, req.query ?? {});
    pretty = options.pretty;
    const service = new ObjectService({ store: deps.store, dryRun: options.dryRun, ...(deps.limits ? { limits: deps.limits } : {}) });
    // Status writes and everything else keep the small limit; the path is canonical by now.
    const bodyLimit = r.type === 'collection' || r.type === 'object' ? maxBodyBytesFor(req.path) : MAX_BODY_BYTES;
    const ctx: Ctx = {
      req,
      headers,
      method,
      store: deps.store,
      service,
      isApply,
      format: { yaml, pretty },
      bodyLimit,
      ...(deps.changes ? { changes: deps.changes } : {}),
    };
    if (r.type === 'kubeconfig') return await kubeconfig(r, ctx, deps);
    if (r.type === 'move') return respond(...(await serveMove(method, req.body, r, deps.store, deps.move)), yaml, pretty);
    if (r.type === 'certificates' || r.type === 'adopt') {
      if (!isName(r.namespace) || !isName(r.name)) throw notFound(r.def.plural, r.name);
      const body = { ...(req.body !== undefined ? { body: req.body } : {}), contentType: headers['content-type'], bodyLimit };
      const [status, value] = await serveImportRoute(r, body, service, deps.clusterImport);
      return respond(status, value, yaml, pretty);
    }
    const now = () => (deps.clock ?? systemClock).now().getTime();
    if (r.type === 'events') {
      const query = req.query ?? {};
      // Without a change feed a watch is refused, not answered with a list kubectl would misread.
      if (isWatchRequest(query) && !deps.changes)
        throw new ApiError('MethodNotAllowed', 'this server keeps no change feed: list events instead of watching them');
      const watching =
        isWatchRequest(query) && deps.changes
          ? watchEventsResponse({ rest: r.rest, query, accept: headers['accept'], store: deps.store, changes: deps.changes, now: () => new Date(now()) })
          : undefined;
      if (watching) return watching;
      const changes = deps.changes ? { changes: deps.changes } : {};
      const read = { rest: r.rest, query, accept: headers['accept'], format: ctx.format, store: deps.store, now: new Date(now()), ...changes };
      return respond(200, await serveEvents(read), yaml, pretty);
    }
    if (r.type !== 'healthz' && !('def' in r))
      return discoveryResponse(r, { headers, query: req.query ?? {}, extra: [EVENTS_GROUP_VERSION, ...(deps.apiGroups ?? [])], now: now(), yaml, pretty });
    if ((r.type === 'list-all' || r.type === 'collection') && method === 'GET' && deps.changes && isWatchRequest(req.query)) {
      const tableVersion = tableVersionAsked(headers['accept']);
      const table = tableVersion ? { version: tableVersion, includeObject: parseIncludeObject(req.query?.['includeObject']), now } : undefined;
      return watchResponse({ changes: deps.changes, store: deps.store }, r.def, r.type === 'collection' ? r.namespace : undefined, req.query ?? {}, table);
    }
    const [status, value] = await dispatch(r, ctx);
    // Server-side printing (table.ts): what `kubectl get` asks for, for one object or a list.
    const table = method === 'GET' && 'def' in r ? tableVersionAsked(headers['accept']) : undefined;
    if (table && 'def' in r) {
      const includeObject = parseIncludeObject(req.query?.['includeObject']);
      return respond(status, objectTable(r.def, value as Parameters<typeof objectTable>[1], { version: table, includeObject, now: now() }), false, pretty);
    }
    if (r.type === 'healthz') return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: String(value) };
    return respond(status, value, yaml, pretty);
  } catch (err) {
    return statusResponse(toApiError(err, deps).status, yaml, pretty);
  }
}

interface Ctx {
  req: HttpRequest;
  headers: Record<string, string | undefined>;
  method: string;
  store: Store;
  service: ObjectService;
  /** A server-side apply patch (PATCH with application/apply-patch+yaml) of an object. */
  isApply: boolean;
  /** How the response is written (lists measure their items in it). */
  format: { yaml: boolean; pretty: boolean };
  /** The largest body this request may have (maxBodyBytesFor). */
  bodyLimit: number;
  changes?: ChangeFeed;
}

async function dispatch(
  r: Exclude<Route, { type: 'kubeconfig' | 'move' | 'events' | ImportRoute['type'] } | DiscoveryRoute>,
  ctx: Ctx,
): Promise<[number, unknown]> {
  switch (r.type) {
    case 'healthz':
      return [200, 'ok'];
    case 'list-all':
      return [200, await list(r.def, undefined, ctx)];
    case 'collection':
      if (ctx.method === 'GET') return [200, await list(r.def, r.namespace, ctx)];
      return [201, await ctx.service.create(kindName(r.def), r.namespace, parseObjectBody(ctx.req.body, ctx.headers['content-type'], ctx.bodyLimit))];
    case 'object':
    case 'status':
    case 'scale':
    case 'rollback': {
      if (!isName(r.namespace) || !isName(r.name)) throw notFound(r.def.plural, r.name);
      const key: ObjectKey = { kind: kindName(r.def), namespace: r.namespace, name: r.name };
      const { service } = ctx;
      if (r.type === 'rollback') return [200, await rollback(key, ctx)];
      if (r.type === 'scale')
        return [
          200,
          await scale(
            service,
            key,
            ctx.method,
            () => parsePatch(ctx, false),
            // client-go's scale client (`kubectl scale --current-replicas`) sends its PUT without a Content-Type,
            // which kube-apiserver reads as JSON; only this route does the same (a form always names its type).
            () => parseObjectBody(ctx.req.body, ctx.headers['content-type'] ?? JSON_TYPE),
          ),
        ];
      switch (ctx.method) {
        case 'GET':
          return [200, await service.get(key)];
        case 'PUT': {
          const body = parseObjectBody(ctx.req.body, ctx.headers['content-type'], ctx.bodyLimit);
          return [200, r.type === 'status' ? await service.replaceStatus(key, body) : await service.replace(key, body)];
        }
        case 'PATCH': {
          if (ctx.isApply) {
            // Server-side apply as kubectl sends it (`apply --server-side`): the body is YAML (JSON is YAML too).
            const applied = await service.apply(key, requireObject(parseYaml(ctx.req.body ?? '', ctx.bodyLimit)));
            return [applied.result === 'created' ? 201 : 200, applied.object];
          }
          const p = parsePatch(ctx, r.type === 'object');
          if (p.type === 'json')
            return [200, r.type === 'status' ? await service.jsonPatchStatus(key, p.operations) : await service.jsonPatch(key, p.operations)];
          return [200, r.type === 'status' ? await service.patchStatus(key, p.patch) : await service.mergePatch(key, p.patch)];
        }
        default: {
          // DELETE, with a DeleteOptions body when one is sent (delete-options.ts says what it may hold).
          const body = ctx.req.body?.trim() ? parseObjectBody(ctx.req.body, ctx.headers['content-type']) : {};
          const options = parseDeleteOptions(body);
          const deleted = await (options.dryRun ? service.asDryRun() : service).delete(key, options.preconditions);
          return [200, deleted.removed ? deleted.status : deleted.object];
        }
      }
    }
  }
}

interface Key {
  def: KindDef;
  namespace: string;
  name: string;
}

/**
 * How long a downloaded admin kubeconfig lasts (`?expirationSeconds=`): an hour unless asked, at least ten minutes
 * and at most a day. The name and the minimum are those of Kubernetes' TokenRequest (spec.expirationSeconds).
 */
export const KUBECONFIG_EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 86_400 } as const;

function expirationSeconds(query: HttpRequest['query']): number {
  const raw = query?.['expirationSeconds'];
  if (raw === undefined) return KUBECONFIG_EXPIRATION.defaultSeconds;
  const { minSeconds, maxSeconds } = KUBECONFIG_EXPIRATION;
  const seconds = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (seconds >= minSeconds && seconds <= maxSeconds) return seconds;
  const message = `must be a whole number of seconds from ${minSeconds} to ${maxSeconds}, not ${JSON.stringify(raw)}`;
  throw new ApiError('BadRequest', `expirationSeconds: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'expirationSeconds' }] });
}

/** GET .../clusters/{name}/kubeconfig: the YAML itself (not a JSON object), never cached by a proxy. */
async function kubeconfig(r: Key, ctx: Ctx, deps: RouterDeps): Promise<HttpResponse> {
  const seconds = expirationSeconds(ctx.req.query);
  if (!isName(r.namespace) || !isName(r.name)) throw notFound(r.def.plural, r.name);
  await ctx.service.get({ kind: kindName(r.def), namespace: r.namespace, name: r.name });
  const text = deps.kubeconfig ? await deps.kubeconfig(r.namespace, r.name, seconds) : undefined;
  if (text === undefined)
    throw new ApiError('NotFound', `cluster "${r.name}" has no kubeconfig yet: its certificates are made when its first machine is bootstrapped`, {
      kind: r.def.plural,
      name: r.name,
    });
  return { status: 200, headers: { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' }, body: text };
}

/**
 * One page of a list: `limit` (default 500, at most 1000) and `continue`, selectors applied while paging, cut early
 * so that the response fits Lambda's payload.
 */
async function list(def: KindDef, namespace: string | undefined, ctx: Ctx) {
  // Read before the list, so that a watch from it misses no change made while the list is read (it may repeat one).
  const resourceVersion = await ctx.changes?.currentVersion();
  const { labelSelector, fieldSelector, limit, continue: token } = ctx.req.query ?? {};
  const selector = labelSelector === undefined ? undefined : parseLabelSelector(labelSelector);
  const fields = fieldSelector === undefined ? undefined : parseFieldSelector(fieldSelector, def);
  const page = await ctx.service.list(kindName(def), namespace, {
    limit: listLimit(limit),
    ...(token ? { continue: token } : {}),
    ...(selector ? { labelSelector: selector } : {}),
    ...(fields ? { fieldSelector: fields } : {}),
    budget: { maxBytes: LIST_BYTE_BUDGET, sizeOf: (o) => listItemBytes(o, ctx.format) },
  });
  return resourceVersion === undefined ? page : { ...page, metadata: { resourceVersion, ...page.metadata } };
}

const kindName = (def: KindDef) => def.kind as KindName;

/** A PATCH's body: a merge patch or a JSON patch. */
type Patch = { type: 'merge'; patch: Record<string, unknown> } | { type: 'json'; operations: JsonPatchOperation[] };

/** The patch of a PATCH; strategic merge patches (and apply patches of status) are refused with 415. */
function parsePatch(ctx: Ctx, applies: boolean): Patch {
  const type = mediaType(ctx.headers['content-type']);
  if (type === JSON_PATCH_TYPE) return { type: 'json', operations: parseJsonPatch(parseJson(ctx.req.body ?? '', ctx.bodyLimit)) };
  if (type !== MERGE_PATCH_TYPE && type !== JSON_TYPE)
    throw unsupportedMediaType(type, [JSON_PATCH_TYPE, MERGE_PATCH_TYPE, `${JSON_TYPE} (read as a merge patch)`, ...(applies ? [APPLY_PATCH_TYPE] : [])]);
  return { type: 'merge', patch: requireObject(parseJson(ctx.req.body ?? '', ctx.bodyLimit)) };
}

/** POST .../machinedeployments/{name}/rollback {"toRevision": N}. */
function rollback(key: ObjectKey, ctx: Ctx) {
  // An empty body is {} (the previous revision), as `kubectl rollout undo` means it; the content type is
  // still required, so that a bodiless cross-site POST cannot roll a deployment back.
  objectBodyFormat(ctx.headers['content-type']);
  const body = ctx.req.body?.trim() ? parseObjectBody(ctx.req.body, ctx.headers['content-type']) : {};
  return ctx.service.rollback(key, body);
}

function toApiError(err: unknown, deps: RouterDeps): ApiError {
  if (err instanceof ApiError) return err;
  const status = storeErrorStatus(err);
  if (status) return status;
  deps.onInternalError?.(err);
  return internalError();
}

function respond(status: number, value: unknown, yaml: boolean, pretty = false): HttpResponse {
  const s = serialize(value, yaml, pretty);
  return { status, headers: { 'content-type': s.contentType }, body: s.body };
}

/** A Status as a response; hosts use it for refusals they make before the router runs (413 while reading). */
export function statusResponse(status: Status, yaml = false, pretty = false): HttpResponse {
  const res = respond(status.code, status, yaml, pretty);
  if (status.details?.retryAfterSeconds) res.headers['retry-after'] = String(status.details.retryAfterSeconds);
  return res;
}
