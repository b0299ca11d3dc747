/**
 * The admin kubeconfig of a workload cluster: a client certificate signed by the cluster CA for
 * kubernetes-admin in system:masters, as Cluster API's `{cluster}-kubeconfig` secret has it
 * (util/kubeconfig/kubeconfig.go: generateKubeconfig, CN kubernetes-admin, O system:masters). Made on demand
 * from the CA, never stored.
 */
import { stringify } from 'yaml';
import { issueClientCertificate, type ClusterCertificates } from './certificates.js';

export const ADMIN_USER = { commonName: 'kubernetes-admin', organizations: ['system:masters'] };
/**
 * An admin kubeconfig lasts an hour unless asked otherwise: unlike kubeadm's admin.conf (a year), one is issued
 * per download, so a short life costs nothing and a lost file soon stops working (GET .../kubeconfig takes
 * expirationSeconds, up to a day: functions/api/http/router.ts KUBECONFIG_EXPIRATION).
 */
export const ADMIN_KUBECONFIG_VALIDITY_SECONDS = 3600;

export interface Endpoint {
  host: string;
  port: number;
}

/** `https://host:port`, with brackets around an IPv6 address. */
export function serverUrl(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') && !endpoint.host.startsWith('[') ? `[${endpoint.host}]` : endpoint.host;
  return `https://${host}:${endpoint.port}`;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export interface AdminKubeconfigOptions {
  clusterName: string;
  endpoint: Endpoint;
  certificates: ClusterCertificates;
  now: Date;
  /** @default ADMIN_KUBECONFIG_VALIDITY_SECONDS */
  validitySeconds?: number;
}

export function adminKubeconfig(options: AdminKubeconfigOptions): string {
  const { clusterName } = options;
  const client = issueClientCertificate(options.certificates.ca, ADMIN_USER, options.now, options.validitySeconds ?? ADMIN_KUBECONFIG_VALIDITY_SECONDS);
  const user = `${clusterName}-admin`;
  const context = `${user}@${clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: serverUrl(options.endpoint), 'certificate-authority-data': b64(options.certificates.ca.cert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: context, context: { cluster: clusterName, user } }],
    'current-context': context,
  });
}
