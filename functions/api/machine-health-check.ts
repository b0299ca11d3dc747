import * as z from 'zod';
import { API_VERSION, DURATION, Labels, conditions, dnsLabel, duration, durationSeconds, intOrPercent, labelSelector, selectorIsEmpty } from './common.js';
import { defineKind, immutable } from './kind.js';
import { objectMeta } from './meta.js';
import { lazySchema } from './lazy-schema.js';

/**
 * Cluster API refuses health-check timeouts shorter than this, except 0 for nodeStartupTimeout which turns
 * that check off (cluster-api internal/webhooks/machinehealthcheck.go, validateCommonFields).
 */
export const MIN_TIMEOUT_SECONDS = 30;
export const DEFAULT_NODE_STARTUP_TIMEOUT = '10m';

// The bound is checked only on a well-formed duration, so that a typo gives one cause, not two.
const timeout = lazySchema(() =>
  duration.check((ctx) => {
    if (DURATION.test(ctx.value) && durationSeconds(ctx.value) < MIN_TIMEOUT_SECONDS)
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be at least ${MIN_TIMEOUT_SECONDS}s` });
  }),
);

export const unhealthyCondition = lazySchema(() =>
  z.strictObject({
    /** A node condition type, e.g. Ready or MemoryPressure. */
    type: z.string().min(1).max(316),
    status: z.enum(['True', 'False', 'Unknown']),
    timeout,
  }),
);
export type UnhealthyCondition = z.infer<typeof unhealthyCondition>;

/** Cluster API's usual choice: a node not Ready (False or Unknown) for 5 minutes is unhealthy. */
export const defaultUnhealthyConditions = (): UnhealthyCondition[] => [
  { type: 'Ready', status: 'Unknown', timeout: '300s' },
  { type: 'Ready', status: 'False', timeout: '300s' },
];

/** "[3-5]": remediation is allowed only while the number of unhealthy machines is within the range. */
export const UNHEALTHY_RANGE = /^\[(\d+)-(\d+)\]$/;

export const machineHealthCheckSpec = lazySchema(() =>
  z
    .strictObject({
      clusterName: dnsLabel('Name of the Cluster this object belongs to.'),
      /** Selects the machines to check; must not be empty. */
      selector: labelSelector,
      unhealthyConditions: z.array(unhealthyCondition).default(defaultUnhealthyConditions),
      /** How long a machine may take to get a node; Cluster API's default is 10m. "0s" disables the check. */
      nodeStartupTimeout: duration
        .check((ctx) => {
          const s = durationSeconds(ctx.value);
          if (DURATION.test(ctx.value) && s !== 0 && s < MIN_TIMEOUT_SECONDS)
            ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be at least ${MIN_TIMEOUT_SECONDS}s, or 0s to disable the check` });
        })
        .default(DEFAULT_NODE_STARTUP_TIMEOUT),
      /** Remediation stops while more machines than this are unhealthy (short-circuit). */
      maxUnhealthy: intOrPercent.default('100%'),
      unhealthyRange: z
        .string()
        .regex(UNHEALTHY_RANGE, 'must be a range such as [1-3]')
        .check((ctx) => {
          const m = UNHEALTHY_RANGE.exec(ctx.value);
          if (m && Number(m[1]) > Number(m[2]))
            ctx.issues.push({ code: 'custom', input: ctx.value, message: 'the lower bound must not be greater than the upper bound' });
        })
        .optional(),
      /** How many remediations may run at once; unset means no limit. */
      maxInFlight: intOrPercent.optional(),
    })
    .check((ctx) => {
      // Learnt from cluster-api internal/webhooks/machinehealthcheck.go (validate).
      const s = ctx.value;
      if (selectorIsEmpty(s.selector))
        ctx.issues.push({
          code: 'custom',
          input: s.selector,
          path: ['selector'],
          message: 'selector must not be empty: it would match every machine of the cluster',
          params: { reason: 'FieldValueRequired' },
        });
      const selected = s.selector.matchLabels?.[Labels.clusterName];
      if (selected !== undefined && selected !== s.clusterName)
        ctx.issues.push({
          code: 'custom',
          input: selected,
          path: ['selector', 'matchLabels', Labels.clusterName],
          message: `must select the cluster of spec.clusterName (${s.clusterName})`,
          params: { value: selected },
        });
    }),
);

export const machineHealthCheckStatus = lazySchema(() =>
  z.strictObject({
    observedGeneration: z.number().int().optional(),
    expectedMachines: z.number().int().optional(),
    currentHealthy: z.number().int().optional(),
    remediationsAllowed: z.number().int().optional(),
    targets: z.array(z.string()).optional(),
    conditions: conditions.optional(),
  }),
);

export const machineHealthCheckSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal('MachineHealthCheck'),
      metadata: objectMeta,
      spec: machineHealthCheckSpec,
      status: machineHealthCheckStatus.optional(),
    })
    // As Cluster API's webhook (Default): the cluster name as a label.
    .overwrite((h) => ({ ...h, metadata: { ...h.metadata, labels: { ...h.metadata.labels, [Labels.clusterName]: h.spec.clusterName } } })),
);
export type MachineHealthCheck = z.infer<typeof machineHealthCheckSchema>;
export type MachineHealthCheckSpec = z.infer<typeof machineHealthCheckSpec>;
export type MachineHealthCheckStatus = z.infer<typeof machineHealthCheckStatus>;

export const MachineHealthCheckKind = defineKind<MachineHealthCheck>({
  kind: 'MachineHealthCheck',
  plural: 'machinehealthchecks',
  singular: 'machinehealthcheck',
  shortNames: ['mhc'],
  categories: ['clusterless'],
  schema: machineHealthCheckSchema,
  clusterNameOf: (o) => o.spec.clusterName,
  validateUpdate: (a, b) => [...immutable('spec.clusterName', a.spec.clusterName, b.spec.clusterName)],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'ExpectedMachines', type: 'integer', jsonPath: '.status.expectedMachines' },
    { name: 'MaxUnhealthy', type: 'string', jsonPath: '.spec.maxUnhealthy' },
    { name: 'CurrentHealthy', type: 'integer', jsonPath: '.status.currentHealthy' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
