/**
 * Server-side check of AWS Signature Version 4 for the embedded DynamoDB: the signature is computed again with
 * the one credential the server knows (@smithy/signature-v4, the SDK's own signer) and compared in constant
 * time. The checks, in DynamoDB's order and with its error types, are those dynalite lists and skips
 * (dynalite's index.js, "THEN check ..."): a signed Authorization header, the date within 15 minutes, the
 * credential scope, the key id, then the signature over method, path, query, the signed headers and the body.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

export interface SigV4Refusal {
  type: SigV4ErrorType;
  message: string;
}

/** How far the signing date may be from the server's clock, as DynamoDB allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
/** Equal strings, in time that depends on neither (over digests, so lengths do not leak). */
const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** SHA-256 and its HMAC on node:crypto, for the signer (the pure-JS one would be slow on every request). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAuthorization(value: string): Record<string, string> | undefined {
  if (!value.startsWith(`${ALGORITHM} `)) return undefined;
  const fields: Record<string, string> = {};
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return fields;
}

/** `20240101T000000Z` as a Date, or undefined. */
function amzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A request before its body is read: the request line and the headers. */
export type SignedRequestHead = Omit<SignedRequest, 'body'>;

export interface SigV4Verifier {
  /**
   * The checks the head alone allows (an Authorization header of the right form, the key id, the credential
   * scope, the date within 15 minutes, the signed headers present): a request that fails them is refused before
   * a byte of its body is read.
   */
  head(req: SignedRequestHead, now: Date): SigV4Refusal | undefined;
  /** Every check: the head's, then the payload hash and the signature over the body. */
  verify(req: SignedRequest, now: Date): Promise<SigV4Refusal | undefined>;
}

/**
 * A check of requests signed by `credentials` for `region` and `service`: undefined when the signature is valid
 * and was made within 15 minutes of `now`; otherwise why not, as DynamoDB would say it. One signer serves every
 * request, so its cache of signing keys (one a day) is kept.
 */
export function sigV4Verifier(expected: { credentials: SigV4Credentials; region: string; service: string }): SigV4Verifier {
  const signer = new SignatureV4({
    credentials: expected.credentials,
    region: expected.region,
    service: expected.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  return {
    head: (req, now) => {
      const head = checkHead(req, expected, now);
      return 'type' in head ? head : undefined;
    },
    verify: async (req, now) => {
      const head = checkHead(req, expected, now);
      return 'type' in head ? head : checkSignature(req, head, signer);
    },
  };
}

/** What the head's checks established, for the check of the signature. */
interface CheckedHead {
  url: URL;
  date: Date;
  signedHeaders: string[];
  /** The signed headers' values. */
  headers: Record<string, string>;
  signature: string;
}

function checkHead(
  req: SignedRequestHead,
  expected: { credentials: SigV4Credentials; region: string; service: string },
  now: Date,
): SigV4Refusal | CheckedHead {
  const url = new URL(req.url, 'http://localhost');
  if (url.searchParams.has('X-Amz-Algorithm') || url.searchParams.has('X-Amz-Signature'))
    return { type: 'IncompleteSignatureException', message: 'query-string signatures are not accepted here' };
  const authorization = header(req.headers, 'authorization');
  if (!authorization) return { type: 'MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' };
  const auth = parseAuthorization(authorization);
  const credential = auth?.['Credential']?.split('/');
  const signedHeaders = auth?.['SignedHeaders']?.split(';');
  const signature = auth?.['Signature'];
  if (credential?.length !== 5 || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature))
    return { type: 'IncompleteSignatureException', message: `Authorization header requires a ${ALGORITHM} Credential, SignedHeaders and Signature` };
  const [accessKeyId, scopeDate, region, service, terminator] = credential as [string, string, string, string, string];

  const date = amzDate(header(req.headers, 'x-amz-date'));
  if (!date) return { type: 'IncompleteSignatureException', message: 'a signed X-Amz-Date header in ISO-8601 basic format is required' };
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS)
    return { type: 'InvalidSignatureException', message: 'Signature expired or not yet valid (more than 15 min from the server clock)' };
  if (
    region !== expected.region ||
    service !== expected.service ||
    terminator !== 'aws4_request' ||
    scopeDate !== header(req.headers, 'x-amz-date')!.slice(0, 8)
  )
    return {
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to ${expected.region}/${expected.service}/aws4_request on the date of X-Amz-Date`,
    };
  if (!sameSecret(accessKeyId, expected.credentials.accessKeyId))
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date'))
    return { type: 'InvalidSignatureException', message: "'Host' and 'X-Amz-Date' must be signed headers" };
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) return { type: 'InvalidSignatureException', message: `the signed header ${name} is missing` };
    headers[name] = value;
  }
  return { url, date, signedHeaders, headers, signature };
}

async function checkSignature(req: SignedRequest, head: CheckedHead, signer: SignatureV4): Promise<SigV4Refusal | undefined> {
  const { url, date, signedHeaders, headers, signature } = head;
  // A signed payload hash stands for the body in the signature: it must be the body's.
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== sha256Hex(req.body))
    return { type: 'InvalidSignatureException', message: 'x-amz-content-sha256 is not the hash of the body' };

  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { type: 'InvalidSignatureException', message: 'the path is not validly percent-encoded' };
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  const signed = await signer.sign(
    new HttpRequest({ method: req.method, protocol: 'http:', hostname: headers['host'] ?? '', path, query, headers, body: req.body }),
    { signingDate: date, signableHeaders: new Set(signedHeaders) },
  );
  const computed = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers['authorization']))?.[1] ?? '';
  if (computed.length !== 64 || !timingSafeEqual(Buffer.from(computed, 'hex'), Buffer.from(signature, 'hex')))
    return { type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
  return undefined;
}
