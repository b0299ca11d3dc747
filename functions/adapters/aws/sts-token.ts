/**
 * Verifies the kubectl door's tokens (functions/api/access-entries.ts): EKS-style `k8s-aws-v1.` tokens that carry a
 * presigned STS GetCallerIdentity URL. The URL is checked strictly before anything is sent (it is the caller's
 * text, and the authorizer would otherwise GET whatever it names), then sent with this API's own audience in the
 * signed `x-k8s-aws-id` header: STS checks the signature, so a token signed for another installation fails there.
 * The checks follow kubernetes-sigs/aws-iam-authenticator pkg/token/token.go (tokenVerifier.Verify), held tighter:
 * X-Amz-Expires at most 60 and honoured (STS itself honours 15 minutes), the host signed too.
 */
import { AUDIENCE_HEADER, MAX_TOKEN_LENGTH, TOKEN_EXPIRES_SECONDS, TOKEN_PREFIX } from '../../api/access-entries.js';
import { AWS_REGION } from '../../api/aws-region.js';

/** A token refused: bad form, expired, or STS did not vouch for it. The authorizer answers 401 for each. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
}

/** Who signed the token, as STS says. */
export interface CallerIdentity {
  /** What GetCallerIdentity returned, e.g. arn:aws:sts::123456789012:assumed-role/Team/session. */
  arn: string;
  /** The IAM ARN access entries name: an assumed role's role (arn:aws:iam::123456789012:role/Team). */
  principalArn: string;
  account: string;
  userId: string;
  accessKeyId: string;
  /** X-Amz-Date + X-Amz-Expires: when the authorizer stops honouring the token. */
  expiresAt: Date;
}

export interface TokenVerifierOptions {
  /** What the token's signed x-k8s-aws-id must be: the API id of the kubectl door. */
  audience: string;
  /** The HTTP client the GET goes through (tests pass the emulated STS's). */
  fetch: typeof globalThis.fetch;
  /**
   * An STS endpoint besides AWS's (origin, e.g. http://127.0.0.1:4566), for the emulated account only: the stack never
   * sets it (CLUSTERLESS_TEST_STS_ENDPOINT), so in production only sts[.region].amazonaws.com over https is called.
   */
  testEndpoint?: string;
}

/** The query parameters a presigned GetCallerIdentity has, and nothing else (aws-iam-authenticator's parameterWhitelist). */
const ALLOWED_PARAMETERS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);
const REQUIRED_PARAMETERS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signature', 'x-amz-signedheaders'];
/** A signing date this far ahead of our clock is refused (clock skew SigV4 tolerates is wider; a token is used at once). */
const MAX_FUTURE_MS = 5 * 60 * 1000;

/** Whether a host is an AWS STS endpoint: the global one or a regional one (the commercial and GovCloud partitions). */
export function isStsHost(host: string): boolean {
  if (host === 'sts.amazonaws.com') return true;
  const m = /^sts\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  return m !== null && AWS_REGION.test(m[1]!);
}

/** X-Amz-Date (yyyymmddThhmmssZ) as a time, or undefined. */
function amzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * The presigned URL of a token, checked before anything is sent: https (or the test endpoint), an STS host, path `/`,
 * Action=GetCallerIdentity and Version, every X-Amz-* parameter once, X-Amz-Expires at most 60 and not passed at `now`,
 * host and x-k8s-aws-id among the signed headers. Throws TokenRejectedError naming the first fault.
 */
export function presignedUrlOf(token: string, now: Date, testEndpoint?: string): { url: URL; expiresAt: Date } {
  const reject = (why: string) => new TokenRejectedError(`token refused: ${why}`);
  if (token.length > MAX_TOKEN_LENGTH) throw reject('too long');
  if (!token.startsWith(TOKEN_PREFIX)) throw reject(`not a ${TOKEN_PREFIX} token`);
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw reject('not base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw reject('not a URL');
  }
  const test = testEndpoint ? new URL(testEndpoint) : undefined;
  const isTest = test !== undefined && url.origin === test.origin;
  if (!isTest) {
    if (url.protocol !== 'https:') throw reject(`scheme ${url.protocol} (https only)`);
    if (url.port !== '' || !isStsHost(url.hostname)) throw reject(`host ${url.host} is not STS`);
  }
  if (url.username || url.password || url.hash) throw reject('credentials or a fragment in the URL');
  if (url.pathname !== '/') throw reject(`path ${url.pathname}`);
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const k = key.toLowerCase();
    if (!ALLOWED_PARAMETERS.has(k)) throw reject(`query parameter ${key}`);
    if (params.has(k)) throw reject(`query parameter ${key} more than once`);
    params.set(k, value);
  }
  if (params.get('action') !== 'GetCallerIdentity') throw reject('not GetCallerIdentity');
  if (!params.get('version')) throw reject('no Version');
  for (const p of REQUIRED_PARAMETERS) if (!params.get(p)) throw reject(`no ${p}`);
  if (params.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') throw reject('X-Amz-Algorithm');
  const expires = params.get('x-amz-expires')!;
  if (!/^\d{1,3}$/.test(expires) || Number(expires) > TOKEN_EXPIRES_SECONDS) throw reject(`X-Amz-Expires ${expires} (at most ${TOKEN_EXPIRES_SECONDS})`);
  const signed = params.get('x-amz-signedheaders')!.split(';');
  if (!signed.includes('host')) throw reject('host is not signed');
  if (!signed.includes(AUDIENCE_HEADER)) throw reject(`${AUDIENCE_HEADER} is not signed`);
  const date = amzDate(params.get('x-amz-date')!);
  if (!date) throw reject('X-Amz-Date');
  const expiresAt = new Date(date.getTime() + Number(expires) * 1000);
  if (now.getTime() > expiresAt.getTime()) throw reject('expired');
  if (date.getTime() > now.getTime() + MAX_FUTURE_MS) throw reject('X-Amz-Date is in the future');
  return { url, expiresAt };
}

/**
 * An assumed role's session ARN as the role's IAM ARN (arn:aws:sts::A:assumed-role/R/S -> arn:aws:iam::A:role/R);
 * users and roles as they are; anything else (federated users, the root) undefined: access entries never name them.
 * Note: the session ARN drops the role's path, so an entry must name a role without one (as aws-iam-authenticator's
 * arn.Canonicalize).
 */
export function principalArnOf(arn: string): string | undefined {
  const m = /^arn:(aws[a-z-]*):(sts|iam)::(\d{12}):(assumed-role|role|user)\/(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, partition, service, account, type, rest] = m as unknown as [string, string, string, string, string, string];
  if (type === 'assumed-role') {
    if (service !== 'sts') return undefined;
    const role = rest.split('/')[0]!;
    return `arn:${partition}:iam::${account}:role/${role}`;
  }
  if (service !== 'iam') return undefined;
  return `arn:${partition}:iam::${account}:${type}/${rest.split('/').at(-1)}`;
}

/** Strips an IAM role's or user's path, as principalArnOf does, so entries and callers compare alike. */
export function withoutPath(arn: string): string {
  const m = /^(arn:aws[a-z-]*:iam::\d{12}:(?:role|user))\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1]}/${m[2]}` : arn;
}

/** Checks the token, asks STS who signed it (with our audience), and returns the caller; TokenRejectedError otherwise. */
export async function verifyToken(token: string, now: Date, options: TokenVerifierOptions): Promise<CallerIdentity> {
  const { url, expiresAt } = presignedUrlOf(token, now, options.testEndpoint);
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: 'GET',
      headers: { [AUDIENCE_HEADER]: options.audience, accept: 'application/json' },
      // A redirect would take the signed request somewhere we did not check.
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    throw new Error(`STS GetCallerIdentity could not be reached: ${(err as Error).message}`, { cause: err });
  }
  const text = await response.text();
  // STS refuses a bad signature (a foreign audience, a forged URL) or expired credentials with 403.
  if (response.status === 400 || response.status === 403) throw new TokenRejectedError(`token refused: STS answered ${response.status}`);
  if (response.status !== 200) throw new Error(`STS GetCallerIdentity answered ${response.status}`);
  let result: { Arn?: unknown; Account?: unknown; UserId?: unknown } | undefined;
  try {
    result = (JSON.parse(text) as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: typeof result } }).GetCallerIdentityResponse
      ?.GetCallerIdentityResult;
  } catch {
    result = undefined;
  }
  if (typeof result?.Arn !== 'string' || typeof result.Account !== 'string') throw new Error('STS GetCallerIdentity answered no identity');
  const principalArn = principalArnOf(result.Arn);
  if (!principalArn) throw new TokenRejectedError(`token refused: ${result.Arn} is neither a role nor a user`);
  return {
    arn: result.Arn,
    principalArn,
    account: result.Account,
    userId: typeof result.UserId === 'string' ? result.UserId : '',
    accessKeyId: url.searchParams.get('X-Amz-Credential')?.split('/')[0] ?? '',
    expiresAt,
  };
}
