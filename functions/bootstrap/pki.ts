/**
 * A cluster's certificates as the documents carry them: PEM text, the set kubeadm expects in /etc/kubernetes/pki
 * plus kubeadm's certificate key. Made and kept by the kubeadm adapter (adapters/kubeadm/certificates.ts); the
 * renderers only write them into documents.
 */

export interface CertificateAuthority {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface ClusterCertificates {
  ca: CertificateAuthority;
  frontProxyCa: CertificateAuthority;
  etcdCa: CertificateAuthority;
  /** The key pair the API server signs and checks service-account tokens with (sa.key, sa.pub). */
  serviceAccount: { key: string; pub: string };
  /** kubeadm's certificate key: 32 random bytes, hex; encrypts the certificates uploaded for control-plane joins. */
  certificateKey: string;
}
