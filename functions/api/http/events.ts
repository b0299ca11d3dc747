/**
 * events.k8s.io/v1, served read-only: discovery of the group, get, list and watch of Events (in one namespace or
 * all), field selectors on what kube-apiserver lets one select events by, and the Table `kubectl get events` prints.
 * Only the control plane writes events (workflows/events.ts); the router answers 405 to any other method.
 * Expired events (an hour after they were last observed) are never served, whether or not they are gone yet.
 */
import { selectorMatches } from '../common.js';
import { dnsLabelError, dnsSubdomainError } from '../dns-names.js';
import { EVENTS_API_VERSION, EVENTS_GROUP, EVENTS_VERSION, EVENT_SELECTABLE_FIELDS, EventKind, isExpired, lastObserved, type Event } from '../event.js';
import type { ApiObject, KindDef } from '../kind.js';
import type { ChangeFeed, ListPageOptions, Store } from '../../ports.js';
import { LIST_BYTE_BUDGET, listItemBytes, listLimit } from './paging.js';
import type { DiscoveredGroupVersion } from './discovery.js';
import { parseFieldSelectorOf, parseLabelSelector } from './selectors.js';
import { humanDuration, tableVersionAsked } from './table.js';
import { ApiError } from './status.js';
import type { HttpResponse } from './router.js';
import { watchResponse } from './watch.js';

/** events.k8s.io/v1 as discovery lists it next to clusterless.dev: one resource, read-only. */
export const EVENTS_GROUP_VERSION: DiscoveredGroupVersion = {
  group: EVENTS_GROUP,
  version: EVENTS_VERSION,
  resources: [
    {
      name: EventKind.plural,
      singularName: EventKind.singular,
      namespaced: true,
      kind: EventKind.kind,
      verbs: ['get', 'list', 'watch'],
      shortNames: [...EventKind.shortNames],
    },
  ],
};

export interface EventsRequest {
  /** The path's segments after `/apis/events.k8s.io`. */
  rest: readonly string[];
  query: Record<string, string | undefined>;
  accept: string | undefined;
  format: { yaml: boolean; pretty: boolean };
  store: Store;
  now: Date;
  /** The store's recent changes: lists carry a resourceVersion to watch from. */
  changes?: ChangeFeed;
}

const notFoundResource = () => new ApiError('NotFound', 'the server could not find the requested resource', {});
const eventNotFound = (name: string) => new ApiError('NotFound', `events.${EVENTS_GROUP} "${name}" not found`, { name, group: EVENTS_GROUP, kind: 'events' });
const isNamespace = (s: string) => dnsLabelError(s) === undefined;
// Events are named `{object}.{hash}`: a DNS subdomain, where the served kinds' names are labels.
const isEventName = (s: string) => dnsSubdomainError(s) === undefined;

/** What a path under /apis/events.k8s.io names: the events of every namespace, of one, or one event. */
type EventsRoute = { type: 'list'; namespace: string | undefined } | { type: 'event'; namespace: string; name: string };

function eventsRoute(segments: readonly string[]): EventsRoute {
  const [version, ...rest] = segments;
  // /apis/events.k8s.io and its version are discovery's (the router sends them there).
  if (version !== EVENTS_VERSION || rest.length === 0) throw notFoundResource();
  if (rest.length === 1 && rest[0] === EventKind.plural) return { type: 'list', namespace: undefined };
  if (rest[0] !== 'namespaces' || rest[2] !== EventKind.plural || (rest.length !== 3 && rest.length !== 4)) throw notFoundResource();
  if (rest.length === 3) return { type: 'list', namespace: rest[1]! };
  return { type: 'event', namespace: rest[1]!, name: rest[3]! };
}

/** A GET under /apis/events.k8s.io: the status and body to answer with. */
export async function serveEvents(req: EventsRequest): Promise<unknown> {
  const route = eventsRoute(req.rest);
  if (route.type === 'list') return listEvents(req, route.namespace);
  const { namespace, name } = route;
  if (!isNamespace(namespace) || !isEventName(name)) throw eventNotFound(name);
  const event = await req.store.get<Event>(EventKind.kind, namespace, name);
  if (!event || isExpired(event, req.now)) throw eventNotFound(name);
  return tableVersionAsked(req.accept) !== undefined ? eventTable([event], req.now, {}) : event;
}

/** `fieldSelector=` on events: the fields kube-apiserver selects events by, with =, == or !=. */
export function parseEventFieldSelector(text: string): (e: Event) => boolean {
  return parseFieldSelectorOf(text, EVENT_SELECTABLE_FIELDS);
}

async function listEvents(req: EventsRequest, namespace: string | undefined): Promise<unknown> {
  const { labelSelector, fieldSelector, limit, continue: token } = req.query;
  const labels = labelSelector === undefined ? undefined : parseLabelSelector(labelSelector);
  const fields = fieldSelector === undefined ? undefined : parseEventFieldSelector(fieldSelector);
  // Read before the list, so that a watch from it misses no change made while the list is read (it may repeat one).
  const resourceVersion = await req.changes?.currentVersion();
  const list = {
    apiVersion: EVENTS_API_VERSION,
    kind: 'EventList',
    metadata: (resourceVersion === undefined ? {} : { resourceVersion }) as { continue?: string; resourceVersion?: string },
    items: [] as Event[],
  };
  if (namespace === undefined || isNamespace(namespace)) {
    const options: ListPageOptions = {
      limit: listLimit(limit),
      ...(token ? { continue: token } : {}),
      filter: (o: ApiObject) => {
        const e = o as Event;
        return !isExpired(e, req.now) && (!labels || selectorMatches(labels, e.metadata.labels)) && (!fields || fields(e));
      },
      budget: { maxBytes: LIST_BYTE_BUDGET, sizeOf: (o) => listItemBytes(o, req.format) },
    };
    const page = await req.store.listPage<Event>(EventKind.kind, namespace, options);
    list.items = page.items;
    if (page.continue) list.metadata.continue = page.continue;
  }
  return tableVersionAsked(req.accept) !== undefined ? eventTable(list.items, req.now, list.metadata) : list;
}

export interface EventsWatchRequest {
  /** The path's segments after `/apis/events.k8s.io`. */
  rest: readonly string[];
  query: Record<string, string | undefined>;
  accept: string | undefined;
  store: Store;
  changes: ChangeFeed;
  /** The store's clock, read as each event is sent (ages in the Table, expiry of what is listed). */
  now: () => Date;
}

/**
 * `?watch=true` on a list of events, as kube-apiserver answers it (watch.ts: resourceVersion, bookmarks,
 * sendInitialEvents, selectors; `kubectl get events -w` asks for a Table): the initial events leave out expired
 * events as lists do; an event's removal (its expiry) is a DELETED, as kube-apiserver sends when an event's etcd
 * lease runs out (an etcd DELETE, a watch.Deleted of the event's last state: kubernetes
 * staging/src/k8s.io/apiserver/pkg/storage/etcd3/event.go and watcher.go). Undefined for the path of one event:
 * that GET answers the event whatever `watch` says, as for the other kinds (one event is watched with
 * fieldSelector=metadata.name=, as kubectl does).
 */
export function watchEventsResponse(req: EventsWatchRequest): HttpResponse | undefined {
  const route = eventsRoute(req.rest);
  if (route.type !== 'list') return undefined;
  // A namespace that is no DNS label holds no events: the watch lists nothing and no change comes.
  const printTable = tableVersionAsked(req.accept) !== undefined ? (o: ApiObject) => eventTable([o as Event], req.now(), {}) : undefined;
  return watchResponse({ changes: req.changes, store: req.store }, EventKind as unknown as KindDef, route.namespace, req.query, undefined, {
    apiVersion: EVENTS_API_VERSION,
    parseFieldSelector: (text) => parseEventFieldSelector(text) as (o: ApiObject) => boolean,
    listed: (o) => !isExpired(o as Event, req.now()),
    ...(printTable ? { printTable } : {}),
  });
}

/**
 * The columns kube-apiserver prints events with (pkg/printers/internalversion/printers.go, eventColumnDefinitions):
 * LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and with -o wide SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME.
 */
const COLUMNS = [
  { name: 'Last Seen', type: 'string', description: 'Time since the event was last observed.', priority: 0 },
  { name: 'Type', type: 'string', description: 'Normal or Warning.', priority: 0 },
  { name: 'Reason', type: 'string', description: 'Why the event was recorded, in CamelCase.', priority: 0 },
  { name: 'Object', type: 'string', description: 'The object the event is about.', priority: 0 },
  { name: 'Subobject', type: 'string', description: 'The part of the object the event is about.', priority: 1 },
  { name: 'Source', type: 'string', description: 'The controller that recorded the event.', priority: 1 },
  { name: 'Message', type: 'string', description: 'What happened.', priority: 0 },
  { name: 'First Seen', type: 'string', description: 'Time since the event was first observed.', priority: 1 },
  { name: 'Count', type: 'integer', description: 'How many times the event was observed.', priority: 1 },
  { name: 'Name', type: 'string', description: 'The name of the event.', priority: 1 },
] as const;

/**
 * A meta.k8s.io/v1 Table of events, each row's object its PartialObjectMetadata, as kube-apiserver answers `as=Table`.
 * LAST SEEN of a series reads `{last} (x{count} over {first})`, as kubectl's describe and `kubectl events` print it
 * (kubectl/pkg/describe/describe.go DescribeEvents).
 */
export function eventTable(events: readonly Event[], now: Date, metadata: { continue?: string }) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(metadata.continue ? { continue: metadata.continue } : {}) },
    columnDefinitions: COLUMNS.map((c) => ({ ...c, format: c.name === 'Name' ? 'name' : '' })),
    rows: events.map((e) => {
      const first = humanDuration(now.getTime() - new Date(e.eventTime).getTime());
      const last = humanDuration(now.getTime() - lastObserved(e).getTime());
      const count = e.series?.count ?? 1;
      return {
        cells: [
          count > 1 ? `${last} (x${count} over ${first})` : last,
          e.type,
          e.reason,
          `${e.regarding.kind.toLowerCase()}/${e.regarding.name}`,
          '',
          e.reportingController,
          e.note,
          first,
          count,
          e.metadata.name,
        ],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: e.metadata },
      };
    }),
  };
}
