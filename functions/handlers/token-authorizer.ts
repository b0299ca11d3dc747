/**
 * The kubectl door's Lambda REQUEST authorizer: reads the EKS-style token of `Authorization: Bearer k8s-aws-v1....`
 * (`clusterless token`, the exec plugin of a kubeconfig), has STS say who signed it (adapters/aws/sts-token.ts, with
 * this API's id as the audience), and answers the IAM policy of that principal's access entries: exactly the routes
 * the same grants allow SigV4 callers (api/access-entries.ts accessRules, what HttpApi writes as IAM statements).
 *
 * - a missing, malformed, expired or foreign token: `Unauthorized` (API Gateway answers 401);
 * - a principal STS vouches for with no access entry: a policy that denies everything (403), as kube-apiserver
 *   forbids an authenticated user RBAC grants nothing;
 * - STS unreachable: an error (API Gateway answers 500), never an Allow.
 *
 * The routes of `clusterless import` and `move` (api/access-entries.ts TRANSFER_ROUTES) are in the policy only for an
 * entry that writes its namespaces and their status, as the embedded host asks the controller token for a move's
 * steps (local/access.ts isStatusWrite); every other entry's policy denies them.
 *
 * The entries are ACCESS_ENTRIES (JSON, written by HttpApi at synth from grantNamespaces and grantAllNamespacesRead).
 * Decisions are kept per token for at most 60 s and never past the token's own expiry (API Gateway caches them by
 * the Authorization header too).
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { ACCESS_ENTRIES_ENV, type AccessEntry, accessRules } from '../api/access-entries.js';
import { type CallerIdentity, TokenRejectedError, verifyToken, withoutPath } from '../adapters/aws/sts-token.js';

const logger = new Logger({ serviceName: 'clusterless-token-authorizer' });

/** Never set by the stack: lets the emulated account's STS (an http origin) be called. */
export const TEST_STS_ENDPOINT_ENV = 'CLUSTERLESS_TEST_STS_ENDPOINT';
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 1000;

export interface TokenAuthorizerDeps {
  entries: readonly AccessEntry[];
  fetch: typeof globalThis.fetch;
  now: () => Date;
  testEndpoint?: string;
}

/** The entries of ACCESS_ENTRIES, checked: a malformed list stops the authorizer rather than granting by accident. */
export function parseAccessEntries(text: string | undefined): AccessEntry[] {
  if (text === undefined || text === '') return [];
  const value = JSON.parse(text) as unknown;
  if (!Array.isArray(value)) throw new Error(`${ACCESS_ENTRIES_ENV} is not a JSON list`);
  return value.map((e: Partial<AccessEntry>, i) => {
    const ok =
      typeof e?.principalArn === 'string' &&
      Array.isArray(e.namespaces) &&
      e.namespaces.every((n) => typeof n === 'string') &&
      (e.access === 'read' || e.access === 'write') &&
      typeof e.status === 'boolean' &&
      typeof e.kubeconfig === 'boolean';
    if (!ok) throw new Error(`${ACCESS_ENTRIES_ENV}[${i}] is not an access entry`);
    return e as AccessEntry;
  });
}

export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TokenAuthorizerDeps {
  const testEndpoint = env[TEST_STS_ENDPOINT_ENV];
  return {
    entries: parseAccessEntries(env[ACCESS_ENTRIES_ENV]),
    fetch: globalThis.fetch,
    now: () => new Date(),
    ...(testEndpoint ? { testEndpoint } : {}),
  };
}

/** The method ARN's API part (`arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/`) and the API id. */
function apiOf(methodArn: string): { prefix: string; apiId: string } {
  const m = /^(arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:([a-z0-9]+)\/[^/]+\/)/.exec(methodArn);
  if (!m) throw new Error(`unexpected method ARN ${methodArn}`);
  return { prefix: m[1]!, apiId: m[2]! };
}

/** The bearer token of the Authorization header (API Gateway's headers keep the caller's case). */
function bearerOf(headers: Record<string, string | undefined> | null): string | undefined {
  const value = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = /^Bearer\s+(\S+)$/i.exec(value ?? '');
  return m?.[1];
}

/**
 * The policy of a caller: every rule of its entries as statements on this API's stage. IAM evaluates them: an explicit
 * Deny wins, as in the SigV4 door.
 */
export function policyFor(principalArn: string, entries: readonly AccessEntry[], methodArn: string): APIGatewayAuthorizerResult['policyDocument'] {
  const { prefix } = apiOf(methodArn);
  const mine = entries.filter((e) => withoutPath(e.principalArn) === principalArn);
  const statements = mine.flatMap(accessRules).map((rule) => ({
    Effect: rule.effect,
    Action: 'execute-api:Invoke',
    Resource: rule.methods.flatMap((m) => rule.paths.map((p) => `${prefix}${m}${p}`)),
  }));
  return {
    Version: '2012-10-17',
    Statement: statements.length > 0 ? statements : [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${prefix}*`] }],
  };
}

/** What the API function sees as requestContext.authorizer (strings only, as API Gateway passes them). */
export interface AuthorizerContext {
  principalArn: string;
  callerArn: string;
  accessKeyId: string;
  namespaces: string;
  [key: string]: string;
}

export function createAuthorizer(deps: TokenAuthorizerDeps | (() => TokenAuthorizerDeps)) {
  let resolved: TokenAuthorizerDeps | undefined = typeof deps === 'function' ? undefined : deps;
  const cache = new Map<string, { until: number; identity: CallerIdentity }>();
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    resolved ??= (deps as () => TokenAuthorizerDeps)();
    const d = resolved;
    const now = d.now();
    const token = bearerOf(event.headers);
    if (!token) throw new Error('Unauthorized');
    const { apiId } = apiOf(event.methodArn);
    const key = createHash('sha256').update(token).digest('hex');
    let identity = cache.get(key);
    if (!identity || identity.until <= now.getTime()) {
      cache.delete(key);
      try {
        const caller = await verifyToken(token, now, { audience: apiId, fetch: d.fetch, ...(d.testEndpoint ? { testEndpoint: d.testEndpoint } : {}) });
        identity = { until: Math.min(now.getTime() + CACHE_TTL_MS, caller.expiresAt.getTime()), identity: caller };
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        cache.set(key, identity);
      } catch (err) {
        if (err instanceof TokenRejectedError) {
          logger.info('token refused', { reason: err.message });
          throw new Error('Unauthorized');
        }
        throw err;
      }
    }
    const caller = identity.identity;
    const entries = d.entries.filter((e) => withoutPath(e.principalArn) === caller.principalArn);
    if (entries.length === 0) logger.info('no access entry for the caller', { principalArn: caller.principalArn });
    const context: AuthorizerContext = {
      principalArn: caller.principalArn,
      callerArn: caller.arn,
      accessKeyId: caller.accessKeyId,
      namespaces: [...new Set(entries.flatMap((e) => e.namespaces))].join(','),
    };
    return { principalId: caller.principalArn, policyDocument: policyFor(caller.principalArn, d.entries, event.methodArn), context };
  };
}

/** The Lambda entry point. */
export const handler = createAuthorizer(() => depsFromEnvironment());
