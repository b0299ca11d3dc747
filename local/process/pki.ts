/**
 * The certificates of one process machine, issued from the cluster's CAs (the kubeadm bootstrap keeps them in the
 * secret store) with the names and usages kubeadm gives them (kubeadm app/phases/certs/certlist.go: etcd server and
 * peer, apiserver, apiserver-etcd-client; the kubelet's client certificate system:node:NAME in system:nodes), and
 * written to the machine's pki folder (keys 0600). A restart reuses what is written.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate, issueEtcdClientCertificate, issueEtcdMemberCertificates, type ClusterCertificates } from '../../functions/adapters/kubeadm/index.js';

/** A machine's certificates last a year, as kubeadm's leaf certificates do. */
export const LEAF_CERT_SECONDS = 365 * 86_400;
/** kubeadm's default service range; the serving certificate names the API server's first address in it. */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
const KUBERNETES_SERVICE_IP = '10.96.0.1';
const APISERVER_DNS_NAMES = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

export interface PkiFiles {
  dir: string;
  ca: string;
  etcdCa: string;
  etcdServer: { cert: string; key: string };
  etcdPeer: { cert: string; key: string };
  apiserver: { cert: string; key: string };
  apiserverEtcdClient: { cert: string; key: string };
  saPub: string;
  saKey: string;
}

export function pkiFiles(dir: string): PkiFiles {
  const pair = (name: string) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    etcdCa: join(dir, 'etcd-ca.crt'),
    etcdServer: pair('etcd-server'),
    etcdPeer: pair('etcd-peer'),
    apiserver: pair('apiserver'),
    apiserverEtcdClient: pair('apiserver-etcd-client'),
    saPub: join(dir, 'sa.pub'),
    saKey: join(dir, 'sa.key'),
  };
}

async function writePair(files: { cert: string; key: string }, pair: { cert: string; key: string }): Promise<void> {
  await writeFile(files.cert, pair.cert, { mode: 0o600 });
  await writeFile(files.key, pair.key, { mode: 0o600 });
}

/** Writes a control-plane machine's certificates (once; kept across restarts). */
export async function writeControlPlanePki(dir: string, nodeName: string, certs: ClusterCertificates, now: Date): Promise<PkiFiles> {
  const f = pkiFiles(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (existsSync(f.apiserverEtcdClient.key)) return f;
  // etcd's server and peer certificates and the API server's etcd client certificate as the kubeadm adapter issues
  // them for any host; only the API server's serving certificate is this host's own (127.0.0.1).
  const [{ server, peer }, apiserver, etcdClient] = await Promise.all([
    issueEtcdMemberCertificates(certs.etcdCa, { nodeName, ip: '127.0.0.1' }, now, LEAF_CERT_SECONDS),
    issueCertificate(
      certs.ca,
      {
        subject: { commonName: 'kube-apiserver' },
        extendedKeyUsages: ['serverAuth'],
        dnsNames: [...APISERVER_DNS_NAMES, nodeName],
        ipAddresses: ['127.0.0.1', KUBERNETES_SERVICE_IP],
      },
      now,
      LEAF_CERT_SECONDS,
    ),
    issueEtcdClientCertificate(certs.etcdCa, now, LEAF_CERT_SECONDS),
  ]);
  await writeFile(f.ca, certs.ca.cert, { mode: 0o600 });
  await writeFile(f.etcdCa, certs.etcdCa.cert, { mode: 0o600 });
  await writeFile(f.saPub, certs.serviceAccount.pub, { mode: 0o600 });
  await writeFile(f.saKey, certs.serviceAccount.key, { mode: 0o600 });
  await writePair(f.etcdServer, server);
  await writePair(f.etcdPeer, peer);
  await writePair(f.apiserver, apiserver);
  // Written last: its presence says the folder is whole.
  await writePair(f.apiserverEtcdClient, etcdClient);
  return f;
}

/** The kubelet's client certificate (system:node:NAME, system:nodes), kept in the machine's pki folder. */
export async function kubeletCredentials(dir: string, nodeName: string, certs: ClusterCertificates, now: Date): Promise<{ cert: string; key: string }> {
  const files = { cert: join(dir, 'kubelet-client.crt'), key: join(dir, 'kubelet-client.key') };
  if (existsSync(files.key)) return { cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await issueCertificate(
    certs.ca,
    { subject: { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] }, extendedKeyUsages: ['clientAuth'] },
    now,
    LEAF_CERT_SECONDS,
  );
  await writeFile(files.cert, pair.cert, { mode: 0o600 });
  await writeFile(files.key, pair.key, { mode: 0o600 });
  return pair;
}
