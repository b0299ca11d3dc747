import {
  AlreadyExistsError,
  ConflictError,
  ExpiredContinueTokenError,
  InvalidContinueTokenError,
  NotFoundError,
  StoreUnavailableError,
  type Store,
} from '../../ports.js';
import { API_VERSION, DNS1123_LABEL, GROUP, VERSION, selectorMatches } from '../common.js';
import { jsonEqual, type ApiObject, type FieldCause, type KindDef } from '../kind.js';
import { kindByName, kindByPlural } from '../kinds.js';
import type { MachineDeployment } from '../machine-deployment.js';
import type { MachineSet } from '../machine-set.js';
import { openApiDocument } from '../openapi.js';
import { validateUpdate, validateCreate } from '../validate.js';
import { JSON_TYPE, MERGE_PATCH_TYPE, mediaType, objectBodyFormat, parseJson, parseObjectBody, requireObject, serialize, wantsYaml } from './body.js';
import { apiGroup, apiGroupList, apiResourceList } from './discovery.js';
import { isPlainObject, mergePatch } from './merge-patch.js';
import { rollbackTarget } from './rollback.js';
import { replicaLimitCauses, type ApiLimits } from './limits.js';
import { LIST_BYTE_BUDGET, listItemBytes, listLimit } from './paging.js';
import { checkQuery } from './query.js';
import { parseDeleteOptions } from './delete-options.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  successStatus,
  unavailable,
  unsupportedMediaType,
  type Status,
} from './status.js';

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
}

export interface RouterDeps {
  store: Store;
  /**
   * The admin kubeconfig of a workload cluster, signed by its CA, its client certificate valid for
   * `expirationSeconds` (KUBECONFIG_EXPIRATION); undefined when the cluster has no certificates (yet). Without the
   * hook the route answers 404, as on the simulator.
   */
  kubeconfig?: (namespace: string, clusterName: string, expirationSeconds: number) => Promise<string | undefined>;
  /** Told about every error that became a 500, so the host can log it. */
  onInternalError?(err: unknown): void;
  /** What this installation allows beyond validity (replica counts). @default - see ApiLimits */
  limits?: ApiLimits;
}

const PREFIX = ['apis', GROUP, VERSION] as const;

/** A client's value in a message; never String(), which throws on an object whose toString is not a function. */
const shownValue = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v));

type Route =
  | { type: 'healthz' | 'openapi' | 'apis' | 'group' | 'resources' }
  | { type: 'list-all'; def: KindDef }
  | { type: 'collection'; def: KindDef; namespace: string }
  | { type: 'object' | 'status' | 'rollback'; def: KindDef; namespace: string; name: string }
  | { type: 'kubeconfig'; def: KindDef; namespace: string; name: string };

const ALLOWED: Record<Route['type'], readonly string[]> = {
  healthz: ['GET'],
  openapi: ['GET'],
  apis: ['GET'],
  group: ['GET'],
  resources: ['GET'],
  'list-all': ['GET'],
  collection: ['GET', 'POST'],
  object: ['GET', 'PUT', 'PATCH', 'DELETE'],
  status: ['GET', 'PUT', 'PATCH'],
  rollback: ['POST'],
  kubeconfig: ['GET'],
};

/** Conflicts retried from a fresh read when the client gave no resourceVersion (nothing it saw is stale). */
const UNGUARDED_ATTEMPTS = 5;

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
  if (seg.length === 2 && seg[0] === 'openapi' && seg[1] === 'v3') return { type: 'openapi' };
  if (seg[0] !== PREFIX[0]) throw resourceNotFound();
  if (seg.length === 1) return { type: 'apis' };
  if (seg[1] !== PREFIX[1]) throw resourceNotFound();
  if (seg.length === 2) return { type: 'group' };
  if (seg[2] !== PREFIX[2]) throw resourceNotFound();
  const rest = seg.slice(3);
  if (rest.length === 0) return { type: 'resources' };
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
  if (rest.length === 5 && sub === 'rollback' && def.kind === 'MachineDeployment')
    return { type: 'rollback', def, namespace, name: name! };
  if (rest.length === 5 && sub === 'kubeconfig' && def.kind === 'Cluster') return { type: 'kubeconfig', def, namespace, name: name! };
  throw resourceNotFound();
}

/** Names that validation would refuse cannot exist, so a lookup of one is a 404 without a store read. */
const isName = (s: string) => s.length <= 63 && DNS1123_LABEL.test(s);

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
    pretty = checkQuery(method, req.query ?? {}).pretty;
    const ctx: Ctx = { req, headers, method, store: deps.store, limits: deps.limits, format: { yaml, pretty } };
    if (r.type === 'kubeconfig') return await kubeconfig(r, ctx, deps);
    const [status, value] = await dispatch(r, ctx);
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
  limits: ApiLimits | undefined;
  /** How the response is written (lists measure their items in it). */
  format: { yaml: boolean; pretty: boolean };
}

async function dispatch(r: Exclude<Route, { type: 'kubeconfig' }>, ctx: Ctx): Promise<[number, unknown]> {
  switch (r.type) {
    case 'healthz':
      return [200, 'ok'];
    case 'openapi':
      return [200, openApiDocument()];
    case 'apis':
      return [200, apiGroupList()];
    case 'group':
      return [200, apiGroup()];
    case 'resources':
      return [200, apiResourceList()];
    case 'list-all':
      return [200, await list(r.def, undefined, ctx)];
    case 'collection':
      return ctx.method === 'GET' ? [200, await list(r.def, r.namespace, ctx)] : [201, await create(r.def, r.namespace, ctx)];
    case 'object':
    case 'status':
    case 'rollback': {
      if (!isName(r.namespace) || !isName(r.name)) throw notFound(r.def.plural, r.name);
      const key = { def: r.def, namespace: r.namespace, name: r.name };
      if (r.type === 'rollback') return [200, await rollback(key, ctx)];
      switch (ctx.method) {
        case 'GET':
          return [200, await getOrThrow(key, ctx.store)];
        case 'PUT':
          return [200, r.type === 'status' ? await replaceStatus(key, ctx) : await replace(key, ctx)];
        case 'PATCH':
          return [200, r.type === 'status' ? await patchStatus(key, ctx) : await patch(key, ctx)];
        default:
          return [200, await remove(key, ctx)];
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
  await getOrThrow(r, ctx.store);
  const text = deps.kubeconfig ? await deps.kubeconfig(r.namespace, r.name, seconds) : undefined;
  if (text === undefined)
    throw new ApiError('NotFound', `cluster "${r.name}" has no kubeconfig yet: its certificates are made when its first machine is bootstrapped`, { kind: r.def.plural, name: r.name });
  return { status: 200, headers: { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' }, body: text };
}

async function getOrThrow(key: Key, store: Store): Promise<ApiObject> {
  const obj = await store.get(kindName(key.def), key.namespace, key.name);
  if (!obj) throw notFound(key.def.plural, key.name);
  return obj;
}

/**
 * One page of a list: `limit` (default 500, at most 1000) and `continue`, selectors applied while paging (a page
 * may hold fewer than the limit), cut early so that the response fits Lambda's payload; `metadata.continue`
 * while more remain. No remainingItemCount: DynamoDB cannot count what is left without reading it.
 */
async function list(def: KindDef, namespace: string | undefined, ctx: Ctx) {
  const { labelSelector, fieldSelector, limit, continue: token } = ctx.req.query ?? {};
  const selector = labelSelector === undefined ? undefined : parseLabelSelector(labelSelector);
  const fields = fieldSelector === undefined ? undefined : parseFieldSelector(fieldSelector);
  const pageSize = listLimit(limit);
  const empty = { apiVersion: API_VERSION, kind: `${def.kind}List`, metadata: {}, items: [] as ApiObject[] };
  // A namespace that validation would refuse holds nothing; no need to ask the store.
  if (namespace !== undefined && !isName(namespace)) return empty;
  const page = await ctx.store.listPage(kindName(def), namespace, {
    limit: pageSize,
    ...(token ? { continue: token } : {}),
    ...(selector || fields ? { filter: (o: ApiObject) => (!selector || selectorMatches(selector, o.metadata.labels)) && (!fields || fields(o)) } : {}),
    budget: { maxBytes: LIST_BYTE_BUDGET, sizeOf: (o) => listItemBytes(o, ctx.format) },
  });
  return { ...empty, metadata: page.continue ? { continue: page.continue } : {}, items: page.items };
}

const kindName = (def: KindDef) => def.kind as Parameters<Store['get']>[0];

/**
 * Fills apiVersion and kind from the URL when the body leaves them out (as Kubernetes' decoder does) and
 * refuses a body of another kind, and one whose namespace or name contradicts the URL.
 */
function checkBody(body: Record<string, unknown>, def: KindDef, namespace: string, name?: string): Record<string, unknown> {
  const apiVersion = body['apiVersion'] ?? API_VERSION;
  const kind = body['kind'] ?? def.kind;
  if (apiVersion !== API_VERSION || kind !== def.kind)
    throw badRequest(`the body is a ${shownValue(kind)} of ${shownValue(apiVersion)}, but the URL is for ${def.plural} (${def.kind} of ${API_VERSION})`);
  const meta = body['metadata'] ?? {};
  if (!isPlainObject(meta)) return { ...body, apiVersion, kind }; // validation names the field
  if (meta['namespace'] !== undefined && meta['namespace'] !== namespace)
    throw badRequest(`the namespace of the provided object (${shownValue(meta['namespace'])}) does not match the namespace sent on the request (${namespace})`);
  if (name !== undefined && meta['name'] !== undefined && meta['name'] !== name)
    throw badRequest(`the name of the object (${shownValue(meta['name'])}) does not match the name on the URL (${name})`);
  return { ...body, apiVersion, kind, metadata: { ...meta, namespace, ...(name !== undefined ? { name } : {}) } };
}

const nameOf = (body: Record<string, unknown>) => {
  const meta = body['metadata'];
  return isPlainObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : '';
};

/** The resourceVersion a client sent as its precondition, if any. */
function resourceVersionOf(body: Record<string, unknown>): string | undefined {
  const meta = body['metadata'];
  const rv = isPlainObject(meta) ? meta['resourceVersion'] : undefined;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

async function create(def: KindDef, namespace: string, ctx: Ctx): Promise<ApiObject> {
  const body = checkBody(parseObjectBody(ctx.req.body, ctx.headers['content-type']), def, namespace);
  const meta = isPlainObject(body['metadata']) ? body['metadata'] : undefined;
  // Server fields are the store's to set, and status is written through /status only (as with a CRD's
  // status subresource), so both are dropped rather than refused: an object read back can be created again.
  const { uid: _u, resourceVersion: _rv, generation: _g, creationTimestamp: _c, deletionTimestamp: _d, ...clientMeta } = meta ?? {};
  const { status: _status, ...rest } = body;
  const v = validateCreate(meta ? { ...rest, metadata: clientMeta } : rest);
  if (!v.ok) throw invalid(def.kind, nameOf(body), v.causes);
  const overLimit = replicaLimitCauses(v.object, undefined, ctx.limits);
  if (overLimit.length) throw invalid(def.kind, nameOf(body), overLimit);
  const obj = withFinalizer(v.object, def);
  try {
    return await ctx.store.create(obj);
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw alreadyExists(def.plural, obj.metadata.name);
    throw err;
  }
}

function withFinalizer(obj: ApiObject, def: KindDef): ApiObject {
  const finalizers = obj.metadata.finalizers ?? [];
  if (!def.finalizer || finalizers.includes(def.finalizer)) return obj;
  return { ...obj, metadata: { ...obj.metadata, finalizers: [...finalizers, def.finalizer] } };
}

/**
 * Read, check, write, guarded by resourceVersion. With the client's resourceVersion a conflict is the
 * client's (409); without one the write is guarded by what was just read and retried from a fresh read.
 */
async function readModifyWrite(
  key: Key,
  ctx: Ctx,
  precondition: string | undefined,
  write: (old: ApiObject, resourceVersion: string | undefined) => Promise<ApiObject>,
): Promise<ApiObject> {
  for (let attempt = 1; ; attempt++) {
    const old = await getOrThrow(key, ctx.store);
    if (precondition !== undefined && precondition !== old.metadata.resourceVersion)
      throw conflict(key.def.plural, key.name, old.metadata.resourceVersion);
    try {
      return await write(old, precondition ?? old.metadata.resourceVersion);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (precondition !== undefined || attempt >= UNGUARDED_ATTEMPTS) throw await conflictOf(err, key, ctx.store);
    }
  }
}

async function conflictOf(err: ConflictError, key: Key, store: Store): Promise<ApiError> {
  const current = err.current ?? (await store.get(kindName(key.def), key.namespace, key.name));
  return conflict(key.def.plural, key.name, current?.metadata.resourceVersion);
}

function withResourceVersion<T extends ApiObject>(obj: T, resourceVersion: string | undefined): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion } };
}

/**
 * Validates `candidate` as a replacement of `old` (replace, merge patch, rollback), then holds it to the
 * installation's limits; status always stays the stored one on these writes.
 */
function validated(key: Key, ctx: Ctx, old: ApiObject, candidate: Record<string, unknown>, ignore?: (c: FieldCause) => boolean): ApiObject {
  const obj = parsedUpdate(key, old, candidate, ignore);
  const overLimit = replicaLimitCauses(obj, old, ctx.limits);
  if (overLimit.length) throw invalid(key.def.kind, key.name, overLimit);
  return obj;
}

function parsedUpdate(key: Key, old: ApiObject, candidate: Record<string, unknown>, ignore?: (c: FieldCause) => boolean): ApiObject {
  const { status: _s, ...rest } = candidate;
  const next = old.status === undefined ? rest : { ...rest, status: old.status };
  const v = validateUpdate(old, next);
  if (v.ok) return v.object;
  const causes = ignore ? v.causes.filter((c) => !ignore(c)) : v.causes;
  if (causes.length > 0) throw invalid(key.def.kind, key.name, causes);
  // Only ignored update rules failed, so the object itself parses: take it as validateCreate reads it.
  const c = validateCreate(next);
  if (!c.ok) throw invalid(key.def.kind, key.name, c.causes);
  return c.object;
}

async function replace(key: Key, ctx: Ctx): Promise<ApiObject> {
  const body = checkBody(parseObjectBody(ctx.req.body, ctx.headers['content-type']), key.def, key.namespace, key.name);
  return readModifyWrite(key, ctx, resourceVersionOf(body), (old, rv) => {
    let candidate = body;
    // Note: a manifest applied again usually has no finalizers; taking that as "remove them" would let a
    // later DELETE skip teardown. An explicit list (even []) is still taken as given.
    const meta = body['metadata'];
    if (isPlainObject(meta) && meta['finalizers'] === undefined && old.metadata.finalizers)
      candidate = { ...body, metadata: { ...meta, finalizers: old.metadata.finalizers } };
    return ctx.store.update(withResourceVersion(validated(key, ctx, old, candidate), rv));
  });
}

/** The merge patch of a PATCH; JSON Patch, strategic merge and apply patches are refused with 415. */
function parsePatch(ctx: Ctx): Record<string, unknown> {
  const type = mediaType(ctx.headers['content-type']);
  if (type !== MERGE_PATCH_TYPE && type !== JSON_TYPE)
    throw unsupportedMediaType(type, [MERGE_PATCH_TYPE, `${JSON_TYPE} (read as a merge patch)`]);
  return requireObject(parseJson(ctx.req.body ?? ''));
}

async function patch(key: Key, ctx: Ctx): Promise<ApiObject> {
  const p = parsePatch(ctx);
  return readModifyWrite(key, ctx, resourceVersionOf(p), (old, rv) => {
    const merged = mergePatch(old, p);
    if (!isPlainObject(merged)) throw badRequest('the patch must be an object');
    return ctx.store.update(withResourceVersion(validated(key, ctx, old, merged), rv));
  });
}

async function writeStatus(key: Key, ctx: Ctx, precondition: string | undefined, statusOf: (old: ApiObject) => unknown) {
  return readModifyWrite(key, ctx, precondition, (old, rv) => {
    const status = statusOf(old);
    const { status: _s, ...rest } = old;
    // The stored spec and metadata with the new status, through the kind's schema: the status shape is checked.
    const v = validateUpdate(old, status === undefined ? rest : { ...rest, status });
    if (!v.ok) throw invalid(key.def.kind, key.name, v.causes);
    const next = { ...old, status: v.object.status };
    if (next.status === undefined) delete next.status;
    return ctx.store.updateStatus(withResourceVersion(next, rv));
  });
}

async function replaceStatus(key: Key, ctx: Ctx): Promise<ApiObject> {
  const body = checkBody(parseObjectBody(ctx.req.body, ctx.headers['content-type']), key.def, key.namespace, key.name);
  return writeStatus(key, ctx, resourceVersionOf(body), () => body['status']);
}

async function patchStatus(key: Key, ctx: Ctx): Promise<ApiObject> {
  const p = parsePatch(ctx);
  return writeStatus(key, ctx, resourceVersionOf(p), (old) => {
    const merged = mergePatch(old, p);
    return isPlainObject(merged) ? merged['status'] : undefined;
  });
}

/** DELETE, with a DeleteOptions body when one is sent (delete-options.ts says what it may hold). */
async function remove(key: Key, ctx: Ctx): Promise<ApiObject | Status> {
  const body = ctx.req.body?.trim() ? parseObjectBody(ctx.req.body, ctx.headers['content-type']) : {};
  const options = parseDeleteOptions(body).preconditions;
  try {
    const r = await ctx.store.delete(kindName(key.def), key.namespace, key.name, options);
    return r.removed ? successStatus(key.def.plural, key.name, r.object.metadata.uid) : r.object;
  } catch (err) {
    if (err instanceof ConflictError) throw await conflictOf(err, key, ctx.store);
    throw err;
  }
}

/**
 * POST .../machinedeployments/{name}/rollback {"toRevision": N}: puts an older MachineSet's template back
 * into the deployment, as `kubectl rollout undo` does; the rollout then proceeds as for any template change.
 */
async function rollback(key: Key, ctx: Ctx): Promise<ApiObject> {
  // An empty body is {} (the previous revision), as `kubectl rollout undo` means it; the content type is
  // still required, so that a bodiless cross-site POST cannot roll a deployment back.
  objectBodyFormat(ctx.headers['content-type']);
  const body = ctx.req.body?.trim() ? parseObjectBody(ctx.req.body, ctx.headers['content-type']) : {};
  const causes: FieldCause[] = Object.keys(body)
    .filter((k) => k !== 'toRevision')
    .map((k) => ({ field: k, reason: 'FieldValueNotSupported', message: `unknown field "${k}"` }));
  const toRevision = body['toRevision'] ?? 0;
  if (typeof toRevision !== 'number' || !Number.isInteger(toRevision) || toRevision < 0)
    causes.push({ field: 'toRevision', reason: 'FieldValueInvalid', message: 'must be an integer >= 0 (0 is the previous revision)' });
  if (causes.length) throw invalid(key.def.kind, key.name, causes);
  return readModifyWrite(key, ctx, undefined, async (old, rv) => {
    const md = old as MachineDeployment;
    if (md.spec.paused)
      throw invalid(key.def.kind, key.name, [
        { field: 'spec.paused', reason: 'FieldValueForbidden', message: 'cannot roll back a paused MachineDeployment; resume it first' },
      ]);
    const sets = await ctx.store.list<MachineSet>('MachineSet', key.namespace);
    const target = rollbackTarget(md, sets, toRevision as number);
    if (!target.ok) throw invalid(key.def.kind, key.name, [target.cause]);
    if (jsonEqual(target.template, md.spec.template)) return md; // already at that template: nothing to do
    const candidate = { ...md, spec: { ...md.spec, template: target.template } };
    // Note: going back to the revision that ran before an upgrade is what undo is for, so the "no
    // downgrade" rule of ordinary updates does not apply here; every other rule does.
    const isDowngrade = (c: FieldCause) => c.field === 'spec.template.spec.version' && c.reason === 'FieldValueForbidden';
    return ctx.store.update(withResourceVersion(validated(key, ctx, old, candidate, isDowngrade), rv));
  });
}

function toApiError(err: unknown, deps: RouterDeps): ApiError {
  if (err instanceof ApiError) return err;
  const pluralOf = (kind: string) => kindByName(kind)?.plural ?? kind;
  if (err instanceof NotFoundError) return notFound(pluralOf(err.key.kind), err.key.name);
  if (err instanceof AlreadyExistsError) return alreadyExists(pluralOf(err.key.kind), err.key.name);
  if (err instanceof ConflictError) return conflict(pluralOf(err.key.kind), err.key.name, err.current?.metadata.resourceVersion);
  if (err instanceof StoreUnavailableError) return unavailable();
  if (err instanceof InvalidContinueTokenError) return badRequest(err.message);
  if (err instanceof ExpiredContinueTokenError) return new ApiError('Expired', err.message);
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
