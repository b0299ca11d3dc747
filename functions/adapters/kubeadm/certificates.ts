/**
 * A cluster's certificates, made once by the control plane and kept only in its secret store (never in the
 * object store, logs or user data): the cluster CA, the front-proxy CA, the etcd CA and the service-account
 * key pair, the set kubeadm expects in /etc/kubernetes/pki, plus kubeadm's certificate key for the certificates
 * uploaded for control-plane joins. Learnt from Cluster API bootstrap/kubeadm/internal/cluster/certificates.go
 * (NewCertificatesForInitialControlPlane: the four pairs, 10-year CAs, the SA key not a certificate) and
 * kubeadm's constants (file names, CA common names), written anew.
 *
 * The certificates are encoded by @peculiar/x509 and signed with Node's WebCrypto, with the extensions Kubernetes
 * checks (RFC 5280 4.2.1), as client-go util/cert NewSelfSignedCACert and kubeadm's pkiutil make them: CA key usage
 * digitalSignature|keyEncipherment|keyCertSign, critical basic constraints, key identifiers as the SHA-1 of the
 * public key bits, no authority key identifier on a self-signed CA.
 */
import type * as X509 from '@peculiar/x509';
import { createHash, createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type { CertificateAuthority, ClusterCertificates } from '../../bootstrap/pki.js';

export type { CertificateAuthority, ClusterCertificates } from '../../bootstrap/pki.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let x509Module: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509 and what it brings (asn1js, @peculiar/asn1-*, tsyringe, reflect-metadata), loaded when a certificate
 * is first made or read: a function that imports this module but makes none on its first invocation (the tasks, the
 * kubeconfig function before its CA is read) does not evaluate them at its cold start (in a Lambda bundle esbuild
 * turns the dynamic imports into lazy initializers).
 */
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    // @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    // Node's own WebCrypto, whatever globalThis.crypto is in the host running this.
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return x509Module;
}

/** kubeadm's defaults: CAs for ten years (caCertificateValidityPeriod 87600h). */
export const CA_VALIDITY_DAYS = 3650;
/** Certificates start a little in the past, so that a node whose clock is behind accepts them. */
export const BACKDATE_SECONDS = 300;

const DAY_MS = 86_400_000;

/** RSA 2048 is kubeadm's default (ClusterConfiguration encryptionAlgorithm RSA-2048); ECDSA P-256 is quicker. */
export type KeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';

const KEY_GENERATION: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256' },
};

/** WebCrypto's names of the EC curves a CA key may be on (OpenSSL's names as node:crypto reports them). */
const WEBCRYPTO_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384' };

const generateKeyPair = (algorithm: KeyAlgorithm): Promise<CryptoKeyPair> =>
  webcrypto.subtle.generateKey(KEY_GENERATION[algorithm], true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

/** A private key as PEM: PKCS#1 for RSA and SEC1 for EC, the forms kubeadm itself writes. */
function privateKeyPem(key: CryptoKey): string {
  const k = KeyObject.from(key);
  return k.export({ type: k.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }) as string;
}

const publicKeyPem = (key: CryptoKey): string => KeyObject.from(key).export({ type: 'spki', format: 'pem' }) as string;

/** A CA's PEM private key (any form node:crypto reads) as a WebCrypto key that signs with SHA-256. */
async function signingKey(pem: string): Promise<CryptoKey> {
  const key = createPrivateKey(pem);
  const curve = WEBCRYPTO_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : key.asymmetricKeyType === 'ec' && curve
        ? { name: 'ECDSA', namedCurve: curve }
        : undefined;
  if (!algorithm) throw new TypeError(`unsupported signing key type ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  return webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']) as Promise<CryptoKey>;
}

/** The key usages clusterless sets, by their names in @peculiar/x509's KeyUsageFlags. */
type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign';
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface Subject {
  commonName: string;
  /** Kubernetes reads these as the user's groups. */
  organizations?: string[];
}

interface CertificateSpec {
  subject: Subject;
  publicKey: CryptoKey;
  signingKey: CryptoKey;
  /** The issuer's PEM certificate. @default - self-signed */
  issuer?: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsages: KeyUsage[];
  extendedKeyUsages?: ExtendedKeyUsage[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** The organizations, then the common name, each its own RDN and a UTF8String, as Go's pkix.Name writes them. */
const distinguishedName = (x509: typeof X509, subject: Subject): X509.Name =>
  new x509.Name([...(subject.organizations ?? []).map((o) => ({ O: [{ utf8String: o }] })), { CN: [{ utf8String: subject.commonName }] }]);

/** The issuer's own key identifier when it has one, so chains link up even for a CA another tool made. */
async function authorityKeyIdentifier(x509: typeof X509, issuer: X509.X509Certificate): Promise<X509.AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
}

/** A PEM certificate signed by the issuer's key (or by its own, without an issuer); a random 16-byte serial. */
async function createCertificate(spec: CertificateSpec): Promise<string> {
  const x509 = await loadX509();
  const issuer = spec.issuer === undefined ? undefined : new x509.X509Certificate(spec.issuer);
  const altNames: X509.JsonGeneralName[] = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: X509.Extension[] = [
    new x509.KeyUsagesExtension(
      spec.keyUsages.reduce((flags, u) => flags | x509.KeyUsageFlags[u], 0),
      true,
    ),
    ...(spec.extendedKeyUsages?.length ? [new x509.ExtendedKeyUsageExtension(spec.extendedKeyUsages.map((u) => x509.ExtendedKeyUsage[u]))] : []),
    new x509.BasicConstraintsExtension(spec.isCA, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(spec.publicKey),
    ...(issuer ? [await authorityKeyIdentifier(x509, issuer)] : []),
    ...(altNames.length ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
  ];
  const subject = distinguishedName(x509, spec.subject);
  const certificate = await x509.X509CertificateGenerator.create({
    subject,
    // The issuer's subject copied from its certificate: Go links a chain by comparing the encoded names.
    issuer: issuer?.subjectName ?? subject,
    publicKey: spec.publicKey,
    signingKey: spec.signingKey,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    extensions,
  });
  return `${certificate.toString('pem')}\n`;
}

async function selfSignedCa(commonName: string, now: Date, algorithm: KeyAlgorithm): Promise<CertificateAuthority> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm);
  const cert = await createCertificate({
    subject: { commonName },
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    isCA: true,
    keyUsages: ['digitalSignature', 'keyEncipherment', 'keyCertSign'],
  });
  return { cert, key: privateKeyPem(privateKey) };
}

/** New certificates for a cluster (kubeadm's CA names: kubernetes, front-proxy-ca, etcd-ca). */
export async function generateClusterCertificates(now: Date, algorithm: KeyAlgorithm = 'rsa-2048'): Promise<ClusterCertificates> {
  const [ca, frontProxyCa, etcdCa, sa] = await Promise.all([
    selfSignedCa('kubernetes', now, algorithm),
    selfSignedCa('front-proxy-ca', now, algorithm),
    selfSignedCa('etcd-ca', now, algorithm),
    generateKeyPair(algorithm),
  ]);
  return {
    ca,
    frontProxyCa,
    etcdCa,
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
  const pair = (p: unknown): p is CertificateAuthority =>
    !!p && typeof (p as CertificateAuthority).cert === 'string' && typeof (p as CertificateAuthority).key === 'string';
  if (
    v.format !== FORMAT ||
    !pair(v.ca) ||
    !pair(v.frontProxyCa) ||
    !pair(v.etcdCa) ||
    typeof v.serviceAccount?.key !== 'string' ||
    typeof v.serviceAccount.pub !== 'string' ||
    !/^[0-9a-f]{64}$/.test(v.certificateKey ?? '')
  )
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

export interface LeafCertificateSpec {
  subject: Subject;
  extendedKeyUsages: ExtendedKeyUsage[];
  /** Subject alternative names a serving certificate answers to. */
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** A certificate signed by a CA, with a new key (ECDSA P-256: quick to make), valid from BACKDATE_SECONDS ago. */
export async function issueCertificate(
  ca: CertificateAuthority,
  spec: LeafCertificateSpec,
  now: Date,
  validitySeconds: number,
): Promise<{ cert: string; key: string }> {
  const [{ privateKey, publicKey }, caKey] = await Promise.all([generateKeyPair('ecdsa-p256'), signingKey(ca.key)]);
  const cert = await createCertificate({
    subject: spec.subject,
    publicKey,
    signingKey: caKey,
    issuer: ca.cert,
    notBefore: new Date(now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(now.getTime() + validitySeconds * 1000),
    isCA: false,
    keyUsages: ['digitalSignature'],
    extendedKeyUsages: spec.extendedKeyUsages,
    dnsNames: spec.dnsNames,
    ipAddresses: spec.ipAddresses,
  });
  return { cert, key: privateKeyPem(privateKey) };
}

/** The client certificate of a user, signed by the cluster CA, with its key. */
export function issueClientCertificate(
  ca: CertificateAuthority,
  subject: { commonName: string; organizations: string[] },
  now: Date,
  validitySeconds: number,
): Promise<{ cert: string; key: string }> {
  return issueCertificate(ca, { subject, extendedKeyUsages: ['clientAuth'] }, now, validitySeconds);
}

/** kubeadm's validity of the certificates it signs (certificateValidityPeriod 8760h). */
export const LEAF_VALIDITY_SECONDS = 365 * 86_400;

/** The common name of the control plane's own etcd client certificate (kubeadm's is kube-apiserver-etcd-client). */
export const ETCD_CLIENT_COMMON_NAME = 'clusterless-etcd-client';

/**
 * A client certificate signed by the etcd CA, as kubeadm's apiserver-etcd-client: no organization (etcd's v3 auth
 * is off, so the name grants nothing; the CA alone admits it), clientAuth only.
 */
export function issueEtcdClientCertificate(etcdCa: CertificateAuthority, now: Date, validitySeconds: number): Promise<{ cert: string; key: string }> {
  return issueCertificate(etcdCa, { subject: { commonName: ETCD_CLIENT_COMMON_NAME }, extendedKeyUsages: ['clientAuth'] }, now, validitySeconds);
}

export interface EtcdMemberIdentity {
  /** The node name: kubeadm names the member, and its certificates, after it. */
  nodeName: string;
  /** The address the member advertises its client and peer URLs on. */
  ip: string;
}

export interface EtcdMemberCertificates {
  /** etcd/server: serves the client URLs and is the member's client certificate to the others' client URLs. */
  server: { cert: string; key: string };
  /** etcd/peer: serves the peer URL and is the member's client certificate to the other peers. */
  peer: { cert: string; key: string };
}

/**
 * The serving certificates of one stacked etcd member, signed by the etcd CA, as kubeadm's certificate list makes
 * them (cmd/kubeadm/app/phases/certs/certlist.go KubeadmCertEtcdServer and KubeadmCertEtcdPeer, names from
 * cmd/kubeadm/app/util/pkiutil/pki_helpers.go GetEtcdAltNames and GetEtcdPeerAltNames): both serverAuth and
 * clientAuth, common name the node name; the server answers to localhost, 127.0.0.1, ::1, the node name and its
 * IP; the peer to the node name and its IP.
 */
export async function issueEtcdMemberCertificates(
  etcdCa: CertificateAuthority,
  member: EtcdMemberIdentity,
  now: Date,
  validitySeconds: number = LEAF_VALIDITY_SECONDS,
): Promise<EtcdMemberCertificates> {
  const subject = { commonName: member.nodeName };
  const extendedKeyUsages: ExtendedKeyUsage[] = ['serverAuth', 'clientAuth'];
  const [server, peer] = await Promise.all([
    issueCertificate(
      etcdCa,
      { subject, extendedKeyUsages, dnsNames: unique(['localhost', member.nodeName]), ipAddresses: unique(['127.0.0.1', '::1', member.ip]) },
      now,
      validitySeconds,
    ),
    issueCertificate(etcdCa, { subject, extendedKeyUsages, dnsNames: [member.nodeName], ipAddresses: [member.ip] }, now, validitySeconds),
  ]);
  return { server, peer };
}

const unique = (values: string[]): string[] => [...new Set(values)];
