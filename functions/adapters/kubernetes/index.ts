/** Kubernetes adapters: the mirror into a target cluster, and the NodeReader and NodeDrainer of workload clusters. */
export { loadKubeConfig } from '../kubernetes-client/client.js';
export { isInlineKubeconfig, loadKubeconfig, parseKubeconfig, type Kubeconfig, type KubeconfigSource } from '../kubernetes-client/kubeconfig.js';
export { KubernetesApiError, KubernetesClient, KubernetesTimeoutError, PatchType, errorMessage, httpStatusOf } from '../kubernetes-client/rest-client.js';
export { MIRROR_CLUSTER_ROLE, MIRROR_GROUP, crdFileName, customResourceDefinition, customResourceDefinitions, mirrorRbac } from './crds.js';
export {
  KubernetesMirror,
  MIRROR_CONDITION,
  MirrorAnnotations,
  targetObject,
  type ImportOutcome,
  type ImportResult,
  type KubernetesMirrorOptions,
  type SyncResult,
  type TargetObject,
} from './mirror.js';
export { MirrorService, handleMirrorRequest, type MirrorServiceOptions, type MirrorStatus } from './mirror-service.js';
export { KubernetesNodeReader, nodeFact } from './node-reader.js';
export { KubernetesNodeDrainer, isDaemonSetPod, isMirrorPod } from './node-drainer.js';
export { WorkloadClients, WorkloadTimeoutError, type KubeconfigResolver, type WorkloadClientOptions } from './workload.js';
