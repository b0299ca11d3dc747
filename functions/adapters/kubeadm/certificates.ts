/**
 * A cluster's certificates, made once by the control plane and kept only in its secret store (never in the
 * object store, logs or user data): the cluster CA, the front-proxy CA, the etcd CA and the service-account
 * key pair, the set kubeadm expects in /etc/kubernetes/pki, plus kubeadm's certificate key for the certificates
 * uploaded for control-plane joins. Learnt from Cluster API bootstrap/kubeadm/internal/cluster/certificates.go
 * (NewCertificatesForInitialControlPlane: the four pairs, 10-year CAs, the SA key not a certificate) and
 * kubeadm's constants (file names, CA common names), written anew.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { CertificateAuthority, ClusterCertificates } from '../../bootstrap/pki.js';
import { createCertificate, generateKeyPair, loadPrivateKey, privateKeyPem, publicKeyPem, type KeyAlgorithm } from './x509.js';

export type { CertificateAuthority, ClusterCertificates } from '../../bootstrap/pki.js';

/** kubeadm's defaults: CAs for ten years (caCertificateValidityPeriod 87600h). */
export const CA_VALIDITY_DAYS = 3650;
/** Certificates start a little in the past, so that a node whose clock is behind accepts them. */
export const BACKDATE_SECONDS = 300;

const DAY_MS = 86_400_000;

function selfSignedCa(commonName: string, now: Date, algorithm: KeyAlgorithm): CertificateAuthority {
  const { privateKey, publicKey } = generateKeyPair(algorithm);
  const cert = createCertificate({
    subject: { commonName },
    publicKey,
    selfSigningKey: privateKey,
    notBefore: new Date(now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    isCA: true,
    keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'],
  });
  return { cert, key: privateKeyPem(privateKey) };
}

/** New certificates for a cluster (kubeadm's CA names: kubernetes, front-proxy-ca, etcd-ca). */
export function generateClusterCertificates(now: Date, algorithm: KeyAlgorithm = 'rsa-2048'): ClusterCertificates {
  const sa = generateKeyPair(algorithm);
  return {
    ca: selfSignedCa('kubernetes', now, algorithm),
    frontProxyCa: selfSignedCa('front-proxy-ca', now, algorithm),
    etcdCa: selfSignedCa('etcd-ca', now, algorithm),
    serviceAccount: { key: privateKeyPem(sa.privateKey), pub: publicKeyPem(sa.publicKey) },
    certificateKey: randomBytes(32).toString('hex'),
  };
}

const FORMAT = 'clusterless.dev/cluster-certificates/v1';

export function serializeCertificates(certs: ClusterCertificates): string {
  return JSON.stringify({ format: FORMAT, ...certs });
}

export class InvalidCertificatesError extends Error {
  override name = 'InvalidCertificatesError';
}

/** Reads what serializeCertificates wrote; throws InvalidCertificatesError on anything else. */
export function parseCertificates(text: string): ClusterCertificates {
  let v: Partial<ClusterCertificates> & { format?: unknown };
  try {
    v = JSON.parse(text) as typeof v;
  } catch (err) {
    throw new InvalidCertificatesError('the cluster certificates are not JSON', { cause: err });
  }
  const pair = (p: unknown): p is CertificateAuthority => !!p && typeof (p as CertificateAuthority).cert === 'string' && typeof (p as CertificateAuthority).key === 'string';
  if (v.format !== FORMAT || !pair(v.ca) || !pair(v.frontProxyCa) || !pair(v.etcdCa) || typeof v.serviceAccount?.key !== 'string' || typeof v.serviceAccount.pub !== 'string' || !/^[0-9a-f]{64}$/.test(v.certificateKey ?? ''))
    throw new InvalidCertificatesError(`the cluster certificates are not in the ${FORMAT} format`);
  return { ca: v.ca, frontProxyCa: v.frontProxyCa, etcdCa: v.etcdCa, serviceAccount: v.serviceAccount, certificateKey: v.certificateKey! };
}

/**
 * The CA certificate hash that kubeadm join pins (discovery.bootstrapToken.caCertHashes): `sha256:` and the
 * SHA-256 of the CA's DER SubjectPublicKeyInfo (kubeadm app/util/pubkeypin).
 */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The client certificate of a user, signed by the cluster CA, with its key (ECDSA P-256: quick to make). */
export function issueClientCertificate(
  ca: CertificateAuthority,
  subject: { commonName: string; organizations: string[] },
  now: Date,
  validitySeconds: number,
): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPair('ecdsa-p256');
  const cert = createCertificate({
    subject,
    publicKey,
    issuer: { certificatePem: ca.cert, privateKey: loadPrivateKey(ca.key) },
    notBefore: new Date(now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(now.getTime() + validitySeconds * 1000),
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
  });
  return { cert, key: privateKeyPem(privateKey) };
}
