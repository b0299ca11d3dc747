/** Bootstrap tokens and the certificates uploaded for control-plane joins. */
import { describe, expect, it } from 'vitest';
import { decryptBytes, encryptBytes, generateBootstrapToken, generateClusterCertificates, uploadedCertsData } from '../../../functions/adapters/kubeadm/index.js';
import { BOOTSTRAP_TOKEN_PATTERN, needsRenewal, tokenString } from '../../../functions/bootstrap/tokens.js';
import { expirationAt, tokenSecret } from '../../../functions/bootstrap/tokens.js';

describe('bootstrap tokens', () => {
  it('match the cluster-bootstrap pattern and differ each time', () => {
    const tokens = Array.from({ length: 50 }, () => tokenString(generateBootstrapToken()));
    for (const t of tokens) expect(t).toMatch(BOOTSTRAP_TOKEN_PATTERN);
    expect(new Set(tokens).size).toBe(50);
  });

  it.each([
    { name: 'more than half the TTL left', expiration: '2026-01-01T00:10:00Z', renew: false },
    { name: 'less than half the TTL left', expiration: '2026-01-01T00:07:00Z', renew: true },
    { name: 'expired', expiration: '2025-12-31T23:00:00Z', renew: true },
    { name: 'an unreadable expiration', expiration: 'soon', renew: true },
  ])('are renewed with $name (CAPI shouldRotate)', ({ expiration, renew }) => {
    expect(needsRenewal(expiration, new Date('2026-01-01T00:00:00Z'), 900)).toBe(renew);
  });

  it('are stored as bootstrap.kubernetes.io/token Secrets with the join usages, found again by label', () => {
    const token = { id: 'abcdef', secret: '0123456789abcdef' };
    const s = tokenSecret({ token, expiration: expirationAt(new Date('2026-01-01T00:00:00Z'), 900), description: 'd', purpose: 'join', machineUid: 'u-1', usages: true });
    expect(s).toEqual({
      metadata: {
        name: 'bootstrap-token-abcdef',
        namespace: 'kube-system',
        labels: { 'clusterless.dev/managed-by': 'clusterless', 'clusterless.dev/token-purpose': 'join', 'clusterless.dev/machine-uid': 'u-1' },
      },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': 'abcdef',
        'token-secret': '0123456789abcdef',
        expiration: '2026-01-01T00:15:00Z',
        description: 'd',
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      },
    });
  });
});

describe('uploaded certificates (kubeadm-certs)', () => {
  const certs = generateClusterCertificates(new Date('2026-01-01T00:00:00Z'), 'ecdsa-p256');

  it("carry kubeadm's eight entries, each encrypted with AES-GCM under the certificate key", () => {
    const data = uploadedCertsData(certs);
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
    expect(decryptBytes(Buffer.from(data['ca.key']!, 'base64'), certs.certificateKey).toString()).toBe(certs.ca.key);
    expect(decryptBytes(Buffer.from(data['etcd-ca.crt']!, 'base64'), certs.certificateKey).toString()).toBe(certs.etcdCa.cert);
    for (const v of Object.values(data)) expect(Buffer.from(v, 'base64').toString()).not.toContain('-----BEGIN');
  });

  it('cannot be read with another key, and a changed byte is detected', () => {
    const sealed = encryptBytes(Buffer.from('secret'), certs.certificateKey);
    expect(() => decryptBytes(sealed, 'ab'.repeat(32))).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[14]! ^= 1;
    expect(() => decryptBytes(tampered, certs.certificateKey)).toThrow();
  });
});
