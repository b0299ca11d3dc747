/**
 * The certificates etcd is reached and run with, from the cluster's etcd CA: the control plane's client
 * certificate (ClusterCa.etcdClientCredentials, kept like the workload kubeconfig) and a member's server and peer
 * certificates as kubeadm makes them. A real etcd accepts them in test/integration/etcd.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterCa, generateClusterCertificates, serializeCertificates, type ClusterCertificates } from '../../../functions/adapters/kubeadm/index.js';
import { issueEtcdMemberCertificates } from '../../../functions/adapters/kubeadm/certificates.js';
import { WORKLOAD_CREDENTIALS_SECONDS } from '../../../functions/adapters/kubeadm/cluster-ca.js';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { secretNames } from '../../../functions/bootstrap/names.js';
import { FakeClock } from '../../support/fake-clock.js';

const names = secretNames();
let certs: ClusterCertificates;
let clock: FakeClock;
let secrets: MemorySecretStore;
let ca: ClusterCa;

beforeAll(async () => {
  certs = await generateClusterCertificates(new Date('2026-03-01T00:00:00Z'), 'ecdsa-p256');
});

beforeEach(async () => {
  clock = new FakeClock('2026-03-01T00:00:00Z');
  secrets = new MemorySecretStore();
  ca = new ClusterCa({ secrets, clock, names });
  await secrets.put(names.certificates('default', 'demo'), new TextEncoder().encode(serializeCertificates(certs)));
});

const extendedKeyUsages = (cert: X509Certificate) => cert.toLegacyObject().ext_key_usage ?? [];
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('ClusterCa.etcdClientCredentials', () => {
  it('issues a clientAuth certificate signed by the etcd CA (not the cluster CA), with no organization', async () => {
    const credentials = (await ca.etcdClientCredentials('default', 'demo'))!;
    const cert = new X509Certificate(credentials.cert);

    expect(credentials.ca).toBe(certs.etcdCa.cert);
    expect(cert.verify(new X509Certificate(certs.etcdCa.cert).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(false);
    expect(cert.subject).toBe('CN=clusterless-etcd-client');
    expect(extendedKeyUsages(cert)).toEqual([CLIENT_AUTH]);
    expect(new Date(cert.validTo).getTime()).toBe(clock.now().getTime() + WORKLOAD_CREDENTIALS_SECONDS * 1000);
  });

  it('keeps the certificate until half its life, then issues another; forget drops it', async () => {
    const first = await ca.etcdClientCredentials('default', 'demo');
    clock.advance(WORKLOAD_CREDENTIALS_SECONDS / 2 - 1);
    expect(await ca.etcdClientCredentials('default', 'demo')).toBe(first);

    clock.advance(1);
    const second = await ca.etcdClientCredentials('default', 'demo');
    expect(second!.cert).not.toBe(first!.cert);

    ca.forget('default', 'demo');
    expect((await ca.etcdClientCredentials('default', 'demo'))!.cert).not.toBe(second!.cert);
  });

  it('is undefined for a cluster without certificates', async () => {
    expect(await ca.etcdClientCredentials('default', 'other')).toBeUndefined();
  });
});

describe('issueEtcdMemberCertificates', () => {
  it("makes kubeadm's etcd/server and etcd/peer: the node's name, serverAuth and clientAuth, signed by the etcd CA", async () => {
    const { server, peer } = await issueEtcdMemberCertificates(certs.etcdCa, { nodeName: 'ip-10-0-1-5.ec2.internal', ip: '10.0.1.5' }, clock.now());
    const etcdCa = new X509Certificate(certs.etcdCa.cert);

    for (const pem of [server.cert, peer.cert]) {
      const cert = new X509Certificate(pem);
      expect(cert.verify(etcdCa.publicKey)).toBe(true);
      expect(cert.subject).toBe('CN=ip-10-0-1-5.ec2.internal');
      expect(extendedKeyUsages(cert).sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
      // kubeadm's default leaf validity: one year.
      expect(new Date(cert.validTo).getTime()).toBe(clock.now().getTime() + 365 * 86_400_000);
    }
    expect(new X509Certificate(server.cert).subjectAltName).toBe(
      'DNS:localhost, DNS:ip-10-0-1-5.ec2.internal, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.1.5',
    );
    expect(new X509Certificate(peer.cert).subjectAltName).toBe('DNS:ip-10-0-1-5.ec2.internal, IP Address:10.0.1.5');
  });
});
