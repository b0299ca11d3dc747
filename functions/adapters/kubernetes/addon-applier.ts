/**
 * Applies addon manifests to a workload cluster by server-side apply, as `kubectl apply --server-side
 * --force-conflicts --field-manager clusterless` does: each document a PATCH of `application/apply-patch+yaml` (JSON
 * is YAML) to its resource, found by discovery of its group and version. Documents go in order, so a Namespace or a
 * CustomResourceDefinition listed first exists before what needs it.
 */
import { manifestDocuments, type ManifestDocument } from '../../api/cluster-resource-set.js';
import { AddonApplierUnavailableError, type AddonApplier } from '../../ports.js';
import { KubernetesApiError, errorMessage, resourcePath, type KubernetesClient } from '../kubernetes-client/rest-client.js';
import { WorkloadClients, type WorkloadClientOptions } from './workload.js';

export const FIELD_MANAGER = 'clusterless';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** A document the workload API refused (or whose kind it does not serve). */
export class AddonApplyError extends Error {
  override name = 'AddonApplyError';
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** `apps/v1` -> ['apps', 'v1']; `v1` -> ['', 'v1']. */
function groupVersion(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

export class KubernetesAddonApplier implements AddonApplier {
  private readonly clients: WorkloadClients;
  /** Discovery answers per client and group version; a kind not found is asked again (its CRD may come later). */
  private readonly discovered = new WeakMap<KubernetesClient, Map<string, ApiResource[]>>();

  constructor(options: WorkloadClientOptions | WorkloadClients) {
    this.clients = options instanceof WorkloadClients ? options : new WorkloadClients(options);
  }

  async apply(namespace: string, clusterName: string, manifests: string): Promise<void> {
    const where = `the workload API of ${namespace}/${clusterName}`;
    const parsed = manifestDocuments(manifests);
    if ('error' in parsed) throw new AddonApplyError(`the manifests ${parsed.error}`);
    let client: KubernetesClient | undefined;
    try {
      client = await this.clients.core(namespace, clusterName);
    } catch (err) {
      throw new AddonApplierUnavailableError(`${where}: the kubeconfig cannot be read: ${errorMessage(err)}`, { cause: err });
    }
    if (!client) throw new AddonApplierUnavailableError(`${where}: no kubeconfig for the cluster yet`);
    for (const [i, doc] of parsed.documents.entries()) {
      const what = `document ${i + 1} (${doc.kind} ${doc.metadata.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata.name})`;
      try {
        await this.applyOne(client, where, doc);
      } catch (err) {
        if (err instanceof AddonApplyError) throw new AddonApplyError(`${what}: ${err.message}`);
        if (err instanceof KubernetesApiError) throw new AddonApplyError(`${what}: ${errorMessage(err)}`, { cause: err });
        // No answer at all (refused, reset, TLS, timeout): the cluster is not reachable now.
        throw new AddonApplierUnavailableError(`${where}: ${what}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  private async applyOne(client: KubernetesClient, where: string, doc: ManifestDocument): Promise<void> {
    const [group, version] = groupVersion(doc.apiVersion);
    const resource = await this.resourceOf(client, where, group, version, doc.kind);
    const path = resourcePath(group, version, resource.name, {
      ...(resource.namespaced ? { namespace: doc.metadata.namespace ?? 'default' } : {}),
      name: doc.metadata.name,
    });
    await this.clients.withTimeout(
      where,
      client.request('PATCH', path, { body: doc, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: true } }),
    );
  }

  private async resourceOf(client: KubernetesClient, where: string, group: string, version: string, kind: string): Promise<ApiResource> {
    const byGroupVersion = this.discovered.get(client) ?? new Map<string, ApiResource[]>();
    this.discovered.set(client, byGroupVersion);
    const key = `${group}/${version}`;
    const find = (list: ApiResource[] | undefined) => list?.find((r) => r.kind === kind && !r.name.includes('/'));
    let found = find(byGroupVersion.get(key));
    if (!found) {
      const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
      let list: { resources?: ApiResource[] };
      try {
        list = await this.clients.withTimeout(where, client.get<{ resources?: ApiResource[] }>(path));
      } catch (err) {
        if (err instanceof KubernetesApiError && err.code === 404) throw new AddonApplyError(`the cluster serves no ${group ? `${group}/` : ''}${version}`);
        throw err;
      }
      byGroupVersion.set(key, list.resources ?? []);
      found = find(list.resources);
    }
    if (!found) throw new AddonApplyError(`the cluster serves no kind ${kind} in ${group ? `${group}/` : ''}${version}`);
    return found;
  }
}
