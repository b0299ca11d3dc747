import * as z from 'zod';
import { API_VERSION, Finalizers, Labels, conditions, dnsLabel, labelSelector, replicaCount } from './common.js';
import { defineKind, immutable } from './kind.js';
import { DeletePolicy, selectorMatchesTemplate, withOwnerLabels } from './machine-deployment.js';
import { objectMeta } from './meta.js';
import { machineTemplate, versionChangeCauses } from './template.js';
import { lazySchema } from './lazy-schema.js';

export const machineSetSpec = lazySchema(() =>
  z.strictObject({
    clusterName: dnsLabel('Name of the Cluster this object belongs to.'),
    replicas: replicaCount().default(1),
    selector: labelSelector.optional(),
    template: machineTemplate,
    minReadySeconds: z.number().int().min(0).default(0),
    deletePolicy: DeletePolicy.default('Random'),
  }),
);

export const machineSetStatus = lazySchema(() =>
  z.strictObject({
    observedGeneration: z.number().int().optional(),
    selector: z.string().optional(),
    replicas: z.number().int().optional(),
    fullyLabeledReplicas: z.number().int().optional(),
    readyReplicas: z.number().int().optional(),
    availableReplicas: z.number().int().optional(),
    failureReason: z.string().optional(),
    failureMessage: z.string().optional(),
    conditions: conditions.optional(),
  }),
);

export const machineSetSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('MachineSet'),
      metadata: objectMeta,
      spec: machineSetSpec,
      status: machineSetStatus.optional(),
    })
    .transform((ms) => withOwnerLabels(ms, Labels.setName, false))
    .check(selectorMatchesTemplate),
);

export type MachineSet = z.infer<typeof machineSetSchema>;
export type MachineSetSpec = MachineSet['spec'];
export type MachineSetStatus = z.infer<typeof machineSetStatus>;

export const MachineSetKind = defineKind<MachineSet>({
  kind: 'MachineSet',
  plural: 'machinesets',
  singular: 'machineset',
  shortNames: ['ms'],
  categories: ['clusterless'],
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  schema: machineSetSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b, options) => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    ...immutable('spec.selector', a.spec.selector, b.spec.selector),
    ...versionChangeCauses('spec.template.spec.version', a.spec.template.spec.version, b.spec.template.spec.version, options),
  ],
  finalizer: Finalizers.machineSet,
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Version', type: 'string', jsonPath: '.spec.template.spec.version' },
  ],
});
