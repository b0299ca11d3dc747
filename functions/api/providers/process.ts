/**
 * Real programs on the host (local/process): a control-plane machine is one etcd member and one kube-apiserver, a
 * worker a Node kept by a node agent. Machines are bootstrapped with the kubeadm bootstrap's certificates (adapters/
 * kubeadm), so a control plane's etcd membership, joins and upgrades run against real etcd and kube-apiserver.
 */
import * as z from 'zod';
import { classNodeRegistration } from '../node-registration.js';
import { defineProvider } from './provider.js';
import { lazySchema } from '../lazy-schema.js';

export const processClusterProvider = lazySchema(() =>
  z.strictObject({
    /**
     * Opt-in: a TCP proxy on 127.0.0.1 in front of the control-plane machines' API servers (local/process), whose
     * address becomes spec.controlPlaneEndpoint. Without it (or an endpoint given), nothing reaches the cluster's API.
     */
    controlPlaneLoadBalancer: z.strictObject({}).optional(),
  }),
);

/** The same programs for every machine; only what its Node registers with may differ (a pool's labels and taints). */
export const processMachineClass = lazySchema(() => z.strictObject({ nodeRegistration: classNodeRegistration.optional() }));

export const processProvider = defineProvider({
  name: 'process',
  clusterSchema: processClusterProvider,
  machineClassSchema: processMachineClass,
  // One host: no zones.
  failureDomains: () => [],
  classFailureDomains: () => [],
  validateUpdate: () => [],
  kubeadmBootstrap: true,
  // Loopback only: no subnets, and the scheme is only what the port asks for.
  controlPlaneLoadBalancer: (settings) => (settings.controlPlaneLoadBalancer ? { scheme: 'internal', subnetIds: [] } : undefined),
  machineClassPrinterColumns: [],
});
