/**
 * One installation, several providers: a host registers what it runs for each provider of the registry
 * (api/providers) and the workflows get one MachineProvider and one NodeReader that send every call to the
 * provider of the cluster it is about. A cluster's provider never changes (api/providers: validateProviderUpdate),
 * so the Cluster names it for the cluster's whole life.
 */
import type { Cluster, ClusterProvider } from '../api/cluster.js';
import { providerNameOf } from '../api/providers/index.js';
import type { InstanceFact, NodeFact } from '../core/observed.js';
import type { InstanceDeletion, LaunchHooks, LaunchSpec, MachineProvider, NodeReader, Store } from '../ports.js';

/** What a host runs for one provider. */
export interface ProviderRuntime {
  machines: MachineProvider;
  nodes: NodeReader;
}

/**
 * The MachineProvider and NodeReader over the providers a host runs, by provider name (the first is the one a
 * launch of an unregistered provider goes to). With one provider they are that provider's own, unwrapped: a host
 * of one provider reads nothing more than before. With several, a call that names only the cluster reads the
 * Cluster to learn its provider; for a Cluster that is gone (nothing names its provider any more) every provider
 * is asked.
 */
export function providersByCluster(store: Pick<Store, 'get'>, runtimes: Readonly<Record<string, ProviderRuntime>>): ProviderRuntime {
  const all = Object.values(runtimes);
  const first = all[0];
  if (!first) throw new Error('a host runs at least one provider');
  if (all.length === 1) return first;
  const byProvider = (provider: ClusterProvider | undefined): ProviderRuntime | undefined => {
    const name = providerNameOf(provider);
    return name === undefined ? undefined : runtimes[name];
  };
  const ofCluster = async (namespace: string, clusterName: string): Promise<ProviderRuntime | undefined> =>
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
  return { machines, nodes };
}
