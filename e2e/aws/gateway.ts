/**
 * AWS_ENDPOINT_URL of every function of the emulated account: each SDK call, signed with the calling role's own
 * emulated credentials, is authorized as AWS would (iam/requests.ts: what AWS checks; iam/evaluate.ts: the decision
 * against the caller's identity policies from the template and the resource's policy), recorded, and then forwarded
 * byte for byte to moto_server, or to a service the gateway is given (Step Functions is emulated outside moto). moto
 * evaluates no IAM: without this, a permission the template lacks goes unseen until the first real deployment.
 *
 * A refused call is answered as the service refuses one (AccessDeniedException, EC2's UnauthorizedOperation, awsQuery's
 * AccessDenied), with a message that names the policy to change (iam/report.ts), and kept in denies() so the run fails.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessDeniedError, type Authorize, type AuthorizationRequest, type CallRecord, type PolicyDocument, type Principal } from './account.js';
import { evaluate } from './iam/evaluate.js';
import { denyMessage } from './iam/report.js';
import {
  authorizationRequests,
  credentialOf,
  InvalidCallError,
  motoLookup,
  parseCall,
  type ResourceLookup,
  type ServiceCall,
  UnknownOperationError,
} from './iam/requests.js';
import type { Deployment } from './template.js';

/** A request the gateway passes to a service it was given, once authorized. */
export interface ForwardedRequest {
  method: string;
  /** Path and query, as the SDK sent them. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  principal: Principal;
  call: ServiceCall;
}

export interface ServiceResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** A service behind the gateway: an endpoint to forward to (http://127.0.0.1:port), or a function that answers. */
export type ServiceHandler = string | ((request: ForwardedRequest) => Promise<ServiceResponse>);

export interface GatewayOptions {
  /** moto_server's endpoint: where every call goes that no service handler takes. */
  backend: string;
  deployment: Deployment;
  /** Credentials for the gateway's own reads of moto (resource tags, instance profiles), made directly and never authorized. */
  admin: { accessKeyId: string; secretAccessKey: string };
  /** By signing name (e.g. `states`): where those calls go instead of moto. */
  services?: Partial<Record<string, ServiceHandler>>;
  /** @default - motoLookup on the backend with the admin credentials */
  lookup?: ResourceLookup;
}

export interface FaultInjection {
  /** `{signing name}:{operation}`, e.g. `ec2:RunInstances`. */
  operation: string;
  /** How many of the next matching calls are throttled. */
  count: number;
  /** Only calls of this principal (its name); any principal when left out. */
  principal?: string;
}

export type AfterCallHook = (principal: string, operation: string, status: number) => void | Promise<void>;

/** How a service spells its errors on the wire. */
type Protocol = 'json' | 'rest-json' | 'ec2' | 'query';

const PROTOCOLS: Record<string, Protocol> = { ec2: 'ec2', elasticloadbalancing: 'query', sts: 'query', scheduler: 'rest-json' };

function protocolOf(signingName: string, headers: IncomingHttpHeaders): Protocol {
  // SQS speaks JSON (X-Amz-Target) in current SDKs and the query protocol in older ones.
  if (signingName === 'sqs') return headers['x-amz-target'] ? 'json' : 'query';
  return PROTOCOLS[signingName] ?? 'json';
}

/** The error codes of each protocol, as the services answer them. */
const CODES: Record<'denied' | 'unknownKey' | 'throttled' | 'invalid' | 'unknownOperation' | 'internal', Record<Protocol, { code: string; status: number }>> = {
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (UnauthorizedOperation, AuthFailure, RequestLimitExceeded)
  denied: {
    json: { code: 'AccessDeniedException', status: 400 },
    'rest-json': { code: 'AccessDeniedException', status: 403 },
    ec2: { code: 'UnauthorizedOperation', status: 403 },
    query: { code: 'AccessDenied', status: 403 },
  },
  unknownKey: {
    json: { code: 'UnrecognizedClientException', status: 400 },
    'rest-json': { code: 'UnrecognizedClientException', status: 403 },
    ec2: { code: 'AuthFailure', status: 401 },
    query: { code: 'InvalidClientTokenId', status: 403 },
  },
  throttled: {
    json: { code: 'ThrottlingException', status: 400 },
    'rest-json': { code: 'ThrottlingException', status: 429 },
    ec2: { code: 'RequestLimitExceeded', status: 503 },
    query: { code: 'Throttling', status: 400 },
  },
  invalid: {
    json: { code: 'ValidationException', status: 400 },
    'rest-json': { code: 'ValidationException', status: 400 },
    ec2: { code: 'InvalidParameterValue', status: 400 },
    query: { code: 'ValidationError', status: 400 },
  },
  internal: {
    json: { code: 'InternalFailure', status: 500 },
    'rest-json': { code: 'InternalServerException', status: 500 },
    ec2: { code: 'InternalError', status: 500 },
    query: { code: 'InternalFailure', status: 500 },
  },
  unknownOperation: {
    json: { code: 'UnknownOperationException', status: 400 },
    'rest-json': { code: 'UnknownOperationException', status: 404 },
    ec2: { code: 'InvalidAction', status: 400 },
    query: { code: 'InvalidAction', status: 400 },
  },
};

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function errorResponse(protocol: Protocol, kind: keyof typeof CODES, message: string): ServiceResponse {
  const { code, status } = CODES[kind][protocol];
  const requestId = randomUUID();
  switch (protocol) {
    case 'json':
      return {
        status,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
        body: JSON.stringify({ __type: code, message }),
      };
    case 'rest-json':
      return {
        status,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
        body: JSON.stringify({ Message: message }),
      };
    case 'ec2':
      return {
        status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case 'query':
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

function send(res: ServerResponse, answer: ServiceResponse): void {
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** An afterCall hook threw: the call took effect, its caller is answered with an internal error. */
export class AfterCallHookError extends Error {
  override name = 'AfterCallHookError';
}

export class AwsGateway {
  /** Every authorization made, in order: through the gateway and through authorize. */
  readonly records: CallRecord[] = [];
  /** Calls the gateway could not authorize (an operation it does not know, a call AWS would reject as invalid). */
  readonly problems: string[] = [];
  private readonly principals = new Map<string, Principal>();
  private readonly byName = new Map<string, Principal>();
  private readonly faults: FaultInjection[] = [];
  private throttledCount = 0;
  private readonly hooks: AfterCallHook[] = [];
  private readonly lookup: ResourceLookup;

  private constructor(
    private readonly options: GatewayOptions,
    private readonly server: Server,
    readonly endpoint: string,
  ) {
    this.lookup = options.lookup ?? motoLookup({ endpoint: options.backend, credentials: options.admin, deployment: options.deployment });
  }

  /** Starts the gateway on a free port of 127.0.0.1. */
  static async start(options: GatewayOptions): Promise<AwsGateway> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const gateway = new AwsGateway(options, server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => {
      gateway.handle(req, res).catch((e: unknown) => {
        if (!(e instanceof AfterCallHookError)) gateway.problems.push(`the gateway failed on ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
        const signingName = credentialOf(typeof req.headers['authorization'] === 'string' ? req.headers['authorization'] : undefined)?.signingName ?? '';
        if (!res.headersSent)
          send(res, errorResponse(protocolOf(signingName, req.headers), 'internal', `the emulated account's gateway failed: ${(e as Error).message}`));
        else res.destroy();
      });
    });
    return gateway;
  }

  /** A principal whose calls the gateway accepts, known by its access key id. */
  register(principal: Principal): void {
    this.principals.set(principal.credentials.accessKeyId, principal);
    this.byName.set(principal.name, principal);
  }

  /** Authorizations the emulated services make without an SDK call (event sources): recorded; a deny throws AccessDeniedError. */
  readonly authorize: Authorize = async (principalName, operation, requests) => {
    const principal = this.byName.get(principalName);
    if (!principal) throw new AccessDeniedError(`${operation}: no principal ${principalName} is registered with the gateway`);
    const denied = await this.evaluateAll(principal, operation, requests);
    if (denied.length) throw new AccessDeniedError(denied.map(denyMessage).join('\n'));
  };

  /** The refused authorizations: a run with any has a policy to change. */
  denies(): CallRecord[] {
    return this.records.filter((r) => r.decision !== 'Allowed');
  }

  /** The next `count` calls of the operation (of the principal, if given) are answered with the service's throttling error. */
  /** How many calls were answered with an injected throttling error so far. */
  get throttled(): number {
    return this.throttledCount;
  }

  injectFaults(fault: FaultInjection): void {
    this.faults.push({ ...fault });
  }

  /**
   * Called after each forwarded call, before its answer goes back to the caller (a hook may stop the caller there).
   * A hook that throws answers the service's internal error (500, which the SDK retries) although the call took effect.
   */
  afterCall(hook: AfterCallHook): void {
    this.hooks.push(hook);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- internals ------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const authorization = typeof req.headers['authorization'] === 'string' ? req.headers['authorization'] : undefined;
    // Presigned requests carry the credential in the query string.
    const credential = credentialOf(authorization ?? `Credential=${new URL(url, 'http://gateway').searchParams.get('X-Amz-Credential') ?? ''}`);
    const protocol = protocolOf(credential?.signingName ?? '', req.headers);
    const principal = credential ? this.principals.get(credential.accessKeyId) : undefined;
    if (!credential || !principal) {
      send(res, errorResponse(protocol, 'unknownKey', 'The security token included in the request is invalid.'));
      return;
    }
    let call: ServiceCall;
    try {
      call = parseCall(credential.signingName, { method: req.method ?? 'GET', url, headers: req.headers, body });
    } catch (e) {
      this.problems.push(`${principal.name}: ${(e as Error).message}`);
      send(res, errorResponse(protocol, 'unknownOperation', (e as Error).message));
      return;
    }
    const operation = `${call.signingName}:${call.operation}`;
    if (this.takeFault(operation, principal.name)) {
      send(res, errorResponse(protocol, 'throttled', 'Rate exceeded'));
      return;
    }
    let requests: AuthorizationRequest[];
    try {
      requests = await authorizationRequests(call, this.lookup);
    } catch (e) {
      if (!(e instanceof UnknownOperationError || e instanceof InvalidCallError)) throw e;
      this.problems.push(`${principal.name} ${operation}: ${e.message}`);
      send(res, errorResponse(protocol, e instanceof UnknownOperationError ? 'unknownOperation' : 'invalid', e.message));
      return;
    }
    const denied = await this.evaluateAll(principal, operation, requests);
    if (denied.length) {
      const first = denied[0]!;
      const message = `User: ${principal.arn} is not authorized to perform: ${first.request.action} on resource: ${first.request.resource}\n${denied.map(denyMessage).join('\n')}`;
      send(res, errorResponse(protocol, 'denied', message));
      return;
    }
    await this.forward(req, res, body, principal, call, operation);
  }

  private takeFault(operation: string, principal: string): boolean {
    const fault = this.faults.find((f) => f.count > 0 && f.operation === operation && (f.principal === undefined || f.principal === principal));
    if (!fault) return false;
    fault.count--;
    this.throttledCount++;
    return true;
  }

  /** Evaluates and records each authorization; answers the refused ones. */
  private async evaluateAll(principal: Principal, operation: string, requests: AuthorizationRequest[]): Promise<CallRecord[]> {
    const denied: CallRecord[] = [];
    for (const request of requests) {
      const evaluation = await evaluate(principal, request, this.resourcePolicyOf(request));
      const record: CallRecord = {
        principal: principal.name,
        operation,
        request,
        decision: evaluation.decision,
        ...(evaluation.evaluated ? { evaluated: evaluation.evaluated } : {}),
      };
      this.records.push(record);
      if (record.decision !== 'Allowed') denied.push(record);
    }
    return denied;
  }

  /**
   * The resource's own policy where AWS evaluates one: a key of the template's key policy (by deployment.logicalIdOf
   * its ARN), a queue's AWS::SQS::QueuePolicy. A key not of the template gets AWS's default key policy (evaluate.ts).
   */
  private resourcePolicyOf(request: AuthorizationRequest): PolicyDocument | undefined {
    const { deployment } = this.options;
    const id = deployment.logicalIdOf(request.resource);
    if (!id) return undefined;
    const type = deployment.resource(id).Type;
    if (type === 'AWS::KMS::Key' && request.action.startsWith('kms:')) return deployment.keyPolicy(id);
    if (type === 'AWS::SQS::Queue' && request.action.startsWith('sqs:')) {
      const statements = deployment
        .ofType('AWS::SQS::QueuePolicy')
        .map((p) => deployment.resource(p).Properties!)
        .filter((p) => JSON.stringify(p['Queues']).includes(JSON.stringify({ Ref: id })))
        .flatMap((p) => (deployment.resolve(p['PolicyDocument']) as unknown as PolicyDocument).Statement);
      return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
    }
    return undefined;
  }

  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer, principal: Principal, call: ServiceCall, operation: string): Promise<void> {
    const service = this.options.services?.[call.signingName];
    if (typeof service === 'function') {
      const answer = await service({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, principal, call });
      try {
        await this.runHooks(principal.name, operation, answer.status);
      } catch (e) {
        throw new AfterCallHookError(`an afterCall hook threw after ${operation} of ${principal.name}`, { cause: e });
      }
      send(res, answer);
      return;
    }
    const target = new URL(service ?? this.options.backend);
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });
    try {
      await this.runHooks(principal.name, operation, upstream.statusCode ?? 0);
    } catch (e) {
      // The call took effect and its answer is dropped: the caller gets the internal error.
      upstream.resume();
      throw new AfterCallHookError(`an afterCall hook threw after ${operation} of ${principal.name}`, { cause: e });
    }
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    upstream.pipe(res);
  }

  private async runHooks(principal: string, operation: string, status: number): Promise<void> {
    // A hook that throws is the caller's crash, not a failure of the gateway (not in problems).
    for (const hook of this.hooks) await hook(principal, operation, status);
  }
}
