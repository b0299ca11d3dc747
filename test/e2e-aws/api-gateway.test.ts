/**
 * API Gateway of the emulated account (e2e/aws/api-gateway.ts): the template's REST API served on 127.0.0.1, requests
 * signed by the CLI's own SigV4 signer, a recording `authorize` and a fake function behind the proxy integration.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSigV4Signer } from '../../cli/sigv4.js';
import { AccessDeniedError, type AuthorizationRequest, type Invoke, type InvokeResult, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { type InvokeWithResponseStream, LambdaRuntime } from '../../e2e/aws/lambda-runtime.js';
import { Deployment, type TemplateJson } from '../../e2e/aws/template.js';
import { placeholderPhysicalIds } from '../support/emulated-stack.js';

const API_ID = 'a1b2c3d4e5';
const GROUP = '/apis/clusterless.dev/v1alpha1';
let template: TemplateJson;
let stackName: string;
let dir: string;
let ids: { api: string; stage: string; http: string; kubeconfig: string; writer: string };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'api-gateway-'));
  const assembly = synthesize(dir, { bundle: false });
  template = assembly.template;
  stackName = assembly.stackName;
  const ofType = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === type);
  const fn = (name: string) => ofType('AWS::Lambda::Function').find((id) => id.startsWith(name))!;
  ids = {
    api: ofType('AWS::ApiGateway::RestApi')[0]!,
    stage: ofType('AWS::ApiGateway::Stage')[0]!,
    http: fn('httphandler'),
    kubeconfig: fn('kubeconfighandler'),
    writer: assembly.callerRoles.TeamAWriter,
  };
});

function deploy(tweak: (t: TemplateJson) => void = () => {}): Deployment {
  const copy = structuredClone(template);
  tweak(copy);
  const deployment = new Deployment(stackName, copy, dir);
  deployment.setPhysical(ids.api, { ref: API_ID, attributes: { RootResourceId: 'r00t' } });
  deployment.setPhysical(ids.stage, { ref: 'v1', attributes: {} });
  deployment.setPhysical(ids.http, { ref: 'Clusterless-http', attributes: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-http' } });
  deployment.setPhysical(ids.kubeconfig, {
    ref: 'Clusterless-kubeconfig',
    attributes: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-kubeconfig' },
  });
  return deployment;
}

const writer = (): Principal => ({
  name: ids.writer,
  arn: 'arn:aws:iam::123456789012:role/Clusterless-TeamAWriter',
  policies: [],
  credentials: { accessKeyId: 'AKIAE2ETEAMAWRITER01', secretAccessKey: 'team-a-writer-secret' },
});

/** What a response-streaming function writes: the prelude API Gateway reads, 8 NUL bytes, then the body. */
const prelude = (metadata: object) => Buffer.concat([Buffer.from(JSON.stringify(metadata)), Buffer.alloc(8)]);

/** The http function behind a STREAM integration, as a fake: `write` gets its chunks, `signal` the caller leaving. */
type StreamAnswer = (event: any, write: (chunk: Buffer | string) => void, signal: AbortSignal) => Promise<InvokeResult>;

const defaultStream: StreamAnswer = async (_event, write) => {
  write(prelude({ statusCode: 201, headers: { 'Content-Type': 'application/json' }, multiValueHeaders: { 'X-Multi': ['a', 'b'] } }));
  write('{"kind":"Status"}');
  return { ok: true, payload: null };
};

interface Fakes {
  events: { fn: string; event: any }[];
  calls: { principal: string; operation: string; requests: AuthorizationRequest[] }[];
}

let gateway: ApiGateway | undefined;
let fakes: Fakes;

async function start(options: { deployment?: Deployment; answer?: (event: any) => InvokeResult; stream?: StreamAnswer } = {}) {
  fakes = { events: [], calls: [] };
  const invokeWithResponseStream: InvokeWithResponseStream = async (fn, event, onChunk, signal) => {
    fakes.events.push({ fn, event });
    return (options.stream ?? defaultStream)(event, (c) => onChunk(Buffer.from(c)), signal ?? new AbortController().signal);
  };
  const invoke: Invoke = async (fn, event) => {
    fakes.events.push({ fn, event });
    return (
      options.answer?.(event) ?? {
        ok: true,
        payload: {
          statusCode: 201,
          headers: { 'Content-Type': 'application/json' },
          multiValueHeaders: { 'X-Multi': ['a', 'b'] },
          body: '{"kind":"Status"}',
          isBase64Encoded: false,
        },
      }
    );
  };
  // team-b is not team-a's writer's.
  const authorize = async (principal: string, operation: string, requests: AuthorizationRequest[]) => {
    fakes.calls.push({ principal, operation, requests });
    if (requests.some((r) => r.resource.includes('/namespaces/team-b/'))) throw new AccessDeniedError(`${principal}: implicitly denied`);
  };
  gateway = await startApiGateway({ deployment: options.deployment ?? deploy(), invoke, invokeWithResponseStream, principals: () => [writer()], authorize });
  return gateway;
}

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function call(
  path: string,
  init: { method?: string; body?: string; credentials?: Principal['credentials'] | null; headers?: Record<string, string> } = {},
) {
  const url = new URL(path.replace(/^\//, ''), gateway!.url);
  const method = init.method ?? 'GET';
  let headers: Record<string, string> = { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers };
  if (init.credentials !== null) {
    const sign = createSigV4Signer({ region: 'us-east-1', credentials: init.credentials ?? writer().credentials });
    headers = await sign({ method, url, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  }
  const res = await fetch(url, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as any) : undefined };
}

describe('API Gateway', () => {
  it('serves the stage URL as the template’s ApiUrl output does', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/$/);
  });

  it('a signed request reaches the route’s function as the REST proxy event, and its response is mapped back', async () => {
    await start();
    const res = await call(`${GROUP}/namespaces/team-a/machinedeployments/md-1?watch=true&x=1&x=2`);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ kind: 'Status' });
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(fakes.calls).toEqual([
      {
        principal: ids.writer,
        operation: 'execute-api:Invoke',
        requests: [
          {
            action: 'execute-api:Invoke',
            resource: `arn:aws:execute-api:us-east-1:123456789012:${API_ID}/v1/GET${GROUP}/namespaces/team-a/machinedeployments/md-1`,
            context: {},
          },
        ],
      },
    ]);
    expect(fakes.events).toHaveLength(1);
    const { fn, event } = fakes.events[0]!;
    expect(fn).toBe(ids.http);
    expect(event).toMatchObject({
      resource: `${GROUP}/namespaces/{namespace}/{plural}/{name}`,
      path: `${GROUP}/namespaces/team-a/machinedeployments/md-1`,
      httpMethod: 'GET',
      queryStringParameters: { watch: 'true', x: '2' },
      multiValueQueryStringParameters: { watch: ['true'], x: ['1', '2'] },
      pathParameters: { namespace: 'team-a', plural: 'machinedeployments', name: 'md-1' },
      stageVariables: null,
      requestContext: {
        accountId: '123456789012',
        apiId: API_ID,
        stage: 'v1',
        httpMethod: 'GET',
        resourcePath: `${GROUP}/namespaces/{namespace}/{plural}/{name}`,
        path: `/v1${GROUP}/namespaces/team-a/machinedeployments/md-1`,
        identity: { userArn: writer().arn, accessKey: writer().credentials.accessKeyId, accountId: '123456789012' },
      },
      body: null,
      isBase64Encoded: false,
    });
    expect(typeof event.requestContext.requestId).toBe('string');
    expect(typeof event.requestContext.identity.caller).toBe('string');
    expect(event.multiValueHeaders['Authorization'] ?? event.multiValueHeaders['authorization']).toHaveLength(1);
  });

  it('prefers a static segment: .../clusters/{name}/kubeconfig goes to the kubeconfig function, .../clusters/{name} is not {plural}', async () => {
    await start();
    expect((await call(`${GROUP}/namespaces/team-a/clusters/c1/kubeconfig`)).status).toBe(201);
    expect((await call(`${GROUP}/namespaces/team-a/clusters/c1`)).status).toBe(201);
    expect((await call(`${GROUP}/namespaces/team-a/clusters/c1/rollback`, { method: 'POST', body: '{}' })).status).toBe(403);
    expect(fakes.events.map((e) => [e.fn, e.event.resource])).toEqual([
      [ids.kubeconfig, `${GROUP}/namespaces/{namespace}/clusters/{name}/kubeconfig`],
      [ids.http, `${GROUP}/namespaces/{namespace}/clusters/{name}`],
    ]);
  });

  it.each([
    ['a path with no resource', 'GET', '/nothing/here'],
    ['a resource without the method', 'DELETE', '/healthz'],
    ['a resource with no method at all', 'GET', `${GROUP}/namespaces/team-a`],
    ['an empty segment', 'GET', `${GROUP}//machines`],
  ])('%s answers 403 Missing Authentication Token', async (_name, method, path) => {
    await start();
    const res = await call(path, { method });
    expect([res.status, res.json]).toEqual([403, { message: 'Missing Authentication Token' }]);
    expect(fakes.events).toEqual([]);
  });

  it('refuses an unsigned request, an unknown key and a wrong signature before IAM is asked', async () => {
    await start();
    const unsigned = await call('/healthz', { credentials: null });
    const unknown = await call('/healthz', { credentials: { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' } });
    const wrong = await call('/healthz', { credentials: { accessKeyId: writer().credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
    expect([unsigned, unknown, wrong].map((r) => [r.status, r.json.message])).toEqual([
      [403, 'Missing Authentication Token'],
      [403, 'The security token included in the request is invalid.'],
      [403, expect.stringMatching(/^The request signature we calculated does not match/)],
    ]);
    expect(fakes.calls).toEqual([]);
    expect(fakes.events).toEqual([]);
  });

  it('an IAM deny answers 403 naming the caller and the resource, is kept in refusals, and invokes nothing', async () => {
    const { refusals } = await start();
    const res = await call(`${GROUP}/namespaces/team-b/clusters`, { method: 'POST', body: '{"kind":"Cluster"}' });
    const resource = `arn:aws:execute-api:us-east-1:123456789012:${API_ID}/v1/POST${GROUP}/namespaces/team-b/clusters`;
    const message = `User: ${writer().arn} is not authorized to perform: execute-api:Invoke on resource: ${resource}`;
    expect([res.status, res.json]).toEqual([403, { message }]);
    expect(refusals).toEqual([{ principal: ids.writer, method: 'POST', path: `${GROUP}/namespaces/team-b/clusters`, resource, message }]);
    expect(fakes.events).toEqual([]);
  });

  it('validates the body where the method has the model: a JSON object passes, anything else is 400', async () => {
    await start();
    const path = `${GROUP}/namespaces/team-a/machinedeployments`;
    const array = await call(path, { method: 'POST', body: '[1]' });
    const text = await call(path, { method: 'POST', body: 'not json' });
    const object = await call(path, { method: 'POST', body: '{"kind":"MachineDeployment"}' });
    const del = await call(`${path}/md-1`, { method: 'DELETE' });
    expect([array, text].map((r) => [r.status, r.json])).toEqual([
      [400, { message: 'Invalid request body' }],
      [400, { message: 'Invalid request body' }],
    ]);
    expect([object.status, del.status]).toEqual([201, 201]);
    expect(fakes.events.map((e) => [e.event.httpMethod, e.event.body])).toEqual([
      ['POST', '{"kind":"MachineDeployment"}'],
      ['DELETE', null],
    ]);
  });

  // The kubeconfig route is the buffered integration (Invoke); the others stream.
  it('a function error answers 502 Internal server error', async () => {
    await start({ answer: () => ({ ok: false, errorType: 'Error', errorMessage: 'boom' }) });
    const res = await call(`${GROUP}/namespaces/team-a/clusters/c1/kubeconfig`);
    expect([res.status, res.json]).toEqual([502, { message: 'Internal server error' }]);
  });

  it('a malformed proxy response answers 502', async () => {
    await start({ answer: () => ({ ok: true, payload: { body: 'no status code' } }) });
    expect((await call(`${GROUP}/namespaces/team-a/clusters/c1/kubeconfig`)).status).toBe(502);
  });

  it('does not invoke a function no AWS::Lambda::Permission lets API Gateway invoke for the route', async () => {
    const deployment = deploy((t) => {
      for (const [id, r] of Object.entries(t.Resources))
        if (r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties).includes('/GET/healthz')) delete t.Resources[id];
    });
    const { errors } = await start({ deployment });
    const res = await call('/healthz');
    expect(res.status).toBe(500);
    expect(fakes.events).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('no AWS::Lambda::Permission')]);
    // Other routes keep their permission.
    expect((await call('/openapi/v3')).status).toBe(201);
  });
});

describe('API Gateway: a REQUEST authorizer (AuthorizationType CUSTOM, the kubectl door)', () => {
  const KUBECTL_API = 'k1b2c3d4e5';
  const allow = (principalId: string, resources: string[], effect = 'Allow') => ({
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: resources }] },
    context: { principalArn: principalId },
  });
  let authorizerIds: { api: string; authorizer: string; fn: string };

  function deployKubectl(tweak: (t: TemplateJson) => void = () => {}): Deployment {
    const deployment = deploy(tweak);
    const ofType = (type: string) => Object.keys(deployment.template.Resources).filter((id) => deployment.template.Resources[id]!.Type === type);
    authorizerIds = {
      api: ofType('AWS::ApiGateway::RestApi').find((id) => id.includes('Kubectl'))!,
      authorizer: ofType('AWS::ApiGateway::Authorizer')[0]!,
      fn: ofType('AWS::Lambda::Function').find((id) => id.startsWith('tokenauthorizerhandler'))!,
    };
    deployment.setPhysical(authorizerIds.api, { ref: KUBECTL_API, attributes: { RootResourceId: 'r00t' } });
    for (const stage of ofType('AWS::ApiGateway::Stage')) deployment.setPhysical(stage, { ref: 'v1', attributes: {} });
    deployment.setPhysical(authorizerIds.authorizer, { ref: 'auth01', attributes: {} });
    deployment.setPhysical(authorizerIds.fn, {
      ref: 'Clusterless-authorizer',
      attributes: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Clusterless-authorizer' },
    });
    return deployment;
  }

  async function startKubectl(authorizer: (event: any) => InvokeResult, deployment = deployKubectl()) {
    fakes = { events: [], calls: [] };
    const invoke: Invoke = async (fn, event) => {
      fakes.events.push({ fn, event });
      if (fn === authorizerIds.fn) return authorizer(event);
      return { ok: false, errorType: 'Error', errorMessage: `${fn} streams` };
    };
    const invokeWithResponseStream: InvokeWithResponseStream = async (fn, event, onChunk) => {
      fakes.events.push({ fn, event });
      onChunk(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"kind":"ClusterList"}')]));
      return { ok: true, payload: null };
    };
    gateway = await startApiGateway({
      deployment,
      invoke,
      invokeWithResponseStream,
      principals: () => [],
      authorize: async () => {},
      restApi: authorizerIds.api,
    });
    return gateway;
  }

  const get = (path: string, token?: string) =>
    fetch(new URL(path.replace(/^\//, ''), gateway!.url), { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (r) => ({
      status: r.status,
      json: (await r.json()) as any,
    }));
  const arn = (method: string, path: string) => `arn:aws:execute-api:us-east-1:123456789012:${KUBECTL_API}/v1/${method}${path}`;

  it('invokes the authorizer with the REQUEST event, evaluates its policy, and passes its principal and context to the function', async () => {
    await startKubectl(() => ({ ok: true, payload: allow('arn:aws:iam::123456789012:role/Team', [arn('GET', `${GROUP}/namespaces/team-a/*`)]) }));
    const res = await get(`${GROUP}/namespaces/team-a/clusters`, 'token-1');
    expect(res.status).toBe(200);
    const [auth, proxied] = fakes.events;
    expect(auth!.event).toMatchObject({ type: 'REQUEST', methodArn: arn('GET', `${GROUP}/namespaces/team-a/clusters`), httpMethod: 'GET' });
    expect(auth!.event.headers['authorization']).toBe('Bearer token-1');
    expect(proxied!.event.requestContext.authorizer).toEqual({
      principalId: 'arn:aws:iam::123456789012:role/Team',
      principalArn: 'arn:aws:iam::123456789012:role/Team',
    });
  });

  it('keeps the answer by identity source: a second request with the same token is not authorized again, another token is', async () => {
    await startKubectl(() => ({ ok: true, payload: allow('p', [arn('GET', '/*')]) }));
    await get('/apis', 'token-1');
    await get('/healthz', 'token-1');
    await get('/apis', 'token-2');
    expect(fakes.events.filter((e) => e.fn === authorizerIds.fn).map((e) => e.event.headers['authorization'])).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('answers 401 without the identity source or when the authorizer says Unauthorized, as the gateway response words it', async () => {
    await startKubectl(() => ({ ok: false, errorType: 'Error', errorMessage: 'Unauthorized' }));
    const missing = await get('/apis');
    const refused = await get('/apis', 'bad');
    expect([missing.status, refused.status]).toEqual([401, 401]);
    expect(refused.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(fakes.events.map((e) => e.fn)).toEqual([authorizerIds.fn]);
  });

  it('answers 403 where the policy does not allow the method ARN, and never invokes the function', async () => {
    const { refusals } = await startKubectl(() => ({ ok: true, payload: allow('p', [arn('GET', `${GROUP}/namespaces/team-a/*`)]) }));
    const res = await get(`${GROUP}/namespaces/team-b/clusters`, 'token-1');
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(refusals).toEqual([expect.objectContaining({ principal: 'p', message: 'User is not authorized to access this resource' })]);
    expect(fakes.events.map((e) => e.fn)).toEqual([authorizerIds.fn]);
  });

  it('words an explicit deny as API Gateway does where the API has no gateway response', async () => {
    const deployment = deployKubectl((t) => {
      for (const [id, r] of Object.entries(t.Resources)) if (r.Type === 'AWS::ApiGateway::GatewayResponse') delete t.Resources[id];
    });
    await startKubectl(() => ({ ok: true, payload: allow('p', [arn('GET', '/*')], 'Deny') }), deployment);
    const res = await get('/apis', 'token-1');
    expect([res.status, res.json]).toEqual([403, { Message: 'User is not authorized to access this resource with an explicit deny' }]);
  });

  it('does not invoke an authorizer no AWS::Lambda::Permission lets API Gateway invoke (500)', async () => {
    const deployment = deployKubectl((t) => {
      for (const [id, r] of Object.entries(t.Resources))
        if (r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties).includes('/authorizers/')) delete t.Resources[id];
    });
    const { errors } = await startKubectl(() => ({ ok: true, payload: allow('p', [arn('GET', '/*')]) }), deployment);
    expect((await get('/apis', 'token-1')).status).toBe(500);
    expect(fakes.events).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('no AWS::Lambda::Permission')]);
  });
});

describe('API Gateway: integrations in STREAM mode (the http function)', () => {
  /** A signed GET whose body is read as it comes. */
  async function open(path: string) {
    const url = new URL(path.replace(/^\//, ''), gateway!.url);
    const headers = await createSigV4Signer({ region: 'us-east-1', credentials: writer().credentials })({ method: 'GET', url, headers: {} });
    const client = new AbortController();
    const res = await fetch(url, { headers, signal: client.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    return {
      res,
      client,
      /** The next piece of the body as it arrived, or undefined at its end. */
      next: async () => {
        const { value, done } = await reader.read();
        return done ? undefined : decoder.decode(value);
      },
    };
  }

  it("sends the prelude's status and headers once the delimiter comes, then each piece as the function writes it, chunked", async () => {
    // Prepare: the prelude split over two writes, the body's first bytes with the delimiter, the second piece held back
    let release: () => void = () => {};
    const later = new Promise<void>((r) => (release = r));
    await start({
      stream: async (_event, write) => {
        const head = prelude({ statusCode: 200, headers: { 'content-type': 'application/json', 'content-length': '999' }, cookies: ['a=1'] });
        write(head.subarray(0, 5));
        write(Buffer.concat([head.subarray(5), Buffer.from('{"type":')]));
        write('"ADDED"}\n');
        await later;
        write('{"type":"MODIFIED"}\n');
        return { ok: true, payload: null };
      },
    });
    // Act
    const watch = await open(`${GROUP}/namespaces/team-a/clusters?watch=true`);
    let first = '';
    while (!first.endsWith('\n')) first += (await watch.next()) ?? '';
    // Assess: status, headers and the first event while the function is still running
    expect(watch.res.status).toBe(200);
    expect(watch.res.headers.get('transfer-encoding')).toBe('chunked');
    expect(watch.res.headers.get('content-length')).toBeNull();
    expect(watch.res.headers.get('set-cookie')).toBe('a=1');
    expect(first).toBe('{"type":"ADDED"}\n');
    release();
    expect(await watch.next()).toBe('{"type":"MODIFIED"}\n');
    expect(await watch.next()).toBeUndefined();
    expect(gateway!.errors).toEqual([]);
  });

  it('closes the function’s stream when the client goes away', async () => {
    let left: () => void = () => {};
    const closed = new Promise<void>((r) => (left = r));
    await start({
      stream: async (_event, write, signal) => {
        write(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"type":"ADDED"}\n')]));
        await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
        left();
        return { ok: true, payload: null };
      },
    });
    const watch = await open(`${GROUP}/namespaces/team-a/clusters?watch=true`);
    expect(await watch.next()).toBe('{"type":"ADDED"}\n');
    watch.client.abort();
    await closed;
    expect(fakes.events).toHaveLength(1);
  });

  it.each([
    ['writes no delimiter (a function not wrapped in streamifyResponse: its result as JSON)', '{"statusCode":200,"body":"x"}', /streamifyResponse/],
    ['writes no delimiter in the first 16 KB', 'x'.repeat(17 * 1024), /first 16384 bytes/],
    ['writes a prelude without a statusCode', Buffer.concat([prelude({ headers: {} }), Buffer.from('x')]), /without a statusCode/],
    ['writes nothing', '', /wrote nothing/],
  ])('answers 502 and logs why when the function %s', async (_what, written, why) => {
    const { errors } = await start({
      stream: async (_event, write) => {
        if (written.length) write(written);
        return { ok: true, payload: null };
      },
    });
    const res = await call('/healthz');
    expect([res.status, res.json]).toEqual([502, { message: 'Internal server error' }]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(why)]);
  });

  it('answers 502 for a function error before the prelude, and cuts the response for one after it', async () => {
    let afterPrelude = false;
    await start({
      stream: async (_event, write) => {
        if (afterPrelude) write(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"type":"ADDED"}\n')]));
        return { ok: false, errorType: 'Runtime.ExitError', errorMessage: 'exit status 1' };
      },
    });
    expect((await call('/healthz')).status).toBe(502);
    afterPrelude = true;
    const watch = await open(`${GROUP}/namespaces/team-a/clusters?watch=true`);
    expect(watch.res.status).toBe(200);
    await expect(
      (async () => {
        while ((await watch.next()) !== undefined);
      })(),
    ).rejects.toThrow();
    expect(gateway!.errors.map((e) => e.message)).toEqual([expect.stringContaining('exit status 1'), expect.stringContaining('exit status 1')]);
  });

  describe("the integration's TimeoutInMillis", () => {
    const shortTimeout = () =>
      deploy((t) => {
        for (const r of Object.values(t.Resources))
          if (r.Type === 'AWS::ApiGateway::Method' && (r.Properties?.['Integration'] as any)?.ResponseTransferMode === 'STREAM')
            (r.Properties!['Integration'] as any).TimeoutInMillis = 300;
      });
    const untilAborted = (signal: AbortSignal) => new Promise<void>((r) => signal.addEventListener('abort', () => r()));

    it('answers 504 when the function has written no prelude by then', async () => {
      await start({
        deployment: shortTimeout(),
        stream: async (_event, _write, signal) => {
          await untilAborted(signal);
          return { ok: true, payload: null };
        },
      });
      const res = await call('/healthz');
      expect([res.status, res.json]).toEqual([504, { message: 'Endpoint request timed out' }]);
    });

    it('cuts a stream still open then, and closes the function’s stream', async () => {
      let closed = false;
      await start({
        deployment: shortTimeout(),
        stream: async (_event, write, signal) => {
          write(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"type":"ADDED"}\n')]));
          await untilAborted(signal);
          closed = true;
          return { ok: true, payload: null };
        },
      });
      const watch = await open(`${GROUP}/namespaces/team-a/clusters?watch=true`);
      expect(await watch.next()).toBe('{"type":"ADDED"}\n');
      await expect(watch.next()).rejects.toThrow();
      expect(closed).toBe(true);
    });
  });

  it('refuses a STREAM integration whose Uri is the Invoke form (500, with the reason in errors)', async () => {
    const deployment = deploy((t) => {
      for (const r of Object.values(t.Resources))
        if (r.Type === 'AWS::ApiGateway::Method' && (r.Properties?.['Integration'] as any)?.ResponseTransferMode === 'STREAM') {
          const integration = r.Properties!['Integration'] as any;
          integration.Uri = JSON.parse(
            JSON.stringify(integration.Uri)
              .replace('2021-11-15/functions/', '2015-03-31/functions/')
              .replace('/response-streaming-invocations', '/invocations'),
          );
        }
    });
    const { errors } = await start({ deployment });
    expect((await call('/healthz')).status).toBe(500);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('STREAM needs the response-streaming-invocations URI')]);
    expect(fakes.events).toEqual([]);
  });

  describe('with the functions run by the emulated Lambda (e2e/aws/lambda-runtime.ts)', () => {
    const STREAMED = `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'application/json' } });
  out.write('{"path":' + JSON.stringify(event.path) + '}\\n');
  if (!event.queryStringParameters?.watch) return out.end();
  // A watch: open until the client goes away.
  await new Promise((resolve) => out.on('close', resolve));
});
`;
    const BUFFERED = `export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.path }) });\n`;
    let runtime: LambdaRuntime | undefined;

    afterEach(async () => {
      await runtime?.stop();
      runtime = undefined;
    });

    /** The http and kubeconfig functions, each running `code` as its bundle. */
    async function startRuntime(code: { http: string; kubeconfig: string }) {
      const deployment = deploy();
      // The functions' environment names the rest of the stack, which nothing here calls.
      placeholderPhysicalIds(deployment, '123456789012');
      const bundles: Record<string, string> = {};
      const principals = new Map<string, Principal>();
      for (const [name, id] of [
        ['http', ids.http],
        ['kubeconfig', ids.kubeconfig],
      ] as const) {
        const bundle = join(dir, `bundle-${name}-${code[name] === STREAMED ? 'streamed' : 'buffered'}`);
        mkdirSync(bundle, { recursive: true });
        writeFileSync(join(bundle, 'index.mjs'), code[name]);
        bundles[id] = bundle;
        const role = deployment.roleOfFunction(id);
        principals.set(role, { ...writer(), name: role });
      }
      runtime = new LambdaRuntime({ deployment, bundles, endpoint: 'http://127.0.0.1:9', principals, logDir: join(dir, 'logs') });
      const results: Promise<InvokeResult>[] = [];
      fakes = { events: [], calls: [] };
      gateway = await startApiGateway({
        deployment,
        invoke: runtime.invoke,
        invokeWithResponseStream: (fn, event, onChunk, signal) => {
          const result = runtime!.invokeWithResponseStream(fn, event, onChunk, signal);
          results.push(result);
          return result;
        },
        principals: () => [writer()],
        authorize: async () => {},
      });
      return results;
    }

    it("streams a streamified function's writes as it writes them, and the client leaving ends its invocation", async () => {
      const results = await startRuntime({ http: STREAMED, kubeconfig: BUFFERED });
      expect((await call('/healthz')).json).toEqual({ path: '/healthz' });
      const watch = await open(`${GROUP}/namespaces/team-a/clusters?watch=true`);
      expect([watch.res.status, watch.res.headers.get('content-type')]).toEqual([200, 'application/json']);
      expect(await watch.next()).toBe(`{"path":"${GROUP}/namespaces/team-a/clusters"}\n`);
      watch.client.abort();
      expect(await results[1]).toEqual({ ok: true, payload: null });
      expect((await call(`${GROUP}/namespaces/team-a/clusters/c1/kubeconfig`)).json).toEqual({ path: `${GROUP}/namespaces/team-a/clusters/c1/kubeconfig` });
      expect(gateway!.errors).toEqual([]);
    });

    it('answers 502, saying why, for a function that does not stream behind STREAM and one that streams behind a buffered integration', async () => {
      await startRuntime({ http: BUFFERED, kubeconfig: STREAMED });
      expect((await call('/healthz')).status).toBe(502);
      expect((await call(`${GROUP}/namespaces/team-a/clusters/c1/kubeconfig`)).status).toBe(502);
      expect(gateway!.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/no prelude delimiter .*is its handler wrapped in awslambda\.streamifyResponse/),
        expect.stringContaining('malformed Lambda proxy response'),
      ]);
    });
  });
});
