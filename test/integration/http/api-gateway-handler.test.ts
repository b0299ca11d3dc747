/**
 * The API Gateway (REST, Lambda proxy) handler fed the events API Gateway really sends, with the store on
 * dynalite: built from the environment as in Lambda, and over given dependencies.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import { MAX_STREAMED_WATCH_SECONDS, boundedWatch, createHandler, depsFromEnvironment, toHttpRequest } from '../../../functions/handlers/http.js';
import type { StreamingHandler } from '../../../functions/handlers/response-stream.js';
import { systemClock } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { machineDeployment, ns } from '../../unit/http/fixtures.js';
import { streamInProcess } from '../../../e2e/aws/lambda-runtime.js';

let dynalite: RunningDynalite;
let client: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = emulatorDynamoDbClient(dynalite.endpoint);
  tableName = (await newTableStore(client)).tableName;
});

afterAll(async () => {
  client?.destroy();
  await dynalite?.stop();
});

/** A REST API proxy event as API Gateway sends it for `ANY /{proxy+}` with AWS_IAM auth. */
function proxyEvent(
  method: string,
  path: string,
  options: { body?: string; base64?: boolean; headers?: Record<string, string>; query?: Record<string, string[]> } = {},
): APIGatewayProxyEvent {
  const headers = {
    Accept: 'application/json',
    Host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'clusterless-cli/0.1.0',
    'X-Amz-Date': '20260101T000000Z',
    'X-Amzn-Trace-Id': 'Root=1-67891233-abcdef012345678912345678',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...options.headers,
  };
  const query = options.query ?? null;
  const body = options.body === undefined ? null : options.base64 ? Buffer.from(options.body).toString('base64') : options.body;
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]!])),
    multiValueQueryStringParameters: query,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      extendedRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      httpMethod: method,
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLE:session',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: 'AROAEXAMPLE:session',
        userAgent: 'clusterless-cli/0.1.0',
        userArn: 'arn:aws:sts::123456789012:assumed-role/platform/session',
      },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTime: '01/Jan/2026:00:00:00 +0000',
      requestTimeEpoch: 1767225600000,
      resourceId: 'abc123',
      resourcePath: '/{proxy+}',
      stage: 'prod',
    },
  };
}

/** Invokes the streaming handler as InvokeWithResponseStream does, and reads its answer as API Gateway does: the prelude up to 8 NULs, then the body. */
async function invoke(handler: StreamingHandler, event: APIGatewayProxyEvent): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const chunks: Buffer[] = [];
  const result = await streamInProcess(handler, event, (chunk) => chunks.push(chunk));
  expect(result).toEqual({ ok: true, payload: null });
  const written = Buffer.concat(chunks);
  const at = written.indexOf(Buffer.alloc(8));
  expect(at).toBeGreaterThan(0);
  return {
    ...(JSON.parse(written.subarray(0, at).toString('utf8')) as { statusCode: number; headers: Record<string, string> }),
    body: written.subarray(at + 8).toString('utf8'),
  };
}

/** Runs `fn` with these variables set in process.env (as Lambda sets them), and puts the old values back. */
async function withEnv(extra: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const env = {
    TABLE_NAME: tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    ...extra,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

describe('API Gateway proxy handler', () => {
  it('builds the store from TABLE_NAME and the AWS environment, once per container', async () => {
    let builds = 0;
    await withEnv({}, async () => {
      const handler = createHandler(() => {
        builds++;
        return depsFromEnvironment();
      });
      // Prepare: a YAML body, base64-encoded as API Gateway sends binary media types.
      const yaml = 'apiVersion: clusterless.dev/v1alpha1\nkind: MachineClass\nmetadata: {name: small, namespace: team-a}\nspec: {sim: {}}\n';
      // Act
      const created = await invoke(
        handler,
        proxyEvent('POST', ns('team-a', 'machineclasses'), { body: yaml, base64: true, headers: { 'Content-Type': 'application/yaml' } }),
      );
      const got = await invoke(handler, proxyEvent('GET', ns('team-a', 'machineclasses', 'small')));
      // Assess
      expect(created.statusCode).toBe(201);
      expect(created.headers).toMatchObject({ 'content-type': 'application/json' });
      expect(JSON.parse(got.body)).toMatchObject({ kind: 'MachineClass', metadata: { name: 'small', namespace: 'team-a' } });
      expect(builds).toBe(1);
    });
  });

  it("never signs a kubeconfig, even with the secrets key and certificates there: the route is the kubeconfig function's", async () => {
    // Arrange: a cluster with certificates on moto, and every secrets variable in the API function's environment.
    const moto = motoEndpoint();
    const prefix = `${uniqueName('kc')}/`;
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000001';
    const secrets = createSecretsManagerClient(emulatorClientConfig(moto));
    await withEnv(
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: moto, SECRETS_KMS_KEY_ARN: kmsKeyId, SECRETS_NAME_PREFIX: prefix, INSTALLATION_ID: 'test-installation' },
      async () => {
        const handler = createHandler(() => depsFromEnvironment());
        const cluster = {
          apiVersion: 'clusterless.dev/v1alpha1',
          kind: 'Cluster',
          metadata: { name: 'prod', namespace: 'team-k' },
          spec: {
            controlPlaneEndpoint: { host: 'prod.k8s.test' },
            provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
          },
        };
        expect(
          (
            await invoke(
              handler,
              proxyEvent('POST', ns('team-k', 'clusters'), { body: JSON.stringify(cluster), headers: { 'Content-Type': 'application/json' } }),
            )
          ).statusCode,
        ).toBe(201);
        const bootstrap = new KubeadmBootstrapper({
          secrets: new SecretsManagerSecretStore({ client: secrets, kmsKeyId, installationId: 'test-installation' }),
          clock: systemClock,
          secretPrefix: prefix,
        });
        await bootstrap.ensureCertificates('team-k', 'prod');
        // Act
        const res = await invoke(handler, proxyEvent('GET', `${ns('team-k', 'clusters', 'prod')}/kubeconfig`));
        // Assess: no kubeconfig, a Status; the key never leaves the kubeconfig function (test/infra/handlers/kubeconfig.test.ts).
        expect(res.statusCode).toBe(404);
        expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
      },
    ).finally(() => secrets.destroy());
  });

  it('caps replicas at MAX_MACHINE_DEPLOYMENT_REPLICAS, 1000 when it is unset or empty', async () => {
    const md = (name: string, replicas: number) =>
      JSON.stringify({ ...machineDeployment(name, 'limits'), spec: { ...(machineDeployment().spec as object), replicas } });
    const post = (handler: ReturnType<typeof createHandler>, name: string, replicas: number) =>
      invoke(handler, proxyEvent('POST', ns('limits', 'machinedeployments'), { body: md(name, replicas), headers: { 'Content-Type': 'application/json' } }));
    await withEnv({ MAX_MACHINE_DEPLOYMENT_REPLICAS: '3' }, async () => {
      const handler = createHandler(() => depsFromEnvironment());
      const refused = await post(handler, 'over', 4);
      expect(refused.statusCode).toBe(422);
      expect(JSON.parse(refused.body).details.causes).toEqual([expect.objectContaining({ field: 'spec.replicas' })]);
      expect((await post(handler, 'at', 3)).statusCode).toBe(201);
    });
    await withEnv({ MAX_MACHINE_DEPLOYMENT_REPLICAS: '' }, async () => {
      const handler = createHandler(() => depsFromEnvironment());
      expect((await post(handler, 'default-over', 1001)).statusCode).toBe(422);
      expect((await post(handler, 'default-at', 1000)).statusCode).toBe(201);
    });
  });

  it.each(['lots', '0', '-5', '1e3', '2.5', '2147483648'])(
    'will not start with MAX_MACHINE_DEPLOYMENT_REPLICAS=%j (a Status 500, never an uncapped API)',
    async (value) => {
      await withEnv({ MAX_MACHINE_DEPLOYMENT_REPLICAS: value }, async () => {
        const handler = createHandler(() => depsFromEnvironment());
        const res = await invoke(handler, proxyEvent('GET', '/healthz'));
        expect(res.statusCode).toBe(500);
        expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'the API is misconfigured; see its log' });
      });
    },
  );

  it('answers with a Status 500 when TABLE_NAME is missing', async () => {
    const handler = createHandler(() => depsFromEnvironment({}));
    const res = await invoke(handler, proxyEvent('GET', '/healthz'));
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'InternalError' });
  });

  it('creates, merge-patches and lists with a label selector through proxy events', async () => {
    const { store } = await newTableStore(client);
    const handler = createHandler({ store });
    const created = await invoke(
      handler,
      proxyEvent('POST', ns('default', 'machinedeployments'), { body: JSON.stringify(machineDeployment()), headers: { 'Content-Type': 'application/json' } }),
    );
    expect(created.statusCode).toBe(201);
    const patched = await invoke(
      handler,
      proxyEvent('PATCH', ns('default', 'machinedeployments', 'md1'), {
        body: '{"spec":{"replicas":5}}',
        headers: { 'Content-Type': 'application/merge-patch+json' },
      }),
    );
    expect(patched.statusCode).toBe(200);
    expect(JSON.parse(patched.body).spec.replicas).toBe(5);
    expect((await store.get('MachineDeployment', 'default', 'md1'))?.spec).toMatchObject({ replicas: 5 });
    const listed = await invoke(
      handler,
      proxyEvent('GET', ns('default', 'machinedeployments'), { query: { labelSelector: ['clusterless.dev/cluster-name=c1'] } }),
    );
    expect(JSON.parse(listed.body).items).toHaveLength(1);
    const none = await invoke(
      handler,
      proxyEvent('GET', ns('default', 'machinedeployments'), { query: { labelSelector: ['clusterless.dev/cluster-name=other'] } }),
    );
    expect(JSON.parse(none.body).items).toHaveLength(0);
  });

  it.each([
    {
      name: 'a base64 body',
      event: () => proxyEvent('PUT', '/x', { body: '{"a":"é"}', base64: true, headers: { 'content-type': 'application/json' } }),
      body: '{"a":"é"}',
    },
    { name: 'a plain body', event: () => proxyEvent('PUT', '/x', { body: '{"a":1}' }), body: '{"a":1}' },
    { name: 'no body', event: () => proxyEvent('GET', '/x'), body: undefined },
  ])('turns an event with $name into the router request', ({ event, body }) => {
    const req = toHttpRequest(event());
    expect(req.body).toBe(body);
    expect(req.path).toBe('/x');
    expect(req.headers?.['x-forwarded-proto']).toBe('https');
  });

  it('takes the first value of a repeated query parameter', () => {
    const req = toHttpRequest(proxyEvent('GET', '/x', { query: { labelSelector: ['a=b', 'c=d'] } }));
    expect(req.query).toEqual({ labelSelector: 'a=b' });
  });
});

describe('watches on API Gateway (streamed)', () => {
  it('lists carry a resourceVersion, and a watch from none answers the objects as ADDED and a bookmark once its timeout ends it', async () => {
    await withEnv({}, async () => {
      // Prepare
      const handler = createHandler(() => depsFromEnvironment());
      const mc = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'small', namespace: 'watch-a' }, spec: { sim: {} } };
      expect(
        (
          await invoke(
            handler,
            proxyEvent('POST', ns('watch-a', 'machineclasses'), { body: JSON.stringify(mc), headers: { 'Content-Type': 'application/json' } }),
          )
        ).statusCode,
      ).toBe(201);
      // Act
      const list = await invoke(handler, proxyEvent('GET', ns('watch-a', 'machineclasses')));
      const watched = await invoke(
        handler,
        proxyEvent('GET', ns('watch-a', 'machineclasses'), { query: { watch: ['true'], allowWatchBookmarks: ['true'], timeoutSeconds: ['1'] } }),
      );
      // Assess
      expect(JSON.parse(list.body).metadata.resourceVersion).toMatch(/^[0-9]+$/);
      expect(watched.statusCode).toBe(200);
      const events = watched.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string } } });
      expect(events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim())).toEqual(['ADDED small', 'BOOKMARK']);
    });
  });

  it.each([
    ['no timeout (kube: 30 minutes)', {}, String(MAX_STREAMED_WATCH_SECONDS)],
    ['timeoutSeconds=0', { timeoutSeconds: '0' }, String(MAX_STREAMED_WATCH_SECONDS)],
    ['a longer timeout', { timeoutSeconds: '300' }, String(MAX_STREAMED_WATCH_SECONDS)],
    ['a shorter timeout', { timeoutSeconds: '5' }, '5'],
    ['a timeout of minutes, under the maximum', { timeoutSeconds: '120' }, '120'],
    ['a malformed timeout (the router answers 400)', { timeoutSeconds: 'soon' }, 'soon'],
  ])('caps a watch of %s at the streamed maximum', (_what, query, expected) => {
    expect(boundedWatch({ method: 'GET', path: '/x', query: { watch: 'true', ...query }, headers: {} }).query?.['timeoutSeconds']).toBe(expected);
  });

  it('leaves a request that is not a watch as it is', () => {
    const req = { method: 'GET', path: '/x', query: { timeoutSeconds: '300' }, headers: {} };
    expect(boundedWatch(req)).toBe(req);
  });
});
