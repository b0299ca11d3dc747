import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { ACCESS_ENTRIES_ENV, ALL_NAMESPACES, type AccessEntry, accessRules, mayTransfer } from '../../functions/api/access-entries.js';
import { GROUP, VERSION, dnsLabelError } from '../../functions/api/common.js';
import { EVENTS_GROUP, EVENTS_VERSION } from '../../functions/api/event.js';
import type { LogEncryption } from './log-encryption.js';

export interface HttpApiProps {
  /**
   * The function behind every route but the kubeconfig route (functions/handlers/http.ts): a response-streaming
   * function, behind integrations in STREAM mode.
   */
  readonly handler: lambda.IFunction;
  /**
   * How long the handler's integrations wait for it: its function's timeout, which covers the longest watch it streams.
   * @default - API Gateway's 29 s
   */
  readonly handlerTimeout?: Duration;
  /**
   * The function behind GET .../namespaces/{namespace}/clusters/{name}/kubeconfig (functions/handlers/kubeconfig.ts).
   * @default - the handler
   */
  readonly kubeconfigHandler?: lambda.IFunction;
  /**
   * The function behind the routes of `clusterless import` and `clusterless move` (functions/handlers/cluster-transfer.ts):
   * POST .../clusters/{name}/certificates, POST .../machines/{name}/adopt, GET and POST .../clusters/{name}/move.
   * @default - no such routes (API Gateway answers 404)
   */
  readonly transferHandler?: lambda.IFunction;
  readonly logs: LogEncryption;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Steady-state requests per second of the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
  /**
   * The kubectl door's REQUEST authorizer (functions/handlers/token-authorizer.ts). With it, a second RestApi
   * (kubectlApi) serves the same routes with the same functions, every method behind this authorizer.
   * @default - no kubectl door
   */
  readonly tokenAuthorizer?: lambda.Function;
}

/** What a principal may do in some namespaces (HttpApi.grantNamespaces). */
export interface NamespaceGrant {
  /** The namespaces, by name (RFC 1123 labels; no patterns). */
  readonly namespaces: readonly string[];
  /** 'read': GET of every object, list and status. 'write': also create, replace, patch, delete and roll back. */
  readonly access: 'read' | 'write';
  /**
   * PUT and PATCH of .../{name}/status: what a controller that reports status needs. With `access: 'write'`, also the
   * steps of `clusterless import` and `clusterless move` (api/access-entries.ts TRANSFER_ROUTES), as the controller
   * token is on the embedded host. @default false
   */
  readonly status?: boolean;
  /** GET .../clusters/{name}/kubeconfig: admin kubeconfigs of the namespaces' clusters. @default false */
  readonly kubeconfig?: boolean;
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** What ACCESS_ENTRIES may take of Lambda's 4 KB of environment (the rest: Powertools' settings). */
const MAX_ACCESS_ENTRIES_BYTES = 3500;
/** Grants of every namespace. */
const ALL = ALL_NAMESPACES;

const unchangeable = (grantee: iam.IGrantable) => new Error(`${grantee.grantPrincipal}: its policy cannot be changed, so the API cannot be granted to it`);

interface GivenGrant {
  namespace: string;
  deniesStatus: boolean;
  allowsStatus: boolean;
  kubeconfig: boolean;
  /** May use the transfer routes (mayTransfer); a grant that may not denies them. */
  transfer: boolean;
}

/**
 * The Kubernetes-style HTTP API behind API Gateway (REST, Lambda proxy). Every route of the router is its own
 * resource, so a path the router does not serve never reaches a function, and IAM sees each route on its own
 * (execute-api:Invoke on `{api}/{stage}/{METHOD}/{path}`):
 *
 *     /healthz  /version  /api  /openapi/v3  /openapi/v3/apis/clusterless.dev/v1alpha1             GET
 *     /apis  /apis/clusterless.dev  /apis/clusterless.dev/v1alpha1                                 GET
 *     /apis/clusterless.dev/v1alpha1/{plural}                                                      GET (every namespace)
 *     .../namespaces/{namespace}/{plural}                                                          GET POST
 *     .../namespaces/{namespace}/{plural}/{name}                                                   GET PUT PATCH DELETE
 *     .../namespaces/{namespace}/{plural}/{name}/status                                            GET PUT PATCH
 *     .../namespaces/{namespace}/{plural}/{name}/scale                                             GET PUT PATCH
 *     .../namespaces/{namespace}/{plural}/{name}/rollback                                          POST
 *     .../namespaces/{namespace}/clusters/{name}/kubeconfig                                        GET (kubeconfigHandler)
 *     .../namespaces/{namespace}/clusters/{name}/move                                              GET POST (transferHandler)
 *     .../namespaces/{namespace}/clusters/{name}/certificates                                      POST (transferHandler)
 *     .../namespaces/{namespace}/{plural}/{name}/adopt                                             POST (transferHandler; machines only)
 *     /clusterless/v1/cost  /clusterless/v1/namespaces/{namespace}/cost                            GET (the clusters' cost)
 *
 * (`clusters` has the routes of `{plural}` too, as API Gateway prefers the static segment.) Every method requires
 * AWS_IAM (SigV4, as `clusterless --server` signs) and request validation (its path parameters; a JSON body must be
 * a JSON object: the router validates the object itself, with Kubernetes Status errors); the stage has access logs,
 * throttling and X-Ray tracing. grantNamespaces and grantAllNamespacesRead write the IAM policies of callers.
 *
 * With `tokenAuthorizer`, a second RestApi (kubectlApi, the kubectl door) serves the same routes with the same
 * functions and validation, every method behind a Lambda REQUEST authorizer on the Authorization header: kubectl
 * cannot sign SigV4, so its kubeconfig runs `clusterless token` (EKS-style tokens). A second API rather than a second
 * authorizer on this one, because a method has one authorization type and SigV4 callers must keep AWS_IAM. Each grant
 * also records an access entry (ACCESS_ENTRIES of the authorizer), and both the IAM statements and the authorizer's
 * policy come from one rule set (functions/api/access-entries.ts accessRules).
 */
export class HttpApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly validator: apigateway.RequestValidator;
  public readonly objectModel: apigateway.Model;
  /** The kubectl door: the same routes, each behind the token authorizer (tokenAuthorizer). */
  public readonly kubectlApi?: apigateway.RestApi;
  /** The access entries the grants wrote (the token authorizer's ACCESS_ENTRIES). */
  public readonly entries: AccessEntry[] = [];
  private readonly given = new Map<iam.IPrincipal, GivenGrant[]>();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    ({
      api: this.api,
      validator: this.validator,
      objectModel: this.objectModel,
    } = this.restApi('', props, {
      description: 'clusterless: the Kubernetes-style resource API (clusterless.dev/v1alpha1)',
      authorizationType: apigateway.AuthorizationType.IAM,
    }));
    if (props.tokenAuthorizer) {
      // The entries are written once every grant is in (grants come after the construct, from the user's app).
      props.tokenAuthorizer.addEnvironment(ACCESS_ENTRIES_ENV, Lazy.string({ produce: () => Stack.of(this).toJsonString(this.entries) }));
      // Lambda allows 4 KB of environment in all: refuse at synth rather than fail at deploy (a role ARN counted as
      // 100 characters: the account's prefix and a generated name of 64).
      this.node.addValidation({
        validate: () => {
          const size = JSON.stringify(this.entries.map((e) => ({ ...e, principalArn: 'x'.repeat(100) }))).length;
          return size > MAX_ACCESS_ENTRIES_BYTES
            ? [
                `${this.entries.length} grants make an ${ACCESS_ENTRIES_ENV} of about ${size} bytes, more than the token authorizer's environment holds (${MAX_ACCESS_ENTRIES_BYTES}): grant fewer roles, each more namespaces`,
              ]
            : [];
        },
      });
      const authorizer = new apigateway.RequestAuthorizer(this, 'TokenAuthorizer', {
        handler: props.tokenAuthorizer,
        identitySources: [apigateway.IdentitySource.header('Authorization')],
        // API Gateway keeps a decision by token at most this long; the authorizer's policy covers every route the
        // caller may use, so a cached decision is right for any of them.
        resultsCacheTtl: Duration.seconds(60),
      });
      this.kubectlApi = this.restApi('Kubectl', props, {
        description: 'clusterless: the resource API for kubectl (EKS-style tokens of `clusterless token`)',
        authorizationType: apigateway.AuthorizationType.CUSTOM,
        authorizer,
      }).api;
      // Its stage logs through the account's CloudWatch role, which the first API sets.
      const account = this.api.node.tryFindChild('Account');
      if (account) this.kubectlApi.deploymentStage.node.addDependency(account);
      // kubectl reads a Kubernetes Status from a refusal (Forbidden, Unauthorized), not API Gateway's {"message"}.
      for (const [type, code, reason, message] of [
        [apigateway.ResponseType.ACCESS_DENIED, 403, 'Forbidden', 'the caller is not granted this route (HttpApi.grantNamespaces)'],
        [apigateway.ResponseType.UNAUTHORIZED, 401, 'Unauthorized', 'a valid token of `clusterless token` is needed'],
      ] as const)
        this.kubectlApi.addGatewayResponse(`${reason}Response`, {
          type,
          statusCode: String(code),
          responseHeaders: { 'Content-Type': "'application/json'" },
          templates: {
            'application/json': JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }),
          },
        });
    }
  }

  /** One RestApi with every route of the router (see the class comment), its stage, validator and body model. */
  private restApi(
    prefix: string,
    props: HttpApiProps,
    auth: { description: string; authorizationType: apigateway.AuthorizationType; authorizer?: apigateway.IAuthorizer },
  ) {
    const accessLogs = props.logs.newLogGroup(this, `${prefix}AccessLogs`);
    const api = new apigateway.RestApi(this, `${prefix}Api`, {
      description: auth.description,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logs (loggingLevel) need the account's API Gateway CloudWatch role.
      cloudWatchRole: prefix === '',
      defaultMethodOptions: { authorizationType: auth.authorizationType, ...(auth.authorizer ? { authorizer: auth.authorizer } : {}) },
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Request and response bodies stay out of the execution logs.
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    const validator = new apigateway.RequestValidator(this, `${prefix}Validator`, {
      restApi: api,
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const objectModel = api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      description: 'A JSON object: a clusterless object, a merge patch, DeleteOptions or a rollback request',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: apigateway.JsonSchemaType.OBJECT },
    });

    // STREAM: a watch's events reach the client as they happen, for as long as the watch lasts (up to 15 minutes), rather
    // than in one response within 29 s (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html).
    // The Uri becomes InvokeWithResponseStream's (2021-11-15/.../response-streaming-invocations).
    const http = new apigateway.LambdaIntegration(props.handler, {
      allowTestInvoke: false,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      ...(props.handlerTimeout ? { timeout: props.handlerTimeout } : {}),
    });
    // The kubeconfig function answers once, small, in well under 29 s: buffered.
    const kubeconfig = props.kubeconfigHandler ? new apigateway.LambdaIntegration(props.kubeconfigHandler, { allowTestInvoke: false }) : http;
    // The transfer steps are short requests too (one object, one tag call, one export): buffered.
    const transfer = props.transferHandler ? new apigateway.LambdaIntegration(props.transferHandler, { allowTestInvoke: false }) : undefined;
    const add = (resource: apigateway.IResource, methods: readonly string[], integration = http) => {
      const parameters = [...resource.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      for (const method of methods)
        resource.addMethod(method, integration, {
          requestValidator: validator,
          ...(parameters.length ? { requestParameters: Object.fromEntries(parameters.map((p) => [`method.request.path.${p}`, true])) } : {}),
          ...(WITH_BODY.has(method) ? { requestModels: { 'application/json': objectModel } } : {}),
        });
    };
    const root = api.root;
    add(root.addResource('healthz'), ['GET']);
    add(root.addResource('version'), ['GET']);
    add(root.addResource('api'), ['GET']);
    const openapi = root.addResource('openapi').addResource('v3');
    add(openapi, ['GET']);
    add(openapi.addResource('apis').addResource(GROUP).addResource(VERSION), ['GET']);
    const apis = root.addResource('apis');
    add(apis, ['GET']);
    const group = apis.addResource(GROUP);
    add(group, ['GET']);
    const version = group.addResource(VERSION);
    add(version, ['GET']);
    add(version.addResource('{plural}'), ['GET']);
    const namespace = version.addResource('namespaces').addResource('{namespace}');
    const kind = (collection: apigateway.IResource, sub: 'rollback' | 'kubeconfig') => {
      add(collection, ['GET', 'POST']);
      const object = collection.addResource('{name}');
      add(object, ['GET', 'PUT', 'PATCH', 'DELETE']);
      add(object.addResource('status'), ['GET', 'PUT', 'PATCH']);
      if (sub === 'rollback') add(object.addResource('rollback'), ['POST']);
      // autoscaling/v1 Scale of the kinds that have one (the router answers 404 for the others): a spec write.
      if (sub === 'rollback') add(object.addResource('scale'), ['GET', 'PUT', 'PATCH']);
      else add(object.addResource('kubeconfig'), ['GET'], kubeconfig);
      if (!transfer) return;
      // `clusterless import` and `move`: a resource of {plural} for adopt (the transfer function serves machines only),
      // so Machine keeps the routes of every kind.
      if (sub === 'rollback') add(object.addResource('adopt'), ['POST'], transfer);
      else {
        add(object.addResource('move'), ['GET', 'POST'], transfer);
        add(object.addResource('certificates'), ['POST'], transfer);
      }
    };
    kind(namespace.addResource('{plural}'), 'rollback');
    kind(namespace.addResource('clusters'), 'kubeconfig');
    // Events: GET only (the control plane writes them; any other method has no route).
    const events = apis.addResource(EVENTS_GROUP);
    add(events, ['GET']);
    const eventsVersion = events.addResource(EVENTS_VERSION);
    add(eventsVersion, ['GET']);
    add(eventsVersion.addResource('events'), ['GET']);
    const namespacedEvents = eventsVersion.addResource('namespaces').addResource('{namespace}').addResource('events');
    add(namespacedEvents, ['GET']);
    add(namespacedEvents.addResource('{name}'), ['GET']);
    // The cost routes (functions/metering/cost-route.ts): every cluster's, and one namespace's clusters'.
    const clusterless = root.addResource('clusterless').addResource('v1');
    add(clusterless.addResource('cost'), ['GET']);
    add(clusterless.addResource('namespaces').addResource('{namespace}').addResource('cost'), ['GET']);
    return { api, validator, objectModel };
  }

  /** execute-api:Invoke ARN of the stage for a method and a path pattern (`*` matches anything, `/` included). */
  invokeArn(method: string, path: string): string {
    return this.api.arnForExecuteApi(method, path, this.api.deploymentStage.stageName);
  }

  /**
   * Lets a principal use the API in some namespaces, and nowhere else: no list across namespaces, no status write
   * unless `status`, no kubeconfig unless `kubeconfig`, no import or move steps (TRANSFER_ROUTES) unless `write` with
   * `status`. IAM's `*` in a path matches across `/`, so what a grant
   * excludes inside its namespaces (status writes, kubeconfigs, transfer routes) is an explicit Deny: give one principal what it
   * needs in a namespace in one call (a later call cannot allow what an earlier one denies; such a pair throws).
   * Paths that are not canonical (`//`, `.`, `..`, percent-encoding) are refused by the router, so a grant of
   * team-a can never reach team-b through one.
   */
  grantNamespaces(grantee: iam.IGrantable, grant: NamespaceGrant): void {
    if (grant.namespaces.length === 0) throw new Error('grantNamespaces: name at least one namespace (grantAllNamespacesRead reads them all)');
    for (const ns of grant.namespaces) {
      const error = dnsLabelError(ns);
      if (error) throw new Error(`grantNamespaces: namespace ${JSON.stringify(ns)} ${error}`);
    }
    const write = grant.access === 'write';
    this.remember(
      grantee,
      grant.namespaces.map((namespace) => ({
        namespace,
        deniesStatus: write && !grant.status,
        allowsStatus: grant.status === true,
        kubeconfig: grant.kubeconfig === true,
        transfer: mayTransfer({ namespaces: grant.namespaces, access: grant.access, status: grant.status === true }),
      })),
    );
    this.record(grantee, {
      namespaces: [...grant.namespaces],
      access: grant.access,
      status: grant.status === true,
      kubeconfig: grant.kubeconfig === true,
    });
  }

  /**
   * Lets a principal read every object of every namespace, and list across namespaces (an operator, a dashboard);
   * kubeconfigs only with `kubeconfig` (otherwise an explicit Deny, see grantNamespaces).
   */
  grantAllNamespacesRead(grantee: iam.IGrantable, options: { kubeconfig?: boolean } = {}): void {
    this.remember(grantee, [{ namespace: ALL, deniesStatus: false, allowsStatus: false, kubeconfig: options.kubeconfig === true, transfer: false }]);
    this.record(grantee, { namespaces: [ALL_NAMESPACES], access: 'read', status: false, kubeconfig: options.kubeconfig === true });
  }

  /**
   * Writes a grant for both doors: its rules (api/access-entries.ts accessRules) as IAM statements of the principal
   * (the SigV4 door), and an access entry the token authorizer reads (the kubectl door). Only roles and users have an
   * ARN STS can answer for; a group is granted the SigV4 door alone.
   */
  private record(grantee: iam.IGrantable, grant: Omit<AccessEntry, 'principalArn'>): void {
    const principal = grantee.grantPrincipal as Partial<iam.IRole & iam.IUser>;
    const principalArn = principal.roleArn ?? principal.userArn;
    const entry: AccessEntry = { principalArn: principalArn ?? '', ...grant };
    for (const rule of accessRules(entry)) (rule.effect === 'Allow' ? this.allow : this.deny).call(this, grantee, [...rule.methods], [...rule.paths]);
    if (principalArn) this.entries.push(entry);
  }

  /**
   * Adds an Allow to the principal's own policy. A principal whose policy cannot be changed (a service, an account,
   * an ARN) would otherwise be granted nothing without a word (iam.Grant.addToPrincipal only reports it), and the
   * caller would learn it from a 403: refuse at synth, as for a Deny.
   */
  private allow(grantee: iam.IGrantable, methods: string[], paths: string[]): void {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: methods.flatMap((m) => paths.map((p) => this.invokeArn(m, p))),
    });
    if (!grant.success) throw unchangeable(grantee);
  }

  private deny(grantee: iam.IGrantable, methods: string[], paths: string[]): void {
    const statement = new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['execute-api:Invoke'],
      resources: methods.flatMap((m) => paths.map((p) => this.invokeArn(m, p))),
    });
    if (!grantee.grantPrincipal.addToPrincipalPolicy(statement).statementAdded) throw unchangeable(grantee);
  }

  /** Refuses a grant whose Deny would cancel what another grant of the same principal allows (or the reverse). */
  private remember(grantee: iam.IGrantable, grants: GivenGrant[]): void {
    const earlier = this.given.get(grantee.grantPrincipal) ?? [];
    for (const a of grants)
      for (const b of earlier) {
        if (a.namespace !== b.namespace && a.namespace !== ALL && b.namespace !== ALL) continue;
        const where = a.namespace === ALL ? b.namespace : a.namespace;
        if ((a.deniesStatus && b.allowsStatus) || (b.deniesStatus && a.allowsStatus))
          throw new Error(`namespace ${where}: one grant to this principal denies status writes that another allows; grant them in one call`);
        if (a.kubeconfig !== b.kubeconfig)
          throw new Error(`namespace ${where}: one grant to this principal denies kubeconfigs that another allows; grant them in one call`);
        if (a.transfer !== b.transfer)
          throw new Error(`namespace ${where}: one grant to this principal denies the import and move routes that another allows; grant them in one call`);
      }
    this.given.set(grantee.grantPrincipal, [...earlier, ...grants]);
  }
}
