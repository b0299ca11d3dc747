import { z } from 'zod';
import { API_VERSION, Finalizers, Labels, conditions, dnsLabel, intOrPercent, labelSelector, selectorMatches } from './common.js';
import { defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';
import { machineTemplate, versionChangeCauses } from './template.js';

export const DeletePolicy = z.enum(['Random', 'Newest', 'Oldest']);
export type DeletePolicy = z.infer<typeof DeletePolicy>;

export const rollingUpdate = z
  .strictObject({ maxSurge: intOrPercent.default(1), maxUnavailable: intOrPercent.default(0) })
  .superRefine((r, ctx) => {
    // Cluster API and Deployments refuse a rolling update that can never make progress.
    const zero = (v: number | string) => v === 0 || v === '0%';
    if (zero(r.maxSurge) && zero(r.maxUnavailable))
      ctx.addIssue({ code: 'custom', path: ['maxUnavailable'], message: 'may not be 0 when maxSurge is 0' });
  });

export const deploymentStrategy = z
  .strictObject({
    type: z.enum(['RollingUpdate', 'Recreate', 'OnDelete']).default('RollingUpdate'),
    rollingUpdate: rollingUpdate.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.type !== 'RollingUpdate' && s.rollingUpdate)
      ctx.addIssue({ code: 'custom', path: ['rollingUpdate'], message: `may not be set when type is ${s.type}` });
  })
  .transform((s) => (s.type === 'RollingUpdate' ? { ...s, rollingUpdate: s.rollingUpdate ?? { maxSurge: 1, maxUnavailable: 0 } } : s));

export const machineDeploymentSpec = z.strictObject({
  clusterName: dnsLabel('spec.clusterName'),
  replicas: z.number().int('must be an integer').min(0, 'must be greater than or equal to 0').default(1),
  /** Defaulted from the template's labels, as Cluster API's webhook does. */
  selector: labelSelector.optional(),
  template: machineTemplate,
  strategy: deploymentStrategy.prefault({}),
  minReadySeconds: z.number().int().min(0).default(0),
  revisionHistoryLimit: z.number().int().min(0).default(10),
  progressDeadlineSeconds: z.number().int().min(1).default(600),
  paused: z.boolean().default(false),
  deletePolicy: DeletePolicy.default('Random'),
});

export const MachineDeploymentPhase = z.enum(['ScalingUp', 'ScalingDown', 'Running', 'Failed', 'Unknown']);

export const machineDeploymentStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  selector: z.string().optional(),
  replicas: z.number().int().optional(),
  updatedReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  availableReplicas: z.number().int().optional(),
  unavailableReplicas: z.number().int().optional(),
  phase: MachineDeploymentPhase.optional(),
  conditions: conditions.optional(),
});

/**
 * Fills the labels Cluster API's MachineDeployment webhook adds: the cluster and deployment name on the
 * template, and a selector made from them when none is given.
 */
function withDefaultLabels<T extends { metadata: { name: string }; spec: z.infer<typeof machineDeploymentSpec> }>(md: T): T {
  const labels = {
    ...md.spec.template.metadata.labels,
    [Labels.clusterName]: md.spec.clusterName,
    [Labels.deploymentName]: md.metadata.name,
  };
  const selector = md.spec.selector ?? {
    matchLabels: { [Labels.clusterName]: md.spec.clusterName, [Labels.deploymentName]: md.metadata.name },
  };
  return {
    ...md,
    spec: { ...md.spec, selector, template: { ...md.spec.template, metadata: { ...md.spec.template.metadata, labels } } },
  };
}

export const machineDeploymentSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('MachineDeployment'),
    metadata: objectMeta,
    spec: machineDeploymentSpec,
    status: machineDeploymentStatus.optional(),
  })
  .transform(withDefaultLabels)
  .superRefine((md, ctx) => {
    if (!selectorMatches(md.spec.selector!, md.spec.template.metadata.labels))
      ctx.addIssue({ code: 'custom', path: ['spec', 'selector'], message: 'selector does not match template labels' });
  });

export type MachineDeployment = z.infer<typeof machineDeploymentSchema>;
export type MachineDeploymentSpec = MachineDeployment['spec'];
export type MachineDeploymentStatus = z.infer<typeof machineDeploymentStatus>;

export const MachineDeploymentKind = defineKind<MachineDeployment>({
  kind: 'MachineDeployment',
  plural: 'machinedeployments',
  singular: 'machinedeployment',
  shortNames: ['md'],
  categories: ['clusterless'],
  schema: machineDeploymentSchema as unknown as z.ZodType<MachineDeployment>,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b): FieldCause[] => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    ...immutable('spec.selector', a.spec.selector, b.spec.selector),
    ...versionChangeCauses('spec.template.spec.version', a.spec.template.spec.version, b.spec.template.spec.version),
  ],
  finalizer: Finalizers.machineDeployment,
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    { name: 'Updated', type: 'integer', jsonPath: '.status.updatedReplicas' },
    { name: 'Unavailable', type: 'integer', jsonPath: '.status.unavailableReplicas' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Version', type: 'string', jsonPath: '.spec.template.spec.version' },
  ],
});
