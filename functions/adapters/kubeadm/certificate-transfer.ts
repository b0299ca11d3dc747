/**
 * The cluster certificates a move carries from one installation to another (functions/api/service/move.ts): the
 * one secret the bootstrapper keeps per cluster (secretNames().certificates), read as it is and created under the
 * target's prefix with the tags ensureCertificates gives it, so that the target's machines join the same cluster.
 */
import type { CertificateTransfer } from '../../api/service/move.js';
import type { SecretNames } from '../../bootstrap/names.js';
import type { SecretStore } from '../../ports.js';
import { certificatesSecretTags } from '../aws/tags.js';

export class SecretStoreCertificateTransfer implements CertificateTransfer {
  constructor(
    private readonly secrets: SecretStore,
    private readonly names: SecretNames,
  ) {}

  read(namespace: string, clusterName: string): Promise<Uint8Array | undefined> {
    return this.secrets.get(this.names.certificates(namespace, clusterName));
  }

  create(namespace: string, clusterName: string, clusterUid: string, value: Uint8Array): Promise<boolean> {
    return this.secrets.create(this.names.certificates(namespace, clusterName), value, certificatesSecretTags(namespace, clusterName, clusterUid));
  }
}
