import { z } from 'zod';
import { API_VERSION, Finalizers, conditions, dnsLabel } from './common.js';
import { cidrsOverlap, parseCidr, type Cidr } from './cidr.js';
import { defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';

// Defaults follow kubeadm's (pods from Cluster API's quick-start, services and domain from kubeadm).
export const DEFAULT_POD_CIDR = '192.168.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_SERVICE_DOMAIN = 'cluster.local';

const cidrBlocks = z
  .array(z.string())
  .min(1, 'at least one CIDR block is required')
  .max(2, 'at most two CIDR blocks (one per IP family)')
  .superRefine((blocks, ctx) => {
    blocks.forEach((b, i) => {
      const r = parseCidr(b);
      if (!r.ok) ctx.addIssue({ code: 'custom', path: [i], message: `invalid CIDR "${b.slice(0, 64)}": ${r.reason}` });
    });
  });

export const clusterNetwork = z
  .strictObject({
    pods: z.strictObject({ cidrBlocks }).default({ cidrBlocks: [DEFAULT_POD_CIDR] }),
    services: z.strictObject({ cidrBlocks }).default({ cidrBlocks: [DEFAULT_SERVICE_CIDR] }),
    serviceDomain: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS domain')
      .default(DEFAULT_SERVICE_DOMAIN),
  })
  .superRefine((net, ctx) => {
    const parsed = (blocks: string[]) =>
      blocks.map((b) => parseCidr(b)).flatMap((r) => (r.ok ? [r.cidr] : [])) as Cidr[];
    const pods = parsed(net.pods.cidrBlocks);
    const services = parsed(net.services.cidrBlocks);
    net.services.cidrBlocks.forEach((b, i) => {
      const r = parseCidr(b);
      if (r.ok && pods.some((p) => cidrsOverlap(p, r.cidr)))
        ctx.addIssue({
          code: 'custom',
          path: ['services', 'cidrBlocks', i],
          message: `service CIDR ${b} overlaps the pod CIDR ${net.pods.cidrBlocks.join(', ')}`,
        });
    });
    // A second block is only for dual stack: it must be of the other family.
    for (const [name, list] of [['pods', pods], ['services', services]] as const)
      if (list.length === 2 && list[0]!.family === list[1]!.family)
        ctx.addIssue({ code: 'custom', path: [name, 'cidrBlocks', 1], message: 'a second CIDR block must be of the other IP family (dual stack)' });
  });

export const awsSubnet = z.strictObject({
  id: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0'),
  availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as us-east-1a'),
});

export const awsClusterProvider = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
  subnets: z.array(awsSubnet).min(1, 'at least one subnet is required'),
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id')).default([]),
  controlPlaneLoadBalancer: z
    .strictObject({
      scheme: z.enum(['internet-facing', 'internal']).default('internal'),
      targetGroupArn: z.string().startsWith('arn:', 'must be an ARN').optional(),
    })
    .optional(),
  sshKeyName: z.string().max(255).optional(),
});

export const simClusterProvider = z.strictObject({
  /** Zones machines are spread across; none means no spreading. */
  failureDomains: z.array(dnsLabel('failure domain')).default([]),
});

export const clusterProvider = z
  .strictObject({ sim: simClusterProvider.optional(), aws: awsClusterProvider.optional() })
  .superRefine((p, ctx) => {
    const n = (p.sim ? 1 : 0) + (p.aws ? 1 : 0);
    if (n !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'exactly one of provider.sim or provider.aws must be set' });
  });

export const clusterSpec = z.strictObject({
  clusterNetwork: clusterNetwork.prefault({}),
  controlPlaneEndpoint: z
    .strictObject({ host: z.string().max(253), port: z.number().int().min(1).max(65535).default(6443) })
    .optional(),
  provider: clusterProvider.prefault({ sim: {} }),
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
  spec: clusterSpec.prefault({}),
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
    return [
      ...immutable('spec.clusterNetwork', oldC.spec.clusterNetwork, newC.spec.clusterNetwork),
      ...immutable('spec.provider.aws.region', oldC.spec.provider.aws?.region, newC.spec.provider.aws?.region),
      ...(Boolean(oldC.spec.provider.aws) !== Boolean(newC.spec.provider.aws)
        ? [{ field: 'spec.provider', reason: 'FieldValueInvalid' as const, message: 'the provider type is immutable' }]
        : []),
    ];
  },
  finalizer: Finalizers.cluster,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Cluster lifecycle phase' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
