import { z } from 'zod';
import { API_VERSION, PERCENT, conditions, dnsLabel, duration, durationSeconds, intOrPercent, labelSelector } from './common.js';
import { defineKind, immutable } from './kind.js';
import { objectMeta } from './meta.js';

/** Cluster API refuses health-check timeouts shorter than this (machinehealthcheck webhook). */
export const MIN_TIMEOUT_SECONDS = 30;

const timeout = duration.refine((d) => durationSeconds(d) >= MIN_TIMEOUT_SECONDS, {
  message: `must be at least ${MIN_TIMEOUT_SECONDS}s`,
});

export const unhealthyCondition = z.strictObject({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  timeout,
});

/** "[3-5]": remediation is allowed only while the number of unhealthy machines is within the range. */
export const UNHEALTHY_RANGE = /^\[(\d+)-(\d+)\]$/;

export const machineHealthCheckSpec = z
  .strictObject({
    clusterName: dnsLabel('spec.clusterName'),
    selector: labelSelector,
    unhealthyConditions: z.array(unhealthyCondition).default([
      { type: 'Ready', status: 'Unknown', timeout: '300s' },
      { type: 'Ready', status: 'False', timeout: '300s' },
    ]),
    /** How long a machine may take to get a node; Cluster API's default is 10m. "0s" disables the check. */
    nodeStartupTimeout: duration
      .refine((d) => durationSeconds(d) === 0 || durationSeconds(d) >= MIN_TIMEOUT_SECONDS, {
        message: `must be at least ${MIN_TIMEOUT_SECONDS}s, or 0s to disable`,
      })
      .default('10m'),
    maxUnhealthy: intOrPercent.default('100%'),
    unhealthyRange: z
      .string()
      .regex(UNHEALTHY_RANGE, 'must be a range such as [1-3]')
      .refine((r) => {
        const m = UNHEALTHY_RANGE.exec(r);
        return !!m && Number(m[1]) <= Number(m[2]);
      }, 'the lower bound must not be greater than the upper bound')
      .optional(),
    /** How many remediations may run at once; unset means no limit. */
    maxInFlight: intOrPercent.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.selector && Object.keys(s.selector.matchLabels ?? {}).length === 0 && (s.selector.matchExpressions ?? []).length === 0)
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'must not be empty: it would match every machine of the cluster' });
    if (typeof s.maxUnhealthy === 'string' && !PERCENT.test(s.maxUnhealthy))
      ctx.addIssue({ code: 'custom', path: ['maxUnhealthy'], message: 'must be an integer or a percentage' });
  });

export const machineHealthCheckStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  expectedMachines: z.number().int().optional(),
  currentHealthy: z.number().int().optional(),
  remediationsAllowed: z.number().int().optional(),
  targets: z.array(z.string()).optional(),
  conditions: conditions.optional(),
});

export const machineHealthCheckSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('MachineHealthCheck'),
  metadata: objectMeta,
  spec: machineHealthCheckSpec,
  status: machineHealthCheckStatus.optional(),
});
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
