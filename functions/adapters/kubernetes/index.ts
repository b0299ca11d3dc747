/**
 * Kubernetes adapters: the mirror into a target cluster (over @kubernetes/client-node; the embedded host, and on
 * AWS the mirror function, which imports the mirror's own modules), and the
 * NodeReader and NodeDrainer of workload clusters (over the project's REST client). The Lambda handlers import the
 * workload adapters' own modules, not this index, so that their bundles leave the mirror and client-node out.
 */
export { loadKubeConfig } from '../kubernetes-client/client.js';
export { isInlineKubeconfig, loadKubeconfig, type Kubeconfig, type KubeconfigSource } from '../kubernetes-client/kubeconfig.js';
export { KubernetesApiError, KubernetesClient, KubernetesTimeoutError } from '../kubernetes-client/rest-client.js';
export { MIRROR_CLUSTER_ROLE, MIRROR_GROUP, crdFileName, customResourceDefinition, customResourceDefinitions, mirrorRbac } from './crds.js';
export {
  KubernetesMirror,
  MIRROR_CONDITION,
  MIRROR_DELETED_KINDS,
  MIRROR_FINALIZER,
  MirrorAnnotations,
  changedInTarget,
  targetObject,
  type ImportOutcome,
  type ImportResult,
  type KubernetesMirrorOptions,
  type SyncResult,
  type TargetObject,
} from './mirror.js';
export { TargetWatch, type TargetEventType, type TargetWatchOptions } from './mirror-watch.js';
export { MirrorService, handleMirrorRequest, type MirrorServiceOptions, type MirrorStatus } from './mirror-service.js';
export { KubernetesNodeReader, nodeFact } from './node-reader.js';
export { KubernetesNodeDrainer, isDaemonSetPod, isMirrorPod } from './node-drainer.js';
export { KubernetesNodeLabeler } from './node-labeler.js';
export { WorkloadClients, WorkloadTimeoutError, type KubeconfigResolver, type WorkloadClientOptions } from './workload.js';
