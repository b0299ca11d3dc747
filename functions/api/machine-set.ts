import { z } from 'zod';
import { API_VERSION, Finalizers, Labels, conditions, dnsLabel, labelSelector, selectorMatches } from './common.js';
import { defineKind, immutable } from './kind.js';
import { DeletePolicy } from './machine-deployment.js';
import { objectMeta } from './meta.js';
import { machineTemplate } from './template.js';

export const machineSetSpec = z.strictObject({
  clusterName: dnsLabel('spec.clusterName'),
  replicas: z.number().int('must be an integer').min(0, 'must be greater than or equal to 0').default(1),
  selector: labelSelector.optional(),
  template: machineTemplate,
  minReadySeconds: z.number().int().min(0).default(0),
  deletePolicy: DeletePolicy.default('Random'),
});

export const machineSetStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  selector: z.string().optional(),
  replicas: z.number().int().optional(),
  fullyLabeledReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  availableReplicas: z.number().int().optional(),
  failureReason: z.string().optional(),
  failureMessage: z.string().optional(),
  conditions: conditions.optional(),
});

export const machineSetSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('MachineSet'),
    metadata: objectMeta,
    spec: machineSetSpec,
    status: machineSetStatus.optional(),
  })
  .transform((ms) => {
    const labels: Record<string, string> = { ...ms.spec.template.metadata.labels, [Labels.clusterName]: ms.spec.clusterName };
    const selector = ms.spec.selector ?? {
      matchLabels: { [Labels.clusterName]: ms.spec.clusterName, [Labels.setName]: ms.metadata.name },
    };
    if (!ms.spec.selector) labels[Labels.setName] = ms.metadata.name;
    return { ...ms, spec: { ...ms.spec, selector, template: { ...ms.spec.template, metadata: { ...ms.spec.template.metadata, labels } } } };
  })
  .superRefine((ms, ctx) => {
    if (!selectorMatches(ms.spec.selector, ms.spec.template.metadata.labels))
      ctx.addIssue({ code: 'custom', path: ['spec', 'selector'], message: 'selector does not match template labels' });
  });

export type MachineSet = z.infer<typeof machineSetSchema>;
export type MachineSetSpec = MachineSet['spec'];
export type MachineSetStatus = z.infer<typeof machineSetStatus>;

export const MachineSetKind = defineKind<MachineSet>({
  kind: 'MachineSet',
  plural: 'machinesets',
  singular: 'machineset',
  shortNames: ['ms'],
  categories: ['clusterless'],
  schema: machineSetSchema as unknown as z.ZodType<MachineSet>,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b) => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    ...immutable('spec.selector', a.spec.selector, b.spec.selector),
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
