/**
 * `clusterless token` and `clusterless kubeconfig`: kubectl's way into the deployed API (the kubectl door, output
 * KubectlApiUrl), as EKS gives it. kubectl cannot sign requests with SigV4, so a kubeconfig's user runs
 * `clusterless token` as an exec credential plugin, which prints a client.authentication.k8s.io/v1 ExecCredential
 * holding an EKS-style token: `k8s-aws-v1.` + base64url(a presigned STS GetCallerIdentity URL, X-Amz-Expires 60,
 * with a signed `x-k8s-aws-id` header naming the API id of the kubectl door). The API's authorizer sends it to STS
 * with its own id, so a token for one installation is refused by another. Built as
 * kubernetes-sigs/aws-iam-authenticator pkg/token/token.go (generator.GetWithSTS, FormatJSON) builds its tokens, with
 * the SDK's own presigner (@smithy/signature-v4). The kubeconfig that runs it is kubectl-kubeconfig.ts's.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AUDIENCE_HEADER, TOKEN_EXPIRES_SECONDS, TOKEN_PREFIX } from '../../functions/api/access-entries.js';
import { AWS_REGION } from '../../functions/api/aws-region.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { AwsCredentials, CredentialsProvider } from '../sigv4.js';

export interface TokenOptions {
  /** The STS region to sign for (sts.{region}.amazonaws.com); else AWS_REGION, else the global endpoint. */
  region?: string;
  /** A profile of the shared AWS config. */
  profile?: string;
  /** The audience: the kubectl door's API id; else read from an execute-api --server host. */
  apiId?: string;
}

export interface BuildTokenOptions {
  audience: string;
  credentials: AwsCredentials | CredentialsProvider;
  /** The region to sign for: us-east-1 for the global endpoint. */
  region: string;
  /** Where STS is: https://sts.{region}.amazonaws.com, https://sts.amazonaws.com, or an emulator's origin. */
  endpoint: URL;
  now: Date;
}

export interface KubectlToken {
  token: string;
  /** When kubectl should ask again: before the authorizer stops honouring the token (X-Amz-Date + 60 s). */
  expirationTimestamp: Date;
}

/** Seconds before the token's end at which kubectl asks for a new one: clock skew and a slow request. */
const EXPIRY_MARGIN_SECONDS = 10;
const STS_VERSION = '2011-06-15';
const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/;

/** A presigned STS GetCallerIdentity for the audience, as an EKS-style token. */
export async function buildToken(options: BuildTokenOptions): Promise<KubectlToken> {
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: Sha256 });
  const { endpoint } = options;
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: STS_VERSION },
    // The audience stays a header (only x-amz-* headers are hoisted into the query) and is signed with the host.
    headers: { host: endpoint.host, [AUDIENCE_HEADER]: options.audience },
  });
  const signed = await signer.presign(request, { expiresIn: TOKEN_EXPIRES_SECONDS, signingDate: options.now });
  const url = new URL(`${endpoint.protocol}//${endpoint.host}/`);
  for (const [k, v] of Object.entries(signed.query ?? {})) for (const one of Array.isArray(v) ? v : [v]) if (one !== null) url.searchParams.append(k, one);
  const seconds = Math.floor(options.now.getTime() / 1000) * 1000;
  return {
    token: TOKEN_PREFIX + Buffer.from(url.toString(), 'utf8').toString('base64url'),
    expirationTimestamp: new Date(seconds + (TOKEN_EXPIRES_SECONDS - EXPIRY_MARGIN_SECONDS) * 1000),
  };
}

/** The ExecCredential kubectl reads from an exec plugin's stdout. */
export function execCredential(token: KubectlToken): object {
  return {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1',
    spec: { interactive: false },
    status: { expirationTimestamp: token.expirationTimestamp.toISOString().replace(/\.\d{3}Z$/, 'Z'), token: token.token },
  };
}

/** The audience: --api-id, else the API id of an execute-api host. */
export function audienceOf(server: URL, apiId: string | undefined): string {
  if (apiId !== undefined) {
    if (!/^[a-z0-9]{1,32}$/.test(apiId)) throw new UsageError(`--api-id must be an API Gateway id such as a1b2c3d4e5, not "${apiId}"`);
    return apiId;
  }
  const m = EXECUTE_API_HOST.exec(server.hostname.toLowerCase());
  if (!m) throw new UsageError(`cannot tell the API id from ${server.host} (a custom domain?): pass --api-id (the KubectlApiUrl's first label)`);
  return m[1]!;
}

/** STS's endpoint and signing region: AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL as the SDK reads them, else AWS's. */
export function stsEndpoint(env: Record<string, string | undefined>, region: string | undefined): { endpoint: URL; region: string } {
  const custom = env['AWS_ENDPOINT_URL_STS'] || env['AWS_ENDPOINT_URL'];
  const signingRegion = region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'];
  if (custom) return { endpoint: new URL(custom), region: signingRegion ?? 'us-east-1' };
  if (!signingRegion) return { endpoint: new URL('https://sts.amazonaws.com'), region: 'us-east-1' };
  if (!AWS_REGION.test(signingRegion)) throw new UsageError(`--region must be an AWS region such as us-east-1, not "${signingRegion}"`);
  return { endpoint: new URL(`https://sts.${signingRegion}.amazonaws.com`), region: signingRegion };
}

export async function printToken(ctx: Context, server: URL, options: TokenOptions, credentials: CredentialsProvider | undefined): Promise<void> {
  const audience = audienceOf(server, options.apiId);
  const { endpoint, region } = stsEndpoint(ctx.io.env, options.region);
  if (!credentials) throw new UsageError('no AWS credentials: token needs the standard AWS credential chain');
  const token = await buildToken({ audience, credentials, region, endpoint, now: new Date(ctx.io.now()) });
  ctx.io.stdout.write(`${JSON.stringify(execCredential(token))}\n`);
}
