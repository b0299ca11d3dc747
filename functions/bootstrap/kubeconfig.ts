/**
 * The admin kubeconfig document of a workload cluster: the cluster CA, and a client certificate for
 * kubernetes-admin in system:masters, as Cluster API's `{cluster}-kubeconfig` secret has it
 * (util/kubeconfig/kubeconfig.go: generateKubeconfig, CN kubernetes-admin, O system:masters). The kubeadm adapter
 * issues the certificate on demand from the CA (adapters/kubeadm/admin-kubeconfig.ts); nothing here is stored.
 */
import { stringify } from 'yaml';

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

export interface KubeconfigDocumentInput {
  clusterName: string;
  endpoint: Endpoint;
  /** PEM of the cluster CA the client trusts. */
  caCert: string;
  /** The user's client certificate and key (PEM), signed by the cluster CA. */
  client: { cert: string; key: string };
}

/** A kubeconfig with one cluster, one user (`{cluster}-admin`) and the context that joins them. */
export function renderKubeconfig(input: KubeconfigDocumentInput): string {
  const { clusterName, client } = input;
  const user = `${clusterName}-admin`;
  const context = `${user}@${clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: serverUrl(input.endpoint), 'certificate-authority-data': b64(input.caCert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: context, context: { cluster: clusterName, user } }],
    'current-context': context,
  });
}
