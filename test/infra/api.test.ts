/** The REST API of ControlPlaneStack: AWS_IAM everywhere, request validation, logs, throttling, tracing. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { controlPlaneTemplate, logicalId, resourcesOf } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

const methods = () => Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => m.Properties);

describe('the HTTP API', () => {
  it('serves /healthz, /openapi/v3, /apis and everything under /apis', () => {
    const parts = Object.values(resourcesOf(template, 'AWS::ApiGateway::Resource')).map((r) => r.Properties['PathPart']);
    expect(parts.sort()).toEqual(['apis', 'healthz', 'openapi', 'v3', '{proxy+}'].sort());
  });

  it('requires AWS_IAM on every method', () => {
    expect(methods().length).toBeGreaterThanOrEqual(8);
    for (const m of methods()) expect(m['AuthorizationType'], String(m['HttpMethod'])).toBe('AWS_IAM');
  });

  it('has the verbs of the resource API under /apis/{proxy+} and no catch-all ANY', () => {
    const proxy = logicalId(app.controlPlane, app.controlPlane.httpApi.api.root.getResource('apis')!.getResource('{proxy+}')!);
    const verbs = methods().filter((m) => (m['ResourceId'] as { Ref: string }).Ref === proxy).map((m) => m['HttpMethod']);
    expect(verbs.sort()).toEqual(['DELETE', 'GET', 'PATCH', 'POST', 'PUT']);
    expect(methods().map((m) => m['HttpMethod'])).not.toContain('ANY');
  });

  it('has a request validator of parameters and bodies, used by every method', () => {
    const validator = logicalId(app.controlPlane, app.controlPlane.httpApi.validator);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
    for (const m of methods()) expect(m['RequestValidatorId']).toEqual({ Ref: validator });
  });

  it('requires the proxy path parameter on proxy methods', () => {
    const proxied = methods().filter((m) => JSON.stringify(m['ResourceId']).includes('proxy'));
    expect(proxied.length).toBe(5);
    for (const m of proxied) expect(m['RequestParameters']).toEqual({ 'method.request.path.proxy': true });
  });

  it('validates JSON bodies of POST, PUT and PATCH against the JSON object model', () => {
    const model = logicalId(app.controlPlane, app.controlPlane.httpApi.objectModel);
    template.hasResourceProperties('AWS::ApiGateway::Model', { ContentType: 'application/json', Schema: Match.objectLike({ type: 'object' }) });
    for (const m of methods().filter((x) => ['POST', 'PUT', 'PATCH'].includes(String(x['HttpMethod']))))
      expect(m['RequestModels']).toEqual({ 'application/json': { Ref: model } });
  });

  it('proxies every method to the http handler', () => {
    const handler = logicalId(app.controlPlane, app.controlPlane.functions.http.function);
    for (const m of methods()) {
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
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR', DataTraceEnabled: false })],
    });
  });

  it('is a regional endpoint', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });
});
