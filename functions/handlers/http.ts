/**
 * The HTTP API behind API Gateway (REST API, Lambda proxy integration): turns the proxy event into the
 * router's request and its response into a proxy result, as hono's aws-lambda adapter does. The router
 * never sees a Lambda type.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { PayloadOffloadingStore, payloadStoreFromEnvironment } from '../adapters/payloads/index.js';
import {
  ApiError,
  MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV,
  handleRequest,
  parseReplicaLimit,
  statusResponse,
  type HttpRequest,
  type HttpResponse,
  type RouterDeps,
} from '../api/http/index.js';

const logger = new Logger({ serviceName: 'clusterless-api' });

/** Single values from API Gateway's multi-value maps (first wins for the query, joined for headers). */
export function toHttpRequest(event: APIGatewayProxyEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  for (const [k, vs] of Object.entries(event.multiValueHeaders ?? {})) if (vs?.length) headers[k.toLowerCase()] = vs.join(', ');
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  for (const [k, vs] of Object.entries(event.multiValueQueryStringParameters ?? {})) if (vs?.[0] !== undefined) query[k] = vs[0];
  const body = event.body == null ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { method: event.httpMethod, path: event.path, query, headers, ...(body ? { body } : {}) };
}

export function toProxyResult(res: HttpResponse): APIGatewayProxyResult {
  return { statusCode: res.status, headers: res.headers, body: res.body, isBase64Encoded: false };
}

/**
 * A proxy handler of the API (this function's and the kubeconfig function's) over dependencies given (tests), or
 * built on first use and kept for the container. A build that throws is a misconfigured function: said in the log
 * (as `{name} cannot start`), answered with a Status 500 rather than API Gateway's bare 502, and tried again at the
 * next request.
 */
export function proxyHandler<D extends object>(
  deps: D | (() => D),
  options: { logger: Logger; name: string },
  serve: (event: APIGatewayProxyEvent, deps: D) => Promise<APIGatewayProxyResult>,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  let resolved: D | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event) => {
    try {
      resolved ??= (deps as () => D)();
    } catch (err) {
      options.logger.error(`${options.name} cannot start`, err as Error);
      return toProxyResult(statusResponse(new ApiError('InternalError', 'the API is misconfigured; see its log').status));
    }
    return serve(event, resolved);
  };
}

/** A handler over given dependencies (tests), or over ones built on first use and kept for the container. */
export function createHandler(deps: RouterDeps | (() => RouterDeps)) {
  return proxyHandler(deps, { logger, name: 'the HTTP handler' }, async (event, resolved) =>
    toProxyResult(await handleRequest(toHttpRequest(event), resolved)),
  );
}

/**
 * The store on the table named by TABLE_NAME; region, credentials and endpoint come from the usual AWS variables.
 * This function never signs a kubeconfig: GET .../clusters/{name}/kubeconfig is routed to the kubeconfig function
 * (handlers/kubeconfig.ts), the only function of the API that may read a cluster's CA; here the route has no
 * signer and is a 404.
 * MAX_MACHINE_DEPLOYMENT_REPLICAS (default 1000) caps the replicas a request may ask for; a value that is not
 * a whole number from 1 to 2147483647 stops the function from starting rather than lifting the cap.
 */
export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RouterDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the HTTP handler needs the name of the clusterless table');
  const maxMachineDeploymentReplicas = parseReplicaLimit(env[MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV], MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV);
  const table = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  // ClusterResourceSets' manifests are kept in the payload bucket (PAYLOAD_BUCKET), the table holds references.
  const payloads = payloadStoreFromEnvironment(env);
  const store = payloads ? new PayloadOffloadingStore(table, payloads) : table;
  return {
    store,
    onInternalError: (err) => logger.error('request failed with an internal error', err as Error),
    limits: { maxMachineDeploymentReplicas },
  };
}

/** The Lambda entry point. */
export const handler = createHandler(depsFromEnvironment);
