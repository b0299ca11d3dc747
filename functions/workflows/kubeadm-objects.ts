/**
 * Carries out an UpdateKubeadmObjects action: kubeadm's own objects in the workload cluster brought to the control
 * plane's version (the KubeadmObjects port), then the part recorded in the ControlPlane's status.kubeadmObjects, so
 * the planner asks for it once per version. Both halves are idempotent: a task that dies between them updates
 * again, which changes nothing.
 */
import type { Cluster } from '../api/cluster.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { Action } from '../core/plan.js';
import { ConflictError, KubeadmObjectsUnavailableError } from '../ports.js';
import type { WorkflowDeps } from './deps.js';

type UpdateKubeadmObjects = Extract<Action, { type: 'UpdateKubeadmObjects' }>;

/** The errors to report (the action is repeated by the next reconcile); none when it is done. */
export async function updateKubeadmObjects(deps: WorkflowDeps, cluster: Cluster, action: UpdateKubeadmObjects): Promise<string[]> {
  const target = { namespace: cluster.metadata.namespace, clusterName: cluster.metadata.name, clusterSpec: cluster.spec };
  try {
    const change =
      action.part === 'clusterConfiguration'
        ? await deps.kubeadmObjects.updateClusterConfiguration(target, action.version)
        : await deps.kubeadmObjects.updateAddons(target, action.version);
    deps.log.info('kubeadm objects brought to the version', {
      namespace: target.namespace,
      clusterName: target.clusterName,
      part: action.part,
      version: action.version,
      objects: change.objects.map((o) => `${o.kind}/${o.name}: ${o.result}${o.detail ? ` (${o.detail})` : ''}`),
    });
  } catch (err) {
    // Unreachable now, or objects kubeadm would not recognise: said, and tried again by the next reconcile.
    if (!(err instanceof Error)) throw err;
    const retry = err instanceof KubeadmObjectsUnavailableError ? 'unreachable' : 'refused';
    deps.log.warn('kubeadm objects not updated', {
      namespace: target.namespace,
      clusterName: target.clusterName,
      part: action.part,
      error: err.message,
      retry,
    });
    return [`UpdateKubeadmObjects ${action.part}: ${err.name}: ${err.message}`];
  }
  await record(deps, action);
  return [];
}

async function record(deps: WorkflowDeps, action: UpdateKubeadmObjects): Promise<void> {
  const { namespace, name } = action.controlPlane;
  for (let attempt = 0; attempt < 3; attempt++) {
    const cp = await deps.store.get<ControlPlane>('ControlPlane', namespace, name);
    // Gone, or moved on to another version meanwhile: nothing to record; the planner asks again if needed.
    if (!cp || cp.spec.version !== action.version) return;
    const kubeadmObjects = { ...cp.status?.kubeadmObjects, [action.part]: action.version };
    try {
      await deps.store.updateStatus({ ...cp, status: { ...cp.status, kubeadmObjects } });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}
