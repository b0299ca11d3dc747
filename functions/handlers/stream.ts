/**
 * The DynamoDB stream as the reconcile trigger (DESIGN section 5): a change of an object starts a reconcile of
 * its cluster, as a write does in the embedded host (local/runtime.ts, TriggeringStore). One execution per
 * distinct cluster per batch, so a burst of writes to one cluster costs one reconcile.
 *
 * Which items count (table.ts has the layout):
 * - objects of a cluster partition `{ns}#{cluster}`: yes, whatever changed (spec, status, deletion);
 * - leases (`lease#...` sort keys): no, every reconcile writes one, and they say nothing about the cluster;
 * - name claims (`{ns}/{Kind}/{name}` / `claim`): no, the object item next to them carries the change;
 * - namespace-level objects (MachineClass, partition `{ns}`): no, machines copy their class when they are
 *   made, so a class change has nothing to reconcile (as in the embedded host);
 * - events (events.k8s.io Event, partition `{ns}` too): no, they tell what happened and change nothing; they
 *   reach this function (the event source's filter admits every object, infra/constructs/reconcile-triggers.ts) for
 *   the watch log only. An event DynamoDB's TTL removes (a REMOVE whose userIdentity is dynamodb.amazonaws.com) is
 *   a DELETED there like any removal, as kube-apiserver's watchers see an event whose etcd lease ran out;
 * - the watch log (`watch#{Kind}`, adapters/dynamodb/watch-log.ts): no, and its items never reach this function
 *   (they lack the kind index attribute the filter asks for); this function writes it, one item per changed object
 *   of the batch (MachineClass and Event too), alongside starting the reconciles.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TABLE_KEYS, lowestSequenceNumber, objectOfItemKeys } from '../adapters/dynamodb/table.js';
import { DynamoDbWatchLog, type StreamChange } from '../adapters/dynamodb/watch-log.js';
import { createDynamoDbClient } from '../adapters/aws/clients.js';
import { reconcileWorkflowsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import type { Workflows } from '../ports.js';
import { startFleetUpgrade, type FleetRef } from '../workflows/fleet-upgrade-start.js';

const logger = new Logger();
const metrics = new Metrics();

export interface ClusterRef {
  namespace: string;
  clusterName: string;
}

/** The cluster whose object an item is, from the item's keys; undefined for items that trigger nothing. */
export function clusterOfKeys(pk: string | undefined, sk: string | undefined): ClusterRef | undefined {
  const item = objectOfItemKeys(pk, sk);
  return item?.clusterName === undefined ? undefined : { namespace: item.namespace, clusterName: item.clusterName };
}

export interface ClusterChange extends ClusterRef {
  /** The lowest stream sequence number among the cluster's records: where a retry must start from. */
  firstSequenceNumber: string;
  records: number;
}

/**
 * The FleetUpgrades a batch created (INSERT records; their status writes are MODIFYs): each starts its execution,
 * named after its uid, so a batch retried starts nothing twice.
 */
export function fleetUpgradesCreated(records: readonly DynamoDBRecord[]): FleetRef[] {
  return records.flatMap((r) => {
    const keys = r.dynamodb?.Keys;
    const item = objectOfItemKeys(keys?.[TABLE_KEYS.partitionKey]?.S, keys?.[TABLE_KEYS.sortKey]?.S);
    const uid = r.dynamodb?.NewImage?.['uid']?.S;
    return r.eventName === 'INSERT' && item?.kind === 'FleetUpgrade' && item.clusterName === undefined && uid
      ? [{ namespace: item.namespace, name: item.name, uid }]
      : [];
  });
}

/** The distinct clusters a batch of stream records touched, in the order first seen. */
export function clusterChanges(records: readonly DynamoDBRecord[]): ClusterChange[] {
  const byCluster = new Map<string, ClusterChange>();
  for (const r of records) {
    const keys = r.dynamodb?.Keys;
    const ref = clusterOfKeys(keys?.[TABLE_KEYS.partitionKey]?.S, keys?.[TABLE_KEYS.sortKey]?.S);
    if (!ref) continue;
    const id = `${ref.namespace}/${ref.clusterName}`;
    const seq = r.dynamodb?.SequenceNumber ?? '';
    const seen = byCluster.get(id);
    if (!seen) byCluster.set(id, { ...ref, firstSequenceNumber: seq, records: 1 });
    else {
      seen.records++;
      if (seq) seen.firstSequenceNumber = lowestSequenceNumber([seq, seen.firstSequenceNumber].filter(Boolean))!;
    }
  }
  return [...byCluster.values()];
}

export interface StreamHandlerDeps {
  workflows: Workflows;
  /** The watch log the API's watches read; without it (tests of the trigger alone) no log is written. */
  watchLog?: { append(records: readonly StreamChange[]): Promise<number> };
}

/** A stream record as the watch log reads it. */
const streamChange = (r: DynamoDBRecord): StreamChange => ({
  eventName: r.eventName,
  newImage: r.dynamodb?.NewImage,
  oldImage: r.dynamodb?.OldImage,
  approximateCreationSeconds: r.dynamodb?.ApproximateCreationDateTime,
});

/**
 * A handler over given dependencies (tests) or ones built on first use. A start that fails is reported as a
 * batch item failure at the cluster's first record, so Lambda retries from there (the event source mapping
 * has ReportBatchItemFailures); clusters started again by that retry merely reconcile once more.
 */
export function createStreamHandler(deps: StreamHandlerDeps | (() => StreamHandlerDeps)) {
  let resolved: StreamHandlerDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    resolved ??= (deps as () => StreamHandlerDeps)();
    if (context) logger.addContext(context);
    const changes = clusterChanges(event.Records);
    const upgrades = fleetUpgradesCreated(event.Records);
    // The watch log and the reconciles are independent: neither waits for the other.
    const [logged, results, upgradeStarts] = await Promise.all([
      resolved.watchLog ? resolved.watchLog.append(event.Records.map(streamChange)).catch((e: unknown) => e as Error) : 0,
      Promise.allSettled(
        changes.map((c) =>
          resolved!.workflows.start('reconcile-cluster', `change-${randomUUID()}`, { namespace: c.namespace, clusterName: c.clusterName, trigger: 'change' }),
        ),
      ),
      Promise.allSettled(upgrades.map((u) => startFleetUpgrade(resolved!.workflows, u))),
    ]);
    // A FleetUpgrade whose execution could not start retries the whole batch (its start is named: never twice).
    const upgradeFailed = upgradeStarts.some((r) => r.status === 'rejected');
    upgradeStarts.forEach((r, i) => {
      if (r.status === 'rejected')
        logger.error('could not start fleet-upgrade', { fleetUpgrade: `${upgrades[i]!.namespace}/${upgrades[i]!.name}`, error: r.reason as Error });
    });
    const failed = changes.filter((_, i) => results[i]!.status === 'rejected');
    results.forEach((r, i) => {
      if (r.status === 'rejected')
        logger.error('could not start reconcile-cluster', { cluster: `${changes[i]!.namespace}/${changes[i]!.clusterName}`, error: r.reason as Error });
    });
    metrics.addMetric('ReconcilesStarted', MetricUnit.Count, changes.length - failed.length);
    metrics.addMetric('ReconcileStartFailures', MetricUnit.Count, failed.length);
    metrics.publishStoredMetrics();
    logger.info('stream batch', {
      records: event.Records.length,
      clusters: changes.length,
      failed: failed.length,
      logged: typeof logged === 'number' ? logged : 0,
    });
    if (logged instanceof Error) logger.error('could not write the watch log', { error: logged });
    // A log that could not be written retries the whole batch (its puts are idempotent; its reconciles merely run once more).
    const retryFrom = lowestSequenceNumber(
      logged instanceof Error || upgradeFailed
        ? event.Records.map((r) => r.dynamodb?.SequenceNumber ?? '').filter(Boolean)
        : failed.map((c) => c.firstSequenceNumber),
    );
    return { batchItemFailures: retryFrom === undefined ? [] : [{ itemIdentifier: retryFrom }] };
  };
}

/** The workflows of the state machines named by the *_STATE_MACHINE_ARN variables the stack sets, and the watch log on TABLE_NAME. */
export function workflowsFromEnvironment(env: NodeJS.ProcessEnv = process.env): StreamHandlerDeps {
  const tableName = env['TABLE_NAME'];
  return {
    workflows: reconcileWorkflowsFromEnv(env),
    ...(tableName ? { watchLog: new DynamoDbWatchLog({ client: createDynamoDbClient(), tableName }) } : {}),
  };
}

/** The Lambda entry point. */
export const handler = createStreamHandler(() => workflowsFromEnvironment());
