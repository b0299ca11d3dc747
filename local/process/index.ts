/**
 * The process provider of the embedded host: machines that are real etcd members and kube-apiservers on this
 * host (process-cloud.ts), the binaries that run them (kube.ts), and the ProviderRuntime the host registers.
 */
export { ProcessCloud, processProviderID, targetGroupArn, NODE_MONITOR_GRACE_SECONDS, HEARTBEAT_SECONDS, type ProcessCloudOptions } from './process-cloud.js';
export { buildKubeBinaries, kubeBinaries, KubeBinariesMissingError, type KubeBinaries } from './kube.js';
