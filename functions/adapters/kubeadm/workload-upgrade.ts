/**
 * KubeadmObjects over a workload cluster's API: kubeadm's own objects in kube-system brought to a version as
 * `kubeadm upgrade` does, in the order Cluster API's KubeadmControlPlane does it
 * (controlplane/kubeadm/internal/controllers: updateControlPlane calls UpdateClusterConfiguration before it rolls a
 * machine; reconcile calls UpdateKubeProxyImageInfo then UpdateCoreDNS once no machine needs a rollout). The edits are
 * the pure functions of functions/bootstrap/kubeadm-upgrade.ts.
 *
 * Touches only kube-system's kubeadm-config, kubelet-config, kube-proxy (DaemonSet) and coredns (ConfigMap,
 * Deployment). Each write is a replace carrying the resourceVersion it read; a conflict reads again once and retries,
 * a second conflict is thrown. Idempotent: an object already at the version is not written.
 */
import {
  CorefileMigrationError,
  KubeadmObjectNames as N,
  addonVersions,
  compareCoreDNSTags,
  imageRepositoryIn,
  migrateCorefile,
  splitImage,
  upgradedClusterConfiguration,
  upgradedKubeProxyImage,
  upgradedKubeletConfiguration,
  withTag,
} from '../../bootstrap/kubeadm-upgrade.js';
import { KubeadmObjectsUnavailableError, type KubeadmObjects, type KubeadmObjectsChange, type WorkloadTarget } from '../../ports.js';
import type { KubeconfigSource } from '../kubernetes-client/kubeconfig.js';
import { KubernetesApiError, KubernetesClient, resourcePath } from '../kubernetes-client/rest-client.js';

/** Where the admin credentials of a cluster come from: the kubeadm bootstrapper (ClusterCa) has this method. */
export interface WorkloadKubeconfigIssuer {
  workloadKubeconfig(namespace: string, clusterName: string, clusterSpec: WorkloadTarget['clusterSpec']): Promise<KubeconfigSource | undefined>;
}

export interface KubeadmWorkloadObjectsOptions {
  issuer: WorkloadKubeconfigIssuer;
  /** @default 10000 */
  timeoutMs?: number;
}

type Obj = { metadata: { resourceVersion?: string }; [k: string]: unknown };
type Container = { name: string; image?: string };
type ConfigMap = Obj & { data?: Record<string, string> };
type PodOwner = Obj & { spec: { template: { spec: { containers: Container[] } } } };
type Entry = KubeadmObjectsChange['objects'][number];

const paths = {
  configMap: (name: string) => resourcePath('', 'v1', 'configmaps', { namespace: N.namespace, name }),
  daemonSet: (name: string) => resourcePath('apps', 'v1', 'daemonsets', { namespace: N.namespace, name }),
  deployment: (name: string) => resourcePath('apps', 'v1', 'deployments', { namespace: N.namespace, name }),
};

const codeOf = (err: unknown) => (err instanceof KubernetesApiError ? err.code : undefined);

/** Transport failures and server errors are the cluster's, not the request's: the caller tries again later. */
function unavailable(what: string, err: unknown): unknown {
  const code = codeOf(err);
  if (code !== undefined && code < 500 && code !== 429) return err;
  return new KubeadmObjectsUnavailableError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** An edit of an object as read: the new object, or undefined when it already is as wanted. */
type Edit<T> = (current: T) => T | undefined;

export class KubeadmWorkloadObjects implements KubeadmObjects {
  private readonly clients = new Map<string, { source: KubeconfigSource; api: KubernetesClient }>();

  constructor(private readonly options: KubeadmWorkloadObjectsOptions) {}

  async updateClusterConfiguration(target: WorkloadTarget, version: string): Promise<KubeadmObjectsChange> {
    const api = await this.client(target);
    const objects: Entry[] = [];
    objects.push(
      await this.update<ConfigMap>(api, 'ConfigMap', N.kubeadmConfig, paths.configMap(N.kubeadmConfig), (cm) => {
        const text = cm.data?.[N.clusterConfigurationKey];
        if (text === undefined) return undefined;
        const next = upgradedClusterConfiguration(text, version);
        return next === text ? undefined : { ...cm, data: { ...cm.data, [N.clusterConfigurationKey]: next } };
      }),
    );
    objects.push(
      await this.update<ConfigMap>(api, 'ConfigMap', N.kubeletConfig, paths.configMap(N.kubeletConfig), (cm) => {
        const text = cm.data?.[N.kubeletConfigKey];
        if (text === undefined) return undefined;
        const next = upgradedKubeletConfiguration(text, version);
        return next === text ? undefined : { ...cm, data: { ...cm.data, [N.kubeletConfigKey]: next } };
      }),
    );
    return { version, objects };
  }

  async updateAddons(target: WorkloadTarget, version: string): Promise<KubeadmObjectsChange> {
    const api = await this.client(target);
    const coreDNSTag = addonVersions(version).coreDNS; // refuses an unknown minor before anything is written
    const kubeadmConfig = await this.read<ConfigMap>(api, paths.configMap(N.kubeadmConfig));
    const clusterConfiguration = kubeadmConfig?.data?.[N.clusterConfigurationKey];
    const imageRepository = clusterConfiguration === undefined ? undefined : imageRepositoryIn(clusterConfiguration);
    const objects: Entry[] = [];

    // kube-proxy: its container re-tagged (Cluster API's UpdateKubeProxyImageInfo).
    objects.push(
      await this.update<PodOwner>(api, 'DaemonSet', N.kubeProxy, paths.daemonSet(N.kubeProxy), (ds) =>
        withImage(ds, N.kubeProxy, (image) => upgradedKubeProxyImage(image, version, imageRepository)),
      ),
    );

    // CoreDNS: the Corefile migrated first, then the image; a Corefile that cannot be migrated leaves both alone.
    const deployment = await this.read<PodOwner>(api, paths.deployment(N.coreDNS));
    const corefileMap = await this.read<ConfigMap>(api, paths.configMap(N.coreDNS));
    const current = deployment?.spec.template.spec.containers.find((c) => c.name === N.coreDNS)?.image;
    const currentTag = current === undefined ? undefined : splitImage(current).tag;
    const skip = (detail: string): Entry[] => [
      { kind: 'ConfigMap', name: N.coreDNS, result: 'skipped', detail },
      { kind: 'Deployment', name: N.coreDNS, result: 'skipped', detail },
    ];
    if (!deployment || !corefileMap)
      objects.push(
        { kind: 'ConfigMap', name: N.coreDNS, result: corefileMap ? 'unchanged' : 'absent' },
        { kind: 'Deployment', name: N.coreDNS, result: deployment ? 'unchanged' : 'absent' },
      );
    else if (current === undefined || currentTag === undefined) objects.push(...skip('the coredns Deployment has no tagged coredns container'));
    else if (currentTag === coreDNSTag)
      objects.push({ kind: 'ConfigMap', name: N.coreDNS, result: 'unchanged' }, { kind: 'Deployment', name: N.coreDNS, result: 'unchanged' });
    else if ((compareCoreDNSTags(currentTag, coreDNSTag) ?? 1) > 0)
      objects.push(...skip(`CoreDNS ${currentTag} is newer than kubeadm's ${coreDNSTag} for ${version}: left as it is`));
    else {
      let migrated: string | undefined;
      try {
        const corefile = corefileMap.data?.[N.corefileKey] ?? '';
        migrated = migrateCorefile(currentTag, coreDNSTag, corefile);
      } catch (err) {
        if (!(err instanceof CorefileMigrationError)) throw err;
        objects.push(...skip(err.message));
      }
      if (migrated !== undefined) {
        const corefile = migrated;
        objects.push(
          await this.update<ConfigMap>(api, 'ConfigMap', N.coreDNS, paths.configMap(N.coreDNS), (cm) =>
            cm.data?.[N.corefileKey] === corefile ? undefined : { ...cm, data: { ...cm.data, [N.corefileKey]: corefile } },
          ),
        );
        objects.push(
          await this.update<PodOwner>(api, 'Deployment', N.coreDNS, paths.deployment(N.coreDNS), (d) =>
            withImage(d, N.coreDNS, (image) => withTag(image, coreDNSTag)),
          ),
        );
      }
    }
    return { version, objects };
  }

  private async client(target: WorkloadTarget): Promise<KubernetesClient> {
    const source = await this.options.issuer.workloadKubeconfig(target.namespace, target.clusterName, target.clusterSpec);
    if (source === undefined) throw new KubeadmObjectsUnavailableError(`${target.namespace}/${target.clusterName}: no workload credentials yet`);
    const key = `${target.namespace}/${target.clusterName}`;
    const kept = this.clients.get(key);
    if (kept?.source === source) return kept.api;
    kept?.api.close();
    const api = new KubernetesClient(source, { timeoutMs: this.options.timeoutMs ?? 10_000 });
    this.clients.set(key, { source, api });
    return api;
  }

  /** The object, or undefined when the cluster does not have it. */
  private async read<T>(api: KubernetesClient, path: string): Promise<T | undefined> {
    try {
      return await api.get<T>(path);
    } catch (err) {
      if (codeOf(err) === 404) return undefined;
      throw unavailable(`GET ${path}`, err);
    }
  }

  /** Read, edit, replace with the resourceVersion read; one more round after a conflict. */
  private async update<T extends Obj>(api: KubernetesClient, kind: Entry['kind'], name: string, path: string, edit: Edit<T>): Promise<Entry> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read<T>(api, path);
      if (!current) return { kind, name, result: 'absent' };
      const next = edit(current);
      if (!next) return { kind, name, result: 'unchanged' };
      try {
        await api.replace(path, { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } });
        return { kind, name, result: 'updated' };
      } catch (err) {
        if (codeOf(err) === 409 && attempt < 2) continue;
        throw unavailable(`PUT ${path}`, err);
      }
    }
  }
}

/** The object with the named container's image changed by `image`; undefined when there is nothing to change. */
function withImage<T extends PodOwner>(owner: T, container: string, image: (current: string) => string): T | undefined {
  const containers = owner.spec.template.spec.containers;
  const found = containers.find((c) => c.name === container);
  if (!found?.image) return undefined;
  const next = image(found.image);
  if (next === found.image) return undefined;
  const spec = { ...owner.spec.template.spec, containers: containers.map((c) => (c.name === container ? { ...c, image: next } : c)) };
  return { ...owner, spec: { ...owner.spec, template: { ...owner.spec.template, spec } } };
}
