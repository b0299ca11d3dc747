/**
 * When kubeadm's own objects in the workload cluster follow the control plane's version, in Cluster API's
 * KubeadmControlPlane order (controlplane/kubeadm/internal/controllers: update.go updateControlPlane brings the
 * ClusterConfiguration to the version before a rollout adds a machine; controller.go reconcile updates kube-proxy and
 * CoreDNS once the machines are up to date). Only for clusters that bootstrap with kubeadm; the status records what
 * was done, so that each part is done once per version.
 */
import { bootstrapsWithKubeadm } from '../../api/providers/index.js';
import { refOf, type Action } from '../plan.js';
import type { ControlPlaneScope } from './scope.js';

const kubeadmCluster = (scope: ControlPlaneScope): boolean => bootstrapsWithKubeadm(scope.cluster.spec.provider) && Boolean(scope.cp.status?.initialized);

/** The ClusterConfiguration update a rollout must wait for before it adds a machine, if it is not done yet. */
export function clusterConfigurationUpdate(scope: ControlPlaneScope): Action | undefined {
  const { cp } = scope;
  if (!kubeadmCluster(scope) || cp.status?.kubeadmObjects?.clusterConfiguration === cp.spec.version) return undefined;
  return { type: 'UpdateKubeadmObjects', cluster: refOf(scope.cluster), controlPlane: refOf(cp), version: cp.spec.version, part: 'clusterConfiguration' };
}

/** The addons' update, once every control-plane machine runs the version and nothing is left to roll. */
export function addonsUpdate(scope: ControlPlaneScope): Action | undefined {
  const { cp } = scope;
  if (!kubeadmCluster(scope) || scope.outdated.length > 0 || cp.status?.version !== cp.spec.version) return undefined;
  if (scope.machines.length === 0 || cp.status.kubeadmObjects?.addons === cp.spec.version) return undefined;
  return { type: 'UpdateKubeadmObjects', cluster: refOf(scope.cluster), controlPlane: refOf(cp), version: cp.spec.version, part: 'addons' };
}
