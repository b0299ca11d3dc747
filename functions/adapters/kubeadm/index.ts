/**
 * The kubeadm bootstrap adapter (MachineBootstrapper): cluster certificates made and kept in the SecretStore, each
 * machine's bootstrap secret, join tokens in the workload cluster, and admin kubeconfigs issued from the CA. The
 * documents it writes are rendered by functions/bootstrap/.
 */
export { KubeadmBootstrapper, MAX_SECRET_BYTES, WORKLOAD_CREDENTIALS_SECONDS, type KubeadmBootstrapperOptions } from './kubeadm-bootstrapper.js';
export { adminKubeconfig, type AdminKubeconfigOptions } from './admin-kubeconfig.js';
export { ClusterCa, type ClusterCaOptions, type EtcdClientCredentials } from './cluster-ca.js';
export { SecretStoreCertificateTransfer } from './certificate-transfer.js';
export { generateBootstrapToken } from './bootstrap-tokens.js';
export {
  BACKDATE_SECONDS,
  caCertHash,
  generateClusterCertificates,
  issueCertificate,
  issueClientCertificate,
  issueEtcdClientCertificate,
  issueEtcdMemberCertificates,
  parseCertificates,
  serializeCertificates,
  InvalidCertificatesError,
  type CertificateAuthority,
  type ClusterCertificates,
  type EtcdMemberCertificates,
  type EtcdMemberIdentity,
  type LeafCertificateSpec,
} from './certificates.js';
export { KUBEADM_CERTS_SECRET, decryptBytes, encryptBytes, uploadedCertsData } from './uploaded-certs.js';
export { KubernetesWorkloadBootstrapApi, WorkloadUnavailableError, type TokenInfo, type WorkloadBootstrapApi } from './workload-api.js';
