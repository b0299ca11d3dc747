/**
 * The routes of `clusterless import` and `clusterless move` behind API Gateway: POST .../clusters/{name}/certificates,
 * POST .../machines/{name}/adopt, and GET and POST .../clusters/{name}/move (functions/api/http/cluster-import.ts,
 * http/move.ts), through the same router as every host. A function of its own, as the kubeconfig function is, so that
 * the resource API keeps no EC2 tagging and no Secrets Manager access: this one may store a cluster's certificates,
 * tag a Cluster API instance as this installation's (only one carrying Cluster API AWS's tags and no installation's)
 * and hand this installation's instances and volumes to another one (infra/constructs/cluster-transfer.ts).
 *
 * Who may call it is API Gateway's to say (a grant that writes the namespace and its status, api/access-entries.ts
 * mayTransfer); it logs every step it serves as one audit line: who, what, and the answer's status.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createEc2Client } from '../adapters/aws/clients.js';
import type { Ec2QueryClient } from '../adapters/aws/ec2-query/index.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { Ec2ClusterHandover } from '../adapters/ec2/cluster-handover.js';
import { SecretStoreCertificateTransfer } from '../adapters/kubeadm/certificate-transfer.js';
import { PayloadOffloadingStore, payloadStoreFromEnvironment } from '../adapters/payloads/index.js';
import { GROUP, VERSION } from '../api/common.js';
import { ApiError, handleRequest, statusResponse, type RouterDeps } from '../api/http/index.js';
import { secretNames } from '../bootstrap/names.js';
import { clusterImportHooks } from './cluster-import-deps.js';
import { proxyHandler, toHttpRequest, toProxyResult } from './http.js';
import { installationIdFromEnvironment, secretStoreFromEnvironment } from './secrets-deps.js';

const logger = new Logger({ serviceName: 'clusterless-cluster-transfer' });

const NAMESPACED = `^/apis/${GROUP.replace(/\./g, '\\.')}/${VERSION}/namespaces/[^/]+`;
/** The routes this function serves, by method; anything else is refused without a read. */
const ROUTES = new Map<string, RegExp>([
  ['GET', new RegExp(`${NAMESPACED}/clusters/[^/]+/move$`)],
  ['POST', new RegExp(`${NAMESPACED}/(clusters/[^/]+/(move|certificates)|machines/[^/]+/adopt)$`)],
]);

/** One step served, as the audit log records it. Never a body: an Import or certificates step carries CA keys. */
export interface TransferServed {
  audit: 'ClusterTransfer';
  method: string;
  path: string;
  /** The move step named by a POST .../move body, when it names one. */
  step?: string;
  status: number;
  /** API Gateway's SigV4 caller, or the token authorizer's principal. */
  caller: string | null;
  requestId: string;
}

export interface ClusterTransferDeps extends Required<Pick<RouterDeps, 'store' | 'clusterImport' | 'move'>> {
  /** Where audit records go. @default one structured log line each */
  audit?: (record: TransferServed) => void;
}

const stepOf = (body: string | undefined): string | undefined => {
  try {
    const step = (JSON.parse(body ?? '') as { step?: unknown }).step;
    return typeof step === 'string' ? step.slice(0, 32) : undefined;
  } catch {
    return undefined;
  }
};

/** A handler over given dependencies (tests), or over ones built on first use and kept for the container. */
export function createClusterTransferHandler(deps: ClusterTransferDeps | (() => ClusterTransferDeps)) {
  return proxyHandler(deps, { logger, name: 'the cluster transfer handler' }, async (event, resolved): Promise<APIGatewayProxyResult> => {
    const request = toHttpRequest(event);
    if (!ROUTES.get(request.method)?.test(request.path))
      return toProxyResult(statusResponse(new ApiError('NotFound', 'the server could not find the requested resource').status));
    const response = await handleRequest(request, {
      store: resolved.store,
      clusterImport: resolved.clusterImport,
      move: resolved.move,
      onInternalError: (err) => logger.error('cluster transfer request failed with an internal error', err as Error),
    });
    const step = request.method === 'POST' && request.path.endsWith('/move') ? stepOf(request.body) : undefined;
    const authorizer = event.requestContext.authorizer as { principalId?: unknown } | null | undefined;
    (resolved.audit ?? ((r) => logger.info('cluster transfer step', { ...r })))({
      audit: 'ClusterTransfer',
      method: request.method,
      path: request.path,
      ...(step ? { step } : {}),
      status: response.status,
      caller: event.requestContext.identity.userArn ?? (typeof authorizer?.principalId === 'string' ? authorizer.principalId : null),
      requestId: event.requestContext.requestId,
    });
    return toProxyResult(response);
  });
}

/**
 * The store on TABLE_NAME (with the addon payloads of PAYLOAD_BUCKET: a move copies ClusterResourceSets whole), EC2
 * for adoption and hand-over, and the clusters' certificates in Secrets Manager (SECRETS_KMS_KEY_ARN,
 * SECRETS_NAME_PREFIX) under INSTALLATION_ID: all required here.
 */
export function clusterTransferDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env, ec2: Ec2QueryClient = createEc2Client()): ClusterTransferDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the cluster transfer handler needs the name of the clusterless table');
  const installationId = installationIdFromEnvironment(env);
  const secrets = secretStoreFromEnvironment(env);
  if (!secrets) throw new Error("SECRETS_KMS_KEY_ARN is not set: the cluster transfer handler stores the clusters' certificates in Secrets Manager");
  const table = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  const payloads = payloadStoreFromEnvironment(env);
  const store = payloads ? new PayloadOffloadingStore(table, payloads) : table;
  return {
    store,
    clusterImport: clusterImportHooks({
      ec2,
      installationId,
      secrets: secrets.secrets,
      ...(secrets.secretPrefix ? { secretPrefix: secrets.secretPrefix } : {}),
    }),
    move: {
      installationId,
      // Only EC2 resources change installation: the sim and process clouds are an embedded host's own.
      handovers: { aws: new Ec2ClusterHandover(ec2) },
      certificates: new SecretStoreCertificateTransfer(secrets.secrets, secretNames(secrets.secretPrefix)),
    },
  };
}

/** The Lambda entry point. */
export const handler = createClusterTransferHandler(() => clusterTransferDepsFromEnvironment());
