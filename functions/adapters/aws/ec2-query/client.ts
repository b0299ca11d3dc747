/**
 * A client of the EC2 Query API for the six operations clusterless calls. @aws-sdk/client-ec2 carries one schema
 * module for all of EC2 (538 KiB of each task function's code) for these six; this client reuses what the other SDK
 * clients already put in every bundle: SigV4 (@smithy/signature-v4 with the SDK's Sha256), the default credential
 * chain (@aws-sdk/credential-providers fromNodeProviderChain: environment, SSO, profiles, process, web identity,
 * container and instance metadata), the region chain (AWS_REGION, then the shared config files), the standard
 * retry strategy and its error classification (@smithy/core/retry), and the SDK's XML parser.
 *
 * Endpoint: `endpoint` in the config, else AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL (the SDK's service-specific
 * endpoint variables; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores both), else `https://ec2.{region}.amazonaws.com`
 * (`.amazonaws.com.cn` in the China regions). Not supported: FIPS and dual-stack endpoints (AWS_USE_FIPS_ENDPOINT,
 * AWS_USE_DUALSTACK_ENDPOINT: refused rather than silently ignored; give `endpoint` instead), `endpoint_url` in the
 * shared config files, and the SDK's clock-skew correction.
 *
 * Errors: an EC2 error response becomes an Ec2ServiceError whose `name` and `Code` are EC2's code, with
 * `$metadata.httpStatusCode` and `requestId`, as the SDK throws them (aws/errors.ts reads both the same way).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Sha256 } from '@smithy/core/checksum';
import { NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS, loadConfig } from '@smithy/core/config';
import { StandardRetryStrategy, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type {
  DescribeImagesInput,
  DescribeImagesOutput,
  DescribeInstancesInput,
  DescribeInstancesOutput,
  DescribeSubnetsInput,
  DescribeSubnetsOutput,
  DescribeTagsInput,
  CreateTagsInput,
  CreateTagsOutput,
  DescribeTagsOutput,
  Ec2Operation,
  Ec2Operations,
  RunInstancesInput,
  RunInstancesOutput,
  TerminateInstancesInput,
  TerminateInstancesOutput,
} from './types.js';
import { parseErrorBody, parseResponse, serializeRequest } from './wire.js';

export interface Ec2QueryClientConfig {
  /** @default - AWS_REGION, then the shared config files' region (the SDK's region chain) */
  region?: string;
  /** @default - AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, then EC2's regional endpoint */
  endpoint?: string;
  /** @default - the SDK's default credential chain (fromNodeProviderChain) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts per call, the first included (the SDK's standard retry strategy). @default - AWS_MAX_ATTEMPTS, else 3 */
  maxAttempts?: number;
  /** A request whose socket is idle this long is abandoned (and retried as a transient error). @default 30000 */
  requestTimeoutMs?: number;
}

/** One HTTP response as the client reads it. */
export interface Ec2HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Hooks around the client's calls, for observing and for fault injection in tests (the SDK's middleware stack,
 * reduced to its two useful places): `call` wraps one call with its retries, `attempt` one HTTP attempt below the
 * retries (it may answer in the network's place; the answer is then read and retried like a real one).
 */
export interface Ec2Middleware {
  call?: <Op extends Ec2Operation>(
    operation: Op,
    input: Ec2Operations[Op]['input'],
    next: (input: Ec2Operations[Op]['input']) => Promise<Ec2Operations[Op]['output']>,
  ) => Promise<Ec2Operations[Op]['output']>;
  attempt?: (operation: Ec2Operation, input: unknown, next: () => Promise<Ec2HttpResponse>) => Promise<Ec2HttpResponse>;
}

/** An error EC2 answered with: `name` and `Code` are its code (`InvalidInstanceID.NotFound`...). */
export class Ec2ServiceError extends Error {
  readonly Code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts?: number; totalRetryDelay?: number };
  /** The raw answer (not enumerable: a logged error does not repeat the whole body). */
  declare readonly $response: Ec2HttpResponse;
  constructor(code: string, message: string, response: Ec2HttpResponse, requestId: string | undefined) {
    super(message);
    this.name = code;
    this.Code = code;
    this.$fault = response.statusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: response.statusCode, ...(requestId ? { requestId } : {}) };
    Object.defineProperty(this, '$response', { value: response, enumerable: false });
  }
}

/** The socket of a request stayed idle past the client's timeout (classified as transient, like the SDK's). */
export class Ec2TimeoutError extends Error {
  override name = 'TimeoutError';
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_TIMEOUT_MS = 30_000;

export class Ec2QueryClient {
  private readonly regionProvider: () => Promise<string>;
  private readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  private readonly configuredEndpoint: string | undefined;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly retry: StandardRetryStrategy;
  private readonly middleware: Ec2Middleware[] = [];
  private signer: SignatureV4 | undefined;
  private agents: { http?: HttpAgent; https?: HttpsAgent } = {};

  constructor(config: Ec2QueryClientConfig = {}, env: NodeJS.ProcessEnv = process.env) {
    const region = config.region ?? env['AWS_REGION'];
    this.regionProvider = region ? async () => region : loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS);
    this.credentials = config.credentials ?? fromNodeProviderChain();
    this.configuredEndpoint = config.endpoint ?? endpointFromEnvironment(env);
    this.maxAttempts = config.maxAttempts ?? (Number(env['AWS_MAX_ATTEMPTS']) || DEFAULT_MAX_ATTEMPTS);
    this.timeoutMs = config.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = new StandardRetryStrategy(this.maxAttempts);
    if (config.endpoint === undefined) refuseUnsupportedEndpoints(env);
  }

  /** The region requests are signed for and (without an endpoint) sent to. */
  async region(): Promise<string> {
    const region = await this.regionProvider();
    if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`EC2 client: ${JSON.stringify(region)} is not a region`);
    return region;
  }

  /** The URL requests are posted to. */
  async endpoint(): Promise<URL> {
    if (this.configuredEndpoint !== undefined) return new URL(this.configuredEndpoint);
    const region = await this.region();
    return new URL(`https://ec2.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`);
  }

  runInstances(input: RunInstancesInput): Promise<RunInstancesOutput> {
    return this.send('RunInstances', input);
  }

  describeInstances(input: DescribeInstancesInput = {}): Promise<DescribeInstancesOutput> {
    return this.send('DescribeInstances', input);
  }

  terminateInstances(input: TerminateInstancesInput): Promise<TerminateInstancesOutput> {
    return this.send('TerminateInstances', input);
  }

  describeImages(input: DescribeImagesInput = {}): Promise<DescribeImagesOutput> {
    return this.send('DescribeImages', input);
  }

  describeSubnets(input: DescribeSubnetsInput = {}): Promise<DescribeSubnetsOutput> {
    return this.send('DescribeSubnets', input);
  }

  describeTags(input: DescribeTagsInput = {}): Promise<DescribeTagsOutput> {
    return this.send('DescribeTags', input);
  }

  createTags(input: CreateTagsInput): Promise<CreateTagsOutput> {
    return this.send('CreateTags', input);
  }

  /** One call, through the middleware, with retries. */
  send<Op extends Ec2Operation>(operation: Op, input: Ec2Operations[Op]['input']): Promise<Ec2Operations[Op]['output']> {
    const innermost = (i: Ec2Operations[Op]['input']) => this.withRetries(operation, i);
    const chain = this.middleware.reduceRight<(i: Ec2Operations[Op]['input']) => Promise<Ec2Operations[Op]['output']>>(
      (next, m) => (m.call ? (i) => m.call!(operation, i, next) : next),
      innermost,
    );
    return chain(input);
  }

  /** Adds hooks (outermost first); returns their removal. */
  use(middleware: Ec2Middleware): () => void {
    this.middleware.push(middleware);
    return () => {
      const i = this.middleware.indexOf(middleware);
      if (i >= 0) this.middleware.splice(i, 1);
    };
  }

  /** Closes the keep-alive connections. The client may still be used: it opens new ones. */
  destroy(): void {
    this.agents.http?.destroy();
    this.agents.https?.destroy();
    this.agents = {};
  }

  // --- internals ------------------------------------------------------------------------------------------

  /** The SDK's retry loop (@smithy/core/retry retryMiddleware): the strategy sleeps its jittered backoff itself. */
  private async withRetries<Op extends Ec2Operation>(operation: Op, input: Ec2Operations[Op]['input']): Promise<Ec2Operations[Op]['output']> {
    let token = await this.retry.acquireInitialRetryToken('');
    let attempts = 0;
    const started = Date.now();
    for (;;) {
      attempts++;
      try {
        const output = await this.attempt(operation, input);
        this.retry.recordSuccess(token);
        return output;
      } catch (e) {
        try {
          token = await this.retry.refreshRetryTokenForRetry(token, { errorType: retryErrorType(e) });
        } catch {
          if (e instanceof Ec2ServiceError) Object.assign(e.$metadata, { attempts, totalRetryDelay: Date.now() - started });
          throw e;
        }
      }
    }
  }

  private async attempt<Op extends Ec2Operation>(operation: Op, input: Ec2Operations[Op]['input']): Promise<Ec2Operations[Op]['output']> {
    const http = () => this.post(operation, input);
    const chain = this.middleware.reduceRight<() => Promise<Ec2HttpResponse>>((next, m) => (m.attempt ? () => m.attempt!(operation, input, next) : next), http);
    const response = await chain();
    if (response.statusCode >= 300) {
      const { code, message, requestId } = parseErrorBody(response.body);
      throw new Ec2ServiceError(code ?? `Http${response.statusCode}`, message ?? response.body.slice(0, 200), response, requestId);
    }
    return parseResponse(operation, response.body).output;
  }

  /** Signs and posts one request. */
  private async post(operation: Ec2Operation, input: unknown): Promise<Ec2HttpResponse> {
    const url = await this.endpoint();
    const body = serializeRequest(operation, input as Ec2Operations[typeof operation]['input']);
    this.signer ??= new SignatureV4({ service: 'ec2', region: () => this.region(), credentials: this.credentials, sha256: Sha256 });
    const unsigned = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: {
        host: url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const signed = await this.signer.sign(unsigned);
    return this.transmit(url, signed.headers, body);
  }

  private transmit(url: URL, headers: Record<string, string>, body: string): Promise<Ec2HttpResponse> {
    const https = url.protocol === 'https:';
    if (https) this.agents.https ??= new HttpsAgent({ keepAlive: true });
    else this.agents.http ??= new HttpAgent({ keepAlive: true });
    const agent = https ? this.agents.https : this.agents.http;
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Ec2TimeoutError(`EC2: no answer for ${this.timeoutMs} ms from ${url.host}`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * Pages of DescribeInstances: `MaxResults` on every page (as the SDK's paginator sends it), until EC2 returns no
 * NextToken (or the same one again).
 */
export async function* paginateDescribeInstances(
  client: Ec2QueryClient,
  input: Omit<DescribeInstancesInput, 'NextToken' | 'MaxResults'>,
  pageSize?: number,
): AsyncGenerator<DescribeInstancesOutput> {
  let token: string | undefined;
  for (;;) {
    const page = await client.describeInstances({
      ...input,
      ...(token ? { NextToken: token } : {}),
      ...(pageSize !== undefined ? { MaxResults: pageSize } : {}),
    });
    yield page;
    if (!page.NextToken || page.NextToken === token) return;
    token = page.NextToken;
  }
}

/** The SDK's classification (@smithy/core/retry): throttling and transient (5xx, timeouts, resets) are retried. */
function retryErrorType(e: unknown): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR' {
  if (!(e instanceof Error)) return 'CLIENT_ERROR';
  const error = e as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

function endpointFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  if (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return undefined;
  return env['AWS_ENDPOINT_URL_EC2'] || env['AWS_ENDPOINT_URL'] || undefined;
}

function refuseUnsupportedEndpoints(env: NodeJS.ProcessEnv): void {
  for (const name of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'])
    if (env[name] === 'true') throw new Error(`EC2 client: ${name}=true is not supported; name the endpoint instead (AWS_ENDPOINT_URL_EC2)`);
}
