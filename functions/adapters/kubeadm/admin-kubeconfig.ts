/**
 * The admin kubeconfig of a workload cluster, made on demand from the cluster CA and never stored: a fresh client
 * certificate for kubernetes-admin in system:masters (certificates.ts), in the document bootstrap/kubeconfig.ts
 * renders.
 */
import { ADMIN_KUBECONFIG_VALIDITY_SECONDS, ADMIN_USER, renderKubeconfig, type Endpoint } from '../../bootstrap/kubeconfig.js';
import type { ClusterCertificates } from '../../bootstrap/pki.js';
import { issueClientCertificate } from './certificates.js';

export interface AdminKubeconfigOptions {
  clusterName: string;
  endpoint: Endpoint;
  certificates: ClusterCertificates;
  now: Date;
  /** @default ADMIN_KUBECONFIG_VALIDITY_SECONDS */
  validitySeconds?: number;
}

export function adminKubeconfig(options: AdminKubeconfigOptions): string {
  const client = issueClientCertificate(options.certificates.ca, ADMIN_USER, options.now, options.validitySeconds ?? ADMIN_KUBECONFIG_VALIDITY_SECONDS);
  return renderKubeconfig({ clusterName: options.clusterName, endpoint: options.endpoint, caCert: options.certificates.ca.cert, client });
}
