/**
 * The etcd adapter: a client of etcd's v3 JSON gateway over mutual TLS (client.ts) and EtcdMembership over it
 * (etcd-membership.ts). The credentials come from the kubeadm adapter's ClusterCa.etcdClientCredentials, passed in
 * by the host (an adapter imports no other adapter).
 */
export {
  EtcdApiError,
  EtcdClient,
  EtcdConnectionError,
  GrpcCode,
  initialCluster,
  isUnavailable,
  type EtcdAlarm,
  type EtcdClientOptions,
  type EtcdCredentials,
  type EtcdMember,
  type EtcdMemberList,
  type EtcdStatus,
} from './client.js';
export { ETCD_CLIENT_PORT, EtcdMembershipOverClient, instanceClientUrls, type EtcdMembershipOptions } from './etcd-membership.js';
