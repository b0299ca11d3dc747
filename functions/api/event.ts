/**
 * Kubernetes Events (events.k8s.io/v1 `Event`): what happened to an object, written by the control plane only and
 * served read-only. This file is pure: the builder takes `now`, and the name of an event is a hash of what it says,
 * so that recording the same thing twice (a retried step) updates one object instead of making a second.
 *
 * Learnt from client-go tools/record/events_cache.go (the legacy EventCorrelator: identical events within ten
 * minutes become one event with a count) and tools/events/event_broadcaster.go (events.k8s.io/v1's EventSeries:
 * `series.count` and `series.lastObservedTime` on the one object). The reasons are those Cluster API's controllers
 * emit (see EventReason).
 */
import * as z from 'zod';
import { shortHash } from '../core/machineset/hash.js';
import { canonicalJson, defineKind, type ApiObject } from './kind.js';
import { objectMeta } from './meta.js';

import { EVENTS_GROUP, EVENTS_VERSION } from './group-version.js';
import { lazySchema } from './lazy-schema.js';

export { EVENTS_GROUP, EVENTS_VERSION };
export const EVENTS_API_VERSION = `${EVENTS_GROUP}/${EVENTS_VERSION}`;

/** How long an event is kept after it was last observed (kube-apiserver's --event-ttl is one hour too). */
export const EVENT_LIFETIME_SECONDS = 3600;
/** Identical events within this long of the last one are one event with a series (the EventCorrelator's window). */
export const EVENT_SERIES_WINDOW_SECONDS = 600;

/**
 * The reasons recorded, spelt as Cluster API's controllers (and its AWS provider) emit them:
 * - SuccessfulCreate / SuccessfulDelete on a MachineSet ("Created machine", "Deleted machine") and on a
 *   MachineDeployment ("Created MachineSet"): cluster-api internal/controllers/machineset/machineset_controller.go,
 *   internal/controllers/machinedeployment/machinedeployment_sync.go;
 * - SuccessfulCreate / SuccessfulTerminate / FailedCreate on a Machine's instance: cluster-api-provider-aws
 *   controllers/awsmachine_controller.go ("Created new ... instance with id", "Terminated instance");
 * - MachineMarkedUnhealthy on a Machine: cluster-api internal/controllers/machinehealthcheck/machinehealthcheck_controller.go;
 * - FailedDrainNode and FailedDeleteNode on a Machine: cluster-api core/reconcilers/machine/machine_controller.go
 *   (reconcileDelete);
 * - PreflightCheckFailed on a MachineSet whose scale up the preflight checks hold: Cluster API's v1beta1 reason of
 *   the MachinesCreated condition (core/reconcilers/machineset/machineset_controller.go, createMachines), which
 *   records no event of its own (it logs);
 * - ScalingMachineSet on a MachineDeployment: Kubernetes' deployment controller's ScalingReplicaSet
 *   (pkg/controller/deployment/sync.go), a MachineSet for a ReplicaSet;
 * - the remediation's own start and end (Remediating, Remediated), the rollout's end (RolloutComplete), a machine
 *   whose instance is not its own (InstanceNotOwned) and a stepping workflow that gave up (WorkflowFailed) have no
 *   Cluster API event; they are named as its conditions' reasons are.
 */
export const EventReason = {
  SuccessfulCreate: 'SuccessfulCreate',
  SuccessfulDelete: 'SuccessfulDelete',
  SuccessfulTerminate: 'SuccessfulTerminate',
  FailedCreate: 'FailedCreate',
  MachineMarkedUnhealthy: 'MachineMarkedUnhealthy',
  FailedDrainNode: 'FailedDrainNode',
  FailedDeleteNode: 'FailedDeleteNode',
  PreflightCheckFailed: 'PreflightCheckFailed',
  ScalingMachineSet: 'ScalingMachineSet',
  Remediating: 'Remediating',
  Remediated: 'Remediated',
  RolloutComplete: 'RolloutComplete',
  InstanceNotOwned: 'InstanceNotOwned',
  WorkflowFailed: 'WorkflowFailed',
  /** A FleetUpgrade set a cluster's topology, a cluster failed its upgrade, the upgrade ended. */
  ClusterUpgradeStarted: 'ClusterUpgradeStarted',
  ClusterUpgradeFailed: 'ClusterUpgradeFailed',
  FleetUpgradeHalted: 'FleetUpgradeHalted',
  FleetUpgradeAborted: 'FleetUpgradeAborted',
  FleetUpgradeSucceeded: 'FleetUpgradeSucceeded',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (ObjectReference's fields events.k8s.io keeps in `regarding`). */
export interface EventRegarding {
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

/** What a workflow records; the builder makes the Event of it. */
export interface EventInput {
  regarding: EventRegarding;
  type: EventType;
  reason: EventReason;
  /** events.k8s.io's `action`: what was done, a CamelCase verb (Create, Delete, Scale, Remediate, ...). */
  action: string;
  /** The human-readable message (kubectl's MESSAGE column); at most 1 kB is kept, as kube-apiserver allows. */
  note: string;
  /** The workflow that acted (provision-machine, reconcile-cluster, ...): reportingController `clusterless.dev/{workflow}`. */
  workflow: string;
}

/** RFC 3339 with microseconds, as metav1.MicroTime is written. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const NOTE_MAX = 1024;

const regardingSchema = lazySchema(() =>
  z.strictObject({
    kind: z.string(),
    namespace: z.string(),
    name: z.string(),
    uid: z.string().optional(),
    apiVersion: z.string().optional(),
  }),
);

export const eventSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(EVENTS_API_VERSION),
    kind: z.literal('Event'),
    // Event names are `{object}.{hash}`: an RFC 1123 subdomain, not a label, so the name is not checked as the
    // served kinds' names are (only the control plane writes events).
    metadata: objectMeta.extend({ name: z.string() }),
    eventTime: z.string(),
    series: z.strictObject({ count: z.number().int(), lastObservedTime: z.string() }).optional(),
    reportingController: z.string(),
    reportingInstance: z.string(),
    action: z.string(),
    reason: z.string(),
    regarding: regardingSchema,
    note: z.string(),
    type: z.enum(['Normal', 'Warning']),
    deprecatedCount: z.number().int().optional(),
    deprecatedFirstTimestamp: z.string().optional(),
    deprecatedLastTimestamp: z.string().optional(),
  }),
);
export type Event = z.infer<typeof eventSchema>;

/**
 * The stored kind. Not one of the served KINDS (functions/api/kinds.ts): it is not a clusterless.dev resource, has no
 * CRD, and the object API never writes it. It lives in its namespace's partition, never a cluster's, so that it is
 * not part of any cluster's reconcile (listCluster), and no trigger (the stream, TriggeringStore) sees it.
 */
export const EventKind = defineKind<Event>({
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  schema: eventSchema as unknown as z.ZodType<Event>,
  clusterNameOf: () => undefined,
  printerColumns: [],
});

/** The reporting controller of a workflow's events. */
export const reportingController = (workflow: string) => `clusterless.dev/${workflow}`;

/**
 * The name of the event `input` makes: the object's name, a dot, and a hash of what the event says (object, uid,
 * type, reason, note, controller), so the same event recorded again finds the same object.
 */
export function eventName(input: EventInput): string {
  const r = input.regarding;
  const key = canonicalJson({
    r: [r.kind, r.namespace, r.name, r.uid ?? ''],
    t: input.type,
    why: input.reason,
    a: input.action,
    note: input.note.slice(0, NOTE_MAX),
    by: reportingController(input.workflow),
  });
  return `${r.name}.${shortHash(key)}`;
}

/** When the event was last observed: its series' last time, or its own time. */
export function lastObserved(e: Pick<Event, 'eventTime' | 'series'>): Date {
  return new Date(e.series?.lastObservedTime ?? e.eventTime);
}

/** When the event may be dropped: an hour after it was last observed. */
export function eventExpiresAt(e: Pick<Event, 'eventTime' | 'series'>): Date {
  return new Date(lastObserved(e).getTime() + EVENT_LIFETIME_SECONDS * 1000);
}

export function isExpired(e: Pick<Event, 'eventTime' | 'series'>, now: Date): boolean {
  return eventExpiresAt(e).getTime() <= now.getTime();
}

/**
 * The Event to write for `input` at `now`, given the one stored under its name (if any): the stored one with its
 * series counted once more when it was last observed within the window, a new one otherwise (an expired or stale
 * event of the same name is started over). Pure; the caller writes it (create when `existing` is undefined, an
 * update guarded by existing's resourceVersion otherwise).
 */
export function nextEvent(input: EventInput, existing: Event | undefined, now: Date): Event {
  const at = microTime(now);
  const seconds = at.replace(/\.\d+Z$/, 'Z');
  if (existing && now.getTime() - lastObserved(existing).getTime() <= EVENT_SERIES_WINDOW_SECONDS * 1000 && now >= new Date(existing.eventTime)) {
    const count = (existing.series?.count ?? 1) + 1;
    return { ...existing, series: { count, lastObservedTime: at }, deprecatedCount: count, deprecatedLastTimestamp: seconds };
  }
  const r = input.regarding;
  const controller = reportingController(input.workflow);
  return {
    apiVersion: EVENTS_API_VERSION,
    kind: 'Event',
    metadata: {
      name: eventName(input),
      namespace: r.namespace,
      // An update keeps the stored object's identity; only its content starts over.
      ...(existing ? pickIdentity(existing) : {}),
    },
    eventTime: at,
    reportingController: controller,
    reportingInstance: controller,
    action: input.action,
    reason: input.reason,
    regarding: { ...r },
    note: input.note.slice(0, NOTE_MAX),
    type: input.type,
    deprecatedCount: 1,
    deprecatedFirstTimestamp: seconds,
    deprecatedLastTimestamp: seconds,
  };
}

function pickIdentity(e: Event): Partial<Event['metadata']> {
  const { uid, resourceVersion, creationTimestamp } = e.metadata;
  return { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}), ...(creationTimestamp ? { creationTimestamp } : {}) };
}

/** The reference to an object an event is about. */
export function regardingOf(obj: ApiObject): EventRegarding {
  return {
    kind: obj.kind,
    namespace: obj.metadata.namespace || 'default',
    name: obj.metadata.name,
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
    apiVersion: obj.apiVersion,
  };
}

/**
 * The fields `fieldSelector` may name on events, as kube-apiserver's events.k8s.io registry allows them
 * (pkg/registry/core/event/strategy.go ToSelectableFields: regarding.*, reason, type, reportingController, ...).
 */
export const EVENT_SELECTABLE_FIELDS: Record<string, (e: Event) => string> = {
  'metadata.name': (e) => e.metadata.name,
  'metadata.namespace': (e) => e.metadata.namespace,
  'regarding.kind': (e) => e.regarding.kind,
  'regarding.namespace': (e) => e.regarding.namespace,
  'regarding.name': (e) => e.regarding.name,
  'regarding.uid': (e) => e.regarding.uid ?? '',
  'regarding.apiVersion': (e) => e.regarding.apiVersion ?? '',
  reason: (e) => e.reason,
  reportingController: (e) => e.reportingController,
  type: (e) => e.type,
};
