/**
 * Mixed capacity of a MachineDeployment (`spec.capacity`): how many of its machines run on-demand and how many on
 * spot. The vocabulary is an Auto Scaling group's instances distribution (OnDemandBaseCapacity,
 * OnDemandPercentageAboveBaseCapacity, SpotMaxPrice), EKS managed node groups' capacityType (ON_DEMAND, SPOT) and
 * Cluster API AWS's spotMarketOptions (api/v1beta2/awsmachine_types.go: maxPrice); there is no Auto Scaling group:
 * the MachineSet planner decides each new machine's market from the deployment's counts
 * (core/machineset/capacity.ts), and the provider honours it.
 */
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

/** The market a machine runs in, spelt as EC2's instance lifecycle and Karpenter's capacity-type label. */
export const CapacityType = lazySchema(() => z.enum(['on-demand', 'spot']));
export type CapacityType = z.infer<typeof CapacityType>;

/** A price in USD per hour, as EC2's SpotOptions.MaxPrice takes it. */
export const spotPrice = lazySchema(() =>
  z.string().check((ctx) => {
    if (!/^\d+(\.\d+)?$/.test(ctx.value) || Number(ctx.value) <= 0)
      ctx.issues.push({ code: 'custom', input: ctx.value, message: 'must be a price in USD per hour above 0, such as 0.05' });
  }),
);

export const machineDeploymentCapacity = lazySchema(() =>
  z
    .strictObject({
      /** Machines kept on-demand before any goes to spot (OnDemandBaseCapacity). */
      onDemandBase: z.number().int().min(0).default(0),
      /**
       * The share of the machines above the base that run on spot, in percent. A fraction of a machine goes to
       * on-demand, as an Auto Scaling group rounds in favour of on-demand.
       */
      spotPercentageAboveBase: z.number().int().min(0).max(100),
      /** The most a spot machine may cost per hour; unset is EC2's default, the on-demand price. */
      spotMaxPrice: spotPrice.optional(),
      /**
       * When EC2 has no spot capacity left for any instance type and zone (InsufficientInstanceCapacity,
       * SpotMaxPriceTooLow, MaxSpotInstanceCountExceeded), a spot machine may launch on-demand instead; at most
       * `maxMachines` of the deployment's machines at a time are on-demand in place of spot (or may become so).
       * Unset: the launch tries every offering again at its retries (4, 30 s apart and doubling, with jitter), and
       * then the Machine fails (failureReason CreateError), as Cluster API's AWS provider leaves a machine whose spot
       * request failed; a MachineHealthCheck replaces it.
       */
      onDemandFallback: z.strictObject({ maxMachines: z.number().int().min(1) }).optional(),
    })
    .describe('Mixed capacity: an on-demand base, a spot share above it, a spot price cap and a bounded on-demand fallback.'),
);
export type MachineDeploymentCapacity = z.infer<typeof machineDeploymentCapacity>;

/**
 * What a Machine of a deployment with `spec.capacity` records: its market as a label (set when the MachineSet
 * makes it, read by the provider at launch), and as annotations the spot price cap and whether it may fall back to
 * on-demand (granted by the planner within `onDemandFallback.maxMachines`).
 */
export const CapacityLabels = { capacityType: 'clusterless.dev/capacity-type' } as const;
export const CapacityAnnotations = {
  spotMaxPrice: 'clusterless.dev/spot-max-price',
  onDemandFallback: 'clusterless.dev/on-demand-fallback',
} as const;
