/**
 * The cluster's certificates: real X.509 that node:crypto and OpenSSL accept as a CA, the admin client
 * certificate and serving certificates it signs, kubeadm's CA hash, and the serialized form kept in the secret
 * store. test/integration/bootstrap/real-cluster.test.ts checks the same certificates against kubeadm and
 * kube-apiserver.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  InvalidCertificatesError,
  adminKubeconfig,
  caCertHash,
  generateClusterCertificates,
  issueCertificate,
  issueClientCertificate,
  parseCertificates,
  serializeCertificates,
} from '../../../functions/adapters/kubeadm/index.js';
import type { ClusterCertificates } from '../../../functions/bootstrap/pki.js';
import { requireTool } from './tools.js';

const NOW = new Date('2026-03-01T12:00:00Z');
let certs: ClusterCertificates;

beforeAll(async () => {
  certs = await generateClusterCertificates(NOW);
});

const openssl = (args: string[], input?: string) => spawnSync(requireTool('openssl'), args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

/** `openssl verify -x509_strict` of `cert` against `caCert` for a purpose, at a time within both validities. */
function opensslVerify(caCert: string, cert: string, purpose: 'sslclient' | 'sslserver', at: Date): string {
  const dir = mkdtempSync(join(tmpdir(), 'clusterless-verify-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), caCert);
    writeFileSync(join(dir, 'leaf.crt'), cert);
    const r = openssl([
      'verify',
      '-x509_strict',
      '-purpose',
      purpose,
      '-attime',
      String(Math.floor(at.getTime() / 1000)),
      '-CAfile',
      join(dir, 'ca.crt'),
      join(dir, 'leaf.crt'),
    ]);
    return r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The value of one extension in `openssl x509 -text` (with `critical, ` before it when it is), or undefined when the certificate has none. */
function opensslExtension(cert: string, name: string): string | undefined {
  const text = openssl(['x509', '-noout', '-text'], cert).stdout;
  const m = new RegExp(`X509v3 ${name}:( critical)?\\s*\\n\\s*([^\\n]+)`).exec(text);
  return m ? `${m[1] ? 'critical, ' : ''}${m[2]!.trim()}` : undefined;
}

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

  it('makes ECDSA P-256 CAs on request, with SEC1 keys, that sign client certificates', async () => {
    const ec = await generateClusterCertificates(NOW, 'ecdsa-p256');
    expect(ec.ca.key).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    const ca = new X509Certificate(ec.ca.cert);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const client = await issueClientCertificate(ec.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, NOW, 3600);
    expect(new X509Certificate(client.cert).verify(ca.publicKey)).toBe(true);
    expect(opensslVerify(ec.ca.cert, client.cert, 'sslclient', NOW)).toContain(': OK');
  });

  it('writes validity past 2049 (GeneralizedTime) so that node:crypto and OpenSSL read it back', async () => {
    const later = await generateClusterCertificates(new Date('2045-06-01T00:00:00Z'), 'ecdsa-p256');
    const x = new X509Certificate(later.ca.cert);
    expect(new Date(x.validTo).toISOString()).toBe('2055-05-30T00:00:00.000Z');
    expect(openssl(['x509', '-noout', '-enddate'], later.ca.cert).stdout.trim()).toBe('notAfter=May 30 00:00:00 2055 GMT');
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
  it('issues a client certificate the cluster CA signed, for kubernetes-admin in system:masters, for clientAuth', async () => {
    const client = await issueClientCertificate(certs.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, NOW, 3600);
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
    expect(opensslVerify(certs.ca.cert, client.cert, 'sslclient', NOW)).toContain(': OK');
    expect(opensslVerify(certs.frontProxyCa.cert, client.cert, 'sslclient', NOW)).not.toContain(': OK');
  });

  it("names the CA's key: the CA carries a subject key identifier and no authority key identifier, and what it signs names that identifier", async () => {
    const client = await issueClientCertificate(certs.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, NOW, 3600);
    const caKeyId = opensslExtension(certs.ca.cert, 'Subject Key Identifier');
    expect(caKeyId).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(opensslExtension(certs.ca.cert, 'Authority Key Identifier')).toBeUndefined();
    expect(opensslExtension(client.cert, 'Authority Key Identifier')).toBe(caKeyId);
    expect(opensslExtension(client.cert, 'Basic Constraints')).toBe('critical, CA:FALSE');
  });

  it('puts it in a kubeconfig whose client certificate verifies against the CA the kubeconfig trusts', async () => {
    const text = await adminKubeconfig({ clusterName: 'demo', endpoint: { host: 'demo.example.com', port: 6443 }, certificates: certs, now: NOW });
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

describe('serving certificates', () => {
  it('carry DNS and IP subject alternative names and serverAuth, and OpenSSL verifies them for TLS servers', async () => {
    const serving = await issueCertificate(
      certs.ca,
      {
        subject: { commonName: 'kube-apiserver' },
        extendedKeyUsages: ['serverAuth'],
        dnsNames: ['kubernetes.default.svc', 'demo.example.com'],
        ipAddresses: ['10.96.0.1', 'fd00::1'],
      },
      NOW,
      86_400,
    );
    const x = new X509Certificate(serving.cert);
    expect(x.checkIssued(new X509Certificate(certs.ca.cert))).toBe(true);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x.checkHost('demo.example.com')).toBe('demo.example.com');
    expect(x.checkHost('other.example.com')).toBeUndefined();
    expect(x.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(x.checkIP('fd00:0:0::1')).toBe('fd00:0:0::1');
    expect(x.checkIP('10.96.0.2')).toBeUndefined();
    expect(opensslVerify(certs.ca.cert, serving.cert, 'sslserver', NOW)).toContain(': OK');
    // A client certificate is not one a TLS server may present.
    const client = await issueClientCertificate(certs.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, NOW, 3600);
    expect(opensslVerify(certs.ca.cert, client.cert, 'sslserver', NOW)).not.toContain(': OK');
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
