/**
 * The hooks of `clusterless import`'s routes (functions/api/http/cluster-import.ts): certificates go where the
 * kubeadm bootstrap keeps the ones it makes (secretNames().certificates, the same serialisation), so that machines
 * bootstrapped later join the adopted cluster under its own CA; instances are adopted by CapaInstanceAdoption.
 */
import { randomBytes } from 'node:crypto';
import { AdoptionRefusedError } from '../api/capi/import-plan.js';
import type { ClusterImportHooks } from '../api/http/cluster-import.js';
import { certificatesSecretTags } from '../adapters/aws/tags.js';
import type { Ec2QueryClient } from '../adapters/aws/ec2-query/index.js';
import { CapaInstanceAdoption } from '../adapters/ec2/capa-adoption.js';
import { parseCertificates, serializeCertificates, type ClusterCertificates } from '../adapters/kubeadm/certificates.js';
import { secretNames } from '../bootstrap/names.js';
import type { SecretStore } from '../ports.js';

export interface ClusterImportDepsOptions {
  ec2: Ec2QueryClient;
  installationId: string;
  secrets: SecretStore;
  /** @default - secretNames' default prefix */
  secretPrefix?: string;
}

const sameCertificates = (a: ClusterCertificates, b: Omit<ClusterCertificates, 'certificateKey'>) =>
  a.ca.cert === b.ca.cert &&
  a.ca.key === b.ca.key &&
  a.etcdCa.cert === b.etcdCa.cert &&
  a.etcdCa.key === b.etcdCa.key &&
  a.frontProxyCa.cert === b.frontProxyCa.cert &&
  a.frontProxyCa.key === b.frontProxyCa.key &&
  a.serviceAccount.key === b.serviceAccount.key &&
  a.serviceAccount.pub === b.serviceAccount.pub;

export function clusterImportHooks(options: ClusterImportDepsOptions): ClusterImportHooks {
  const adoption = new CapaInstanceAdoption({ client: options.ec2, installationId: options.installationId });
  const names = secretNames(options.secretPrefix);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  const existing = async (name: string, wanted: Omit<ClusterCertificates, 'certificateKey'>): Promise<boolean> => {
    const value = await options.secrets.get(name);
    if (value === undefined) return false;
    // A cluster's CA never changes under its nodes: another set is refused, never overwritten.
    if (!sameCertificates(parseCertificates(decoder.decode(value)), wanted))
      throw new AdoptionRefusedError('the cluster has other certificates already: they are never replaced', 'ca.cert');
    return true;
  };

  return {
    async importCertificates(target, certificates) {
      const name = names.certificates(target.namespace, target.clusterName);
      if (await existing(name, certificates)) return false;
      // kubeadm's certificate key encrypts the certificates uploaded for control-plane joins; Cluster API keeps none.
      const value = serializeCertificates({ ...certificates, certificateKey: randomBytes(32).toString('hex') });
      const created = await options.secrets.create(
        name,
        encoder.encode(value),
        certificatesSecretTags(target.namespace, target.clusterName, target.clusterUid),
      );
      if (!created) await existing(name, certificates); // made meanwhile: the same set is fine, another refused
      return created;
    },
    isAdopted: (target) => adoption.isAdopted(target),
    async adoptInstance(target) {
      await adoption.adopt(target);
    },
  };
}
