/**
 * The provider registry: every provider clusterless knows, in one list. The Cluster's and the MachineClass's
 * schemas (and so the CRDs), the update rules and the planners' provider questions are all built from it, so a
 * new provider is one module added to PROVIDERS, and no union in api/, core/ or crds/ changes by hand.
 */
import * as z from 'zod';
import type { FieldCause, PrinterColumn } from '../kind.js';
import { cause } from '../kind.js';
import { awsProvider } from './aws.js';
import { processProvider } from './process.js';
import type { ControlPlaneLoadBalancer, ProviderDefinition } from './provider.js';
import { simProvider } from './sim.js';
import { lazySchema } from '../lazy-schema.js';

export type { ControlPlaneLoadBalancer, ProviderDefinition } from './provider.js';
export { defineProvider } from './provider.js';
export { AWS_REGION, awsClusterProvider, awsMachineClass, awsProvider, awsSubnet } from './aws.js';
export { simClusterProvider, simMachineClass, simProvider } from './sim.js';
export { processClusterProvider, processMachineClass, processProvider } from './process.js';

/** Every registered provider. */
export const PROVIDERS = [simProvider, awsProvider, processProvider] as const;

type Registered = (typeof PROVIDERS)[number];
export type ProviderName = Registered['name'];

/** The provider of a Cluster that names none: `spec: {}` is a simulated cluster. */
export const DEFAULT_CLUSTER_PROVIDER = simProvider.name;

type ClusterShape = { [P in Registered as P['name']]: z.ZodOptional<P['clusterSchema']> };
type ClassShape = { [P in Registered as P['name']]: z.ZodOptional<P['machineClassSchema']> };

/**
 * The order providers are listed in a kind's schema and messages: by name, a kind's default first. Note: this is
 * the order the two hand-written unions had (Cluster: sim or aws; MachineClass: aws or sim), so their CRDs and
 * error messages did not change when the registry replaced them.
 */
function listed(first?: string): Registered[] {
  return [...PROVIDERS].sort((a, b) => (a.name === first ? -1 : b.name === first ? 1 : a.name < b.name ? -1 : 1));
}

/** "a", "a or b", "a, b or c". */
function either(names: readonly string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');
}

/** `{ <name>: {...} }` with exactly one registered name. */
function oneOf<Shape extends z.core.$ZodLooseShape>(providers: readonly Registered[], schemaOf: (p: Registered) => z.ZodType) {
  const names = providers.map((p) => p.name);
  return z.strictObject(Object.fromEntries(providers.map((p) => [p.name, schemaOf(p).optional()])) as Shape).check((ctx) => {
    const n = names.filter((name) => (ctx.value as Record<string, unknown>)[name] !== undefined).length;
    if (n !== 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: n === 0 ? `one of ${either(names)} must be set` : `only one of ${either(names)} may be set`,
        params: { reason: n === 0 ? 'FieldValueRequired' : 'FieldValueForbidden' },
      });
  });
}

/** Cluster.spec.provider. */
export const clusterProvider = lazySchema(() => oneOf<ClusterShape>(listed(DEFAULT_CLUSTER_PROVIDER), (p) => p.clusterSchema));
export type ClusterProvider = z.infer<typeof clusterProvider>;

/** MachineClass.spec. */
export const machineClassSpec = lazySchema(() => oneOf<ClassShape>(listed(), (p) => p.machineClassSchema));
export type MachineClassSpec = z.infer<typeof machineClassSpec>;

/** The MachineClass columns of every provider, in the schema's order. */
export const machineClassPrinterColumns: readonly PrinterColumn[] = listed().flatMap((p) => p.machineClassPrinterColumns);

/** The provider a Cluster's or a MachineClass's spec names, with its settings; undefined when none is registered. */
export function providerOf(spec: Readonly<Record<string, unknown>> | undefined): { provider: ProviderDefinition; settings: unknown } | undefined {
  if (!spec) return undefined;
  for (const provider of PROVIDERS) {
    const settings = spec[provider.name];
    if (settings !== undefined) return { provider: provider as unknown as ProviderDefinition, settings };
  }
  return undefined;
}

/** The name of the provider a Cluster's spec.provider (or a MachineClass's spec) names. */
export const providerNameOf = (spec: Readonly<Record<string, unknown>> | undefined): string | undefined => providerOf(spec)?.provider.name;

/** The zones of a cluster's provider settings, in the order they are listed. */
export function providerFailureDomains(provider: ClusterProvider): string[] {
  const p = providerOf(provider);
  return p ? p.provider.failureDomains(p.settings) : [];
}

/** The zones a MachineClass restricts its machines to; empty means no restriction. */
export function classFailureDomains(spec: MachineClassSpec | undefined): string[] {
  const p = providerOf(spec);
  return p ? p.provider.classFailureDomains(p.settings) : [];
}

/** Whether clusterless bootstraps the cluster's machines with kubeadm. */
export const bootstrapsWithKubeadm = (provider: ClusterProvider): boolean => providerOf(provider)?.provider.kubeadmBootstrap ?? false;

/** The control-plane load balancer the cluster's provider settings ask for. */
export function controlPlaneLoadBalancerOf(provider: ClusterProvider): ControlPlaneLoadBalancer | undefined {
  const p = providerOf(provider);
  return p?.provider.controlPlaneLoadBalancer(p.settings);
}

/** What an update of Cluster.spec.provider may not change: the provider itself, and what the provider says. */
export function validateProviderUpdate(oldProvider: ClusterProvider, newProvider: ClusterProvider): FieldCause[] {
  const before = providerOf(oldProvider);
  const after = providerOf(newProvider);
  if (!before || !after) return [];
  if (before.provider !== after.provider)
    return [cause.forbidden('spec.provider', `the provider cannot change (from ${before.provider.name} to ${after.provider.name})`)];
  return before.provider.validateUpdate(before.settings, after.settings);
}
