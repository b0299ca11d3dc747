import * as z from 'zod';
import { API_VERSION, DNS1123_SUBDOMAIN, Finalizers, conditions } from './common.js';
import { cidrsOverlap, format, parseCidr, type Cidr } from './cidr.js';
import { defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';
import { DEFAULT_CLUSTER_PROVIDER, clusterProvider, validateProviderUpdate } from './providers/index.js';

// Defaults follow kubeadm's (pods from Cluster API's quick-start, services and domain from kubeadm).
export const DEFAULT_POD_CIDR = '192.168.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_SERVICE_DOMAIN = 'cluster.local';

/**
 * Pod ranges are cut into one range per node by kube-controller-manager (node-cidr-mask-size: /24 for IPv4,
 * /64 for IPv6 by default), and its CIDR set refuses a cluster range more than 16 bits shorter than the node
 * range (kubernetes pkg/controller/nodeipam/ipam/cidrset). So a pod range must lie within these prefixes.
 */
export const POD_PREFIX_RANGE = { 4: { min: 8, max: 24 }, 6: { min: 48, max: 64 } } as const;

/** Validates CIDR blocks (learnt from cluster-api internal/webhooks/cluster.go, validateCIDRBlocks). */
const cidrBlocks = (what: 'pods' | 'services') =>
  z
    .array(z.string())
    .min(1, 'at least one CIDR block is required')
    .max(2, 'at most two CIDR blocks (one per IP family, for dual stack)')
    .check((ctx) => {
      const blocks = ctx.value;
      const parsed: Cidr[] = [];
      blocks.forEach((b, i) => {
        const r = parseCidr(b);
        if (!r.ok) {
          ctx.issues.push({ code: 'custom', input: b, path: [i], message: `invalid CIDR: ${r.reason}`, params: { value: b } });
          return;
        }
        parsed.push(r.cidr);
        const range = POD_PREFIX_RANGE[r.cidr.family];
        if (what === 'pods' && (r.cidr.prefix < range.min || r.cidr.prefix > range.max))
          ctx.issues.push({
            code: 'custom',
            input: b,
            path: [i],
            message: `an IPv${r.cidr.family} pod range must have a prefix length from /${range.min} to /${range.max}, so that every node gets its own range`,
            params: { value: b },
          });
      });
      // A second block is only for dual stack: it must be of the other family.
      if (parsed.length === 2 && parsed[0]!.family === parsed[1]!.family)
        ctx.issues.push({
          code: 'custom',
          input: blocks[1],
          path: [1],
          message: 'a second CIDR block must be of the other IP family (dual stack)',
          params: { value: blocks[1] },
        });
    });

function parsedBlocks(blocks: readonly string[]): Cidr[] {
  return blocks.flatMap((b) => {
    const r = parseCidr(b);
    return r.ok ? [r.cidr] : [];
  });
}

export const clusterNetwork = z
  .strictObject({
    pods: z
      .strictObject({ cidrBlocks: cidrBlocks('pods') })
      // A function, so that no two parsed objects share the default array.
      .default(() => ({ cidrBlocks: [DEFAULT_POD_CIDR] })),
    services: z.strictObject({ cidrBlocks: cidrBlocks('services') }).default(() => ({ cidrBlocks: [DEFAULT_SERVICE_CIDR] })),
    serviceDomain: z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a DNS domain such as cluster.local').default(DEFAULT_SERVICE_DOMAIN),
  })
  .check((ctx) => {
    const net = ctx.value;
    const pods = parsedBlocks(net.pods.cidrBlocks);
    net.services.cidrBlocks.forEach((b, i) => {
      const r = parseCidr(b);
      const clash = r.ok ? pods.find((p) => cidrsOverlap(p, r.cidr)) : undefined;
      if (clash)
        ctx.issues.push({
          code: 'custom',
          input: b,
          path: ['services', 'cidrBlocks', i],
          message: `service range overlaps the pod range ${format(clash)}`,
          params: { value: b },
        });
    });
  });
export type ClusterNetwork = z.infer<typeof clusterNetwork>;

/** Where machines run: `{ <provider>: {...} }`, one registered provider (api/providers). */
export { clusterProvider, type ClusterProvider } from './providers/index.js';

export const clusterSpec = z.strictObject({
  clusterNetwork: clusterNetwork.prefault({}),
  controlPlaneEndpoint: z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535).default(6443) }).optional(),
  /** Where machines run; the simulator when not given. */
  provider: clusterProvider.prefault({ [DEFAULT_CLUSTER_PROVIDER]: {} }),
  paused: z.boolean().default(false),
});

export const ClusterPhase = z.enum(['Pending', 'Provisioning', 'Provisioned', 'Deleting', 'Failed', 'Unknown']);

export const clusterStatus = z.strictObject({
  phase: ClusterPhase.optional(),
  observedGeneration: z.number().int().optional(),
  infrastructureReady: z.boolean().optional(),
  controlPlaneReady: z.boolean().optional(),
  failureDomains: z.record(z.string(), z.strictObject({ controlPlane: z.boolean().optional() })).optional(),
  failureReason: z.string().optional(),
  failureMessage: z.string().optional(),
  conditions: conditions.optional(),
});

export const clusterSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Cluster'),
  metadata: objectMeta,
  // Required like every kind's spec; `spec: {}` is a complete simulated cluster.
  spec: clusterSpec,
  status: clusterStatus.optional(),
});
export type Cluster = z.infer<typeof clusterSchema>;
export type ClusterSpec = z.infer<typeof clusterSpec>;
export type ClusterStatus = z.infer<typeof clusterStatus>;

export const ClusterKind = defineKind<Cluster>({
  kind: 'Cluster',
  plural: 'clusters',
  singular: 'cluster',
  shortNames: ['cl'],
  categories: ['clusterless'],
  schema: clusterSchema,
  clusterNameOf: (c) => c.metadata.name,
  validateUpdate(oldC, newC): FieldCause[] {
    // The network is baked into every node and certificate at bootstrap.
    return [
      ...immutable('spec.clusterNetwork', oldC.spec.clusterNetwork, newC.spec.clusterNetwork),
      ...validateProviderUpdate(oldC.spec.provider, newC.spec.provider),
    ];
  },
  finalizer: Finalizers.cluster,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Cluster lifecycle phase' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
