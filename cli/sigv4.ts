/**
 * SigV4 for API Gateway (AWS_IAM auth), DESIGN section 3: when the server is https and the standard AWS
 * credential chain finds credentials, every request is signed for `execute-api`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialsProvider = () => Promise<AwsCredentials>;

export interface RequestToSign {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers to send: the request's own plus the signature's (Authorization, X-Amz-Date, ...). */
export type RequestSigner = (request: RequestToSign) => Promise<Record<string, string>>;

export const SIGNING_SERVICE = 'execute-api';

const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/;

/**
 * The region to sign for: the one in an `{api}.execute-api.{region}.amazonaws.com` host (a signature for
 * any other region is refused there), else AWS_REGION or AWS_DEFAULT_REGION (custom domains).
 */
export function signingRegion(host: string, env: Record<string, string | undefined>): string | undefined {
  const m = EXECUTE_API_HOST.exec(host.toLowerCase());
  return m?.[1] ?? (env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined);
}

export interface SigV4Options {
  region: string;
  credentials: AwsCredentials | CredentialsProvider;
  /** The signing time; the system clock when not given (tests pass a fixed one). */
  now?: () => Date;
}

export function createSigV4Signer(options: SigV4Options): RequestSigner {
  const signer = new SignatureV4({
    service: SIGNING_SERVICE,
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const request = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body !== undefined ? { body } : {}),
    });
    const signed = await signer.sign(request, options.now ? { signingDate: options.now() } : {});
    // fetch sets Host itself from the URL, to the same value that was signed.
    const { host: _host, ...out } = signed.headers;
    return out;
  };
}
