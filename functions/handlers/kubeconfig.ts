/**
 * GET .../namespaces/{namespace}/clusters/{name}/kubeconfig behind API Gateway: the only function of the API that may
 * read a cluster's CA and sign an admin kubeconfig with it (the tasks and the sweep read the CAs too, to reach the
 * workload clusters), so that `get kubeconfig` is a permission of its own (its own route, its own role: GetItem on
 * the table, the clusters' certificates) and never the resource API's. It serves
 * that route alone, through the same router as every host (expirationSeconds included), and logs every kubeconfig
 * it issues as one audit line: who asked (API Gateway's caller identity), for which cluster, until when.
 */
import { X509Certificate } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { parse } from 'yaml';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { GROUP, VERSION } from '../api/common.js';
import { ApiError, handleRequest, statusResponse, type RouterDeps } from '../api/http/index.js';
import { kubeconfigSources } from '../workflows/bootstrap-hooks.js';
import type { Store } from '../ports.js';
import { proxyHandler, toHttpRequest, toProxyResult } from './http.js';
import { clusterCaFromEnvironment } from './secrets-deps.js';

const logger = new Logger({ serviceName: 'clusterless-kubeconfig' });

/** The one route this function serves. */
const ROUTE = new RegExp(`^/apis/${GROUP.replace(/\./g, '\\.')}/${VERSION}/namespaces/[^/]+/clusters/[^/]+/kubeconfig$`);

/** One issued kubeconfig, as the audit log records it. Never the key or the certificate. */
export interface KubeconfigIssued {
  audit: 'AdminKubeconfigIssued';
  namespace: string;
  cluster: string;
  expirationSeconds: number;
  /** The client certificate's notAfter. */
  notAfter: string;
  /** API Gateway's requestContext.identity of the SigV4-signed request. */
  caller: { userArn: string | null; caller: string | null; accountId: string | null; sourceIp: string; userAgent: string | null };
  requestId: string;
}

export interface KubeconfigHandlerDeps {
  store: Store;
  /** Signs the admin kubeconfig (workflows/bootstrap-hooks.ts kubeconfigSources: the cluster's CA from Secrets Manager). */
  adminKubeconfig: (namespace: string, clusterName: string, expirationSeconds?: number) => Promise<string | undefined>;
  /** Where audit records go. @default one structured log line each */
  audit?: (record: KubeconfigIssued) => void;
}

/**
 * The client certificate's notAfter of a kubeconfig the bootstrap made, read from the certificate itself. Note: the
 * bootstrap (functions/bootstrap, kubeconfigSources) returns the text only; parsing it again costs a millisecond per
 * download, and records what was really issued rather than what a second clock reading would compute.
 */
function notAfterOf(kubeconfig: string): string {
  const config = parse(kubeconfig) as { users?: { user?: { 'client-certificate-data'?: string } }[] };
  const data = config.users?.[0]?.user?.['client-certificate-data'];
  if (!data) throw new Error('the kubeconfig has no client certificate');
  return new Date(new X509Certificate(Buffer.from(data, 'base64')).validTo).toISOString();
}

const defaultAudit = (record: KubeconfigIssued) => logger.info('admin kubeconfig issued', { ...record });

/** A handler over given dependencies (tests), or over ones built on first use and kept for the container. */
export function createKubeconfigHandler(deps: KubeconfigHandlerDeps | (() => KubeconfigHandlerDeps)) {
  return proxyHandler(deps, { logger, name: 'the kubeconfig handler' }, async (event, resolved): Promise<APIGatewayProxyResult> => {
    const request = toHttpRequest(event);
    // API Gateway sends only the kubeconfig route here; anything else is refused without a read.
    if (!ROUTE.test(request.path)) return toProxyResult(statusResponse(new ApiError('NotFound', 'the server could not find the requested resource').status));
    const { adminKubeconfig, store } = resolved;
    const audit = resolved.audit ?? defaultAudit;
    const identity = event.requestContext.identity;
    const routerDeps: RouterDeps = {
      store,
      kubeconfig: async (namespace, cluster, expirationSeconds) => {
        const text = await adminKubeconfig(namespace, cluster, expirationSeconds);
        if (text !== undefined)
          audit({
            audit: 'AdminKubeconfigIssued',
            namespace,
            cluster,
            expirationSeconds,
            notAfter: notAfterOf(text),
            caller: {
              // Through the kubectl door there is no SigV4 identity: the token authorizer's principal is the caller.
              userArn: identity.userArn ?? principalOf(event.requestContext.authorizer),
              caller: identity.caller,
              accountId: identity.accountId,
              sourceIp: identity.sourceIp,
              userAgent: identity.userAgent,
            },
            requestId: event.requestContext.requestId,
          });
        return text;
      },
      onInternalError: (err) => logger.error('kubeconfig request failed with an internal error', err as Error),
    };
    return toProxyResult(await handleRequest(request, routerDeps));
  });
}

/**
 * The store on the table named by TABLE_NAME (read only) and the clusters' CAs in Secrets Manager
 * (SECRETS_KMS_KEY_ARN, SECRETS_NAME_PREFIX): both are required here. The CAs are read as the kubeadm bootstrap
 * reads them (ClusterCa), without the rest of the bootstrap: this function never reaches a workload API, and its
 * bundle holds no Kubernetes client.
 */
export function kubeconfigDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): KubeconfigHandlerDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the kubeconfig handler needs the name of the clusterless table');
  const ca = clusterCaFromEnvironment(env);
  if (!ca) throw new Error("SECRETS_KMS_KEY_ARN is not set: the kubeconfig handler signs with the clusters' CAs in Secrets Manager");
  const store = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  return { store, adminKubeconfig: kubeconfigSources(ca, store).adminKubeconfig };
}

/** The Lambda entry point. */
export const handler = createKubeconfigHandler(() => kubeconfigDepsFromEnvironment());

/** The principal a Lambda authorizer answered (its principalId), when the request came through one. */
function principalOf(authorizer: unknown): string | null {
  const id = (authorizer as { principalId?: unknown } | null | undefined)?.principalId;
  return typeof id === 'string' ? id : null;
}
