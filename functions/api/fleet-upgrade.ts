/**
 * FleetUpgrade: moves many topology-managed Clusters of a namespace to a Kubernetes version (and optionally a
 * ClusterClass) in waves: a canary, then batches, each wave at most `maxInFlight` clusters at once, with a bake
 * time between waves and halt rules after each. It belongs to no cluster (its partition is the namespace's, like a
 * MachineClass). The clusters and waves are frozen into status when the upgrade starts, so a cluster labelled
 * later is never touched. Cluster API has no such kind; each cluster's own upgrade is its topology controller's
 * (internal/controllers/topology/cluster in kubernetes-sigs/cluster-api: the control plane first, then the
 * MachineDeployments), which clusterless's topology planner plays; this kind only writes `spec.topology.version`.
 */
import * as z from 'zod';
import { API_VERSION, conditions, dnsLabel, kubernetesVersion, labelSelector, selectorIsEmpty } from './common.js';
import { cause, defineKind, jsonEqual, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';
import { lazySchema } from './lazy-schema.js';

/**
 * Clusters one FleetUpgrade may hold in its status. A status entry is at most about 450 bytes (its message cut to
 * FLEET_MESSAGE_MAX), and the object must fit a 400 KB DynamoDB item twice over: the watch log keeps an object and
 * its previous state in one item (adapters/dynamodb/watch-log.ts).
 */
export const MAX_FLEET_UPGRADE_CLUSTERS = 400;
/** A cluster's message in the status is cut to this many characters. */
export const FLEET_MESSAGE_MAX = 200;
/**
 * Clusters at once within a wave: Step Functions runs at most 40 iterations of an inline Map at once, and a
 * fleet upgrade that needs more in flight wants smaller waves, not wider ones.
 */
export const MAX_FLEET_IN_FLIGHT = 40;
/** Batches after the canary. */
export const MAX_FLEET_BATCHES = 20;

/** A batch size: a count of clusters, or a percent of the matched clusters ("10%"). */
const PERCENT = /^(100|[1-9]\d?)%$/;
export const batchSize = lazySchema(() =>
  z.union([
    z.number().int('must be an integer').min(1, 'must be at least 1'),
    z.string().regex(PERCENT, 'must be a count of clusters or a percent from 1% to 100%, for example "10%"'),
  ]),
);
export type BatchSize = z.infer<typeof batchSize>;

export const fleetUpgradeWaves = lazySchema(() =>
  z.strictObject({
    /** Clusters upgraded alone first; 0 for no canary. */
    canary: z.number().int().min(0).max(MAX_FLEET_UPGRADE_CLUSTERS).default(1),
    /** The waves after the canary: counts or percents of the matched clusters; the last takes whatever is left. */
    batches: z
      .array(batchSize)
      .min(1)
      .max(MAX_FLEET_BATCHES)
      .default(() => ['100%']),
  }),
);
export type FleetUpgradeWaves = z.infer<typeof fleetUpgradeWaves>;

export const fleetUpgradeSpec = lazySchema(() =>
  z
    .strictObject({
      /** Clusters of the namespace by their labels. */
      clusterSelector: labelSelector.optional(),
      /** Clusters whose spec.topology.class is this ClusterClass. With a selector, clusters must match both. */
      clusterClass: dnsLabel('Selects Clusters whose spec.topology.class is this ClusterClass.').optional(),
      /** The Kubernetes version every selected cluster's topology is set to. */
      version: kubernetesVersion,
      /** Rebases every selected cluster onto this ClusterClass as well (spec.topology.class). */
      class: dnsLabel('Rebases every selected cluster onto this ClusterClass (spec.topology.class).').optional(),
      waves: fleetUpgradeWaves.prefault({}),
      /** Clusters upgrading at once within a wave. Read at the start of each wave, so a change applies to the next. */
      maxInFlight: z.number().int().min(1).max(MAX_FLEET_IN_FLIGHT).default(1),
      /** Seconds to wait after a wave before the next starts. */
      bakeSeconds: z
        .number()
        .int()
        .min(0)
        .max(7 * 24 * 3600)
        .default(0),
      /** A cluster not done this many seconds after its topology was set counts as failed. */
      clusterTimeoutSeconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 24 * 3600)
        .default(3600),
      /** Failed clusters the upgrade tolerates; one more halts it after its wave (no further cluster is started). */
      maxFailedClusters: z.number().int().min(0).default(0),
      /**
       * A cluster one of whose MachineHealthChecks finds more than this percent of its machines unhealthy while it
       * upgrades counts as failed. Unset: machine health is left to the topology's own checks.
       */
      maxUnhealthyMachinesPercent: z.number().int().min(0).max(100).optional(),
      /** No new wave and no new cluster starts while true; clusters already upgrading go on. */
      paused: z.boolean().default(false),
      /** Stops the upgrade for good: upgraded clusters stay as they are, no further cluster is touched. Cannot be undone. */
      abort: z.boolean().default(false),
    })
    .check((ctx) => {
      const s = ctx.value;
      if (s.clusterClass === undefined && selectorIsEmpty(s.clusterSelector))
        ctx.issues.push({
          code: 'custom',
          input: s.clusterSelector,
          path: ['clusterSelector'],
          message: 'a non-empty clusterSelector or a clusterClass must select the clusters to upgrade',
          params: { reason: 'FieldValueRequired' },
        });
    }),
);
export type FleetUpgradeSpec = z.infer<typeof fleetUpgradeSpec>;

export const FleetUpgradePhase = lazySchema(() => z.enum(['Pending', 'Progressing', 'Paused', 'Halted', 'Aborted', 'Succeeded']));
export type FleetUpgradePhase = z.infer<typeof FleetUpgradePhase>;

/** Where one cluster, or one wave, stands. */
export const FleetItemPhase = lazySchema(() => z.enum(['Pending', 'InFlight', 'Succeeded', 'Failed', 'Skipped']));
export type FleetItemPhase = z.infer<typeof FleetItemPhase>;

export const fleetUpgradeCluster = lazySchema(() =>
  z.strictObject({
    name: z.string(),
    /** The Cluster chosen at start: a Cluster of that name made later is another cluster, and is skipped. */
    uid: z.string().optional(),
    /** Index into status.waves. */
    wave: z.number().int().min(0),
    phase: FleetItemPhase,
    reason: z.string().optional(),
    message: z.string().optional(),
    /** spec.topology.version before the upgrade set it. */
    fromVersion: z.string().optional(),
    /** The Cluster's metadata.generation the topology update produced: done means TopologyReconciled observed it. */
    generation: z.number().int().optional(),
    startedAt: z.string().optional(),
    completedAt: z.string().optional(),
  }),
);
export type FleetUpgradeCluster = z.infer<typeof fleetUpgradeCluster>;

export const fleetUpgradeWave = lazySchema(() =>
  z.strictObject({
    /** `canary`, then `batch-1`, `batch-2`, ... */
    name: z.string(),
    clusters: z.number().int().min(0),
    phase: FleetItemPhase,
    startedAt: z.string().optional(),
    completedAt: z.string().optional(),
    /** When the bake after this wave ends. */
    bakeUntil: z.string().optional(),
  }),
);
export type FleetUpgradeWave = z.infer<typeof fleetUpgradeWave>;

export const fleetUpgradeCounts = lazySchema(() =>
  z.strictObject({
    total: z.number().int(),
    pending: z.number().int(),
    inFlight: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
  }),
);
export type FleetUpgradeCounts = z.infer<typeof fleetUpgradeCounts>;

export const fleetUpgradeStatus = lazySchema(() =>
  z.strictObject({
    phase: FleetUpgradePhase.optional(),
    observedGeneration: z.number().int().optional(),
    /** Why the upgrade halted or was refused, in a word (Cluster API's reason style). */
    reason: z.string().optional(),
    message: z.string().optional(),
    startedAt: z.string().optional(),
    completedAt: z.string().optional(),
    /** Index of the wave running or next to run. */
    currentWave: z.number().int().optional(),
    waves: z.array(fleetUpgradeWave).optional(),
    clusters: z.array(fleetUpgradeCluster).optional(),
    counts: fleetUpgradeCounts.optional(),
    conditions: conditions.optional(),
  }),
);
export type FleetUpgradeStatus = z.infer<typeof fleetUpgradeStatus>;

export const fleetUpgradeSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('FleetUpgrade'),
    metadata: objectMeta,
    spec: fleetUpgradeSpec,
    status: fleetUpgradeStatus.optional(),
  }),
);
export type FleetUpgrade = z.infer<typeof fleetUpgradeSchema>;

/** True once the plan is frozen into status: the selection, the target and the waves may no longer change. */
export function fleetUpgradeStarted(fu: FleetUpgrade): boolean {
  return fu.status?.clusters !== undefined;
}

/** The phases after which nothing more happens. */
export function fleetUpgradeFinished(phase: FleetUpgradePhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Halted' || phase === 'Aborted';
}

const STARTED = 'field is immutable once the upgrade has started: create a new FleetUpgrade for another selection or target';

function validateFleetUpgradeUpdate(oldFu: FleetUpgrade, newFu: FleetUpgrade): FieldCause[] {
  const causes: FieldCause[] = [];
  if (oldFu.spec.abort && !newFu.spec.abort) causes.push(cause.invalid('spec.abort', newFu.spec.abort, 'an aborted upgrade cannot be resumed'));
  if (!fleetUpgradeStarted(oldFu)) return causes;
  for (const field of ['clusterSelector', 'clusterClass', 'version', 'class', 'waves'] as const)
    if (!jsonEqual(oldFu.spec[field], newFu.spec[field])) causes.push(cause.invalid(`spec.${field}`, newFu.spec[field], STARTED));
  return causes;
}

export const FleetUpgradeKind = defineKind<FleetUpgrade>({
  kind: 'FleetUpgrade',
  plural: 'fleetupgrades',
  singular: 'fleetupgrade',
  shortNames: ['fu'],
  categories: ['clusterless'],
  schema: fleetUpgradeSchema,
  // Spans the clusters of its namespace, like a MachineClass.
  clusterNameOf: () => undefined,
  validateUpdate: validateFleetUpgradeUpdate,
  printerColumns: [
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Total', type: 'integer', jsonPath: '.status.counts.total' },
    { name: 'Succeeded', type: 'integer', jsonPath: '.status.counts.succeeded' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.counts.failed' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
