/** The REST API of ControlPlaneStack: AWS_IAM everywhere, request validation, logs, throttling, tracing. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAMED_WATCH_SECONDS } from '../../functions/handlers/http.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { controlPlaneTemplate, logicalId, resourcesOf } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

/** The methods of the SigV4 door (the kubectl door's are test/infra/kubectl-door.test.ts's). */
const methods = () =>
  Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .map((m) => m.Properties)
    .filter((p) => JSON.stringify(p['RestApiId']) === JSON.stringify({ Ref: logicalId(app.controlPlane, app.controlPlane.httpApi.api) }));

const BASE = '/apis/clusterless.dev/v1alpha1';
const TRANSFER_ROUTES = [
  `GET ${BASE}/namespaces/{namespace}/clusters/{name}/move`,
  `POST ${BASE}/namespaces/{namespace}/clusters/{name}/move`,
  `POST ${BASE}/namespaces/{namespace}/clusters/{name}/certificates`,
  `POST ${BASE}/namespaces/{namespace}/{plural}/{name}/adopt`,
];
/** A method of the kubeconfig route or of the transfer routes, by its resource's logical id. */
const servedApart = (m: Record<string, unknown>) => /kubeconfig|move|certificates|adopt/.test(JSON.stringify(m['ResourceId']));
/** Each route of the router (functions/api/http/router.ts), as `METHOD path` of API Gateway resources. */
const ROUTES = [
  'GET /healthz',
  'GET /version',
  'GET /api',
  'GET /openapi/v3',
  'GET /openapi/v3/apis/clusterless.dev/v1alpha1',
  'GET /apis',
  'GET /apis/clusterless.dev',
  `GET ${BASE}`,
  `GET ${BASE}/{plural}`,
  ...['{plural}', 'clusters'].flatMap((kind) => [
    `GET ${BASE}/namespaces/{namespace}/${kind}`,
    `POST ${BASE}/namespaces/{namespace}/${kind}`,
    ...['GET', 'PUT', 'PATCH', 'DELETE'].map((m) => `${m} ${BASE}/namespaces/{namespace}/${kind}/{name}`),
    ...['GET', 'PUT', 'PATCH'].map((m) => `${m} ${BASE}/namespaces/{namespace}/${kind}/{name}/status`),
  ]),
  `POST ${BASE}/namespaces/{namespace}/{plural}/{name}/rollback`,
  ...['GET', 'PUT', 'PATCH'].map((m) => `${m} ${BASE}/namespaces/{namespace}/{plural}/{name}/scale`),
  `GET ${BASE}/namespaces/{namespace}/clusters/{name}/kubeconfig`,
  // `clusterless import` and `clusterless move` (the cluster transfer function: test/infra/cluster-transfer.test.ts)
  ...TRANSFER_ROUTES,
  // events.k8s.io/v1, read-only
  'GET /apis/events.k8s.io',
  'GET /apis/events.k8s.io/v1',
  'GET /apis/events.k8s.io/v1/events',
  'GET /apis/events.k8s.io/v1/namespaces/{namespace}/events',
  'GET /apis/events.k8s.io/v1/namespaces/{namespace}/events/{name}',
  // The clusters' cost (functions/metering/cost-route.ts), served by the http handler
  'GET /clusterless/v1/cost',
  'GET /clusterless/v1/namespaces/{namespace}/cost',
];

describe('the HTTP API', () => {
  it('has each route of the router as a resource of its own (status writes, the list across namespaces and the kubeconfig included)', () => {
    expect(app.controlPlane.httpApi.api.methods.map((m) => `${m.httpMethod} ${m.resource.path}`).sort()).toEqual([...ROUTES].sort());
  });

  it('requires AWS_IAM on every method', () => {
    expect(methods().length).toBe(ROUTES.length);
    for (const m of methods()) expect(m['AuthorizationType'], String(m['HttpMethod'])).toBe('AWS_IAM');
  });

  it('has no greedy {proxy+} resource and no catch-all ANY', () => {
    const parts = Object.values(resourcesOf(template, 'AWS::ApiGateway::Resource')).map((r) => String(r.Properties['PathPart']));
    expect(parts.filter((p) => p.includes('+'))).toEqual([]);
    expect(methods().map((m) => m['HttpMethod'])).not.toContain('ANY');
  });

  it('has a request validator of parameters and bodies, used by every method', () => {
    const validator = logicalId(app.controlPlane, app.controlPlane.httpApi.validator);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
    for (const m of methods()) expect(m['RequestValidatorId']).toEqual({ Ref: validator });
  });

  it('requires the path parameters of its route on every method', () => {
    for (const m of app.controlPlane.httpApi.api.methods) {
      const parameters = [...m.resource.path.matchAll(/\{(\w+)\}/g)].map((x) => `method.request.path.${x[1]}`);
      const declared = (resourcesOf(template, 'AWS::ApiGateway::Method')[logicalId(app.controlPlane, m)]!.Properties['RequestParameters'] ?? {}) as Record<
        string,
        boolean
      >;
      expect(declared, `${m.httpMethod} ${m.resource.path}`).toEqual(Object.fromEntries(parameters.map((p) => [p, true])));
    }
  });

  it('validates JSON bodies of POST, PUT and PATCH against the JSON object model', () => {
    const model = logicalId(app.controlPlane, app.controlPlane.httpApi.objectModel);
    template.hasResourceProperties('AWS::ApiGateway::Model', { ContentType: 'application/json', Schema: Match.objectLike({ type: 'object' }) });
    for (const m of methods().filter((x) => ['POST', 'PUT', 'PATCH'].includes(String(x['HttpMethod']))))
      expect(m['RequestModels']).toEqual({ 'application/json': { Ref: model } });
  });

  it('proxies every method but the kubeconfig and transfer routes to the http handler', () => {
    const handler = logicalId(app.controlPlane, app.controlPlane.functions.http.function);
    for (const m of methods().filter((x) => !servedApart(x))) {
      expect(m['Integration']).toMatchObject({ Type: 'AWS_PROXY' });
      expect(JSON.stringify((m['Integration'] as { Uri: unknown }).Uri)).toContain(JSON.stringify({ 'Fn::GetAtt': [handler, 'Arn'] }));
    }
  });

  it('writes access logs to an encrypted log group', () => {
    const stage = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!.Properties;
    const dest = JSON.stringify(stage['AccessLogSetting']);
    const group = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup')).find(([id]) => dest.includes(id));
    expect(group?.[1].Properties['KmsKeyId']).toEqual({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.logs.key), 'Arn'] });
    expect((stage['AccessLogSetting'] as { Format: string }).Format).toContain('$context.identity.caller');
  });

  it('throttles the stage and traces it with X-Ray, without logging bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  it('is a regional endpoint', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });
});

describe('responses stream', () => {
  /** Every method of both RestApis (the SigV4 door and the kubectl door), by route. */
  const allMethods = () => Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => m.Properties);
  const isKubeconfig = (m: Record<string, unknown>) => JSON.stringify(m['ResourceId']).includes('kubeconfig');

  it("streams every http handler route of both doors through InvokeWithResponseStream, waiting the function's 300 s", () => {
    const handler = logicalId(app.controlPlane, app.controlPlane.functions.http.function);
    const streamed = allMethods().filter((m) => !servedApart(m));
    expect(streamed.length).toBe(2 * (ROUTES.length - 1 - TRANSFER_ROUTES.length));
    for (const m of streamed) {
      const integration = m['Integration'] as { Uri: unknown; ResponseTransferMode?: string; TimeoutInMillis?: number };
      expect(integration).toMatchObject({ Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM', TimeoutInMillis: 300_000 });
      const uri = JSON.stringify(integration.Uri);
      expect(uri).toContain(':lambda:path/2021-11-15/functions/');
      expect(uri).toContain(JSON.stringify({ 'Fn::GetAtt': [handler, 'Arn'] }));
      expect(uri).toContain('/response-streaming-invocations');
    }
  });

  it('keeps the kubeconfig route buffered (Invoke, 29 s)', () => {
    const kubeconfig = allMethods().filter(isKubeconfig);
    expect(kubeconfig).toHaveLength(2);
    for (const m of kubeconfig) {
      const integration = m['Integration'] as { Uri: unknown; ResponseTransferMode?: string; TimeoutInMillis?: number };
      expect(integration.ResponseTransferMode ?? 'BUFFERED').toBe('BUFFERED');
      expect(integration.TimeoutInMillis ?? 29_000).toBe(29_000);
      expect(JSON.stringify(integration.Uri)).toContain(':lambda:path/2015-03-31/functions/');
    }
  });

  it("makes both doors regional: a stream may idle 5 minutes there (30 s edge-optimized), longer than the longest watch's 290 s", () => {
    const apis = Object.values(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    expect(apis).toHaveLength(2);
    for (const api of apis) expect(api.Properties['EndpointConfiguration']).toEqual({ Types: ['REGIONAL'] });
    expect(MAX_STREAMED_WATCH_SECONDS).toBeLessThan(300);
  });
});
