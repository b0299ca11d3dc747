/**
 * The mirror into a management cluster on AWS (mirror.ts of adapters/kubernetes, as the embedded host runs it in
 * MirrorService), two entry points in one function:
 * - the table's stream, a consumer of its own (infra/constructs/mirror.ts): every changed object is read from
 *   the store and applied to the target, or removed there when the store no longer has it. A batch that cannot
 *   reach the target is retried from its first failed record, then goes to the mirror's own dead-letter queue;
 *   the reconcile trigger never waits on the management cluster.
 * - EventBridge Scheduler, every minute (`{"source": "clusterless.mirror"}`): one sync, the import of kubectl
 *   edits and deletes made in the target (a plain list suffices: the mirror's finalizer keeps a deleted object
 *   until it is imported), then the resync of everything, which repairs what the stream could not deliver.
 * The kubeconfig is a Secrets Manager secret under the installation's prefix (MIRROR_KUBECONFIG_SECRET), taken
 * as the embedded host's PUT /clusterless/v1/mirror takes one: data fields only (untrustedKubeconfig).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createSecretsManagerClient } from '../adapters/aws/clients.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { TABLE_KEYS, lowestSequenceNumber, objectOfItemKeys } from '../adapters/dynamodb/table.js';
import { KubernetesMirror, type SyncResult } from '../adapters/kubernetes/mirror.js';
import { untrustedKubeconfig } from '../adapters/kubernetes/mirror-service.js';
import { PayloadOffloadingStore, payloadStoreFromEnvironment } from '../adapters/payloads/index.js';
import { MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV, parseReplicaLimit } from '../api/http/limits.js';
import { kindByName, type KindName } from '../api/kinds.js';
import type { Store } from '../ports.js';

const logger = new Logger();
const metrics = new Metrics();

/** The environment variable naming the kubeconfig secret (its full name, under the installation's prefix). */
export const MIRROR_KUBECONFIG_SECRET_ENV = 'MIRROR_KUBECONFIG_SECRET';
/** What the schedule sends. */
export const MIRROR_SYNC_EVENT = { source: 'clusterless.mirror' } as const;

export interface MirrorHandlerDeps {
  store: Store;
  /** The mirror of the target; called on every invocation, so it may reread the kubeconfig when it changes. */
  mirror(): Promise<KubernetesMirror>;
}

export interface MirrorObjectKey {
  kind: KindName;
  namespace: string;
  name: string;
}

/** The served object an item of the table is; undefined for leases, claims, the watch log and events. */
export function objectOfKeys(pk: string | undefined, sk: string | undefined): MirrorObjectKey | undefined {
  const item = objectOfItemKeys(pk, sk);
  const def = item && kindByName(item.kind);
  return def ? { kind: def.kind as KindName, namespace: item.namespace, name: item.name } : undefined;
}

/** The distinct objects of a batch, in the order first seen, each with its first sequence number (where a retry starts). */
export function changedObjects(records: readonly DynamoDBRecord[]): (MirrorObjectKey & { firstSequenceNumber: string })[] {
  const seen = new Map<string, MirrorObjectKey & { firstSequenceNumber: string }>();
  for (const r of records) {
    const keys = r.dynamodb?.Keys;
    const key = objectOfKeys(keys?.[TABLE_KEYS.partitionKey]?.S, keys?.[TABLE_KEYS.sortKey]?.S);
    if (!key) continue;
    const id = `${key.kind}/${key.namespace}/${key.name}`;
    if (!seen.has(id)) seen.set(id, { ...key, firstSequenceNumber: r.dynamodb?.SequenceNumber ?? '' });
  }
  return [...seen.values()];
}

const isStreamEvent = (event: unknown): event is DynamoDBStreamEvent => Array.isArray((event as { Records?: unknown })?.Records);

export function createMirrorHandler(deps: MirrorHandlerDeps | (() => MirrorHandlerDeps)) {
  let resolved: MirrorHandlerDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: DynamoDBStreamEvent | typeof MIRROR_SYNC_EVENT, context?: Context): Promise<DynamoDBBatchResponse | SyncResult> => {
    resolved ??= (deps as () => MirrorHandlerDeps)();
    if (context) logger.addContext(context);
    const mirror = await resolved.mirror();
    if (!isStreamEvent(event)) {
      // A failure fails the invocation: Scheduler's retries, then the dead-letter queue, see it.
      const result = await mirror.sync(resolved.store);
      metrics.addMetric('MirrorImports', MetricUnit.Count, result.imports.length);
      metrics.addMetric('MirrorApplied', MetricUnit.Count, result.applied);
      metrics.publishStoredMetrics();
      for (const r of result.imports) logger.info('mirror import', { object: `${r.kind} ${r.namespace}/${r.name}`, outcome: r.outcome.type });
      return result;
    }
    const store = resolved.store;
    const changes = changedObjects(event.Records);
    const failed: string[] = [];
    // One object at a time: a batch is small (the mapping's BatchSize), and the target is one API server.
    for (const c of changes) {
      try {
        const obj = await store.get(c.kind, c.namespace, c.name);
        if (obj) await mirror.apply(obj);
        else await mirror.delete(c.kind, c.namespace, c.name);
      } catch (err) {
        logger.error('could not mirror an object', { object: `${c.kind} ${c.namespace}/${c.name}`, error: err as Error });
        failed.push(c.firstSequenceNumber);
      }
    }
    metrics.addMetric('MirrorPushes', MetricUnit.Count, changes.length - failed.length);
    metrics.addMetric('MirrorPushFailures', MetricUnit.Count, failed.length);
    metrics.publishStoredMetrics();
    const retryFrom = lowestSequenceNumber(failed);
    return { batchItemFailures: retryFrom === undefined ? [] : [{ itemIdentifier: retryFrom }] };
  };
}

/**
 * The mirror of the kubeconfig in the secret, made again only when the secret's version changes (a new target is
 * a new secret value: the next invocation mirrors into it; the scheduled sync fills it).
 */
export function secretKubeconfigMirror(
  client: SecretsManagerClient,
  secretId: string,
  options: { limits?: { maxMachineDeploymentReplicas: number } } = {},
): () => Promise<KubernetesMirror> {
  let current: { versionId: string | undefined; mirror: KubernetesMirror } | undefined;
  return async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (current && out.VersionId !== undefined && current.versionId === out.VersionId) return current.mirror;
    const text = out.SecretString ?? (out.SecretBinary ? new TextDecoder().decode(out.SecretBinary) : '');
    const mirror = new KubernetesMirror({ kubeconfig: untrustedKubeconfig(text), ...(options.limits ? { limits: options.limits } : {}) });
    current = { versionId: out.VersionId, mirror };
    return mirror;
  };
}

/** TABLE_NAME, MIRROR_KUBECONFIG_SECRET, PAYLOAD_BUCKET (ClusterResourceSets' manifests) and the replica limit. */
export function mirrorDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): MirrorHandlerDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the mirror needs the name of the clusterless table');
  const secretId = env[MIRROR_KUBECONFIG_SECRET_ENV];
  if (!secretId) throw new Error(`${MIRROR_KUBECONFIG_SECRET_ENV} is not set: the mirror needs the secret holding its kubeconfig`);
  const maxMachineDeploymentReplicas = parseReplicaLimit(env[MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV], MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV);
  const table = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  const payloads = payloadStoreFromEnvironment(env);
  return {
    store: payloads ? new PayloadOffloadingStore(table, payloads) : table,
    mirror: secretKubeconfigMirror(createSecretsManagerClient(), secretId, { limits: { maxMachineDeploymentReplicas } }),
  };
}

/** The Lambda entry point. */
export const handler = createMirrorHandler(() => mirrorDepsFromEnvironment());
