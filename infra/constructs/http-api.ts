import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { LogEncryption } from './log-encryption.js';

export interface HttpApiProps {
  /** The function behind every route (functions/handlers/http.ts). */
  readonly handler: lambda.IFunction;
  readonly logs: LogEncryption;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Steady-state requests per second of the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
}

/** The methods of the resource API (DESIGN section 3), each its own Method so the validator and model apply per verb. */
const READ = ['GET'] as const;
const WRITE_WITH_BODY = ['POST', 'PUT', 'PATCH'] as const;

/**
 * The Kubernetes-style HTTP API behind API Gateway (REST, Lambda proxy): /healthz, /openapi/v3,
 * /apis and everything under it. Every method requires AWS_IAM (SigV4, as `clusterless --server` signs),
 * request validation (the proxy path parameter; a JSON body must be a JSON object: the router validates the
 * object itself, with Kubernetes Status errors), access logs, throttling and X-Ray tracing on the stage.
 */
export class HttpApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly validator: apigateway.RequestValidator;
  public readonly objectModel: apigateway.Model;

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

    const integration = new apigateway.LambdaIntegration(props.handler, { allowTestInvoke: false });
    const add = (resource: apigateway.IResource, methods: readonly string[], proxy: boolean) => {
      for (const method of methods)
        resource.addMethod(method, integration, {
          requestValidator: this.validator,
          ...(proxy ? { requestParameters: { 'method.request.path.proxy': true } } : {}),
          ...((WRITE_WITH_BODY as readonly string[]).includes(method) ? { requestModels: { 'application/json': this.objectModel } } : {}),
        });
    };
    add(this.api.root.addResource('healthz'), READ, false);
    add(this.api.root.addResource('openapi').addResource('v3'), READ, false);
    const apis = this.api.root.addResource('apis');
    add(apis, READ, false);
    add(apis.addResource('{proxy+}'), [...READ, ...WRITE_WITH_BODY, 'DELETE'], true);
  }
}
