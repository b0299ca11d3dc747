/**
 * X.509 certificates made with node:crypto keys and signatures and the DER writer of der.ts: self-signed CAs and
 * the certificates they sign, with the extensions Kubernetes checks (RFC 5280 4.2.1: basic constraints, key
 * usage, extended key usage, key identifiers, subject alternative names). Learnt from what kubeadm and Cluster
 * API make (cluster-api bootstrap/kubeadm/internal/cluster/certificates.go: 10-year CAs, CA key usage
 * digitalSignature|keyEncipherment|keyCertSign; client-go util/cert: the key identifier as the SHA-1 of the
 * public key bits), written anew.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import * as der from './der.js';

export type KeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** RSA 2048 is kubeadm's default (ClusterConfiguration encryptionAlgorithm RSA-2048); ECDSA P-256 is quicker. */
export function generateKeyPair(algorithm: KeyAlgorithm): KeyPair {
  return algorithm === 'rsa-2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** A private key as PEM: PKCS#1 for RSA and SEC1 for EC, the forms kubeadm itself writes. */
export function privateKeyPem(key: KeyObject): string {
  return key.asymmetricKeyType === 'rsa' ? (key.export({ type: 'pkcs1', format: 'pem' }) as string) : (key.export({ type: 'sec1', format: 'pem' }) as string);
}

export const publicKeyPem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }) as string;

export const loadPrivateKey = (pem: string): KeyObject => createPrivateKey(pem);

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** RFC 5280 KeyUsage bit numbers. */
const KEY_USAGE_BITS = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, crlSign: 6 } as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

export interface Subject {
  commonName: string;
  /** Kubernetes reads these as the user's groups. */
  organizations?: string[];
}

export interface Issuer {
  certificatePem: string;
  privateKey: KeyObject;
}

export interface CertificateSpec {
  subject: Subject;
  publicKey: KeyObject;
  /** Self-signed with `selfSigningKey` when absent. */
  issuer?: Issuer;
  /** The private key of `publicKey`, for a self-signed certificate. */
  selfSigningKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsage: KeyUsage[];
  extKeyUsage?: ExtKeyUsage[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** @default - 16 random bytes */
  serialNumber?: Buffer;
}

function name(subject: Subject): der.Der {
  const rdn = (type: string, value: string) => der.set(der.sequence(der.oid(type), der.utf8String(value)));
  return der.sequence(...(subject.organizations ?? []).map((o) => rdn(OID.organization, o)), rdn(OID.commonName, subject.commonName));
}

function signatureAlgorithm(key: KeyObject): der.Der {
  if (key.asymmetricKeyType === 'rsa') return der.sequence(der.oid(OID.sha256WithRSA), der.nullValue());
  if (key.asymmetricKeyType === 'ec') return der.sequence(der.oid(OID.ecdsaWithSHA256));
  throw new TypeError(`unsupported signing key type ${key.asymmetricKeyType}`);
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo. */
function publicKeyBits(publicKey: KeyObject): Buffer {
  const spki = der.read(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = der.children(spki)[1]!;
  return bits.contents.subarray(1);
}

/** The key identifier of a public key: SHA-1 of its bits (RFC 5280 4.2.1.2, method 1), as Go and OpenSSL make it. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKeyBits(publicKey)).digest();
}

/** The subject Name of a certificate, as its DER bytes (so an issuer's name is copied exactly). */
function subjectOf(certificatePem: string): Buffer {
  const tbs = der.children(der.read(new X509Certificate(certificatePem).raw))[0]!;
  // version [0], serialNumber, signature, issuer, validity, subject
  const fields = der.children(tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  return fields[offset + 4]!.raw;
}

function ipBytes(ip: string): Buffer {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand :: and write eight 16-bit groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new RangeError(`not an IP address: ${ip}`);
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

function extension(id: string, critical: boolean, value: der.Der): der.Der {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** A PEM certificate signed by the issuer (or by itself). */
export function createCertificate(spec: CertificateSpec): string {
  const signer = spec.issuer?.privateKey ?? spec.selfSigningKey;
  if (!signer) throw new TypeError('a certificate needs an issuer or its own private key');
  const issuerName = spec.issuer ? subjectOf(spec.issuer.certificatePem) : name(spec.subject);
  const authorityKey = spec.issuer ? keyIdentifier(new X509Certificate(spec.issuer.certificatePem).publicKey) : keyIdentifier(spec.publicKey);
  // 16 random bytes: unique, and at most 17 octets once DER keeps it positive (RFC 5280 allows 20).
  const serial = spec.serialNumber ?? randomBytes(16);

  const extensions: der.Der[] = [
    extension(OID.keyUsage, true, der.namedBits(spec.keyUsage.map((u) => KEY_USAGE_BITS[u]))),
    ...(spec.extKeyUsage?.length ? [extension(OID.extKeyUsage, false, der.sequence(...spec.extKeyUsage.map((u) => der.oid(OID[u]))))] : []),
    extension(OID.basicConstraints, true, spec.isCA ? der.sequence(der.boolean(true)) : der.sequence()),
    extension(OID.subjectKeyId, false, der.octetString(keyIdentifier(spec.publicKey))),
    ...(spec.issuer || !spec.isCA ? [extension(OID.authorityKeyId, false, der.sequence(der.implicit(0, authorityKey)))] : []),
  ];
  const altNames = [...(spec.dnsNames ?? []).map((d) => der.implicit(2, Buffer.from(d, 'ascii'))), ...(spec.ipAddresses ?? []).map((ip) => der.implicit(7, ipBytes(ip)))];
  if (altNames.length) extensions.push(extension(OID.subjectAltName, false, der.sequence(...altNames)));

  const algorithm = signatureAlgorithm(signer);
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(serial),
    algorithm,
    issuerName,
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const certificate = der.sequence(tbs, algorithm, der.bitString(signature));
  const body = certificate.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
