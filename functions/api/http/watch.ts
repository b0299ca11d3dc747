/**
 * `?watch=true` on a list route, as kube-apiserver serves it: a stream of JSON lines `{"type","object"}`.
 *
 * - `resourceVersion` absent or "0": a synthetic ADDED for every object there now, then the changes; any other
 *   version: only the changes after it; one older than the change feed's window is an ERROR event carrying a 410
 *   Expired Status ("too old resource version"), and the stream ends.
 * - `sendInitialEvents=true` (with `resourceVersionMatch=NotOlderThan`): the ADDED events, then a BOOKMARK annotated
 *   `k8s.io/initial-events-end` (when bookmarks are allowed), then the changes.
 * - `allowWatchBookmarks=true`: a BOOKMARK (kind, apiVersion and metadata.resourceVersion only) after every minute
 *   without an event, and one when the watch times out, so a client resumes from there.
 * - Selectors: an object that stops matching is a DELETED (its previous content at the change's version), one that
 *   starts matching is an ADDED.
 * - `timeoutSeconds`: when the stream ends (default 30 minutes, kube-apiserver's --min-request-timeout).
 * - Another group's resource (events.k8s.io's Event, events.ts) is watched the same way through `WatchedResource`.
 * Learnt from kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go (the framing, the timeout),
 * apiserver/pkg/storage/cacher/cache_watcher.go (convertToWatchEvent: ADDED/MODIFIED/DELETED by whether the object
 * and its previous state pass the filter; bookmarks), and apimachinery/pkg/apis/meta/internalversion/validation
 * (validateWatchOptions). The hosts write the stream; this module only says what is in it.
 */
import { API_VERSION, selectorMatches, type LabelSelector } from '../common.js';
import { cause, type ApiObject, type FieldCause, type KindDef } from '../kind.js';
import type { KindName } from '../kinds.js';
import type { Change, ChangeFeed, Store } from '../../ports.js';
import { invalidOptions, queryFlag } from './query.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { objectTable, type TableOptions } from './table.js';
import type { HttpResponse } from './router.js';
import { ApiError, badRequest, type Status } from './status.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a watch stream (metav1.WatchEvent). */
export interface WatchEvent {
  type: WatchEventType;
  object: ApiObject | Status | BookmarkObject;
}

export interface BookmarkObject {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
}

/** The annotation of the bookmark that ends the initial events (metav1.InitialEventsAnnotationKey). */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** kube-apiserver's default --min-request-timeout: a watch without timeoutSeconds lasts this long. */
export const DEFAULT_WATCH_TIMEOUT_SECONDS = 1800;

/** How long a watch may go without an event before a bookmark is sent (kube-apiserver: about a minute). */
export const BOOKMARK_INTERVAL_MS = 60_000;

export interface WatchOptions {
  /** Where to start: undefined for "now", with the objects there as ADDED (resourceVersion absent or "0"). */
  resourceVersion?: string;
  /** ADDED events for what exists first (resourceVersion absent or "0", or sendInitialEvents=true). */
  initialEvents: boolean;
  /** A bookmark annotated INITIAL_EVENTS_END after the initial events (sendInitialEvents=true). */
  initialEventsEnd: boolean;
  allowBookmarks: boolean;
  timeoutMs: number;
  /** @default BOOKMARK_INTERVAL_MS */
  bookmarkIntervalMs?: number;
  labelSelector?: LabelSelector;
  fieldSelector?: (o: ApiObject) => boolean;
  /** The apiVersion of bookmarks. @default API_VERSION (clusterless.dev) */
  apiVersion?: string;
  /** Which stored objects the initial events list (events.ts: no expired Event). @default every object */
  listed?: (o: ApiObject) => boolean;
}

/**
 * How a watch reads a resource that is not a clusterless.dev kind (events.ts: events.k8s.io's Event): its
 * bookmarks' apiVersion, its field selector, what it lists, how it prints as a Table.
 */
export interface WatchedResource {
  apiVersion: string;
  parseFieldSelector: (text: string) => (o: ApiObject) => boolean;
  listed?: (o: ApiObject) => boolean;
  /** A Table of one object (server-side printing), when the request asked for one. */
  printTable?: (o: ApiObject) => { columnDefinitions: unknown[] };
}

/** True when the request asks for a watch (`watch=true`, `watch=1`, ...). */
export function isWatchRequest(query: Readonly<Record<string, string | undefined>> | undefined): boolean {
  return queryFlag(query ?? {}, 'watch') === true;
}

const isVersion = (v: string) => /^[0-9]{1,20}$/.test(v);

/** The options of a watch request; throws the Status to answer (400 for a malformed value, 422 for a forbidden combination). */
export function parseWatchOptions(
  query: Readonly<Record<string, string | undefined>>,
  def?: KindDef,
  fieldSelectorOf: (text: string) => (o: ApiObject) => boolean = (text) => parseFieldSelector(text, def),
): WatchOptions {
  const rv = query['resourceVersion'] || undefined;
  if (rv !== undefined && !isVersion(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}: must be a decimal number`);
  const sendInitialEvents = queryFlag(query, 'sendInitialEvents');
  const allowBookmarks = queryFlag(query, 'allowWatchBookmarks') === true;
  const match = query['resourceVersionMatch'] || undefined;
  const causes: FieldCause[] = [];
  if (sendInitialEvents !== undefined && match !== 'NotOlderThan')
    causes.push(cause.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
  if (match !== undefined) {
    if (sendInitialEvents === undefined)
      causes.push(cause.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    if (match !== 'NotOlderThan') causes.push(cause.notSupported('resourceVersionMatch', match, ['NotOlderThan']));
  }
  if (causes.length) throw invalidOptions('ListOptions', causes);
  const timeout = query['timeoutSeconds'];
  if (timeout !== undefined && !/^[0-9]{1,9}$/.test(timeout))
    throw badRequest(`the query parameter "timeoutSeconds" must be a whole number of seconds, not ${JSON.stringify(timeout)}`);
  const { labelSelector, fieldSelector } = query;
  const legacyInitial = sendInitialEvents === undefined && (rv === undefined || rv === '0');
  return {
    ...(rv !== undefined && rv !== '0' ? { resourceVersion: rv } : {}),
    initialEvents: sendInitialEvents ?? legacyInitial,
    initialEventsEnd: sendInitialEvents === true && allowBookmarks,
    allowBookmarks,
    timeoutMs: (timeout === undefined || Number(timeout) === 0 ? DEFAULT_WATCH_TIMEOUT_SECONDS : Number(timeout)) * 1000,
    ...(labelSelector !== undefined ? { labelSelector: parseLabelSelector(labelSelector) } : {}),
    ...(fieldSelector !== undefined ? { fieldSelector: fieldSelectorOf(fieldSelector) } : {}),
  };
}

export interface WatchDeps {
  changes: ChangeFeed;
  /** For the initial events. */
  store: Store;
}

/** The Status of an ERROR event for a version the feed no longer reaches back to (kube: errors.NewResourceExpired). */
export function tooOldResourceVersion(requested: string, current: string): Status {
  return new ApiError('Expired', `too old resource version: ${requested} (${current})`).status;
}

/** What a change is for a watcher with these selectors (cache_watcher.go's convertToWatchEvent); undefined when nothing. */
function eventFor(change: Change, matches: (o: ApiObject) => boolean): WatchEvent | undefined {
  const passes = change.type !== 'DELETED' && matches(change.object);
  const before = change.type === 'DELETED' ? change.object : change.previous;
  const passed = before !== undefined && matches(before);
  if (passes) return { type: passed ? 'MODIFIED' : 'ADDED', object: change.object };
  if (!passed) return undefined;
  if (change.type === 'DELETED') return { type: 'DELETED', object: change.object };
  // Left the selection: its previous content at this change's version.
  return { type: 'DELETED', object: { ...before, metadata: { ...before.metadata, resourceVersion: change.object.metadata.resourceVersion } } };
}

/**
 * The events of one watch, until the timeout or `signal` aborts. `namespace` undefined watches every namespace.
 */
export async function* watchEvents(
  deps: WatchDeps,
  def: KindDef,
  namespace: string | undefined,
  options: WatchOptions,
  signal: AbortSignal,
): AsyncGenerator<WatchEvent> {
  for await (const { event } of sourcedEvents(deps, def, namespace, options, signal)) yield event;
}

/** An event, and whether its object is the change feed's own (the same object for every watcher of the change). */
interface SourcedEvent {
  event: WatchEvent;
  fromFeed: boolean;
}

async function* sourcedEvents(
  deps: WatchDeps,
  def: KindDef,
  namespace: string | undefined,
  options: WatchOptions,
  signal: AbortSignal,
): AsyncGenerator<SourcedEvent> {
  const kind = def.kind as KindName;
  const { labelSelector, fieldSelector } = options;
  const matches = (o: ApiObject) => (!labelSelector || selectorMatches(labelSelector, o.metadata.labels)) && (!fieldSelector || fieldSelector(o));
  const bookmark = (resourceVersion: string, annotations?: Record<string, string>): WatchEvent => ({
    type: 'BOOKMARK',
    object: { kind: def.kind, apiVersion: options.apiVersion ?? API_VERSION, metadata: { resourceVersion, ...(annotations ? { annotations } : {}) } },
  });
  const timedOut = AbortSignal.timeout(options.timeoutMs);
  const done = AbortSignal.any([signal, timedOut]);
  const interval = options.bookmarkIntervalMs ?? BOOKMARK_INTERVAL_MS;

  // With initial events the list is the state (at least as new as any version asked, NotOlderThan): changes from now on.
  let cursor = options.initialEvents || options.resourceVersion === undefined ? await deps.changes.currentVersion() : options.resourceVersion;
  // Objects listed as ADDED, by key and version: a change the list already showed is not sent again.
  const listed = new Map<string, number>();
  const keyOf = (o: ApiObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  if (options.initialEvents) {
    for (const o of await deps.store.list(kind, namespace)) {
      if (!matches(o) || (options.listed && !options.listed(o))) continue;
      listed.set(keyOf(o), Number(o.metadata.resourceVersion));
      yield { event: { type: 'ADDED', object: o }, fromFeed: false };
    }
    if (options.initialEventsEnd) yield { event: bookmark(cursor, { [INITIAL_EVENTS_END]: 'true' }), fromFeed: false };
  }
  let lastSent = Date.now();
  // A feed whose changes may be logged late is read `window` back behind the cursor (never before the start: what is
  // older is in the client's list), and each object's changes go out once, never an older one after a newer.
  const window = deps.changes.lateArrivalWindow ?? 0;
  const start = Number(cursor);
  const delivered = new Map<string, number>();
  while (!done.aborted) {
    const current = await deps.changes.currentVersion();
    const from = window > 0 ? String(Math.max(start, Number(cursor) - window)) : cursor;
    const changes = await deps.changes.changesSince(kind, namespace, from);
    if (changes === 'expired') {
      yield { event: { type: 'ERROR', object: tooOldResourceVersion(cursor, current) }, fromFeed: false };
      return;
    }
    // A feed may answer changes newer than `current` (written between the two reads): the cursor moves past them.
    let newest = Number(current);
    for (const change of changes) {
      const version = change.object.metadata.resourceVersion ?? '0';
      newest = Math.max(newest, Number(version));
      const shown = listed.get(keyOf(change.object));
      if (shown !== undefined && Number(version) <= shown) continue;
      if (window > 0) {
        const last = delivered.get(keyOf(change.object));
        if (last !== undefined && Number(version) <= last) continue;
        delivered.set(keyOf(change.object), Number(version));
      }
      const event = eventFor(change, matches);
      if (event) {
        yield { event, fromFeed: event.object === change.object };
        lastSent = Date.now();
      }
    }
    // Every change up to `current` has been seen, of this kind or not.
    if (newest > Number(cursor)) cursor = String(newest);
    // What fell out of the window is never read again.
    for (const [key, version] of delivered) if (version <= Number(cursor) - window) delivered.delete(key);
    const idle = Math.max(0, interval - (Date.now() - lastSent));
    await deps.changes.waitForChange(current, options.allowBookmarks ? AbortSignal.any([done, AbortSignal.timeout(idle)]) : done);
    if (options.allowBookmarks && !done.aborted && Date.now() - lastSent >= interval) {
      yield { event: bookmark(cursor), fromFeed: false };
      lastSent = Date.now();
    }
  }
  // A clean end: the client resumes from the bookmark rather than from its last event.
  if (options.allowBookmarks && timedOut.aborted && !signal.aborted) yield { event: bookmark(cursor), fromFeed: false };
}

/** One event as a line of the stream. */
export const watchLine = (event: WatchEvent) => `${JSON.stringify(event)}\n`;

type ChangeEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * The lines last encoded for the change feed's objects, by object and event type. Every watcher of a kind reads the
 * same Change objects (the embedded host's window), so a change is encoded once and its line shared by the watchers
 * that send it as it is, rather than once per watcher. A line is the same for every watcher that sends the same type
 * of event about the same object: selectors and namespaces only decide whether it is sent, and what differs per
 * watcher (bookmarks, an object that left the selection, Table rows) is never a feed object. A written object is
 * never changed (each write stores a new one), which the feed's window relies on already. The watchers of a
 * change read it together, when it is published: only the last ENCODED_OBJECTS_KEPT objects' lines are kept (a
 * watcher that lags encodes its own), so the cache holds no object longer than that, whatever lives in the feed.
 * Learnt from kubernetes apiserver/pkg/storage/cacher/caching_object.go (an event serialized once per encoding
 * for all the watchers of a resource).
 */
const encoded = new Map<ApiObject, Partial<Record<ChangeEventType, string>>>();

/** How many objects' lines `encoded` keeps (the one encoded longest ago goes first). */
export const ENCODED_OBJECTS_KEPT = 512;

/** The line of an event about a feed object, encoded by the first watcher that sends it. */
function sharedLine(type: ChangeEventType, object: ApiObject): string {
  let lines = encoded.get(object);
  if (!lines) {
    lines = {};
    encoded.set(object, lines);
    if (encoded.size > ENCODED_OBJECTS_KEPT) encoded.delete(encoded.keys().next().value!);
  }
  const line = lines[type] ?? watchLine({ type, object });
  lines[type] = line;
  return line;
}

const isChange = (type: WatchEventType): type is ChangeEventType => type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED';

/**
 * The response to a watch request: headers now, the events as the host writes `stream`. Throws the Status to answer
 * for a bad query before anything is streamed.
 */
export function watchResponse(
  deps: WatchDeps,
  def: KindDef,
  namespace: string | undefined,
  query: Readonly<Record<string, string | undefined>>,
  /** Server-side printing (`kubectl get -w`): each object as a Table of one row, the columns named in the first. */
  table?: Omit<TableOptions, 'now'> & { now: () => number },
  /** A resource other than a clusterless.dev kind (events.ts); its printTable replaces `table`. */
  resource?: WatchedResource,
): HttpResponse {
  const parsed = parseWatchOptions(query, def, resource?.parseFieldSelector);
  const options: WatchOptions = resource ? { ...parsed, apiVersion: resource.apiVersion, ...(resource.listed ? { listed: resource.listed } : {}) } : parsed;
  const print = resource ? resource.printTable : table && ((o: ApiObject) => objectTable(def, o, { ...table, now: table.now() }));
  let headed = false;
  const printed = (event: WatchEvent): WatchEvent => {
    if (!print || !isChange(event.type)) return event;
    const t = print(event.object as ApiObject);
    if (headed) t.columnDefinitions = [];
    headed = true;
    return { type: event.type, object: t as unknown as ApiObject };
  };
  // A Table is this watcher's own (its first row names the columns, ages are read now): never shared.
  const line = ({ event, fromFeed }: SourcedEvent) =>
    fromFeed && !print && isChange(event.type) ? sharedLine(event.type, event.object as ApiObject) : watchLine(printed(event));
  return {
    status: 200,
    // What kube-apiserver answers a JSON watch with (kubectl asks for application/json;stream=watch too).
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: '',
    stream: async function* (signal) {
      for await (const sourced of sourcedEvents(deps, def, namespace, options, signal)) yield line(sourced);
    },
  };
}
