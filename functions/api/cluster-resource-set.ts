/**
 * Addons applied to workload clusters: a ClusterResourceSet (namespace-level, like MachineClass) names the
 * manifests and selects the Clusters of its namespace; a ClusterResourceSetBinding per cluster (in the cluster's
 * partition, named after it) records what was applied there. Semantics learnt from Cluster API's
 * exp/addons/api/v1beta1/clusterresourceset_types.go and clusterresourcesetbinding_types.go; here the manifests are
 * held by the set itself (inline text, kept by the installation's PayloadStore) instead of ConfigMaps and Secrets,
 * which clusterless has no place for.
 */
import { parseAllDocuments } from 'yaml';
import * as z from 'zod';
import { API_VERSION, Labels, conditions, dnsLabel, labelSelector } from './common.js';
import { defineKind, immutable } from './kind.js';
import { objectMeta } from './meta.js';
import { lazySchema } from './lazy-schema.js';

/** Cluster API's two strategies: apply each resource once per cluster, or again whenever its content changes. */
export const ClusterResourceSetStrategy = { ApplyOnce: 'ApplyOnce', Reconcile: 'Reconcile' } as const;
export type ClusterResourceSetStrategy = (typeof ClusterResourceSetStrategy)[keyof typeof ClusterResourceSetStrategy];

/** At most this many named resources per set; each may hold many documents. */
export const MAX_ADDON_RESOURCES = 100;
/** Aliases allowed in one resource's YAML: enough for real manifests, too few for an alias bomb. */
const MAX_MANIFEST_ALIASES = 100;

/** One document of a manifest, as the workload API takes it. */
export interface ManifestDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The documents of a resource's `manifests` (YAML or JSON, `---`-separated), empty documents skipped. Each must be
 * an object with apiVersion, kind and metadata.name, as server-side apply needs them. Pure: the API validates with
 * it, and the applier splits with it.
 */
export function manifestDocuments(text: string): { documents: ManifestDocument[] } | { error: string } {
  const docs = parseAllDocuments(text, { schema: 'core', prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const documents: ManifestDocument[] = [];
  for (const [i, doc] of list.entries()) {
    if (doc.errors.length > 0) return { error: `document ${i + 1} is not valid YAML: ${doc.errors[0]!.message}` };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_MANIFEST_ALIASES });
    } catch (e) {
      return { error: `document ${i + 1} is not acceptable YAML: ${(e as Error).message}` };
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) return { error: `document ${i + 1} must be an object` };
    const o = value as Record<string, unknown>;
    const meta = o['metadata'] as Record<string, unknown> | undefined;
    if (typeof o['apiVersion'] !== 'string' || o['apiVersion'] === '') return { error: `document ${i + 1} has no apiVersion` };
    if (typeof o['kind'] !== 'string' || o['kind'] === '') return { error: `document ${i + 1} has no kind` };
    if (!meta || typeof meta !== 'object' || typeof meta['name'] !== 'string' || meta['name'] === '')
      return { error: `document ${i + 1} (${o['kind']}) has no metadata.name` };
    documents.push(o as ManifestDocument);
  }
  if (documents.length === 0) return { error: 'holds no document' };
  return { documents };
}

export const addonResource = lazySchema(() =>
  z.strictObject({
    /** Names the resource within the set; the binding records it by this name. */
    name: dnsLabel('Name of the resource within the set, recorded in the ClusterResourceSetBinding.'),
    /** One or more Kubernetes objects, YAML or JSON, separated by `---`, applied in order. */
    manifests: z
      .string()
      .min(1)
      .check((ctx) => {
        const parsed = manifestDocuments(ctx.value);
        if ('error' in parsed) ctx.issues.push({ code: 'custom', input: '', message: `must be Kubernetes manifests: ${parsed.error}` });
      })
      .describe('One or more Kubernetes objects (YAML or JSON documents separated by ---), applied in order by server-side apply.'),
  }),
);
export type AddonResource = z.infer<typeof addonResource>;

export const clusterResourceSetSpec = lazySchema(() =>
  z
    .strictObject({
      /** Selects Clusters of the set's namespace by their labels. Empty selects none, as in Cluster API. */
      clusterSelector: labelSelector.default(() => ({})),
      strategy: z.enum([ClusterResourceSetStrategy.ApplyOnce, ClusterResourceSetStrategy.Reconcile]).default(ClusterResourceSetStrategy.ApplyOnce),
      resources: z.array(addonResource).min(1).max(MAX_ADDON_RESOURCES),
    })
    .check((ctx) => {
      const seen = new Set<string>();
      ctx.value.resources.forEach((r, i) => {
        if (seen.has(r.name))
          ctx.issues.push({
            code: 'custom',
            input: r.name,
            path: ['resources', i, 'name'],
            message: 'Duplicate value',
            params: { value: r.name, reason: 'FieldValueDuplicate' },
          });
        seen.add(r.name);
      });
    }),
);

export const clusterResourceSetSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('ClusterResourceSet'),
    metadata: objectMeta,
    spec: clusterResourceSetSpec,
    status: z.strictObject({ observedGeneration: z.number().int().optional(), conditions: conditions.optional() }).optional(),
  }),
);
export type ClusterResourceSet = z.infer<typeof clusterResourceSetSchema>;

/**
 * A resource as the store keeps it: the manifests moved to the PayloadStore and named by their digest and size
 * (the API's store puts them back on every read), or inline when written past the API (tests, the store itself).
 */
export interface StoredAddonResource {
  name: string;
  manifests?: string;
  /** `sha256:<hex>` of the manifests' UTF-8 bytes. */
  digest?: string;
  /** Bytes of the manifests. */
  size?: number;
}
export type StoredClusterResourceSet = Omit<ClusterResourceSet, 'spec'> & {
  spec: Omit<ClusterResourceSet['spec'], 'resources'> & { resources: StoredAddonResource[] };
};

export const ClusterResourceSetKind = defineKind<ClusterResourceSet>({
  kind: 'ClusterResourceSet',
  plural: 'clusterresourcesets',
  singular: 'clusterresourceset',
  shortNames: ['crs'],
  categories: ['clusterless'],
  schema: clusterResourceSetSchema,
  // Shared by the clusters of its namespace it selects; each cluster's reconcile reads the namespace's sets.
  clusterNameOf: () => undefined,
  printerColumns: [
    { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

/** What was applied of one resource of a set (Cluster API's ResourceBinding). */
export const resourceBinding = lazySchema(() =>
  z.strictObject({
    name: z.string().min(1),
    /** The digest of the manifests applied (or last tried). */
    hash: z.string(),
    applied: z.boolean(),
    lastAppliedTime: z.string().optional(),
  }),
);
export type ResourceBinding = z.infer<typeof resourceBinding>;

export const resourceSetBinding = lazySchema(() =>
  z.strictObject({
    clusterResourceSetName: dnsLabel('Name of the ClusterResourceSet.'),
    resources: z.array(resourceBinding).default(() => []),
  }),
);
export type ResourceSetBinding = z.infer<typeof resourceSetBinding>;

export const clusterResourceSetBindingSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('ClusterResourceSetBinding'),
      metadata: objectMeta,
      spec: z.strictObject({ clusterName: dnsLabel('Name of the Cluster whose addons this records.') }),
      // Observations, written by the cluster's reconcile only: kept in status, one write per change.
      status: z.strictObject({ bindings: z.array(resourceSetBinding).optional(), conditions: conditions.optional() }).optional(),
    })
    .overwrite((b) => ({ ...b, metadata: { ...b.metadata, labels: { ...b.metadata.labels, [Labels.clusterName]: b.spec.clusterName } } })),
);
export type ClusterResourceSetBinding = z.infer<typeof clusterResourceSetBindingSchema>;

export const ClusterResourceSetBindingKind = defineKind<ClusterResourceSetBinding>({
  kind: 'ClusterResourceSetBinding',
  plural: 'clusterresourcesetbindings',
  singular: 'clusterresourcesetbinding',
  shortNames: ['crsb'],
  categories: ['clusterless'],
  schema: clusterResourceSetBindingSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b) => [...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName)],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
