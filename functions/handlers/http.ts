/**
 * The HTTP API behind API Gateway (REST API, Lambda proxy integration): turns the proxy event into the
 * router's request and its response into a proxy result, as hono's aws-lambda adapter does. The router
 * never sees a Lambda type.
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
 * A watch on AWS is answered buffered (the REST API's Lambda proxy integration returns one response): it lasts at
 * most this long, under API Gateway's 29 s integration timeout and the function's 29 s, then ends as a watch that
 * timed out does (a BOOKMARK when the client allows them), and the client watches again from there.
 */
export const MAX_BUFFERED_WATCH_SECONDS = 25;
/** A buffered watch stops early past this many bytes of events (Lambda's buffered response holds 6 MB). */
export const MAX_BUFFERED_WATCH_BYTES = 5 * 1024 * 1024;

/** The request with its watch's timeoutSeconds capped (absent and 0 mean kube's default, 30 minutes, so the cap). */
export function boundedWatch(req: HttpRequest, maxSeconds = MAX_BUFFERED_WATCH_SECONDS): HttpRequest {
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

/** The router's answer as one body: a watch's events gathered until it ends (its timeout, bounded above). */
export async function bufferedResponse(res: HttpResponse, maxBytes = MAX_BUFFERED_WATCH_BYTES): Promise<HttpResponse> {
  if (!res.stream) return res;
  const stop = new AbortController();
  const lines: string[] = [];
  let bytes = 0;
  for await (const line of res.stream(stop.signal)) {
    lines.push(line);
    bytes += Buffer.byteLength(line);
    // An early end is a watch the server closed: the client watches again from its last event.
    if (bytes >= maxBytes) break;
  }
  stop.abort();
  const { stream: _stream, ...rest } = res;
  return { ...rest, body: lines.join('') };
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
    toProxyResult(await bufferedResponse(await handleRequest(boundedWatch(toHttpRequest(event)), resolved))),
  );
}

/**
 * The store on the table named by TABLE_NAME; region, credentials and endpoint come from the usual AWS variables.
 * This function never signs a kubeconfig: GET .../clusters/{name}/kubeconfig is routed to the kubeconfig function
 * (handlers/kubeconfig.ts), the only function of the API that may read a cluster's CA; here the route has no
 * signer and is a 404.
 * Lists carry a resourceVersion and `?watch=true` is served from the watch log, buffered (MAX_BUFFERED_WATCH_SECONDS).
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

/** The Lambda entry point. */
export const handler = createHandler(depsFromEnvironment);
