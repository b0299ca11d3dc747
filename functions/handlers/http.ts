/**
 * The HTTP API behind API Gateway (REST API, Lambda proxy integration in STREAM mode): turns the proxy event into
 * the router's request and writes its response to Lambda's response stream, as hono's aws-lambda adapter does. The
 * router never sees a Lambda type. The kubeconfig function (handlers/kubeconfig.ts) shares the request and result
 * conversions and proxyHandler, and stays buffered: its one answer is small and never a watch.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { DynamoDbWatchLog } from '../adapters/dynamodb/watch-log.js';
import { PayloadOffloadingStore, payloadStoreFromEnvironment, restoredChanges } from '../adapters/payloads/index.js';
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
import { isWatchRequest } from '../api/http/watch.js';
import { handleCostRequest, isCostPath } from '../metering/index.js';
import { type StreamingHandler, streamifyResponse, writeResponse } from './response-stream.js';

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
 * A watch on AWS streams (the REST API's integration is in STREAM mode) for at most this long, then ends as a watch
 * that timed out does (a BOOKMARK when the client allows them), and the client watches again from there. Under the
 * 5 minutes a Regional API's stream may stay idle (a watch without bookmarks may send nothing for its whole life) and
 * under the function's timeout (API_FUNCTION_TIMEOUT_SECONDS), so a watch always ends by its own timeout:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html (considerations).
 * client-go's reflectors ask 5 to 10 minutes and watch again when the server ends sooner.
 */
export const MAX_STREAMED_WATCH_SECONDS = 290;
/** The API function's timeout (infra/control-plane-stack.ts): the longest watch and 10 s to end it. */
export const API_FUNCTION_TIMEOUT_SECONDS = MAX_STREAMED_WATCH_SECONDS + 10;

/** The request with its watch's timeoutSeconds capped (absent and 0 mean kube's default, 30 minutes, so the cap). */
export function boundedWatch(req: HttpRequest, maxSeconds = MAX_STREAMED_WATCH_SECONDS): HttpRequest {
  const query = req.query ?? {};
  let watch = false;
  try {
    watch = isWatchRequest(query);
  } catch {
    // A malformed watch flag: the router answers it.
  }
  const timeout = query['timeoutSeconds'];
  if (!watch || (timeout !== undefined && !/^[0-9]{1,9}$/.test(timeout))) return req;
  const seconds = timeout === undefined || Number(timeout) === 0 ? maxSeconds : Math.min(Number(timeout), maxSeconds);
  return { ...req, query: { ...query, timeoutSeconds: String(seconds) } };
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

/**
 * The streaming handler of the API over given dependencies (tests), or over ones built on first use and kept for the
 * container: every answer goes through the response stream (functions/handlers/response-stream.ts), a watch's lines
 * as they come, for at most MAX_STREAMED_WATCH_SECONDS. A build that throws is answered as proxyHandler answers it.
 */
export function createHandler(deps: RouterDeps | (() => RouterDeps)): StreamingHandler {
  let resolved: RouterDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event, responseStream) => {
    try {
      resolved ??= (deps as () => RouterDeps)();
    } catch (err) {
      logger.error('the HTTP handler cannot start', err as Error);
      return writeResponse(responseStream, statusResponse(new ApiError('InternalError', 'the API is misconfigured; see its log').status));
    }
    const req = boundedWatch(toHttpRequest(event));
    // The cost routes (metering/cost-route.ts): the clusters' usage records of the table, as the embedded host answers them.
    if (isCostPath(req.path)) return writeResponse(responseStream, await costResponse(req, resolved));
    return writeResponse(responseStream, await handleRequest(req, resolved));
  };
}

async function costResponse(req: HttpRequest, deps: RouterDeps): Promise<HttpResponse> {
  try {
    return await handleCostRequest(req, { store: deps.store, now: () => new Date() });
  } catch (err) {
    deps.onInternalError?.(err);
    return statusResponse(new ApiError('InternalError', 'the cost could not be read').status);
  }
}

/**
 * The store on the table named by TABLE_NAME; region, credentials and endpoint come from the usual AWS variables.
 * This function never signs a kubeconfig: GET .../clusters/{name}/kubeconfig is routed to the kubeconfig function
 * (handlers/kubeconfig.ts), the only function of the API that may read a cluster's CA; here the route has no
 * signer and is a 404.
 * Lists carry a resourceVersion and `?watch=true` is served from the watch log, streamed (MAX_STREAMED_WATCH_SECONDS).
 * MAX_MACHINE_DEPLOYMENT_REPLICAS (default 1000) caps the replicas a request may ask for; a value that is not
 * a whole number from 1 to 2147483647 stops the function from starting rather than lifting the cap.
 */
export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RouterDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the HTTP handler needs the name of the clusterless table');
  const maxMachineDeploymentReplicas = parseReplicaLimit(env[MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV], MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV);
  const client = createDynamoDbClient();
  const table = new DynamoDbStore({ client, tableName });
  // ClusterResourceSets' manifests are kept in the payload bucket (PAYLOAD_BUCKET), the table holds references.
  const payloads = payloadStoreFromEnvironment(env);
  const offloading = payloads ? new PayloadOffloadingStore(table, payloads) : undefined;
  const store = offloading ?? table;
  // Watches read the log the stream function writes (adapters/dynamodb/watch-log.ts).
  const log = new DynamoDbWatchLog({ client, tableName });
  return {
    store,
    changes: offloading ? restoredChanges(log, offloading) : log,
    onInternalError: (err) => logger.error('request failed with an internal error', err as Error),
    limits: { maxMachineDeploymentReplicas },
  };
}

/** The Lambda entry point: a response-streaming function (the API's integrations are in STREAM mode). */
export const handler = streamifyResponse(createHandler(depsFromEnvironment));
