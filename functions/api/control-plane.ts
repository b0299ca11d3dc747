import * as z from 'zod';
import { API_VERSION, Finalizers, INT32_MAX, Labels, conditions, dnsLabel, kubernetesVersion, localObjectReference } from './common.js';
import { defineKind, immutable } from './kind.js';
import { objectMeta } from './meta.js';
import { nodeTaints } from './taint.js';
import { nodeDeletionTimeoutSeconds, nodeDrainTimeoutSeconds, nodeVolumeDetachTimeoutSeconds, versionChangeCauses } from './template.js';
import { lazySchema } from './lazy-schema.js';

/** kubeadm's taint of every control-plane node, which clusterless always registers first. */
export const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' } as const;

/**
 * A kubeadm control plane (Cluster API's KubeadmControlPlane, reduced to what clusterless runs). Stacked etcd
 * runs on every control-plane machine, so the replica count must be odd and at least 1, and removing a
 * machine before adding one (maxSurge 0) needs at least 3: learnt from cluster-api
 * controlplane/kubeadm/internal/webhooks/kubeadm_control_plane.go (validateKubeadmControlPlaneSpec,
 * validateRolloutStrategy).
 */
export const controlPlaneSpec = lazySchema(() =>
  z
    .strictObject({
      clusterName: dnsLabel('Name of the Cluster this control plane belongs to.'),
      replicas: z
        .number()
        .int('must be an integer')
        .max(INT32_MAX, `must be less than or equal to ${INT32_MAX}`)
        .check((ctx) => {
          const n = ctx.value;
          if (!Number.isInteger(n)) return; // .int() has said so
          if (n < 1) ctx.issues.push({ code: 'custom', input: n, message: 'must be at least 1' });
          else if (n % 2 === 0) ctx.issues.push({ code: 'custom', input: n, message: 'must be an odd number (1, 3, 5, ...) so that etcd keeps quorum' });
        })
        .meta({ minimum: 1 })
        .default(1),
      version: kubernetesVersion,
      machineClassRef: localObjectReference,
      rollout: z
        .strictObject({
          /** 1 adds a machine before removing an old one; 0 removes first (for clusters without spare capacity). */
          maxSurge: z.literal([0, 1]).default(1),
        })
        .prefault({}),
      remediation: z
        .strictObject({
          /** How many times one machine is replaced in a row before giving up; unset retries forever. */
          maxRetry: z.number().int().min(0).optional(),
          retryPeriodSeconds: z.number().int().min(0).default(0),
          /** A replacement that stays healthy this long resets the retry count (Cluster API: 1h). */
          minHealthyPeriodSeconds: z.number().int().min(0).default(3600),
        })
        .prefault({}),
      nodeDrainTimeoutSeconds,
      nodeVolumeDetachTimeoutSeconds,
      nodeDeletionTimeoutSeconds,
      /**
       * Taints the control-plane Nodes register with after kubeadm's control-plane taint (KubeadmControlPlane's
       * init/joinConfiguration nodeRegistration.taints); bootstrap configuration, so a change rolls the control plane.
       */
      taints: nodeTaints.optional(),
    })
    .check((ctx) => {
      const s = ctx.value;
      s.taints?.forEach((t, i) => {
        if (t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect)
          ctx.issues.push({
            code: 'custom',
            input: t,
            path: ['taints', i],
            message: `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect} is kubeadm's control-plane taint, which every control-plane node gets anyway; list only the taints added to it`,
          });
      });
      if (s.rollout.maxSurge === 0 && s.replicas < 3)
        ctx.issues.push({
          code: 'custom',
          input: s.rollout.maxSurge,
          path: ['rollout', 'maxSurge'],
          message: 'may be 0 only with 3 or more replicas: a rollout that removes a machine first would lose etcd quorum',
          params: { value: 0 },
        });
    }),
);

export const controlPlaneStatus = lazySchema(() =>
  z.strictObject({
    observedGeneration: z.number().int().optional(),
    selector: z.string().optional(),
    replicas: z.number().int().optional(),
    readyReplicas: z.number().int().optional(),
    updatedReplicas: z.number().int().optional(),
    unavailableReplicas: z.number().int().optional(),
    version: z.string().optional(),
    initialized: z.boolean().optional(),
    ready: z.boolean().optional(),
    lastRemediation: z.strictObject({ machine: z.string(), timestamp: z.string(), retryCount: z.number().int().min(0) }).optional(),
    /**
     * The versions kubeadm's own objects in the workload cluster were last brought to, as `kubeadm upgrade` does:
     * kubeadm-config's ClusterConfiguration, and the addons (kube-proxy, CoreDNS).
     */
    kubeadmObjects: z.strictObject({ clusterConfiguration: z.string().optional(), addons: z.string().optional() }).optional(),
    conditions: conditions.optional(),
  }),
);

export const controlPlaneSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('ControlPlane'),
    metadata: objectMeta,
    spec: controlPlaneSpec,
    status: controlPlaneStatus.optional(),
  }),
);
export type ControlPlane = z.infer<typeof controlPlaneSchema>;
export type ControlPlaneSpec = z.infer<typeof controlPlaneSpec>;
export type ControlPlaneStatus = z.infer<typeof controlPlaneStatus>;

export const ControlPlaneKind = defineKind<ControlPlane>({
  kind: 'ControlPlane',
  plural: 'controlplanes',
  singular: 'controlplane',
  shortNames: ['cp'],
  categories: ['clusterless'],
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  schema: controlPlaneSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b, options) => [
    ...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName),
    ...versionChangeCauses('spec.version', a.spec.version, b.spec.version, options),
  ],
  finalizer: Finalizers.controlPlane,
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: `.spec.clusterName` },
    { name: 'Initialized', type: 'boolean', jsonPath: '.status.initialized' },
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    { name: 'Updated', type: 'integer', jsonPath: '.status.updatedReplicas' },
    { name: 'Unavailable', type: 'integer', jsonPath: '.status.unavailableReplicas' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
  ],
});

export const controlPlaneMachineLabel = Labels.controlPlane;
