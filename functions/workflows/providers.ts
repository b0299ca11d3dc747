/**
 * One installation, several providers: a host registers what it runs for each provider of the registry
 * (api/providers) and the workflows get one MachineProvider, one NodeReader and one pair of load-balancer ports
 * (ManagedLoadBalancers, TargetGroupRegistrations) that send every call to the provider of the cluster it is
 * about. A cluster's provider never changes (api/providers: validateProviderUpdate), so the Cluster names it for
 * the cluster's whole life.
 */
import type { Cluster, ClusterProvider } from '../api/cluster.js';
import { providerNameOf } from '../api/providers/index.js';
import type { InstanceFact, NodeFact } from '../core/observed.js';
import type {
  AddonApplier,
  EtcdMembership,
  InstanceDeletion,
  LaunchHooks,
  LaunchSpec,
  MachineProvider,
  ManagedLoadBalancerFact,
  ManagedLoadBalancers,
  NodeDrainer,
  NodeReader,
  Store,
  TargetGroupRegistrations,
} from '../ports.js';
import { noNodeLabels, noWorkloadsDrainer, type NodeLabeler } from '../ports.js';
import { noAddons, noEtcd, noManagedLoadBalancers, noTargetGroups } from './deps.js';

/** What a host runs for one provider. */
export interface ProviderRuntime {
  machines: MachineProvider;
  nodes: NodeReader;
  /** The control-plane load balancers the provider makes. @default noManagedLoadBalancers */
  managedLoadBalancers?: ManagedLoadBalancers;
  /** Registrations in the provider's target groups. @default noTargetGroups */
  targetGroups?: TargetGroupRegistrations;
  /** The etcd of the provider's kubeadm control planes. @default noEtcd */
  etcd?: EtcdMembership;
  /** Drains the provider's nodes before their machines go. @default noWorkloadsDrainer */
  drainer?: NodeDrainer;
  /** Writes the labels synced from Machines onto the provider's nodes. @default noNodeLabels */
  nodeLabels?: NodeLabeler;
  /** Applies ClusterResourceSets to the provider's clusters. @default noAddons (refused: no API to apply to) */
  addons?: AddonApplier;
}

/** Every port of the providers a host runs, routed by cluster: none is left out. */
export type RoutedProviders = Required<ProviderRuntime>;

const withNones = (r: ProviderRuntime): RoutedProviders => ({
  ...r,
  managedLoadBalancers: r.managedLoadBalancers ?? noManagedLoadBalancers,
  targetGroups: r.targetGroups ?? noTargetGroups,
  etcd: r.etcd ?? noEtcd,
  drainer: r.drainer ?? noWorkloadsDrainer,
  nodeLabels: r.nodeLabels ?? noNodeLabels,
  addons: r.addons ?? noAddons,
});

/**
 * The ports over the providers a host runs, by provider name (the first is the one a launch of an unregistered
 * provider goes to). With one provider they are that provider's own, unwrapped (a provider without load balancers
 * gets the none implementations): a host of one provider reads nothing more than before. With several, a call that
 * names only the cluster reads the Cluster to learn its provider; for a Cluster that is gone (nothing names its
 * provider any more) every provider is asked to read or delete, and what makes or registers something goes to the
 * first provider, as a launch does.
 */
export function providersByCluster(store: Pick<Store, 'get'>, runtimes: Readonly<Record<string, ProviderRuntime>>): RoutedProviders {
  const all = Object.values(runtimes).map(withNones);
  const first = all[0];
  if (!first) throw new Error('a host runs at least one provider');
  if (all.length === 1) return first;
  const routed = new Map(Object.keys(runtimes).map((name, i) => [name, all[i]!]));
  const byProvider = (provider: ClusterProvider | undefined): RoutedProviders | undefined => {
    const name = providerNameOf(provider);
    return name === undefined ? undefined : routed.get(name);
  };
  const ofCluster = async (namespace: string, clusterName: string): Promise<RoutedProviders | undefined> =>
    byProvider((await store.get<Cluster>('Cluster', namespace, clusterName))?.spec.provider);
  const machines: MachineProvider = {
    create: (spec: LaunchSpec, hooks?: LaunchHooks): Promise<InstanceFact> => (byProvider(spec.clusterProvider) ?? first).machines.create(spec, hooks),
    async describe(namespace, clusterName) {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.machines.describe(namespace, clusterName);
      return (await Promise.all(all.map((r) => r.machines.describe(namespace, clusterName)))).flat();
    },
    async delete(target): Promise<InstanceDeletion> {
      const one = await ofCluster(target.namespace, target.clusterName);
      if (one) return one.machines.delete(target);
      // Only the providers that list the machine's instance are asked to terminate it: another provider would
      // report a recorded id it does not know as not the machine's.
      const refused: string[] = [];
      for (const r of all) {
        const listed = await r.machines.describe(target.namespace, target.clusterName);
        if (listed.some((i) => i.machineUid === target.machineUid)) refused.push(...(await r.machines.delete(target)).refused);
      }
      return { refused };
    },
  };
  const nodes: NodeReader = {
    async listNodes(namespace, clusterName): Promise<NodeFact[]> {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.nodes.listNodes(namespace, clusterName);
      return (await Promise.all(all.map((r) => r.nodes.listNodes(namespace, clusterName)))).flat();
    },
  };
  const managedLoadBalancers: ManagedLoadBalancers = {
    async describe(namespace, clusterName): Promise<ManagedLoadBalancerFact | undefined> {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.managedLoadBalancers.describe(namespace, clusterName);
      return (await Promise.all(all.map((r) => r.managedLoadBalancers.describe(namespace, clusterName)))).find((f) => f !== undefined);
    },
    async targetGroupArn(namespace, clusterName) {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.managedLoadBalancers.targetGroupArn(namespace, clusterName);
      return (await Promise.all(all.map((r) => r.managedLoadBalancers.targetGroupArn(namespace, clusterName)))).find((a) => a !== undefined);
    },
    async hasLeftovers(namespace, clusterName) {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.managedLoadBalancers.hasLeftovers(namespace, clusterName);
      return (await Promise.all(all.map((r) => r.managedLoadBalancers.hasLeftovers(namespace, clusterName)))).some(Boolean);
    },
    async ensure(spec) {
      return ((await ofCluster(spec.namespace, spec.clusterName)) ?? first).managedLoadBalancers.ensure(spec);
    },
    async delete(namespace, clusterName) {
      const one = await ofCluster(namespace, clusterName);
      if (one) return one.managedLoadBalancers.delete(namespace, clusterName);
      for (const r of all) await r.managedLoadBalancers.delete(namespace, clusterName);
    },
    async checkTargetGroup(targetGroupArn, namespace, clusterName) {
      return ((await ofCluster(namespace, clusterName)) ?? first).managedLoadBalancers.checkTargetGroup(targetGroupArn, namespace, clusterName);
    },
  };
  const targetGroups: TargetGroupRegistrations = {
    async register(targetGroupArn, target) {
      return ((await ofCluster(target.namespace, target.clusterName)) ?? first).targetGroups.register(targetGroupArn, target);
    },
    async deregister(targetGroupArn, target) {
      return ((await ofCluster(target.namespace, target.clusterName)) ?? first).targetGroups.deregister(targetGroupArn, target);
    },
  };
  // A cluster's etcd is its own provider's (the Cluster is in the target); none is read for a cluster that is gone.
  const etcd: EtcdMembership = {
    read: async (target) => byProvider(target.clusterSpec.provider)?.etcd.read(target),
    forwardLeadership: async (target, member) => byProvider(target.clusterSpec.provider)?.etcd.forwardLeadership(target, member),
    removeMember: async (target, member) => byProvider(target.clusterSpec.provider)?.etcd.removeMember(target, member),
  };
  const drainer: NodeDrainer = {
    // A cluster that is gone has no nodes left to drain.
    drain: async (namespace, clusterName, nodeName) =>
      ((await ofCluster(namespace, clusterName))?.drainer ?? noWorkloadsDrainer).drain(namespace, clusterName, nodeName),
    deleteNode: async (namespace, clusterName, nodeName) =>
      ((await ofCluster(namespace, clusterName))?.drainer ?? noWorkloadsDrainer).deleteNode(namespace, clusterName, nodeName),
  };
  const nodeLabels: NodeLabeler = {
    // A cluster that is gone has no nodes left to label.
    patchLabels: async (namespace, clusterName, nodeName, patch) =>
      ((await ofCluster(namespace, clusterName))?.nodeLabels ?? noNodeLabels).patchLabels(namespace, clusterName, nodeName, patch),
  };
  const addons: AddonApplier = {
    apply: async (namespace, clusterName, manifests) =>
      ((await ofCluster(namespace, clusterName))?.addons ?? noAddons).apply(namespace, clusterName, manifests),
  };
  return { machines, nodes, managedLoadBalancers, targetGroups, etcd, drainer, nodeLabels, addons };
}
