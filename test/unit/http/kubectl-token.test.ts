/**
 * The kubectl door's tokens: `clusterless token` builds them (cli/commands/token.ts), the authorizer verifies them
 * (functions/adapters/aws/sts-token.ts) against the emulated account's STS (e2e/aws/sts.ts, which checks the presigned
 * signature with the SDK's signer) and answers the policy of the caller's access entries
 * (functions/handlers/token-authorizer.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { audienceOf, buildToken, execCredential } from '../../../cli/commands/token.js';
import { type AccessEntry, TOKEN_PREFIX } from '../../../functions/api/access-entries.js';
import { TokenRejectedError, presignedUrlOf, principalArnOf, verifyToken } from '../../../functions/adapters/aws/sts-token.js';
import { createAuthorizer, parseAccessEntries, policyFor } from '../../../functions/handlers/token-authorizer.js';
import type { Principal } from '../../../e2e/aws/account.js';
import { type PresignedSts, startPresignedSts } from '../../../e2e/aws/sts.js';
import { decide } from '../../infra/iam-eval.js';
import { fakeWorld } from '../cli/harness.js';

const ACCOUNT = '123456789012';
const API_ID = 'k1b2c3d4e5';
const NOW = new Date('2026-12-07T00:00:00Z');
const METHOD_ARN = (method: string, path: string) => `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/v1/${method}${path}`;
const principal = (name: string, key: string): Principal => ({
  name,
  arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
  policies: [],
  credentials: { accessKeyId: key, secretAccessKey: `${name}-secret`, sessionToken: `${name}-session` },
});
const TEAM_A = principal('TeamAWriter', 'ASIATEAMAWRITER00001');
const STRANGER = principal('Stranger', 'ASIASTRANGER00000001');
const ENTRIES: AccessEntry[] = [{ principalArn: TEAM_A.arn, namespaces: ['team-a'], access: 'write', status: false, kubeconfig: false }];

let sts: PresignedSts;
beforeAll(async () => {
  sts = await startPresignedSts({ principals: () => [TEAM_A, STRANGER], now: () => NOW });
});
afterAll(() => sts.stop());

async function tokenOf(who: Principal = TEAM_A, options: { audience?: string; endpoint?: string; now?: Date; region?: string } = {}): Promise<string> {
  const built = await buildToken({
    audience: options.audience ?? API_ID,
    credentials: who.credentials,
    region: options.region ?? 'us-east-1',
    endpoint: new URL(options.endpoint ?? sts.endpoint),
    now: options.now ?? NOW,
  });
  return built.token;
}

/** A token whose URL is edited after signing (what the authorizer must check before sending anything). */
function edited(token: string, edit: (url: URL) => void): string {
  const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  edit(url);
  return TOKEN_PREFIX + Buffer.from(url.toString()).toString('base64url');
}

const verify = (token: string, now = NOW) => verifyToken(token, now, { audience: API_ID, fetch, testEndpoint: sts.endpoint });

describe('clusterless token', () => {
  it('prints an ExecCredential (client.authentication.k8s.io/v1) with a k8s-aws-v1 token and an expiry before the token’s 60 s', async () => {
    // Act
    const built = await buildToken({
      audience: API_ID,
      credentials: TEAM_A.credentials,
      region: 'eu-west-1',
      endpoint: new URL('https://sts.eu-west-1.amazonaws.com'),
      now: NOW,
    });
    const credential = execCredential(built) as { kind: string; apiVersion: string; status: { token: string; expirationTimestamp: string } };

    // Assess
    expect(credential).toMatchObject({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1' });
    expect(credential.status.expirationTimestamp).toBe('2026-12-07T00:00:50Z');
    const { url } = presignedUrlOf(credential.status.token, NOW);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': 'TeamAWriter-session',
    });
  });

  it('takes the audience from an execute-api host, or --api-id; a custom domain without --api-id is a usage error', () => {
    expect(audienceOf(new URL('https://abc123xyz.execute-api.us-east-1.amazonaws.com/v1/'), undefined)).toBe('abc123xyz');
    expect(audienceOf(new URL('https://api.example.com/'), 'k1b2c3d4e5')).toBe('k1b2c3d4e5');
    expect(() => audienceOf(new URL('https://api.example.com/'), undefined)).toThrow(/--api-id/);
  });
});

describe('clusterless token and clusterless kubeconfig on the command line', () => {
  const SERVER_URL = 'https://k1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/';

  it('token prints the ExecCredential of the credential chain (of --profile), signed for --region', async () => {
    // Prepare
    const w = fakeWorld('2026-12-07T00:00:00Z');
    const asked: unknown[] = [];
    const deps = { credentials: (options?: { profile?: string }) => (asked.push(options), async () => TEAM_A.credentials) };

    // Act
    const r = await w.run(['token', '--server', SERVER_URL, '--region', 'eu-west-1', '--profile', 'team-a'], { deps });

    // Assess
    expect(r.code, r.stderr).toBe(0);
    expect(asked).toEqual([{ profile: 'team-a' }]);
    const credential = JSON.parse(r.stdout) as { status: { token: string; expirationTimestamp: string } };
    expect(credential.status.expirationTimestamp).toBe('2026-12-07T00:00:50Z');
    const { url } = presignedUrlOf(credential.status.token, NOW);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toBe(`${TEAM_A.credentials.accessKeyId}/20261207/eu-west-1/sts/aws4_request`);
    expect(w.requests).toEqual([]);
  });

  it('token for a custom domain without --api-id is a usage error (exit 2), and nothing is signed', async () => {
    const r = await fakeWorld().run(['token', '--server', 'https://api.example.com/'], { deps: { credentials: () => async () => TEAM_A.credentials } });
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(/--api-id/);
  });

  it('kubeconfig prints a kubeconfig whose user runs clusterless token for the same server', async () => {
    const r = await fakeWorld().run(['kubeconfig', '--server', SERVER_URL, '--region', 'eu-west-1']);
    expect(r.code, r.stderr).toBe(0);
    const config = parse(r.stdout) as any;
    expect(config.clusters[0].cluster.server).toBe(SERVER_URL);
    expect(config.users[0].user.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: 'clusterless',
      args: ['token', '--server', SERVER_URL, '--region', 'eu-west-1'],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    expect(config['current-context']).toBe('clusterless');
  });
});

describe('token verification', () => {
  it('round trip: a token built by clusterless token is vouched for by STS, and the assumed role maps to its role ARN', async () => {
    // Act
    const identity = await verify(await tokenOf());

    // Assess
    expect(identity).toMatchObject({
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/TeamAWriter/e2e`,
      principalArn: TEAM_A.arn,
      account: ACCOUNT,
      accessKeyId: TEAM_A.credentials.accessKeyId,
    });
  });

  it.each([
    { name: 'a host that is not STS', build: () => tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com.example.com' }), reason: /is not STS/ },
    { name: 'an STS host with a port', build: () => tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com:8443' }), reason: /is not STS/ },
    { name: 'http to AWS’s STS', build: () => tokenOf(TEAM_A, { endpoint: 'http://sts.amazonaws.com' }), reason: /https only/ },
    {
      name: 'X-Amz-Expires above 60',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.set('X-Amz-Expires', '900')),
      reason: /X-Amz-Expires 900/,
    },
    {
      name: 'the audience header not signed',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.set('X-Amz-SignedHeaders', 'host')),
      reason: /x-k8s-aws-id is not signed/,
    },
    {
      name: 'the host not signed',
      build: async () =>
        edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.set('X-Amz-SignedHeaders', 'x-k8s-aws-id')),
      reason: /host is not signed/,
    },
    {
      name: 'another path',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => (u.pathname = '/x')),
      reason: /path/,
    },
    {
      name: 'another action',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.set('Action', 'AssumeRole')),
      reason: /not GetCallerIdentity/,
    },
    {
      name: 'no Version',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.delete('Version')),
      reason: /no Version/,
    },
    {
      name: 'no signature',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.delete('X-Amz-Signature')),
      reason: /no x-amz-signature/,
    },
    {
      name: 'a parameter STS would not expect',
      build: async () => edited(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), (u) => u.searchParams.set('RoleArn', 'x')),
      reason: /query parameter RoleArn/,
    },
    { name: 'another prefix', build: async () => (await tokenOf()).replace(TOKEN_PREFIX, 'k8s-aws-v2.'), reason: /not a k8s-aws-v1/ },
    { name: 'an oversized token', build: async () => `${TOKEN_PREFIX}${'a'.repeat(5000)}`, reason: /too long/ },
  ])('refuses $name before calling STS', async ({ build, reason }) => {
    // Prepare
    const token = await build();
    const before = sts.calls.length;

    // Act
    const refused = verifyToken(token, NOW, { audience: API_ID, fetch, testEndpoint: sts.endpoint });

    // Assess
    await expect(refused).rejects.toThrow(TokenRejectedError);
    await expect(refused).rejects.toThrow(reason);
    expect(sts.calls.length).toBe(before);
  });

  it('accepts AWS’s global and regional STS hosts over https', async () => {
    expect(presignedUrlOf(await tokenOf(TEAM_A, { endpoint: 'https://sts.amazonaws.com' }), NOW).url.host).toBe('sts.amazonaws.com');
    expect(presignedUrlOf(await tokenOf(TEAM_A, { endpoint: 'https://sts.us-gov-west-1.amazonaws.com' }), NOW).url.host).toBe(
      'sts.us-gov-west-1.amazonaws.com',
    );
  });

  it('calls the test endpoint only when it is configured', async () => {
    const token = await tokenOf();
    expect(() => presignedUrlOf(token, NOW)).toThrow(/https only/);
    expect(presignedUrlOf(token, NOW, sts.endpoint).url.origin).toBe(sts.endpoint);
  });

  it('refuses a token 61 s after its X-Amz-Date (expired), and one dated far in the future', async () => {
    const token = await tokenOf();
    await expect(verify(token, new Date(NOW.getTime() + 60_000))).resolves.toMatchObject({ principalArn: TEAM_A.arn });
    await expect(verify(token, new Date(NOW.getTime() + 61_000))).rejects.toThrow(/expired/);
    await expect(verify(token, new Date(NOW.getTime() - 10 * 60_000))).rejects.toThrow(/in the future/);
  });

  it('refuses a token signed for another audience: STS does not vouch for it (a token for one installation fails on another)', async () => {
    // Act
    const refused = verify(await tokenOf(TEAM_A, { audience: 'otherapi01' }));

    // Assess
    await expect(refused).rejects.toThrow(TokenRejectedError);
    expect(sts.calls.at(-1)).toEqual({ accessKeyId: TEAM_A.credentials.accessKeyId, status: 403 });
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = edited(await tokenOf(), (u) => u.searchParams.set('X-Amz-Date', '20261207T000001Z'));
    await expect(verify(token)).rejects.toThrow(/STS answered 403/);
  });

  it.each([
    [`arn:aws:sts::${ACCOUNT}:assumed-role/Team/session-1`, `arn:aws:iam::${ACCOUNT}:role/Team`],
    [`arn:aws:iam::${ACCOUNT}:role/Team`, `arn:aws:iam::${ACCOUNT}:role/Team`],
    [`arn:aws:iam::${ACCOUNT}:user/path/alice`, `arn:aws:iam::${ACCOUNT}:user/alice`],
    [`arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/Team/s`, `arn:aws-us-gov:iam::${ACCOUNT}:role/Team`],
    [`arn:aws:sts::${ACCOUNT}:federated-user/bob`, undefined],
    [`arn:aws:iam::${ACCOUNT}:root`, undefined],
  ])('principalArnOf(%s) = %s', (arn, expected) => {
    expect(principalArnOf(arn)).toBe(expected);
  });
});

describe('token authorizer', () => {
  const event = (token: string | undefined, method = 'GET', path = '/apis/clusterless.dev/v1alpha1/namespaces/team-a/clusters') =>
    ({
      type: 'REQUEST',
      methodArn: METHOD_ARN(method, path),
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    }) as never;
  const authorizer = (entries = ENTRIES, now = () => NOW) => createAuthorizer({ entries, fetch, now, testEndpoint: sts.endpoint });

  it('answers the policy of the caller’s access entries: the same routes a SigV4 grant allows, with the principal and a context', async () => {
    // Act
    const result = await authorizer()(event(await tokenOf()));

    // Assess
    expect(result.principalId).toBe(TEAM_A.arn);
    expect(result.context).toMatchObject({ principalArn: TEAM_A.arn, namespaces: 'team-a', accessKeyId: TEAM_A.credentials.accessKeyId });
    const may = (method: string, path: string) => decide(result.policyDocument as never, { action: 'execute-api:Invoke', resource: METHOD_ARN(method, path) });
    const ns = (n: string, rest: string) => `/apis/clusterless.dev/v1alpha1/namespaces/${n}${rest}`;
    expect(await may('GET', ns('team-a', '/clusters'))).toBe('Allowed');
    expect(await may('POST', ns('team-a', '/machinedeployments'))).toBe('Allowed');
    expect(await may('GET', '/apis')).toBe('Allowed');
    expect(await may('GET', ns('team-b', '/clusters'))).toBe('ImplicitlyDenied');
    expect(await may('GET', '/apis/clusterless.dev/v1alpha1/clusters')).toBe('ImplicitlyDenied');
    expect(await may('PUT', ns('team-a', '/machines/m1/status'))).toBe('ExplicitlyDenied');
    expect(await may('GET', ns('team-a', '/clusters/c1/kubeconfig'))).toBe('ExplicitlyDenied');
  });

  it.each([
    { name: 'no Authorization header', token: async () => undefined },
    { name: 'a token of another audience', token: () => tokenOf(TEAM_A, { audience: 'otherapi01' }) },
    { name: 'an expired token', token: () => tokenOf(TEAM_A, { now: new Date(NOW.getTime() - 120_000) }) },
    { name: 'a token for AWS’s STS edited to last 900 s', token: async () => edited(await tokenOf(), (u) => u.searchParams.set('X-Amz-Expires', '900')) },
  ])('answers Unauthorized (API Gateway’s 401) to $name', async ({ token }) => {
    await expect(authorizer()(event(await token()))).rejects.toThrow(/^Unauthorized$/);
  });

  it('denies everything to a principal STS vouches for that has no access entry (403)', async () => {
    // Act
    const result = await authorizer()(event(await tokenOf(STRANGER)));

    // Assess
    expect(result.principalId).toBe(STRANGER.arn);
    expect(await decide(result.policyDocument as never, { action: 'execute-api:Invoke', resource: METHOD_ARN('GET', '/apis') })).toBe('ExplicitlyDenied');
  });

  it('keeps a decision per token until the token ends, asking STS once', async () => {
    // Prepare
    let now = NOW;
    const authorize = authorizer(ENTRIES, () => now);
    const token = await tokenOf();
    const before = sts.calls.length;

    // Act
    await authorize(event(token));
    now = new Date(NOW.getTime() + 30_000);
    await authorize(event(token, 'GET', '/apis'));
    const cached = sts.calls.length - before;
    now = new Date(NOW.getTime() + 61_000);
    const late = authorize(event(token));

    // Assess
    expect(cached).toBe(1);
    await expect(late).rejects.toThrow(/^Unauthorized$/);
  });

  it('all-namespaces readers read every namespace; a role ARN with a path matches its session', () => {
    const entries: AccessEntry[] = [
      { principalArn: `arn:aws:iam::${ACCOUNT}:role/ops/Operator`, namespaces: ['*'], access: 'read', status: false, kubeconfig: false },
    ];
    const policy = policyFor(`arn:aws:iam::${ACCOUNT}:role/Operator`, entries, METHOD_ARN('GET', '/apis'));
    expect(policy.Statement[1]).toMatchObject({
      Effect: 'Allow',
      Resource: [
        `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/v1/GET/apis/clusterless.dev/v1alpha1/*`,
        `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/v1/GET/apis/events.k8s.io/v1/*`,
      ],
    });
  });

  it('refuses to start on a malformed ACCESS_ENTRIES rather than grant by accident', () => {
    expect(() => parseAccessEntries('{"principalArn":"x"}')).toThrow(/not a JSON list/);
    expect(() => parseAccessEntries('[{"principalArn":"x","namespaces":"team-a","access":"write","status":false,"kubeconfig":false}]')).toThrow(/\[0\]/);
    expect(parseAccessEntries(JSON.stringify(ENTRIES))).toEqual(ENTRIES);
  });
});
