import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { GROUP, VERSION, dnsLabelError } from '../../functions/api/common.js';
import { EVENTS_GROUP, EVENTS_VERSION } from '../../functions/api/event.js';
import type { LogEncryption } from './log-encryption.js';

export interface HttpApiProps {
  /** The function behind every route but the kubeconfig route (functions/handlers/http.ts). */
  readonly handler: lambda.IFunction;
  /**
   * The function behind GET .../namespaces/{namespace}/clusters/{name}/kubeconfig (functions/handlers/kubeconfig.ts).
   * @default - the handler
   */
  readonly kubeconfigHandler?: lambda.IFunction;
  readonly logs: LogEncryption;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Steady-state requests per second of the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
}

/** What a principal may do in some namespaces (HttpApi.grantNamespaces). */
export interface NamespaceGrant {
  /** The namespaces, by name (RFC 1123 labels; no patterns). */
  readonly namespaces: readonly string[];
  /** 'read': GET of every object, list and status. 'write': also create, replace, patch, delete and roll back. */
  readonly access: 'read' | 'write';
  /** PUT and PATCH of .../{name}/status: what a controller that reports status needs. @default false */
  readonly status?: boolean;
  /** GET .../clusters/{name}/kubeconfig: admin kubeconfigs of the namespaces' clusters. @default false */
  readonly kubeconfig?: boolean;
}

/** The resource API's root (DESIGN section 3). */
const API_ROOT = `/apis/${GROUP}/${VERSION}`;
/** Every principal granted anything may read these: discovery and health. */
/** events.k8s.io/v1: Events, read-only (functions/api/http/events.ts). */
const EVENTS_ROOT = `/apis/${EVENTS_GROUP}/${EVENTS_VERSION}`;
const DISCOVERY_PATHS = ['/healthz', '/openapi/v3', '/apis', `/apis/${GROUP}`, API_ROOT, `/apis/${EVENTS_GROUP}`, EVENTS_ROOT];
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const STATUS_METHODS = ['PUT', 'PATCH'];
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** Grants of every namespace. */
const ALL = '*';

const unchangeable = (grantee: iam.IGrantable) => new Error(`${grantee.grantPrincipal}: its policy cannot be changed, so the API cannot be granted to it`);

interface GivenGrant {
  namespace: string;
  deniesStatus: boolean;
  allowsStatus: boolean;
  kubeconfig: boolean;
}

/**
 * The Kubernetes-style HTTP API behind API Gateway (REST, Lambda proxy). Every route of the router is its own
 * resource, so a path the router does not serve never reaches a function, and IAM sees each route on its own
 * (execute-api:Invoke on `{api}/{stage}/{METHOD}/{path}`):
 *
 *     /healthz  /openapi/v3  /apis  /apis/clusterless.dev  /apis/clusterless.dev/v1alpha1         GET
 *     /apis/clusterless.dev/v1alpha1/{plural}                                                      GET (every namespace)
 *     .../namespaces/{namespace}/{plural}                                                          GET POST
 *     .../namespaces/{namespace}/{plural}/{name}                                                   GET PUT PATCH DELETE
 *     .../namespaces/{namespace}/{plural}/{name}/status                                            GET PUT PATCH
 *     .../namespaces/{namespace}/{plural}/{name}/rollback                                          POST
 *     .../namespaces/{namespace}/clusters/{name}/kubeconfig                                        GET (kubeconfigHandler)
 *
 * (`clusters` has the routes of `{plural}` too, as API Gateway prefers the static segment.) Every method requires
 * AWS_IAM (SigV4, as `clusterless --server` signs) and request validation (its path parameters; a JSON body must be
 * a JSON object: the router validates the object itself, with Kubernetes Status errors); the stage has access logs,
 * throttling and X-Ray tracing. grantNamespaces and grantAllNamespacesRead write the IAM policies of callers.
 */
export class HttpApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly validator: apigateway.RequestValidator;
  public readonly objectModel: apigateway.Model;
  private readonly given = new Map<iam.IPrincipal, GivenGrant[]>();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const accessLogs = props.logs.newLogGroup(this, 'AccessLogs');
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'clusterless: the Kubernetes-style resource API (clusterless.dev/v1alpha1)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logs (loggingLevel) need the account's API Gateway CloudWatch role.
      cloudWatchRole: true,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
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
    this.validator = new apigateway.RequestValidator(this, 'Validator', {
      restApi: this.api,
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.objectModel = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      description: 'A JSON object: a clusterless object, a merge patch, DeleteOptions or a rollback request',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: apigateway.JsonSchemaType.OBJECT },
    });

    const api = new apigateway.LambdaIntegration(props.handler, { allowTestInvoke: false });
    const kubeconfig = props.kubeconfigHandler ? new apigateway.LambdaIntegration(props.kubeconfigHandler, { allowTestInvoke: false }) : api;
    const add = (resource: apigateway.IResource, methods: readonly string[], integration = api) => {
      const parameters = [...resource.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      for (const method of methods)
        resource.addMethod(method, integration, {
          requestValidator: this.validator,
          ...(parameters.length ? { requestParameters: Object.fromEntries(parameters.map((p) => [`method.request.path.${p}`, true])) } : {}),
          ...(WITH_BODY.has(method) ? { requestModels: { 'application/json': this.objectModel } } : {}),
        });
    };
    const root = this.api.root;
    add(root.addResource('healthz'), ['GET']);
    add(root.addResource('openapi').addResource('v3'), ['GET']);
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
      else add(object.addResource('kubeconfig'), ['GET'], kubeconfig);
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
  }

  /** execute-api:Invoke ARN of the stage for a method and a path pattern (`*` matches anything, `/` included). */
  invokeArn(method: string, path: string): string {
    return this.api.arnForExecuteApi(method, path, this.api.deploymentStage.stageName);
  }

  /**
   * Lets a principal use the API in some namespaces, and nowhere else: no list across namespaces, no status write
   * unless `status`, no kubeconfig unless `kubeconfig`. IAM's `*` in a path matches across `/`, so what a grant
   * excludes inside its namespaces (status writes, kubeconfigs) is an explicit Deny: give one principal what it
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
      })),
    );
    const base = (ns: string) => `${API_ROOT}/namespaces/${ns}`;
    const allow = (methods: string[], paths: string[]) => this.allow(grantee, methods, paths);
    this.grantDiscovery(grantee);
    const everything = grant.namespaces.map((ns) => `${base(ns)}/*`);
    allow(['GET'], everything);
    // The namespaces' events: their list and each event.
    allow(
      ['GET'],
      grant.namespaces.flatMap((ns) => [`${EVENTS_ROOT}/namespaces/${ns}/events`, `${EVENTS_ROOT}/namespaces/${ns}/events/*`]),
    );
    if (write) allow(WRITE_METHODS, everything);
    else if (grant.status)
      allow(
        STATUS_METHODS,
        grant.namespaces.map((ns) => `${base(ns)}/*/*/status`),
      );
    if (write && !grant.status)
      this.deny(
        grantee,
        STATUS_METHODS,
        grant.namespaces.map((ns) => `${base(ns)}/*/*/status`),
      );
    if (!grant.kubeconfig)
      this.deny(
        grantee,
        ['GET'],
        grant.namespaces.map((ns) => `${base(ns)}/*/*/kubeconfig`),
      );
  }

  /**
   * Lets a principal read every object of every namespace, and list across namespaces (an operator, a dashboard);
   * kubeconfigs only with `kubeconfig` (otherwise an explicit Deny, see grantNamespaces).
   */
  grantAllNamespacesRead(grantee: iam.IGrantable, options: { kubeconfig?: boolean } = {}): void {
    this.remember(grantee, [{ namespace: ALL, deniesStatus: false, allowsStatus: false, kubeconfig: options.kubeconfig === true }]);
    this.grantDiscovery(grantee);
    this.allow(grantee, ['GET'], [`${API_ROOT}/*`, `${EVENTS_ROOT}/*`]);
    if (!options.kubeconfig) this.deny(grantee, ['GET'], [`${API_ROOT}/namespaces/*/*/*/kubeconfig`]);
  }

  private grantDiscovery(grantee: iam.IGrantable): void {
    this.allow(grantee, ['GET'], DISCOVERY_PATHS);
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
      }
    this.given.set(grantee.grantPrincipal, [...earlier, ...grants]);
  }
}
