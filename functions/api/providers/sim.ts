/** The simulated cloud (adapters/sim): the embedded host's default provider and the scale benchmarks'. */
import * as z from 'zod';
import { dnsLabel } from '../common.js';
import { defineProvider } from './provider.js';
import { lazySchema } from '../lazy-schema.js';

export const simClusterProvider = lazySchema(() =>
  z.strictObject({
    /** Zones machines are spread across; none means no spreading. */
    failureDomains: z.array(dnsLabel()).default(() => []),
    /**
     * Opt-in: a simulated control-plane load balancer (adapters/sim, SimManagedLoadBalancers), whose DNS name becomes
     * spec.controlPlaneEndpoint and whose target group holds the control-plane machines. Absent, the cluster has none.
     */
    controlPlaneLoadBalancer: z.strictObject({}).optional(),
  }),
);

/** Simulated machines: the default provider of the embedded host and of the scale benchmarks. */
export const simMachineClass = lazySchema(() =>
  z.strictObject({
    bootSeconds: z.number().min(0).max(86400).default(5),
    nodeReadySeconds: z.number().min(0).max(86400).default(2),
    /** Probability that a launch fails (0 to 1). */
    failureRate: z.number().min(0).max(1).default(0),
    /**
     * Spot interruptions per instance-hour: each instance gets the two-minute interruption warning at a random
     * (seeded) time, then terminates, as EC2 reclaims spot capacity. Absent or 0: never.
     */
    interruptionsPerHour: z.number().min(0).max(3600).optional(),
    failureDomains: z.array(dnsLabel()).default(() => []),
  }),
);

export const simProvider = defineProvider({
  name: 'sim',
  clusterSchema: simClusterProvider,
  machineClassSchema: simMachineClass,
  // Tolerant of settings that were never parsed (defaults not applied), as the readers of spec.provider.sim were.
  failureDomains: (settings) => [...(settings.failureDomains ?? [])],
  classFailureDomains: (settings) => settings.failureDomains ?? [],
  validateUpdate: () => [],
  kubeadmBootstrap: false,
  // The simulator has no network: no subnets, and the scheme is only what the port asks for.
  controlPlaneLoadBalancer: (settings) => (settings.controlPlaneLoadBalancer ? { scheme: 'internal', subnetIds: [] } : undefined),
  machineClassPrinterColumns: [{ name: 'Boot-Seconds', type: 'number', jsonPath: '.spec.sim.bootSeconds', priority: 1 }],
});
