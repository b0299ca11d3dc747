/**
 * The cluster's certificates: real X.509 that node:crypto and OpenSSL accept as a CA, the admin client
 * certificate it signs, kubeadm's CA hash, and the serialized form kept in the secret store.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InvalidCertificatesError, adminKubeconfig, caCertHash, generateClusterCertificates, issueClientCertificate, parseCertificates, serializeCertificates } from '../../../functions/adapters/kubeadm/index.js';
import type { ClusterCertificates } from '../../../functions/bootstrap/pki.js';
import { requireTool } from './tools.js';

const NOW = new Date('2026-03-01T12:00:00Z');
let certs: ClusterCertificates;

beforeAll(() => {
  certs = generateClusterCertificates(NOW);
});

const openssl = (args: string[], input?: string) => spawnSync(requireTool('openssl'), args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

describe('generateClusterCertificates', () => {
  it.each([
    { name: 'cluster CA', pick: (c: ClusterCertificates) => c.ca, cn: 'CN=kubernetes' },
    { name: 'front-proxy CA', pick: (c: ClusterCertificates) => c.frontProxyCa, cn: 'CN=front-proxy-ca' },
    { name: 'etcd CA', pick: (c: ClusterCertificates) => c.etcdCa, cn: 'CN=etcd-ca' },
  ])('makes the $name: self-signed, a CA, for ten years, its key matching', ({ pick, cn }) => {
    const ca = pick(certs);
    const x = new X509Certificate(ca.cert);
    expect(x.subject).toBe(cn);
    expect(x.issuer).toBe(cn);
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
    expect(new Date(x.validTo).getUTCFullYear()).toBe(2036);
    expect(new Date(x.validFrom).getTime()).toBeLessThan(NOW.getTime());
  });

  it('makes three different CAs and an RSA service-account key pair, and a 32-byte certificate key', () => {
    const fingerprints = new Set([certs.ca, certs.frontProxyCa, certs.etcdCa].map((c) => new X509Certificate(c.cert).fingerprint256));
    expect(fingerprints.size).toBe(3);
    const sa = createPrivateKey(certs.serviceAccount.key);
    expect(sa.asymmetricKeyType).toBe('rsa');
    expect(createPublicKey(sa).export({ type: 'spki', format: 'pem' })).toBe(certs.serviceAccount.pub);
    expect(certs.certificateKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes keys in the PEM forms kubeadm writes (PKCS#1 RSA)', () => {
    expect(certs.ca.key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(certs.serviceAccount.pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('makes CAs OpenSSL accepts: a self-signed CA with keyCertSign that verifies itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-ca-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), certs.ca.cert);
      const r = openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'ca.crt'), join(dir, 'ca.crt')]);
      expect(r.stdout + r.stderr).toContain(': OK');
      const text = openssl(['x509', '-in', join(dir, 'ca.crt'), '-noout', '-text']).stdout;
      expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign/);
      expect(text).toContain('Subject Key Identifier');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('caCertHash', () => {
  it("is kubeadm's pin: sha256 of the CA's SubjectPublicKeyInfo, as the openssl recipe of the kubeadm docs computes it", () => {
    const pub = openssl(['x509', '-pubkey', '-noout'], certs.ca.cert).stdout;
    const der = spawnSync(requireTool('openssl'), ['pkey', '-pubin', '-outform', 'der'], { input: pub });
    const digest = spawnSync(requireTool('openssl'), ['dgst', '-sha256', '-hex'], { input: der.stdout, encoding: 'utf8' }).stdout.trim().split(' ').pop();
    expect(caCertHash(certs.ca.cert)).toBe(`sha256:${digest}`);
  });
});

describe('admin credentials', () => {
  it('issues a client certificate the cluster CA signed, for kubernetes-admin in system:masters, for clientAuth', () => {
    const client = issueClientCertificate(certs.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, NOW, 3600);
    const x = new X509Certificate(client.cert);
    expect(x.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(certs.ca.cert))).toBe(true);
    expect(x.subject).toBe('O=system:masters\nCN=kubernetes-admin');
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(x.validTo).getTime()).toBe(NOW.getTime() + 3600_000);
    expect(x.checkPrivateKey(createPrivateKey(client.key))).toBe(true);
    // Signed by the cluster CA, not by the other two.
    expect(x.verify(new X509Certificate(certs.frontProxyCa.cert).publicKey)).toBe(false);
  });

  it('puts it in a kubeconfig whose client certificate verifies against the CA the kubeconfig trusts', () => {
    const text = adminKubeconfig({ clusterName: 'demo', endpoint: { host: 'demo.example.com', port: 6443 }, certificates: certs, now: NOW });
    const kc = parse(text) as any;
    expect(kc.clusters[0].cluster.server).toBe('https://demo.example.com:6443');
    const ca = new X509Certificate(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'));
    const client = new X509Certificate(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'));
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(ca.fingerprint256).toBe(new X509Certificate(certs.ca.cert).fingerprint256);
    expect(kc['current-context']).toBe('demo-admin@demo');
    // The CA's key never goes into a kubeconfig.
    expect(text).not.toContain(Buffer.from(certs.ca.key).toString('base64').slice(0, 40));
  });
});

describe('serialized certificates', () => {
  it('round-trip', () => {
    expect(parseCertificates(serializeCertificates(certs))).toEqual(certs);
  });

  it.each([
    { name: 'not JSON', text: 'nope' },
    { name: 'another format', text: JSON.stringify({ format: 'x', ca: { cert: 'a', key: 'b' } }) },
    { name: 'a missing CA', text: JSON.stringify({ format: 'clusterless.dev/cluster-certificates/v1', ca: { cert: 'a', key: 'b' } }) },
  ])('refuses $name', ({ text }) => {
    expect(() => parseCertificates(text)).toThrow(InvalidCertificatesError);
  });
});
