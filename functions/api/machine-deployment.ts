import * as z from 'zod';
import {
  API_VERSION,
  Finalizers,
  Labels,
  conditions,
  dnsLabel,
  intOrPercent,
  isZeroIntOrPercent,
  labelSelector,
  replicaCount,
  selectorIsEmpty,
  selectorMatches,
  selectorString,
  type LabelSelector,
} from './common.js';
import { machineDeploymentCapacity } from './capacity.js';
import { defineKind, immutable, type FieldCause } from './kind.js';
import { objectMeta, type ObjectMeta } from './meta.js';
import { machineTemplate, versionChangeCauses, type MachineTemplate } from './template.js';
import { lazySchema } from './lazy-schema.js';

export const DeletePolicy = lazySchema(() => z.enum(['Random', 'Newest', 'Oldest']));
export type DeletePolicy = z.infer<typeof DeletePolicy>;

export const DEFAULT_MAX_SURGE = 1;
export const DEFAULT_MAX_UNAVAILABLE = 0;

export const rollingUpdate = lazySchema(() =>
  z.strictObject({ maxSurge: intOrPercent.default(DEFAULT_MAX_SURGE), maxUnavailable: intOrPercent.default(DEFAULT_MAX_UNAVAILABLE) }).check((ctx) => {
    // Deployments and Cluster API refuse a rolling update that can never make progress.
    const r = ctx.value;
    if (isZeroIntOrPercent(r.maxSurge) && isZeroIntOrPercent(r.maxUnavailable))
      ctx.issues.push({
        code: 'custom',
        input: r.maxUnavailable,
        path: ['maxUnavailable'],
        message: 'may not be 0 when maxSurge is 0: the rollout could never replace a machine',
        params: { value: r.maxUnavailable },
      });
  }),
);
export type RollingUpdate = z.infer<typeof rollingUpdate>;

export const StrategyType = lazySchema(() => z.enum(['RollingUpdate', 'Recreate', 'OnDelete']));

export const deploymentStrategy = lazySchema(() =>
  z
    .strictObject({
      type: StrategyType.default('RollingUpdate'),
      /** Defaulted to maxSurge 1, maxUnavailable 0 when type is RollingUpdate. */
      rollingUpdate: rollingUpdate.optional(),
    })
    .check((ctx) => {
      const s = ctx.value;
      if (s.type !== 'RollingUpdate' && s.rollingUpdate)
        ctx.issues.push({
          code: 'custom',
          input: s.rollingUpdate,
          path: ['rollingUpdate'],
          message: `may not be specified when type is ${s.type}`,
          params: { reason: 'FieldValueForbidden' },
        });
    })
    .overwrite((s) =>
      s.type === 'RollingUpdate' && !s.rollingUpdate ? { ...s, rollingUpdate: { maxSurge: DEFAULT_MAX_SURGE, maxUnavailable: DEFAULT_MAX_UNAVAILABLE } } : s,
    ),
);
export type DeploymentStrategy = z.infer<typeof deploymentStrategy>;

/**
 * What the pool does with an EC2 Instance Rebalance Recommendation (a spot instance at elevated risk of
 * interruption): Replace makes its replacement at once and lets it go once the replacement is available; Ignore
 * (the default) does nothing. An interruption warning is always acted on (core/machine/interruption.ts).
 */
export const SpotRebalancePolicy = lazySchema(() => z.enum(['Replace', 'Ignore']));
export const spotPolicy = lazySchema(() => z.strictObject({ rebalance: SpotRebalancePolicy.default('Ignore') }));

export const machineDeploymentSpec = lazySchema(() =>
  z.strictObject({
    clusterName: dnsLabel('Name of the Cluster this object belongs to.'),
    replicas: replicaCount().default(1),
    /** Defaulted from the template's labels, as Cluster API's webhook does. */
    selector: labelSelector.optional(),
    template: machineTemplate,
    strategy: deploymentStrategy.prefault({}),
    minReadySeconds: z.number().int().min(0).default(0),
    revisionHistoryLimit: z.number().int().min(0).default(10),
    progressDeadlineSeconds: z.number().int().min(1).default(600),
    paused: z.boolean().default(false),
    deletePolicy: DeletePolicy.default('Random'),
    /** Mixed on-demand and spot capacity (api/capacity.ts); unset: every machine as its MachineClass says. */
    capacity: machineDeploymentCapacity.optional(),
    spot: spotPolicy.optional(),
  }),
);

export const MachineDeploymentPhase = lazySchema(() => z.enum(['ScalingUp', 'ScalingDown', 'Running', 'Failed', 'Unknown']));

export const machineDeploymentStatus = lazySchema(() =>
  z.strictObject({
    observedGeneration: z.number().int().optional(),
    selector: z.string().optional(),
    replicas: z.number().int().optional(),
    updatedReplicas: z.number().int().optional(),
    readyReplicas: z.number().int().optional(),
    availableReplicas: z.number().int().optional(),
    unavailableReplicas: z.number().int().optional(),
    phase: MachineDeploymentPhase.optional(),
    conditions: conditions.optional(),
  }),
);

interface Owned {
  metadata: ObjectMeta;
  spec: { clusterName: string; selector?: LabelSelector | undefined; template: MachineTemplate };
}

/**
 * The labels Cluster API's MachineDeployment and MachineSet webhooks default: the cluster name on the object,
 * on the selector and on the template; and, when no selector is given, a selector on the owner's own name
 * label, put on the template too. Learnt from cluster-api internal/webhooks/machinedeployment.go and
 * machineset.go (Default). With `alwaysNameOnTemplate`, a template without the name label gets it anyway,
 * so that machines carry their owner's name.
 */
export function withOwnerLabels<T extends Owned>(obj: T, nameLabel: string, alwaysNameOnTemplate: boolean): T & { spec: { selector: LabelSelector } } {
  const { clusterName } = obj.spec;
  const name = obj.metadata.name;
  const given = obj.spec.selector;
  const matchLabels = { ...(selectorIsEmpty(given) ? { [nameLabel]: name } : given?.matchLabels), [Labels.clusterName]: clusterName };
  const selector: LabelSelector = { ...given, matchLabels };
  const templateLabels = {
    // A name label the template already has is kept: the selector may be built on it.
    ...(alwaysNameOnTemplate ? { [nameLabel]: name } : {}),
    ...obj.spec.template.metadata.labels,
    ...(selectorIsEmpty(given) ? { [nameLabel]: name } : {}),
    [Labels.clusterName]: clusterName,
  };
  return {
    ...obj,
    metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, [Labels.clusterName]: clusterName } },
    spec: {
      ...obj.spec,
      selector,
      template: { ...obj.spec.template, metadata: { ...obj.spec.template.metadata, labels: templateLabels } },
    },
  };
}

/** A selector that does not select the template's machines would orphan them (cluster-api webhooks). */
export function selectorMatchesTemplate(ctx: z.core.ParsePayload<Owned>): void {
  const { selector, template } = ctx.value.spec;
  if (selector && !selectorMatches(selector, template.metadata.labels))
    ctx.issues.push({
      code: 'custom',
      input: template.metadata.labels,
      path: ['spec', 'template', 'metadata', 'labels'],
      message: `must match spec.selector "${selectorString(selector)}"`,
    });
}

export const machineDeploymentSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('MachineDeployment'),
      metadata: objectMeta,
      spec: machineDeploymentSpec,
      status: machineDeploymentStatus.optional(),
    })
    // A transform rather than an overwrite, so that the type says the selector is always there.
    .transform((md) => withOwnerLabels(md, Labels.deploymentName, true))
    .check(selectorMatchesTemplate),
);

export type MachineDeployment = z.infer<typeof machineDeploymentSchema>;
export type MachineDeploymentSpec = MachineDeployment['spec'];
export type MachineDeploymentStatus = z.infer<typeof machineDeploymentStatus>;

export const MachineDeploymentKind = defineKind<MachineDeployment>({
  kind: 'MachineDeployment',
  plural: 'machinedeployments',
  singular: 'machinedeployment',
  shortNames: ['md'],
  categories: ['clusterless'],
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  schema: machineDeploymentSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b, options): FieldCause[] => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    // As a Deployment's: the machines of the old selector would be orphaned.
    ...immutable('spec.selector', a.spec.selector, b.spec.selector),
    ...versionChangeCauses('spec.template.spec.version', a.spec.template.spec.version, b.spec.template.spec.version, options),
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
