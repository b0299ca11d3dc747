/**
 * The cluster transfer function's handler (functions/handlers/cluster-transfer.ts) fed the proxy events API Gateway
 * sends: it serves the routes of `clusterless import` and `clusterless move` only (anything else is a 404 without a
 * read), and logs each step as one audit line naming the caller and never a body.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import type { ClusterImportHooks } from '../../../functions/api/http/cluster-import.js';
import { createClusterTransferHandler, type TransferServed } from '../../../functions/handlers/cluster-transfer.js';

const NS = '/apis/clusterless.dev/v1alpha1/namespaces/team-a';
const INSTALLATION = '0f3c5e1a-7b2d-4c8e-9a6f-1d2e3f4a5b6c';
const USER_ARN = 'arn:aws:sts::123456789012:assumed-role/platform/alice';

function proxyEvent(method: string, path: string, o: { body?: unknown; principalId?: string } = {}): APIGatewayProxyEvent {
  const headers: Record<string, string> = { Accept: 'application/json', ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  return {
    resource: '',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: o.body === undefined ? null : JSON.stringify(o.body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      authorizer: o.principalId ? { principalId: o.principalId } : null,
      identity: { userArn: o.principalId ? null : USER_ARN, caller: null, accountId: null, sourceIp: '203.0.113.7', userAgent: null },
    },
  } as unknown as APIGatewayProxyEvent;
}

function setup() {
  const store = new MemoryStore();
  const audits: TransferServed[] = [];
  const hooks: ClusterImportHooks = {
    importCertificates: vi.fn(async () => true),
    isAdopted: vi.fn(async () => false),
    adoptInstance: vi.fn(async () => undefined),
  };
  const handler = createClusterTransferHandler({
    store,
    clusterImport: hooks,
    move: { installationId: INSTALLATION, handovers: {} },
    audit: (r) => audits.push(r),
  });
  return { store, audits, handler, hooks };
}

describe('the cluster transfer handler', () => {
  it.each([
    ['GET', `${NS}/clusters/prod`],
    ['POST', `${NS}/clusters`],
    ['PUT', `${NS}/clusters/prod/move`],
    ['GET', `${NS}/clusters/prod/certificates`],
    ['POST', `${NS}/machines/m-1/move`],
    ['POST', `${NS}/clusters/prod/adopt`],
    ['GET', `${NS}/clusters/prod/kubeconfig`],
    ['constructor', `${NS}/clusters/prod/move`],
  ])('refuses %s %s with a 404, reading nothing', async (method, path) => {
    // Prepare
    const { store, audits, handler } = setup();
    const get = vi.spyOn(store, 'get');
    const list = vi.spyOn(store, 'list');

    // Act
    const result = await handler(proxyEvent(method, path));

    // Assess
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    expect(get).not.toHaveBeenCalled();
    expect(list).not.toHaveBeenCalled();
    expect(audits).toEqual([]);
  });

  it("answers GET .../move with this installation's id and audits it with the SigV4 caller", async () => {
    const { audits, handler } = setup();

    const result = await handler(proxyEvent('GET', `${NS}/clusters/prod/move`));

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ installationId: INSTALLATION, objects: [] });
    expect(audits).toEqual([{ audit: 'ClusterTransfer', method: 'GET', path: `${NS}/clusters/prod/move`, status: 200, caller: USER_ARN, requestId: 'req-1' }]);
  });

  it("audits a move step by its name and the token door's principal, never its body", async () => {
    const { audits, handler } = setup();

    const result = await handler(
      proxyEvent('POST', `${NS}/clusters/prod/move`, {
        body: { step: 'Import', object: { secret: 'a CA key' } },
        principalId: 'arn:aws:iam::123456789012:role/ops',
      }),
    );

    expect(result.statusCode).toBeGreaterThanOrEqual(400); // nothing to import it from: the router's answer, audited all the same
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ step: 'Import', caller: 'arn:aws:iam::123456789012:role/ops', status: result.statusCode });
    expect(JSON.stringify(audits[0])).not.toContain('a CA key');
  });

  it('serves POST .../machines/{name}/adopt through the import hooks', async () => {
    const { handler } = setup();

    const result = await handler(proxyEvent('POST', `${NS}/machines/m-1/adopt`, { body: { instanceId: 'i-0123456789abcdef0', capaClusterName: 'prod' } }));

    // No such Machine here: the route's own answer, which only the router gives (API Gateway's 404 has another body).
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body).details).toMatchObject({ kind: 'machines', name: 'm-1' });
  });
});
