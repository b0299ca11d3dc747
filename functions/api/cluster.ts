import * as z from 'zod';
import {
  API_VERSION,
  DNS1123_LABEL_MAX,
  DNS1123_SUBDOMAIN,
  Finalizers,
  compareVersions,
  conditions,
  dnsLabel,
  kubernetesVersion,
  parseVersion,
  replicaCount,
} from './common.js';
import { cidrsOverlap, format, parseCidr, type Cidr } from './cidr.js';
import { controlPlaneSpec } from './control-plane.js';
import { cause, defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta, templateMeta } from './meta.js';
import { MAX_KUBELET_MINOR_SKEW } from './version-skew.js';
import { DEFAULT_CLUSTER_PROVIDER, clusterProvider, validateProviderUpdate } from './providers/index.js';
import { lazySchema } from './lazy-schema.js';

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

export const clusterNetwork = lazySchema(() =>
  z
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
    }),
);
export type ClusterNetwork = z.infer<typeof clusterNetwork>;

/** Where machines run: `{ <provider>: {...} }`, one registered provider (api/providers). */
export { clusterProvider, type ClusterProvider } from './providers/index.js';

/**
 * A free-form JSON value (a variable's value, a patch's value): any JSON the class's schema then checks. The
 * CRD keeps it whole (x-kubernetes-preserve-unknown-fields, as Cluster API's apiextensionsv1.JSON values); copied
 * when parsed, so that no two parsed objects share it.
 */
export const jsonValue = (description: string) =>
  z
    .unknown()
    .overwrite((v) => (v === undefined ? v : structuredClone(v)))
    .meta({ description, 'x-kubernetes-preserve-unknown-fields': true });

/** A variable's value in a Cluster's topology (Cluster API's ClusterVariable). */
export const clusterVariable = lazySchema(() =>
  z
    .strictObject({
      name: z.string().min(1).max(256),
      value: jsonValue('The value, checked against the schema the ClusterClass declares for the variable.'),
    })
    .check((ctx) => {
      if (ctx.value.value === undefined)
        ctx.issues.push({ code: 'custom', input: undefined, path: ['value'], message: 'a variable needs a value', params: { reason: 'FieldValueRequired' } });
    }),
);
export type ClusterVariable = z.infer<typeof clusterVariable>;

/** Names in a list that must be unique: one cause per repeat, at `[i].name`. */
const uniqueNames =
  (what: string) =>
  (ctx: z.core.ParsePayload<readonly { name: string }[]>): void => {
    const seen = new Set<string>();
    ctx.value.forEach((v, i) => {
      if (seen.has(v.name))
        ctx.issues.push({
          code: 'custom',
          input: v.name,
          path: [i, 'name'],
          message: `${what} names must be unique`,
          params: { reason: 'FieldValueDuplicate' },
        });
      seen.add(v.name);
    });
  };

export const clusterVariables = lazySchema(() => z.array(clusterVariable).check(uniqueNames('variable')));

/** One MachineDeployment of a managed topology (Cluster API's MachineDeploymentTopology). */
export const machineDeploymentTopology = lazySchema(() =>
  z.strictObject({
    /** A workers.machineDeployments[].class of the ClusterClass. */
    class: dnsLabel('The ClusterClass worker class the MachineDeployment is stamped from.'),
    /** The MachineDeployment is named {cluster}-{name}. */
    name: dnsLabel('Name of the MachineDeployment in the topology, unique in the Cluster.'),
    replicas: replicaCount().optional(),
    failureDomain: dnsLabel('Failure domain (availability zone) its machines are pinned to.').optional(),
    metadata: templateMeta.optional(),
    variables: z.strictObject({ overrides: clusterVariables.optional() }).optional(),
  }),
);
export type MachineDeploymentTopology = z.infer<typeof machineDeploymentTopology>;

/**
 * A managed topology (Cluster API's Cluster.spec.topology): the ControlPlane, MachineDeployments and
 * MachineHealthChecks of the cluster are stamped from a ClusterClass of its namespace and kept so by the topology
 * planner (functions/core/topology). Learnt from cluster-api api/core/v1beta1/cluster_types.go (Topology).
 */
export const clusterTopology = lazySchema(() =>
  z.strictObject({
    class: dnsLabel("Name of a ClusterClass in the Cluster's namespace."),
    version: kubernetesVersion,
    controlPlane: z
      .strictObject({
        /** Odd, as the ControlPlane's; the class's replicas when unset. */
        replicas: controlPlaneSpec.shape.replicas.unwrap().optional(),
        metadata: templateMeta.optional(),
      })
      .optional(),
    workers: z
      .strictObject({
        machineDeployments: z.array(machineDeploymentTopology).check(uniqueNames('MachineDeployment topology')).optional(),
      })
      .optional(),
    variables: clusterVariables.optional(),
  }),
);
export type ClusterTopology = z.infer<typeof clusterTopology>;

/**
 * How far a managed topology's version may move in one update: never down, never across a major, and at most
 * MAX_KUBELET_MINOR_SKEW minors up (the planner then upgrades the control plane one minor at a time while the
 * workers wait, which the kubelet skew allows; Cluster API's validateTopologyVersion in internal/webhooks/cluster.go
 * refuses a decrease and, before chained upgrades, a skipped minor).
 */
export function topologyVersionCauses(oldV: string, newV: string): FieldCause[] {
  const field = 'spec.topology.version';
  const a = parseVersion(oldV);
  const b = parseVersion(newV);
  if (!a || !b || oldV === newV) return [];
  if (compareVersions(newV, oldV) < 0) return [cause.forbidden(field, `version cannot be decreased from ${oldV} to ${newV}`)];
  if (b.major !== a.major || b.minor - a.minor > MAX_KUBELET_MINOR_SKEW)
    return [
      cause.forbidden(
        field,
        `version cannot be increased from ${oldV} to ${newV}: at most ${MAX_KUBELET_MINOR_SKEW} minor versions in one update (the control plane is upgraded one minor at a time, and workers may not fall further behind)`,
      ),
    ];
  return [];
}

export const clusterSpec = lazySchema(() =>
  z.strictObject({
    clusterNetwork: clusterNetwork.prefault({}),
    controlPlaneEndpoint: z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535).default(6443) }).optional(),
    /** Where machines run; the simulator when not given. */
    provider: clusterProvider.prefault({ [DEFAULT_CLUSTER_PROVIDER]: {} }),
    paused: z.boolean().default(false),
    /** A managed topology: the cluster's ControlPlane and workers are stamped from a ClusterClass. */
    topology: clusterTopology.optional(),
  }),
);

export const ClusterPhase = lazySchema(() => z.enum(['Pending', 'Provisioning', 'Provisioned', 'Deleting', 'Failed', 'Unknown']));

export const clusterStatus = lazySchema(() =>
  z.strictObject({
    phase: ClusterPhase.optional(),
    observedGeneration: z.number().int().optional(),
    infrastructureReady: z.boolean().optional(),
    controlPlaneReady: z.boolean().optional(),
    failureDomains: z.record(z.string(), z.strictObject({ controlPlane: z.boolean().optional() })).optional(),
    failureReason: z.string().optional(),
    failureMessage: z.string().optional(),
    /**
     * The metadata.generation of the ClusterClass the topology was last reconciled against: the sweep reconciles a
     * cluster whose class has changed since (a class lives in the namespace's partition, so its write triggers no
     * reconcile of the clusters that use it on AWS).
     */
    observedClusterClassGeneration: z.number().int().optional(),
    conditions: conditions.optional(),
  }),
);

export const clusterSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('Cluster'),
      metadata: objectMeta,
      // Required like every kind's spec; `spec: {}` is a complete simulated cluster.
      spec: clusterSpec,
      status: clusterStatus.optional(),
    })
    // The objects a topology generates are named {cluster}-control-plane and {cluster}-{name}: names that must fit.
    .check((ctx) => {
      const c = ctx.value;
      if (!c.spec.topology) return;
      const fits = (name: string) => name.length <= DNS1123_LABEL_MAX;
      if (!fits(`${c.metadata.name}-control-plane`))
        ctx.issues.push({
          code: 'custom',
          input: c.metadata.name,
          path: ['metadata', 'name'],
          message: `a Cluster with a topology needs a name of at most ${DNS1123_LABEL_MAX - '-control-plane'.length} characters, so that its ControlPlane's name ({name}-control-plane) fits`,
        });
      (c.spec.topology.workers?.machineDeployments ?? []).forEach((md, i) => {
        if (!fits(`${c.metadata.name}-${md.name}`))
          ctx.issues.push({
            code: 'custom',
            input: md.name,
            path: ['spec', 'topology', 'workers', 'machineDeployments', i, 'name'],
            message: `the MachineDeployment {cluster}-{name} would be longer than ${DNS1123_LABEL_MAX} characters`,
          });
      });
    }),
);
export type Cluster = z.infer<typeof clusterSchema>;
export type ClusterSpec = z.infer<typeof clusterSpec>;
export type ClusterStatus = z.infer<typeof clusterStatus>;

/**
 * A topology is set when the Cluster is created and stays (Cluster API's webhook forbids adding one to a cluster
 * made without, and removing one); its version moves as topologyVersionCauses allows.
 */
function topologyUpdateCauses(a: ClusterTopology | undefined, b: ClusterTopology | undefined): FieldCause[] {
  if (!a && b) return [cause.forbidden('spec.topology', 'a topology can be set only when the Cluster is created')];
  if (a && !b) return [cause.forbidden('spec.topology', 'a managed topology cannot be removed')];
  return a && b ? topologyVersionCauses(a.version, b.version) : [];
}

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
      ...topologyUpdateCauses(oldC.spec.topology, newC.spec.topology),
    ];
  },
  finalizer: Finalizers.cluster,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Cluster lifecycle phase' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
