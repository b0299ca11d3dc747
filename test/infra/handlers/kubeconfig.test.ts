/**
 * The kubeconfig function (functions/handlers/kubeconfig.ts) fed the proxy events API Gateway sends for GET
 * .../clusters/{name}/kubeconfig, built from the environment the stack gives it: the store on dynalite, the
 * clusters' certificates in moto's Secrets Manager. It signs with the cluster CA, for an hour unless asked, logs
 * each issue as one audit line, and serves no other route.
 */
import { X509Certificate } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { parse } from 'yaml';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import { BACKDATE_SECONDS, KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import type { ClusterCertificates } from '../../../functions/bootstrap/pki.js';
import { createKubeconfigHandler, kubeconfigDepsFromEnvironment, type KubeconfigIssued } from '../../../functions/handlers/kubeconfig.js';
import { systemClock } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';

const BASE = '/apis/clusterless.dev/v1alpha1';
const KUBECONFIG = `${BASE}/namespaces/team-k/clusters/prod/kubeconfig`;
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000001';
const USER_ARN = 'arn:aws:sts::123456789012:assumed-role/platform/alice';
const INSTALLATION = '0f3c5e1a-7b2d-4c8e-9a6f-1d2e3f4a5b6c';

let dynalite: RunningDynalite;
let client: DynamoDBClient;
let secrets: SecretsManagerClient;
let env: Record<string, string>;
let certs: ClusterCertificates;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = emulatorDynamoDbClient(dynalite.endpoint);
  const { store, tableName } = await newTableStore(client);
  const moto = motoEndpoint();
  const prefix = `${uniqueName('kc')}/`;
  env = {
    TABLE_NAME: tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto,
    SECRETS_KMS_KEY_ARN: KMS_KEY,
    SECRETS_NAME_PREFIX: prefix,
    INSTALLATION_ID: INSTALLATION,
  };
  const cluster = {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod', namespace: 'team-k' },
    spec: {
      controlPlaneEndpoint: { host: 'prod.k8s.test' },
      provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
    },
  };
  expect((await handleRequest(jsonRequest('POST', `${BASE}/namespaces/team-k/clusters`, cluster), { store })).status).toBe(201);
  // The provision task makes the certificates as the cluster's first machine is bootstrapped.
  secrets = createSecretsManagerClient(emulatorClientConfig(moto));
  const bootstrap = new KubeadmBootstrapper({
    secrets: new SecretsManagerSecretStore({ client: secrets, kmsKeyId: KMS_KEY, installationId: INSTALLATION }),
    clock: systemClock,
    secretPrefix: prefix,
  });
  certs = await bootstrap.ensureCertificates('team-k', 'prod');
});

afterAll(async () => {
  secrets?.destroy();
  client?.destroy();
  await dynalite?.stop();
});

/** A REST API proxy event as API Gateway sends it for the kubeconfig resource, signed by USER_ARN. */
function proxyEvent(method: string, path: string, query?: Record<string, string>): APIGatewayProxyEvent {
  const headers = { Accept: 'application/json', Host: 'abc123.execute-api.us-east-1.amazonaws.com', 'User-Agent': 'clusterless-cli/0.1.0' };
  return {
    resource: '/apis/clusterless.dev/v1alpha1/namespaces/{namespace}/clusters/{name}/kubeconfig',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: { namespace: 'team-k', name: 'prod' },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      httpMethod: method,
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLE:alice',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: 'AROAEXAMPLE:alice',
        userAgent: 'clusterless-cli/0.1.0',
        userArn: USER_ARN,
      },
      path: `/v1${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: 1767225600000,
      resourceId: 'abc123',
      resourcePath: '/apis/clusterless.dev/v1alpha1/namespaces/{namespace}/clusters/{name}/kubeconfig',
      stage: 'v1',
    },
  };
}

/** Runs `fn` with the stack's environment in process.env (as Lambda sets it), and puts the old values back. */
async function withEnv<T>(fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** A handler built from the environment, its audit records collected. */
function auditedHandler() {
  const records: KubeconfigIssued[] = [];
  const handler = createKubeconfigHandler(() => ({ ...kubeconfigDepsFromEnvironment(), audit: (r) => void records.push(r) }));
  return { handler, records };
}

const clientCertificate = (body: string) => {
  const kc = parse(body) as { users: { user: { 'client-certificate-data': string } }[] };
  return new X509Certificate(Buffer.from(kc.users[0]!.user['client-certificate-data'], 'base64'));
};
/** What the certificate was issued for (its backdated notBefore aside). */
const lifetimeSeconds = (cert: X509Certificate) => (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / 1000 - BACKDATE_SECONDS;

describe('the kubeconfig function', () => {
  it('signs an admin kubeconfig with the cluster CA, valid for an hour, and audits who got it', async () => {
    await withEnv(async () => {
      const { handler, records } = auditedHandler();
      // Act
      const res = await handler(proxyEvent('GET', KUBECONFIG));
      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({ 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' });
      const cert = clientCertificate(res.body);
      expect(cert.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
      expect(lifetimeSeconds(cert)).toBe(3600);
      expect(records).toEqual([
        {
          audit: 'AdminKubeconfigIssued',
          namespace: 'team-k',
          cluster: 'prod',
          expirationSeconds: 3600,
          notAfter: new Date(cert.validTo).toISOString(),
          caller: { userArn: USER_ARN, caller: 'AROAEXAMPLE:alice', accountId: '123456789012', sourceIp: '203.0.113.7', userAgent: 'clusterless-cli/0.1.0' },
          requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
        },
      ]);
    });
  });

  it('issues for expirationSeconds when asked', async () => {
    await withEnv(async () => {
      const { handler, records } = auditedHandler();
      const res = await handler(proxyEvent('GET', KUBECONFIG, { expirationSeconds: '7200' }));
      expect(res.statusCode).toBe(200);
      expect(lifetimeSeconds(clientCertificate(res.body))).toBe(7200);
      expect(records.map((r) => r.expirationSeconds)).toEqual([7200]);
    });
  });

  it('audits the token authorizer’s principal as the caller of a request through the kubectl door (no SigV4 identity)', async () => {
    await withEnv(async () => {
      const { handler, records } = auditedHandler();
      const event = proxyEvent('GET', KUBECONFIG);
      const viaKubectl = {
        ...event,
        requestContext: { ...event.requestContext, authorizer: { principalId: USER_ARN }, identity: { ...event.requestContext.identity, userArn: null } },
      };
      expect((await handler(viaKubectl as never)).statusCode).toBe(200);
      expect(records.map((r) => r.caller.userArn)).toEqual([USER_ARN]);
    });
  });

  it('refuses an expiration beyond the maximum with a 400 Status naming expirationSeconds, and issues nothing', async () => {
    await withEnv(async () => {
      const { handler, records } = auditedHandler();
      const res = await handler(proxyEvent('GET', KUBECONFIG, { expirationSeconds: '172800' }));
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'expirationSeconds' }] } });
      expect(records).toEqual([]);
    });
  });

  it('writes each issue as one structured log line, without the key or the certificate', async () => {
    await withEnv(async () => {
      const handler = createKubeconfigHandler(() => kubeconfigDepsFromEnvironment());
      const lines: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
      let body: string;
      try {
        body = (await handler(proxyEvent('GET', KUBECONFIG))).body;
      } finally {
        write.mockRestore();
      }
      const issued = lines.filter((l) => l.includes('AdminKubeconfigIssued'));
      expect(issued).toHaveLength(1);
      const record = JSON.parse(issued[0]!) as Record<string, unknown>;
      expect(record).toMatchObject({ level: 'INFO', message: 'admin kubeconfig issued', namespace: 'team-k', cluster: 'prod', caller: { userArn: USER_ARN } });
      const kc = parse(body) as { users: { user: Record<string, string> }[] };
      expect(issued[0]).not.toContain(kc.users[0]!.user['client-key-data']!.slice(0, 40));
      expect(issued[0]).not.toContain(kc.users[0]!.user['client-certificate-data']!.slice(0, 40));
      expect(issued[0]).not.toMatch(/PRIVATE KEY/);
    });
  });

  it.each([
    ['GET', `${BASE}/namespaces/team-k/clusters/prod`],
    ['PUT', `${BASE}/namespaces/team-k/clusters/prod`],
    ['GET', `${BASE}/clusters`],
    ['GET', `${BASE}/namespaces/team-k/clusters/prod/kubeconfig/x`],
  ])('serves no other route: %s %s is a 404', async (method, path) => {
    await withEnv(async () => {
      const { handler, records } = auditedHandler();
      const res = await handler(proxyEvent(method, path));
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
      expect(records).toEqual([]);
    });
  });

  it('answers with a Status 500 when the secrets key is not set', async () => {
    const handler = createKubeconfigHandler(() => kubeconfigDepsFromEnvironment({ TABLE_NAME: 'objects' }));
    const res = await handler(proxyEvent('GET', KUBECONFIG));
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'InternalError' });
  });
});
