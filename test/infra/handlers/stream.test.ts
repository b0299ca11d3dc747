/** The stream trigger: stream records -> the clusters to reconcile, one start per cluster per batch. */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

import { claimKey, leaseSortKey, objectSortKey, partitionKey } from '../../../functions/adapters/dynamodb/table.js';
import { type StreamChange, watchLogItems, watchLogPartition } from '../../../functions/adapters/dynamodb/watch-log.js';
import { clusterChanges, clusterOfKeys, createStreamHandler } from '../../../functions/handlers/stream.js';
import type { WorkflowName, Workflows } from '../../../functions/ports.js';

function record(pk: string, sk: string, sequenceNumber: string, eventName: DynamoDBRecord['eventName'] = 'MODIFY'): DynamoDBRecord {
  return {
    eventID: `e-${sequenceNumber}`,
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: sequenceNumber },
  };
}
const object = (ns: string, cluster: string | undefined, kind: string, name: string, seq: string, eventName?: DynamoDBRecord['eventName']) =>
  record(partitionKey(ns, cluster), objectSortKey(kind, name), seq, eventName);

/** Records the starts; fails those of the clusters named in `failing`. */
function recordingWorkflows(failing: string[] = []) {
  const starts: { workflow: WorkflowName; name: string; input: Record<string, unknown> }[] = [];
  const workflows: Workflows = {
    start: async (workflow, name, input) => {
      if (failing.includes(`${String(input['namespace'])}/${String(input['clusterName'])}`)) throw new Error('StartExecution refused');
      starts.push({ workflow, name, input });
      return { started: true };
    },
  };
  return { starts, workflows };
}

describe('clusterOfKeys', () => {
  it.each([
    ['an object of a cluster', partitionKey('team-a', 'prod'), objectSortKey('Machine', 'prod-md-0-x'), { namespace: 'team-a', clusterName: 'prod' }],
    ['the Cluster object itself', partitionKey('default', 'c1'), objectSortKey('Cluster', 'c1'), { namespace: 'default', clusterName: 'c1' }],
    ['a lease', partitionKey('default', 'c1'), leaseSortKey('reconcile'), undefined],
    [
      'a name claim',
      claimKey({ kind: 'Machine', namespace: 'default', name: 'm1' }).pk,
      claimKey({ kind: 'Machine', namespace: 'default', name: 'm1' }).sk,
      undefined,
    ],
    ['a namespace-level MachineClass', partitionKey('default', undefined), objectSortKey('MachineClass', 'small'), undefined],
    ['an Event (its namespace’s partition)', partitionKey('default', undefined), objectSortKey('Event', 'm1.abcdefghij'), undefined],
    ['a watch log item', watchLogPartition('Machine'), '00001764000000000000#default/m1', undefined],
    ['keys missing', undefined, undefined, undefined],
  ])('%s', (_what, pk, sk, expected) => {
    expect(clusterOfKeys(pk, sk)).toEqual(expected);
  });
});

describe('clusterChanges', () => {
  it('maps a batch to its distinct clusters, in the order first seen', () => {
    const changes = clusterChanges([
      object('default', 'b', 'Machine', 'b-1', '300'),
      object('default', 'a', 'Cluster', 'a', '100'),
      object('default', 'b', 'MachineSet', 'b-ms', '200'),
      object('team', 'a', 'Cluster', 'a', '400'),
    ]);
    expect(changes.map((c) => `${c.namespace}/${c.clusterName}:${c.records}`)).toEqual(['default/b:2', 'default/a:1', 'team/a:1']);
  });

  it('ignores leases and name claims', () => {
    const changes = clusterChanges([
      record(partitionKey('default', 'c1'), leaseSortKey('reconcile'), '1'),
      record(claimKey({ kind: 'Cluster', namespace: 'default', name: 'c1' }).pk, 'claim', '2', 'INSERT'),
      record(partitionKey('default', 'c1'), leaseSortKey('reconcile'), '3', 'REMOVE'),
    ]);
    expect(changes).toEqual([]);
  });

  it('counts removals: a deleted object still changes its cluster', () => {
    expect(clusterChanges([object('default', 'c1', 'Machine', 'm1', '9', 'REMOVE')]).map((c) => c.clusterName)).toEqual(['c1']);
  });

  it("keeps each cluster's lowest sequence number, compared as a number", () => {
    const [change] = clusterChanges([object('default', 'c1', 'Machine', 'm1', '1000'), object('default', 'c1', 'Machine', 'm2', '999')]);
    expect(change!.firstSequenceNumber).toBe('999');
  });
});

describe('the stream handler', () => {
  it('starts one reconcile-cluster per distinct cluster, with the trigger the state machine reads', async () => {
    const { starts, workflows } = recordingWorkflows();
    const result = await createStreamHandler({ workflows })({
      Records: [object('default', 'a', 'Machine', 'a-1', '1'), object('default', 'a', 'Machine', 'a-2', '2'), object('default', 'b', 'Cluster', 'b', '3')],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(starts.map((s) => [s.workflow, s.input])).toEqual([
      ['reconcile-cluster', { namespace: 'default', clusterName: 'a', trigger: 'change' }],
      ['reconcile-cluster', { namespace: 'default', clusterName: 'b', trigger: 'change' }],
    ]);
  });

  it('names executions validly for Step Functions (at most 80 characters, no spaces)', async () => {
    const { starts, workflows } = recordingWorkflows();
    await createStreamHandler({ workflows })({ Records: [object('n'.repeat(63), 'c'.repeat(63), 'Cluster', 'c'.repeat(63), '1')] });
    expect(starts[0]!.name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('reports the first record of a cluster whose start failed, so the batch is retried from there', async () => {
    const { workflows } = recordingWorkflows(['default/b']);
    const result = await createStreamHandler({ workflows })({
      Records: [object('default', 'a', 'Machine', 'a-1', '10'), object('default', 'b', 'Machine', 'b-1', '20'), object('default', 'b', 'Machine', 'b-2', '30')],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '20' }] });
  });

  it('starts the fleet-upgrade execution of a FleetUpgrade created, named after its uid; its status writes start nothing', async () => {
    const created = { ...object('default', undefined, 'FleetUpgrade', 'to-1-32', '1', 'INSERT') };
    created.dynamodb = { ...created.dynamodb, NewImage: { uid: { S: 'fu-uid' } } };
    const modified = { ...object('default', undefined, 'FleetUpgrade', 'to-1-32', '2', 'MODIFY') };
    modified.dynamodb = { ...modified.dynamodb, NewImage: { uid: { S: 'fu-uid' } } };
    const { starts, workflows } = recordingWorkflows();
    const result = await createStreamHandler({ workflows })({ Records: [created, modified] });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(starts.map((s) => [s.workflow, s.name, s.input])).toEqual([
      ['fleet-upgrade', 'fleet-fu-uid', { namespace: 'default', name: 'to-1-32', uid: 'fu-uid' }],
    ]);
  });

  it('has the whole batch retried when a fleet-upgrade execution cannot start', async () => {
    const created = { ...object('default', undefined, 'FleetUpgrade', 'to-1-32', '7', 'INSERT') };
    created.dynamodb = { ...created.dynamodb, NewImage: { uid: { S: 'fu-uid' } } };
    const workflows: Workflows = {
      start: async (workflow) => {
        if (workflow === 'fleet-upgrade') throw new Error('StartExecution refused');
        return { started: true };
      },
    };
    const result = await createStreamHandler({ workflows })({ Records: [object('default', 'a', 'Machine', 'a-1', '5'), created] });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '5' }] });
  });

  it('starts nothing for a batch of leases', async () => {
    const { starts, workflows } = recordingWorkflows();
    await createStreamHandler({ workflows })({ Records: [record(partitionKey('default', 'a'), leaseSortKey('reconcile'), '1')] });
    expect(starts).toEqual([]);
  });

  it('writes the watch log from the batch’s records, and starts no reconcile for the log’s own items', async () => {
    // Prepare
    const { starts, workflows } = recordingWorkflows();
    const appended: StreamChange[][] = [];
    const watchLog = { append: async (records: readonly StreamChange[]) => (appended.push([...records]), watchLogItems(records).length) };
    const obj = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Machine',
      metadata: { namespace: 'default', name: 'a-1', resourceVersion: '1764000000000001' },
    };
    const change = { ...object('default', 'a', 'Machine', 'a-1', '1', 'INSERT') };
    change.dynamodb = { ...change.dynamodb, NewImage: { gsi1pk: { S: 'Machine' }, obj: { S: JSON.stringify(obj) } }, ApproximateCreationDateTime: 1764000000 };
    const logItem = record(watchLogPartition('Machine'), '00001764000000000001#default/a-1', '2', 'INSERT');

    // Act
    const result = await createStreamHandler({ workflows, watchLog })({ Records: [change, logItem] });

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appended).toHaveLength(1);
    expect(watchLogItems(appended[0]!).map((i) => [i['pk']!.S, i['type']!.S])).toEqual([[watchLogPartition('Machine'), 'ADDED']]);
    expect(starts.map((s) => s.input)).toEqual([{ namespace: 'default', clusterName: 'a', trigger: 'change' }]);
  });

  it('logs Events, written and expired by TTL, and starts no reconcile for them', async () => {
    // Prepare
    const { starts, workflows } = recordingWorkflows();
    const appended: StreamChange[][] = [];
    const watchLog = { append: async (records: readonly StreamChange[]) => (appended.push([...records]), watchLogItems(records).length) };
    const event = (rv: string) => ({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'default', name: 'm1.abcdefghij', resourceVersion: rv },
    });
    const image = (rv: string) => ({ gsi1pk: { S: 'Event' }, obj: { S: JSON.stringify(event(rv)) } });
    const written = object('default', undefined, 'Event', 'm1.abcdefghij', '1', 'INSERT');
    written.dynamodb = { ...written.dynamodb, NewImage: image('1764000000000001'), ApproximateCreationDateTime: 1764000000 };
    // DynamoDB's TTL deletes as the service: the record's userIdentity says so; the log treats it as any removal.
    const expired = object('default', undefined, 'Event', 'm1.abcdefghij', '2', 'REMOVE');
    expired.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
    expired.dynamodb = { ...expired.dynamodb, OldImage: image('1764000000000001'), ApproximateCreationDateTime: 1764007300 };

    // Act
    const result = await createStreamHandler({ workflows, watchLog })({ Records: [written, expired] });

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(starts).toEqual([]);
    const items = watchLogItems(appended[0]!);
    expect(items.map((i) => [i['pk']!.S, i['type']!.S])).toEqual([
      [watchLogPartition('Event'), 'ADDED'],
      [watchLogPartition('Event'), 'DELETED'],
    ]);
    // The DELETED carries the removal's time, after the event's last version.
    expect(JSON.parse(items[1]!['obj']!.S!).metadata.resourceVersion).toBe('1764007300000000');
  });

  it('has the whole batch retried when the watch log cannot be written', async () => {
    // Prepare
    const { starts, workflows } = recordingWorkflows();
    const watchLog = {
      append: async () => {
        throw new Error('PutItem refused');
      },
    };

    // Act
    const result = await createStreamHandler({ workflows, watchLog })({
      Records: [object('default', 'a', 'Machine', 'a-1', '20'), object('default', 'b', 'Machine', 'b-1', '10')],
    });

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '10' }] });
    expect(starts).toHaveLength(2);
  });
});
