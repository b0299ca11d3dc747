/**
 * API Gateway (REST API, Lambda proxy) of the emulated account: an HTTP server on 127.0.0.1 that serves the template's
 * AWS::ApiGateway::RestApi at `/{stage}/...` as execute-api would:
 *
 * - routing on the resource tree (AWS::ApiGateway::Resource PathPart and ParentId; `{param}` segments, a static
 *   segment preferred); a path with no resource, or a resource without the method, answers 403
 *   {"message":"Missing Authentication Token"} (https://repost.aws/knowledge-center/api-gateway-authentication-token-errors);
 * - AuthorizationType AWS_IAM: the SigV4 signature (service execute-api) checked with the caller's credentials
 *   (local/sigv4-verifier.ts, the SDK's own signer), then IAM through `authorize` on
 *   `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`; a deny answers 403 as API Gateway words
 *   it and is kept in `refusals` (the scenario checks refusals on purpose);
 * - AuthorizationType CUSTOM with a REQUEST authorizer (AWS::ApiGateway::Authorizer): a request without the identity
 *   source answers 401 {"message":"Unauthorized"}; otherwise the authorizer function is invoked (only if an
 *   AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it for `{api}/authorizers/{id}`) with the REQUEST
 *   event, its answer is kept by identity source for AuthorizerResultTtlInSeconds, and its policy document is evaluated
 *   against the method ARN: an error `Unauthorized` answers 401, a deny 403 {"Message":"User is not authorized to
 *   access this resource[ with an explicit deny]"}, any other failure 500; the principal id and context reach the
 *   function as requestContext.authorizer
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html). The API's
 *   AWS::ApiGateway::GatewayResponse (ACCESS_DENIED, UNAUTHORIZED) replace those answers, their templates sent as
 *   they are (no $context variables);
 * - request validators: the method's required request parameters, and a body that must be a JSON object where the
 *   method has a model (the only schema the template declares: `type: object`), 400 otherwise;
 * - the integration (AWS_PROXY, whose Uri names the function), invoked only if an AWS::Lambda::Permission lets
 *   apigateway.amazonaws.com invoke it for the method's ARN (otherwise 500, as a missing permission does);
 * - the proxy event of REST APIs (payload 1.0) and its response mapping
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html); a function
 *   error or a malformed response answers 502 {"message": "Internal server error"};
 * - an integration in STREAM mode (ResponseTransferMode STREAM, its Uri the `2021-11-15/.../response-streaming-invocations`
 *   form) invokes the function with InvokeWithResponseStream, reads the prelude up to its 8 NUL bytes (within the first
 *   16 KB), sends its status and headers, then the rest chunked as the function writes it, until the function ends
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html). A function that
 *   writes no prelude (one not wrapped in streamifyResponse) answers 502, and a streamified function behind a buffered
 *   integration answers a payload that is no proxy result: 502 too, each with a line in `errors`. The client going
 *   away closes the function's stream;
 * - the integration's TimeoutInMillis (29 s unless set): a function that has not answered by then is answered 504
 *   {"message": "Endpoint request timed out"}, and a stream still open then is cut.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type SigV4Verifier, sigV4Verifier } from '../../local/sigv4-verifier.js';
import { ACCOUNT, AccessDeniedError, type Authorize, type Invoke, type Json, PARTITION, type PolicyDocument, type Principal, REGION } from './account.js';
import { functionLogicalId, lambdaPermits } from './event-sources/common.js';
import { evaluate } from './iam/evaluate.js';
import type { InvokeWithResponseStream } from './lambda-runtime.js';
import type { Deployment } from './template.js';

export interface ApiGatewayOptions {
  deployment: Deployment;
  invoke: Invoke;
  /**
   * InvokeWithResponseStream, for the integrations in STREAM mode. @default - none: a STREAM integration answers 500
   * and says so in `errors`
   */
  invokeWithResponseStream?: InvokeWithResponseStream;
  /** The callers API Gateway knows the credentials of (the scenario's callers' roles). */
  principals: () => Principal[];
  authorize: Authorize;
  /**
   * The logical id of the RestApi to serve. @default - the template's only one, or the one without an authorizer (the
   * SigV4 door) when it has several
   */
  restApi?: string;
  /**
   * Serve https with this certificate, as execute-api does (kubectl runs exec credential plugins for https servers
   * only). @default - plain http
   */
  tls?: { cert: string; key: string };
}

/** A request IAM refused: what the caller was told, and who it was. */
export interface ApiRefusal {
  principal: string;
  method: string;
  /** The path under the stage, as requested. */
  path: string;
  /** The execute-api ARN that was refused. */
  resource: string;
  message: string;
}

export interface ApiGateway {
  /** The stage URL, as the template's ApiUrl output: http://127.0.0.1:{port}/{stage}/. */
  url: string;
  apiId: string;
  stage: string;
  refusals: ApiRefusal[];
  /** What API Gateway would log as an execution error: a missing Lambda permission, a malformed function response. */
  errors: Error[];
  stop(): Promise<void>;
}

/** API Gateway's payload limit. */
const MAX_BODY = 10 * 1024 * 1024;
/** An integration's TimeoutInMillis when the template sets none. */
const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;
/** A streamed response's prelude and its delimiter must come within this many bytes. */
const MAX_PRELUDE_BYTES = 16 * 1024;
const PRELUDE_DELIMITER = Buffer.alloc(8);
/** The function ARN of an integration or authorizer URI: the Invoke form, or InvokeWithResponseStream's. */
const BUFFERED_URI = /:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/;
const STREAMING_URI = /:lambda:path\/2021-11-15\/functions\/(.+)\/response-streaming-invocations$/;
const TIMED_OUT = { message: 'Endpoint request timed out' };

interface ApiResource {
  id: string;
  pathPart: string;
  children: ApiResource[];
  /** The resource path, e.g. `/apis/{group}`. */
  path: string;
}

interface ApiMethod {
  id: string;
  authorization: string;
  /** The AWS::ApiGateway::Authorizer of a CUSTOM method. */
  authorizerId?: string;
  integration: { type: string; uri: Json; stream: boolean; timeoutMs: number };
  validator?: { body: boolean; parameters: boolean };
  requiredParameters: string[];
  models: Record<string, string>;
}

const ROOT = '(root)';

interface ApiAuthorizer {
  id: string;
  type: string;
  /** The header of `method.request.header.{name}`. */
  header: string;
  ttlSeconds: number;
  uri: Json;
}

interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  body?: string;
}

/** The template's API, read once: the resource tree, its methods, the stage. */
function readApi(deployment: Deployment, restApi?: string) {
  const all = deployment.ofType('AWS::ApiGateway::RestApi');
  const refs = (id: string) => (other: string) => JSON.stringify(deployment.resource(other).Properties?.['RestApiId']) === JSON.stringify({ Ref: id });
  const apiId = restApi ?? (all.length === 1 ? all[0] : all.find((id) => !deployment.ofType('AWS::ApiGateway::Authorizer').some(refs(id))));
  if (!apiId || !all.includes(apiId)) throw new Error(`the template has no AWS::ApiGateway::RestApi ${restApi ?? ''}`);
  const isOurs = (p: Record<string, Json>) => JSON.stringify(p['RestApiId']) === JSON.stringify({ Ref: apiId });
  /** A ResourceId or ParentId: a Resource's Ref, or the API's root. */
  const resourceOf = (v: Json | undefined): string => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if ('Ref' in v) return String(v['Ref']);
      const att = v['Fn::GetAtt'] as string[] | undefined;
      if (att?.[0] === apiId && att[1] === 'RootResourceId') return ROOT;
    }
    throw new Error(`an API resource reference the emulated API Gateway cannot follow: ${JSON.stringify(v)}`);
  };
  const nodes = new Map<string, ApiResource>([[ROOT, { id: ROOT, pathPart: '', children: [], path: '/' }]]);
  const parents = new Map<string, string>();
  for (const id of deployment.ofType('AWS::ApiGateway::Resource')) {
    const p = deployment.resource(id).Properties ?? {};
    if (!isOurs(p)) continue;
    nodes.set(id, { id, pathPart: String(p['PathPart']), children: [], path: '' });
    parents.set(id, resourceOf(p['ParentId']));
  }
  for (const [id, parent] of parents) nodes.get(parent)?.children.push(nodes.get(id)!);
  const setPaths = (node: ApiResource) => {
    for (const c of node.children) {
      c.path = `${node.path === '/' ? '' : node.path}/${c.pathPart}`;
      setPaths(c);
    }
  };
  setPaths(nodes.get(ROOT)!);

  const validators = new Map<string, { body: boolean; parameters: boolean }>();
  for (const id of deployment.ofType('AWS::ApiGateway::RequestValidator')) {
    const p = deployment.resource(id).Properties ?? {};
    if (isOurs(p)) validators.set(id, { body: p['ValidateRequestBody'] === true, parameters: p['ValidateRequestParameters'] === true });
  }
  const methods = new Map<string, Map<string, ApiMethod>>();
  for (const id of deployment.ofType('AWS::ApiGateway::Method')) {
    const p = deployment.resource(id).Properties ?? {};
    if (!isOurs(p)) continue;
    const resource = resourceOf(p['ResourceId']);
    const integration = (p['Integration'] ?? {}) as { Type?: string; Uri?: Json; ResponseTransferMode?: string; TimeoutInMillis?: number };
    const validatorRef = (p['RequestValidatorId'] as { Ref?: string } | undefined)?.Ref;
    const validator = validatorRef ? validators.get(validatorRef) : undefined;
    const models = Object.fromEntries(
      Object.entries((p['RequestModels'] ?? {}) as Record<string, Json>).map(([type, ref]) => [
        type,
        typeof ref === 'string' ? ref : String((ref as { Ref?: string }).Ref),
      ]),
    );
    const byMethod = methods.get(resource) ?? new Map<string, ApiMethod>();
    const authorizerRef = (p['AuthorizerId'] as { Ref?: string } | undefined)?.Ref;
    byMethod.set(String(p['HttpMethod']).toUpperCase(), {
      id,
      authorization: String(p['AuthorizationType'] ?? 'NONE'),
      ...(authorizerRef ? { authorizerId: authorizerRef } : {}),
      integration: {
        type: String(integration.Type ?? ''),
        uri: integration.Uri ?? null,
        stream: integration.ResponseTransferMode === 'STREAM',
        timeoutMs: Number(integration.TimeoutInMillis ?? DEFAULT_INTEGRATION_TIMEOUT_MS),
      },
      ...(validator ? { validator } : {}),
      requiredParameters: Object.entries((p['RequestParameters'] ?? {}) as Record<string, Json>)
        .filter(([, required]) => required === true)
        .map(([name]) => name),
      models,
    });
    methods.set(resource, byMethod);
  }
  const [stageId] = deployment.ofType('AWS::ApiGateway::Stage').filter((id) => isOurs(deployment.resource(id).Properties ?? {}));
  if (!stageId) throw new Error(`the RestApi ${apiId} has no AWS::ApiGateway::Stage`);
  const stageProps = deployment.resource(stageId).Properties ?? {};
  const authorizers = new Map<string, ApiAuthorizer>();
  for (const id of deployment.ofType('AWS::ApiGateway::Authorizer')) {
    const p = deployment.resource(id).Properties ?? {};
    if (!isOurs(p)) continue;
    const source = String(p['IdentitySource'] ?? '');
    const header = /^method\.request\.header\.([A-Za-z0-9-]+)$/.exec(source)?.[1];
    if (!header) throw new Error(`${id}: identity source ${source} is not emulated (one header only)`);
    authorizers.set(id, { id, type: String(p['Type']), header, ttlSeconds: Number(p['AuthorizerResultTtlInSeconds'] ?? 300), uri: p['AuthorizerUri'] ?? null });
  }
  const responses = new Map<string, GatewayResponse>();
  for (const id of deployment.ofType('AWS::ApiGateway::GatewayResponse')) {
    const p = deployment.resource(id).Properties ?? {};
    if (!isOurs(p)) continue;
    const headers = Object.fromEntries(
      Object.entries((p['ResponseParameters'] ?? {}) as Record<string, string>).map(([k, v]) => [
        k.replace(/^gatewayresponse\.header\./, ''),
        v.replace(/^'|'$/g, ''),
      ]),
    );
    const template = (p['ResponseTemplates'] as Record<string, string> | undefined)?.['application/json'];
    responses.set(String(p['ResponseType']), { statusCode: Number(p['StatusCode']), headers, ...(template !== undefined ? { body: template } : {}) });
  }
  return {
    apiLogicalId: apiId,
    authorizers,
    responses,
    stage: String(stageProps['StageName']),
    stageVariables: (stageProps['Variables'] ?? null) as Record<string, string> | null,
    root: nodes.get(ROOT)!,
    methods,
  };
}

/** The resource a path's segments reach, a static segment before a `{param}` one, and its parameters. */
function route(node: ApiResource, segments: string[], params: Record<string, string>): { resource: ApiResource; params: Record<string, string> } | undefined {
  if (segments.length === 0) return { resource: node, params };
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === '') return undefined;
  // A static segment wins outright: what lies below it is not looked for under a `{param}` sibling (the reason
  // infra/constructs/http-api.ts gives `clusters` the routes of `{plural}` too).
  const exact = node.children.find((c) => c.pathPart === head);
  if (exact) return route(exact, rest, params);
  for (const child of node.children) {
    const m = /^\{(\w+)(\+?)\}$/.exec(child.pathPart);
    if (!m) continue;
    let value: string;
    try {
      value = decodeURIComponent(head);
    } catch {
      continue;
    }
    // {proxy+} takes the rest of the path.
    if (m[2] === '+') return { resource: child, params: { ...params, [m[1]!]: [value, ...rest].join('/') } };
    const found = route(child, rest, { ...params, [m[1]!]: value });
    if (found) return found;
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const SIGNATURE_MESSAGES: Record<string, string> = {
  MissingAuthenticationTokenException: 'Missing Authentication Token',
  UnrecognizedClientException: 'The security token included in the request is invalid.',
  InvalidSignatureException:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

/** Header names as the caller sent them (API Gateway keeps their case), from node's raw list. */
function headerMaps(req: IncomingMessage) {
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    multi[name] = [...(multi[name] ?? []), req.rawHeaders[i + 1]!];
  }
  const single = Object.fromEntries(Object.entries(multi).map(([k, vs]) => [k, vs[vs.length - 1]!]));
  return { single, multi };
}

/** The invocation's result, or 'timeout' when it takes longer than `ms` (the invocation goes on, unanswered). */
function within<T>(ms: number, invocation: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([invocation, timedOut]).finally(() => clearTimeout(timer));
}

export async function startApiGateway(options: ApiGatewayOptions): Promise<ApiGateway> {
  const { deployment } = options;
  const api = readApi(deployment, options.restApi);
  const apiId = String(deployment.resolve({ Ref: api.apiLogicalId }));
  const refusals: ApiRefusal[] = [];
  const errors: Error[] = [];
  const verifiers = new Map<string, SigV4Verifier>();
  const executeApiArn = (method: string, path: string) =>
    `arn:${PARTITION}:execute-api:${REGION}:${ACCOUNT}:${apiId}/${api.stage}/${method}/${path.replace(/^\//, '')}`;

  /** What a REQUEST authorizer answered, by identity source, until its TTL ends. */
  const decisions = new Map<string, { until: number; principalId: string; policy: PolicyDocument; context: Record<string, Json> }>();
  type Refusal = [status: number, body: object, gatewayResponseType: 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'AUTHORIZER_CONFIGURATION_ERROR'];

  async function customAuthorization(
    m: ApiMethod,
    req: IncomingMessage,
    method: string,
    path: string,
    resourcePath: string,
    params: Record<string, string>,
    query: URLSearchParams,
  ): Promise<{ refused: Refusal } | { context: Record<string, Json> }> {
    const authorizer = m.authorizerId ? api.authorizers.get(m.authorizerId) : undefined;
    if (authorizer?.type !== 'REQUEST') throw new Error(`${m.id}: only REQUEST authorizers are emulated`);
    const unauthorized: Refusal = [401, { message: 'Unauthorized' }, 'UNAUTHORIZED'];
    const misconfigured: Refusal = [500, { message: null }, 'AUTHORIZER_CONFIGURATION_ERROR'];
    const source = req.headers[authorizer.header.toLowerCase()];
    if (typeof source !== 'string' || source === '') return { refused: unauthorized };
    const methodArn = executeApiArn(method, path);
    let decision = decisions.get(source);
    if (decision && decision.until <= Date.now()) {
      decisions.delete(source);
      decision = undefined;
    }
    if (!decision) {
      const uri = String(deployment.resolve(authorizer.uri));
      const fnArn = BUFFERED_URI.exec(uri)?.[1];
      const functionId = fnArn ? functionLogicalId(deployment, fnArn) : undefined;
      if (!functionId) throw new Error(`${authorizer.id}: the authorizer URI ${uri} names no function of the template`);
      const authorizerArn = `arn:${PARTITION}:execute-api:${REGION}:${ACCOUNT}:${apiId}/authorizers/${String(deployment.resolve({ Ref: authorizer.id }))}`;
      if (!lambdaPermits(deployment, functionId, 'apigateway.amazonaws.com', authorizerArn)) {
        errors.push(new Error(`${authorizer.id}: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke ${functionId} for ${authorizerArn}`));
        return { refused: misconfigured };
      }
      const { single, multi } = headerMaps(req);
      const result = await options.invoke(functionId, {
        type: 'REQUEST',
        methodArn,
        resource: resourcePath,
        path,
        httpMethod: method,
        headers: single,
        multiValueHeaders: multi,
        queryStringParameters: Object.fromEntries(query),
        pathParameters: params,
        stageVariables: api.stageVariables,
        requestContext: { accountId: ACCOUNT, apiId, httpMethod: method, path: `/${api.stage}${path}`, stage: api.stage, resourcePath },
      });
      if (!result.ok) {
        if (result.errorMessage === 'Unauthorized') return { refused: unauthorized };
        errors.push(new Error(`${functionId}: the authorizer failed: ${result.errorType}: ${result.errorMessage}`));
        return { refused: misconfigured };
      }
      const out = result.payload as { principalId?: unknown; policyDocument?: PolicyDocument; context?: Record<string, Json> } | null;
      if (typeof out?.principalId !== 'string' || !Array.isArray(out.policyDocument?.Statement)) {
        errors.push(new Error(`${functionId}: malformed authorizer response ${JSON.stringify(out).slice(0, 200)}`));
        return { refused: misconfigured };
      }
      decision = { until: Date.now() + authorizer.ttlSeconds * 1000, principalId: out.principalId, policy: out.policyDocument!, context: out.context ?? {} };
      if (authorizer.ttlSeconds > 0) decisions.set(source, decision);
    }
    const caller: Principal = {
      name: decision.principalId,
      arn: `arn:${PARTITION}:iam::${ACCOUNT}:role/authorizer-principal`,
      policies: [{ name: 'authorizer policy', policy: decision.policy }],
      credentials: { accessKeyId: '', secretAccessKey: '' },
    };
    const evaluation = await evaluate(caller, { action: 'execute-api:Invoke', resource: methodArn, context: {} });
    if (evaluation.decision !== 'Allowed') {
      const message = `User is not authorized to access this resource${evaluation.decision === 'ExplicitlyDenied' ? ' with an explicit deny' : ''}`;
      refusals.push({ principal: decision.principalId, method, path, resource: methodArn, message });
      return { refused: [403, { Message: message }, 'ACCESS_DENIED'] };
    }
    return { context: { principalId: decision.principalId, ...decision.context } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const idHeader = { 'x-amzn-RequestId': requestId };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const prefix = `/${api.stage}`;
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return send(res, 403, { message: 'Forbidden' }, idHeader);
    const path = url.pathname.slice(prefix.length) || '/';
    // A trailing slash names the same resource.
    const segments = path.split('/').slice(1);
    if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
    const routed = route(api.root, segments, {});
    const m = routed && (api.methods.get(routed.resource.id)?.get(method) ?? api.methods.get(routed.resource.id)?.get('ANY'));
    const missingToken = () =>
      send(res, 403, { message: 'Missing Authentication Token' }, { ...idHeader, 'x-amzn-ErrorType': 'MissingAuthenticationTokenException' });
    if (!routed || !m) return missingToken();

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return send(res, 413, { message: 'Request Too Long' }, idHeader);
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const { single, multi } = headerMaps(req);

    let principal: Principal | undefined;
    let authorizerContext: Record<string, Json> | undefined;
    if (m.authorization === 'AWS_IAM') {
      const authorization = req.headers['authorization'];
      if (!authorization) return missingToken();
      const accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
      principal = options.principals().find((p) => p.credentials.accessKeyId === accessKeyId);
      if (!principal)
        return send(
          res,
          403,
          { message: SIGNATURE_MESSAGES['UnrecognizedClientException'] },
          { ...idHeader, 'x-amzn-ErrorType': 'UnrecognizedClientException' },
        );
      let verifier = verifiers.get(principal.credentials.accessKeyId);
      if (!verifier) {
        verifier = sigV4Verifier({ credentials: principal.credentials, region: REGION, service: 'execute-api' });
        verifiers.set(principal.credentials.accessKeyId, verifier);
      }
      const refusal = await verifier.verify({ method, url: req.url ?? '/', headers: req.headers, body }, new Date());
      if (refusal) return send(res, 403, { message: SIGNATURE_MESSAGES[refusal.type] ?? refusal.message }, { ...idHeader, 'x-amzn-ErrorType': refusal.type });
      const token = principal.credentials.sessionToken;
      if (token !== undefined && req.headers['x-amz-security-token'] !== token)
        return send(
          res,
          403,
          { message: SIGNATURE_MESSAGES['UnrecognizedClientException'] },
          { ...idHeader, 'x-amzn-ErrorType': 'UnrecognizedClientException' },
        );
      const resource = executeApiArn(method, path);
      try {
        await options.authorize(principal.name, 'execute-api:Invoke', [{ action: 'execute-api:Invoke', resource, context: {} }]);
      } catch (err) {
        if (!(err instanceof AccessDeniedError)) throw err;
        const message = `User: ${principal.arn} is not authorized to perform: execute-api:Invoke on resource: ${resource}`;
        refusals.push({ principal: principal.name, method, path, resource, message });
        return send(res, 403, { message }, { ...idHeader, 'x-amzn-ErrorType': 'AccessDeniedException' });
      }
    } else if (m.authorization === 'CUSTOM') {
      const outcome = await customAuthorization(m, req, method, path, routed.resource.path, routed.params, url.searchParams);
      if ('refused' in outcome) {
        const [status, body, type] = outcome.refused;
        const custom = api.responses.get(type);
        if (!custom)
          return send(res, status, body, { ...idHeader, 'x-amzn-ErrorType': type === 'UNAUTHORIZED' ? 'UnauthorizedException' : 'AccessDeniedException' });
        const text = custom.body ?? JSON.stringify(body);
        res.writeHead(custom.statusCode || status, {
          'content-type': 'application/json',
          ...custom.headers,
          'content-length': Buffer.byteLength(text),
          ...idHeader,
        });
        return void res.end(text);
      }
      authorizerContext = outcome.context;
    } else if (m.authorization !== 'NONE') throw new Error(`${m.id}: AuthorizationType ${m.authorization} is not emulated`);

    // Request validation comes after authorization (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html).
    const query = url.searchParams;
    if (m.validator?.parameters) {
      const missing = m.requiredParameters.filter((p) => {
        const [, , where, name] = p.split('.') as [string, string, string, string];
        if (where === 'path') return !routed.params[name];
        if (where === 'querystring') return !query.has(name);
        if (where === 'header') return req.headers[name.toLowerCase()] === undefined;
        return false;
      });
      if (missing.length > 0)
        return send(res, 400, { message: `Missing required request parameters: [${missing.map((p) => p.split('.').pop()).join(', ')}]` }, idHeader);
    }
    if (m.validator?.body) {
      const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
      const model = m.models[contentType] ?? m.models['$default'];
      if (model !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        // The template's one model: a JSON object (infra/constructs/http-api.ts objectModel).
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return send(res, 400, { message: 'Invalid request body' }, idHeader);
      }
    }

    if (m.integration.type !== 'AWS_PROXY') throw new Error(`${m.id}: integration ${m.integration.type} is not emulated (AWS_PROXY only)`);
    const uri = String(deployment.resolve(m.integration.uri));
    // The Uri says which Lambda action API Gateway calls: Invoke, or InvokeWithResponseStream for STREAM.
    const fnArn = (m.integration.stream ? STREAMING_URI : BUFFERED_URI).exec(uri)?.[1];
    const functionId = fnArn ? functionLogicalId(deployment, fnArn) : undefined;
    if (!functionId)
      throw new Error(
        `${m.id}: the integration URI ${uri} names no function of the template${m.integration.stream ? ' (STREAM needs the response-streaming-invocations URI)' : ''}`,
      );
    if (!lambdaPermits(deployment, functionId, 'apigateway.amazonaws.com', executeApiArn(method, path))) {
      errors.push(new Error(`${m.id}: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke ${functionId} for ${executeApiArn(method, path)}`));
      return send(res, 500, { message: 'Internal server error' }, idHeader);
    }

    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of query) multiQuery[k] = [...(multiQuery[k] ?? []), v];
    const hasQuery = Object.keys(multiQuery).length > 0;
    const textBody = body.length === 0 ? null : body.toString('utf8');
    const identity = {
      accessKey: principal?.credentials.accessKeyId ?? null,
      accountId: principal ? ACCOUNT : null,
      caller: principal ? `${principal.name}:e2e` : null,
      user: principal ? `${principal.name}:e2e` : null,
      userArn: principal?.arn ?? null,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'] ?? null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      apiKey: null,
      apiKeyId: null,
      clientCert: null,
    };
    const event = {
      resource: routed.resource.path,
      path,
      httpMethod: method,
      headers: single,
      multiValueHeaders: multi,
      queryStringParameters: hasQuery ? Object.fromEntries(Object.entries(multiQuery).map(([k, vs]) => [k, vs[vs.length - 1]!])) : null,
      multiValueQueryStringParameters: hasQuery ? multiQuery : null,
      pathParameters: Object.keys(routed.params).length > 0 ? routed.params : null,
      stageVariables: api.stageVariables,
      requestContext: {
        accountId: ACCOUNT,
        apiId,
        resourceId: routed.resource.id,
        resourcePath: routed.resource.path,
        httpMethod: method,
        path: `${prefix}${path}`,
        stage: api.stage,
        requestId,
        extendedRequestId: requestId,
        requestTime: new Date().toUTCString(),
        requestTimeEpoch: Date.now(),
        protocol: `HTTP/${req.httpVersion}`,
        domainName: req.headers.host ?? '127.0.0.1',
        identity,
        ...(authorizerContext ? { authorizer: authorizerContext } : {}),
      },
      body: textBody,
      isBase64Encoded: false,
    };
    if (m.integration.stream) return streamed(m, functionId, event, res, idHeader);
    const result = await within(m.integration.timeoutMs, options.invoke(functionId, event));
    if (result === 'timeout') return send(res, 504, TIMED_OUT, { ...idHeader, 'x-amzn-ErrorType': 'InternalServerErrorException' });
    if (!result.ok) return send(res, 502, { message: 'Internal server error' }, { ...idHeader, 'x-amzn-ErrorType': 'InternalServerErrorException' });
    const out = result.payload as {
      statusCode?: unknown;
      headers?: Record<string, unknown>;
      multiValueHeaders?: Record<string, unknown[]>;
      body?: unknown;
      isBase64Encoded?: boolean;
    } | null;
    if (
      !out ||
      typeof out !== 'object' ||
      typeof out.statusCode !== 'number' ||
      (out.body !== undefined && out.body !== null && typeof out.body !== 'string')
    ) {
      errors.push(new Error(`${functionId}: malformed Lambda proxy response ${JSON.stringify(out).slice(0, 200)}`));
      return send(res, 502, { message: 'Internal server error' }, idHeader);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(out.headers ?? {})) headers[k.toLowerCase()] = String(v);
    for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
    const payload = typeof out.body === 'string' ? Buffer.from(out.body, out.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    res.writeHead(out.statusCode, { 'content-type': 'application/json', ...headers, 'content-length': payload.length, ...idHeader });
    res.end(payload);
  }

  /** The answer of an integration in STREAM mode: the prelude's status and headers, then the body as it comes. */
  async function streamed(m: ApiMethod, functionId: string, event: unknown, res: ServerResponse, idHeader: Record<string, string>): Promise<void> {
    if (!options.invokeWithResponseStream) {
      errors.push(new Error(`${m.id}: the integration streams, and this gateway was given no invokeWithResponseStream`));
      return send(res, 500, { message: 'Internal server error' }, idHeader);
    }
    const caller = new AbortController();
    // The client going away (before the response ended) closes the function's stream.
    res.once('close', () => caller.abort());
    let head: Buffer | undefined = Buffer.alloc(0);
    let failed: string | undefined;
    const fail = (why: string) => {
      failed ??= why;
      caller.abort();
    };
    const onChunk = (chunk: Buffer) => {
      if (failed || res.destroyed) return;
      if (head === undefined) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const at = head.indexOf(PRELUDE_DELIMITER);
      if (at < 0) {
        if (head.length > MAX_PRELUDE_BYTES) fail(`no prelude delimiter (8 NUL bytes) in the first ${MAX_PRELUDE_BYTES} bytes`);
        return;
      }
      let prelude: { statusCode?: unknown; headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown[]>; cookies?: unknown[] };
      try {
        prelude = JSON.parse(head.subarray(0, at).toString('utf8')) as typeof prelude;
      } catch {
        return fail(`a prelude that is not JSON: ${head.subarray(0, Math.min(at, 200)).toString('utf8')}`);
      }
      if (typeof prelude?.statusCode !== 'number') return fail(`a prelude without a statusCode: ${JSON.stringify(prelude).slice(0, 200)}`);
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(prelude.headers ?? {})) headers[k.toLowerCase()] = String(v);
      for (const [k, vs] of Object.entries(prelude.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
      if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies.map(String);
      // The body's length is not known ahead: it goes chunked.
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      res.writeHead(prelude.statusCode, { 'content-type': 'application/json', ...headers, ...idHeader });
      res.flushHeaders();
      const rest = head.subarray(at + PRELUDE_DELIMITER.length);
      head = undefined;
      if (rest.length > 0) res.write(rest);
    };
    const result = await within(m.integration.timeoutMs, options.invokeWithResponseStream(functionId, event, onChunk, caller.signal));
    if (result === 'timeout') {
      caller.abort();
      if (!res.headersSent) return send(res, 504, TIMED_OUT, { ...idHeader, 'x-amzn-ErrorType': 'InternalServerErrorException' });
      // A stream still open at the integration's timeout is cut.
      return void res.destroy();
    }
    if (!result.ok) fail(`${result.errorType}: ${result.errorMessage}`);
    else if (head !== undefined && !failed)
      fail(
        head.length === 0
          ? 'the function wrote nothing'
          : `no prelude delimiter (8 NUL bytes) in what the function wrote (is its handler wrapped in awslambda.streamifyResponse?): ${head.subarray(0, 200).toString('utf8')}`,
      );
    if (failed) {
      errors.push(new Error(`${functionId}: malformed streamed Lambda proxy response: ${failed}`));
      if (!res.headersSent) return send(res, 502, { message: 'Internal server error' }, { ...idHeader, 'x-amzn-ErrorType': 'InternalServerErrorException' });
      return void res.destroy();
    }
    res.end();
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      errors.push(err as Error);
      if (!res.headersSent) send(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  };
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/${api.stage}/`,
    apiId,
    stage: api.stage,
    refusals,
    errors,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
