/**
 * The kubeadm bootstrap of machines that become nodes: cluster certificates, bootstrap tokens, kubeadm and
 * cloud-init documents, the boothook user data, and the admin kubeconfig.
 */
export { BOOTSTRAP_DATA_PATH, boothookScript, renderUserData, type BoothookInput } from './boothook.js';
export {
  caCertHash,
  generateClusterCertificates,
  issueClientCertificate,
  parseCertificates,
  serializeCertificates,
  InvalidCertificatesError,
  type CertificateAuthority,
  type ClusterCertificates,
} from './certificates.js';
export { BOOTSTRAP_SCRIPT_PATH, bootstrapScript, pkiFiles, renderCloudConfig, type CloudConfigInput } from './cloud-config.js';
export {
  API_SERVER_BIND_PORT,
  KUBEADM_API_VERSION,
  MIN_KUBERNETES_MINOR,
  PROVIDER_ID_PLACEHOLDER,
  parseKubernetesVersion,
  renderInitConfiguration,
  renderJoinConfiguration,
  UnsupportedVersionError,
  type KubeadmCluster,
} from './kubeadm-config.js';
export { KubeadmBootstrapper, MAX_SECRET_BYTES, WORKLOAD_CREDENTIALS_SECONDS, type KubeadmBootstrapperOptions } from './kubeadm-bootstrapper.js';
export { ADMIN_USER, adminKubeconfig, serverUrl, type Endpoint } from './kubeconfig.js';
export { DEFAULT_SECRET_PREFIX, secretNames, type SecretNames } from './names.js';
export { BOOTSTRAP_TOKEN_PATTERN, DEFAULT_TOKEN_TTL_SECONDS, generateBootstrapToken, needsRenewal, tokenString, type BootstrapToken } from './tokens.js';
export { KUBEADM_CERTS_SECRET, decryptBytes, encryptBytes, uploadedCertsData } from './uploaded-certs.js';
export { KubernetesWorkloadBootstrapApi, WorkloadUnavailableError, type TokenInfo, type WorkloadBootstrapApi } from './workload-api.js';
export {
  bootstrapsCluster,
  initialisesControlPlane,
  joiningMachines,
  kubeconfigSources,
  releaseBeforeFinalizers,
  releaseJoined,
  renewJoinTokens,
} from './workflow-hooks.js';
