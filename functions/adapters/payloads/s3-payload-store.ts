/**
 * Payloads as S3 objects `payloads/sha256/<hex>` in the installation's private bucket, encrypted with its KMS key.
 * Three calls (PutObject, GetObject, DeleteObject) signed with SigV4 by the SDK's own signer over fetch: the S3
 * client is not a dependency of this repository, and these calls need nothing else of it.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { PayloadStore } from '../../ports.js';
import { checkDigest, checkDigestForm, digestHex } from './digest.js';

export interface S3PayloadStoreOptions {
  bucket: string;
  region: string;
  /**
   * The KMS key every payload is encrypted with (SSE-KMS); the bucket's default encryption when not given.
   * @default - the bucket's default encryption
   */
  kmsKeyId?: string;
  /**
   * An S3 endpoint other than AWS's (moto): addressed path-style, `{endpoint}/{bucket}/{key}`.
   * @default - https://{bucket}.s3.{region}.amazonaws.com
   */
  endpoint?: string;
  /** @default - the SDK's default credential chain */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * How long one call may take.
   * @default 10000
   */
  timeoutMs?: number;
}

/** S3 answered with an error (other than a missing object on a read). */
export class PayloadStoreError extends Error {
  override name = 'PayloadStoreError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const PAYLOAD_KEY_PREFIX = 'payloads/sha256/';

export class S3PayloadStore implements PayloadStore {
  private readonly signer: SignatureV4;
  private readonly base: URL;
  private readonly pathStyle: boolean;

  constructor(private readonly options: S3PayloadStoreOptions) {
    this.signer = new SignatureV4({
      service: 's3',
      region: options.region,
      credentials: options.credentials ?? fromNodeProviderChain(),
      sha256: Sha256,
      // S3 signs the path as sent, not encoded twice.
      uriEscapePath: false,
    });
    this.pathStyle = options.endpoint !== undefined;
    this.base = new URL(options.endpoint ?? `https://${options.bucket}.s3.${options.region}.amazonaws.com`);
  }

  private urlOf(digest: string): URL {
    checkDigestForm(digest);
    const key = `${PAYLOAD_KEY_PREFIX}${digestHex(digest)}`;
    const url = new URL(this.base.toString());
    url.pathname = `${url.pathname.replace(/\/$/, '')}${this.pathStyle ? `/${this.options.bucket}` : ''}/${key}`;
    return url;
  }

  private async send(method: string, url: URL, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Response> {
    const request = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { ...headers, host: url.host, ...(body ? { 'content-length': String(body.length) } : {}) },
      ...(body ? { body } : {}),
    });
    const signed = await this.signer.sign(request);
    const { host: _host, ...sent } = signed.headers;
    return fetch(url, {
      method,
      headers: sent,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
  }

  private async refusal(what: string, res: Response): Promise<PayloadStoreError> {
    const text = await res.text().catch(() => '');
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? res.statusText;
    return new PayloadStoreError(res.status, `${what}: S3 answered ${res.status} ${code}`);
  }

  async put(digest: string, bytes: Uint8Array): Promise<void> {
    checkDigest(digest, bytes);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'x-amz-server-side-encryption': 'aws:kms' };
    if (this.options.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = this.options.kmsKeyId;
    const res = await this.send('PUT', this.urlOf(digest), headers, bytes);
    if (!res.ok) throw await this.refusal(`put ${digest}`, res);
    await res.arrayBuffer();
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    const res = await this.send('GET', this.urlOf(digest));
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (!res.ok) throw await this.refusal(`get ${digest}`, res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    checkDigest(digest, bytes);
    return bytes;
  }

  async delete(digest: string): Promise<void> {
    const res = await this.send('DELETE', this.urlOf(digest));
    if (!res.ok && res.status !== 404) throw await this.refusal(`delete ${digest}`, res);
    await res.arrayBuffer();
  }
}
