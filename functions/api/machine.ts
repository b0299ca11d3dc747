import * as z from 'zod';
import { API_VERSION, Finalizers, Labels, conditions, dnsLabel, kubernetesVersion, localObjectReference } from './common.js';
import { cause, defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';
import { nodeTaints } from './taint.js';
import { nodeDeletionTimeoutSeconds, nodeDrainTimeoutSeconds, nodeVolumeDetachTimeoutSeconds, versionChangeCauses } from './template.js';
import { lazySchema } from './lazy-schema.js';

export const MachinePhase = lazySchema(() => z.enum(['Pending', 'Provisioning', 'Provisioned', 'Running', 'Deleting', 'Deleted', 'Failed', 'Unknown']));
export type MachinePhase = z.infer<typeof MachinePhase>;

/** providerID as Kubernetes nodes carry it: aws:///us-east-1a/i-0123..., sim:///zone/sim-... */
export const PROVIDER_ID = /^[a-z0-9]+:\/\/.*$/;

export const machineSpec = lazySchema(() =>
  z.strictObject({
    clusterName: dnsLabel('Name of the Cluster this object belongs to.'),
    version: kubernetesVersion,
    machineClassRef: localObjectReference,
    failureDomain: dnsLabel('Failure domain (availability zone) of the machine.').optional(),
    /** Set once by the provider when the instance exists; never changed or cleared afterwards. */
    providerID: z.string().max(512).regex(PROVIDER_ID, 'must be a provider ID such as aws:///us-east-1a/i-0123456789abcdef0').optional(),
    nodeDrainTimeoutSeconds,
    nodeVolumeDetachTimeoutSeconds,
    nodeDeletionTimeoutSeconds,
    /** Taints the Node registers with, from the template; only a new machine gets new ones (the kubelet registered). */
    taints: nodeTaints.optional(),
  }),
);

export const machineAddress = lazySchema(() =>
  z.strictObject({
    type: z.enum(['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS']),
    address: z.string(),
  }),
);

/**
 * What the provisioning workflow recorded before and after it acted (DESIGN section 4: intent before action),
 * so that a crash at any step is resumed, never repeated.
 */
export const machineInfrastructure = lazySchema(() =>
  z.strictObject({
    /** Idempotency token of the launch, derived from the machine uid and the attempt. */
    clientToken: z.string().optional(),
    attempt: z.number().int().min(0).optional(),
    instanceId: z.string().optional(),
    instanceType: z.string().optional(),
    availabilityZone: z.string().optional(),
    /** The market of the attempt in flight, where a launch has more than one (a spot machine's on-demand fallback). */
    capacityType: z.enum(['spot', 'on-demand']).optional(),
    state: z.string().optional(),
    launchRequestedAt: z.string().optional(),
    launchedAt: z.string().optional(),
  }),
);

export const machineStatus = lazySchema(() =>
  z.strictObject({
    observedGeneration: z.number().int().optional(),
    phase: MachinePhase.optional(),
    nodeRef: z.strictObject({ name: z.string(), uid: z.string().optional() }).optional(),
    addresses: z.array(machineAddress).optional(),
    bootstrapReady: z.boolean().optional(),
    infrastructureReady: z.boolean().optional(),
    infrastructure: machineInfrastructure.optional(),
    lastUpdated: z.string().optional(),
    failureReason: z.string().optional(),
    failureMessage: z.string().optional(),
    deletion: z
      .strictObject({
        nodeDrainStartTime: z.string().optional(),
        /** When the wait for the node's volumes to detach began (Cluster API's waitForNodeVolumeDetachStartTime). */
        waitForNodeVolumeDetachStartTime: z.string().optional(),
        /** When the Node object was first asked to be deleted: the node deletion timeout counts from it. */
        nodeDeletionStartTime: z.string().optional(),
      })
      .optional(),
    conditions: conditions.optional(),
  }),
);

export const machineSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('Machine'),
      metadata: objectMeta,
      spec: machineSpec,
      status: machineStatus.optional(),
    })
    // As Cluster API's Machine webhook (internal/webhooks/machine.go, Default): the cluster name as a label.
    .overwrite((m) => ({ ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, [Labels.clusterName]: m.spec.clusterName } } })),
);
export type Machine = z.infer<typeof machineSchema>;
export type MachineSpec = z.infer<typeof machineSpec>;
export type MachineStatus = z.infer<typeof machineStatus>;

export const MachineKind = defineKind<Machine>({
  kind: 'Machine',
  plural: 'machines',
  singular: 'machine',
  shortNames: ['ma'],
  categories: ['clusterless'],
  schema: machineSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b, options): FieldCause[] => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    // The Node registered with them: a change would say what the Node does not have.
    ...immutable('spec.taints', a.spec.taints, b.spec.taints),
    // The machine's instance is known by it: once set it may not change or be cleared.
    ...(a.spec.providerID === undefined
      ? []
      : b.spec.providerID === undefined
        ? [cause.forbidden('spec.providerID', `may not be removed once set (was ${a.spec.providerID})`)]
        : immutable('spec.providerID', a.spec.providerID, b.spec.providerID)),
    ...versionChangeCauses('spec.version', a.spec.version, b.spec.version, options),
  ],
  finalizer: Finalizers.machine,
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'NodeName', type: 'string', jsonPath: '.status.nodeRef.name' },
    { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID', priority: 1 },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
  ],
});
