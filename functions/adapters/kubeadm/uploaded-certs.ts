/**
 * The certificates a control-plane machine downloads when it joins with a certificate key: the Secret
 * `kubeadm-certs` in kube-system, each CA file encrypted with AES-256-GCM under the certificate key (nonce
 * first), as `kubeadm init phase upload-certs` writes it (kubernetes cmd/kubeadm/app/phases/copycerts/copycerts.go:
 * UploadCerts, certsToTransfer, certOrKeyNameToSecretName; app/util/crypto EncryptBytes). clusterless uploads
 * it itself through the workload API, so a control-plane machine can join at any time, not only in the two
 * hours after `kubeadm init --upload-certs`; a proxy bootstrap token owns it and gives it its TTL.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ClusterCertificates } from '../../bootstrap/pki.js';

export const KUBEADM_CERTS_SECRET = 'kubeadm-certs';
/** The Role and RoleBinding that let bootstrap tokens read kubeadm-certs (kubeadm's KubeadmCertsClusterRoleName). */
export const KUBEADM_CERTS_ROLE = 'kubeadm:kubeadm-certs';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function encryptBytes(data: Buffer, certificateKey: string): Buffer {
  const key = Buffer.from(certificateKey, 'hex');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
}

export function decryptBytes(data: Buffer, certificateKey: string): Buffer {
  const key = Buffer.from(certificateKey, 'hex');
  const nonce = data.subarray(0, NONCE_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
}

/** The files of /etc/kubernetes/pki a joining control-plane machine needs, by their kubeadm names. */
export function controlPlaneFiles(certs: ClusterCertificates): Record<string, string> {
  return {
    'ca.crt': certs.ca.cert,
    'ca.key': certs.ca.key,
    'front-proxy-ca.crt': certs.frontProxyCa.cert,
    'front-proxy-ca.key': certs.frontProxyCa.key,
    'sa.pub': certs.serviceAccount.pub,
    'sa.key': certs.serviceAccount.key,
    'etcd/ca.crt': certs.etcdCa.cert,
    'etcd/ca.key': certs.etcdCa.key,
  };
}

/** The `data` of kubeadm-certs: file names with `/` turned into `-`, values encrypted, base64 as the API wants. */
export function uploadedCertsData(certs: ClusterCertificates): Record<string, string> {
  return Object.fromEntries(
    Object.entries(controlPlaneFiles(certs)).map(([file, pem]) => [file.replaceAll('/', '-'), encryptBytes(Buffer.from(pem, 'utf8'), certs.certificateKey).toString('base64')]),
  );
}
