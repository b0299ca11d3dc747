/** The mirror function's stream half: records -> the objects to push, one push per object per batch, failures retried from the first. */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
});

import { claimKey, leaseSortKey, objectSortKey, partitionKey } from '../../../functions/adapters/dynamodb/table.js';
import type { KubernetesMirror } from '../../../functions/adapters/kubernetes/mirror.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { changedObjects, createMirrorHandler, objectOfKeys } from '../../../functions/handlers/mirror.js';
import { apiCreate, manifests } from '../../integration/kubernetes/fixtures.js';

const record = (pk: string, sk: string, seq: string): DynamoDBRecord => ({
  eventID: `e-${seq}`,
  eventName: 'MODIFY',
  eventSource: 'aws:dynamodb',
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: seq },
});

describe('objectOfKeys', () => {
  it.each([
    {
      name: 'an object of a cluster',
      pk: partitionKey('team-a', 'prod'),
      sk: objectSortKey('Machine', 'm-1'),
      want: { kind: 'Machine', namespace: 'team-a', name: 'm-1' },
    },
    {
      name: 'a namespace-level object',
      pk: partitionKey('team-a', undefined),
      sk: objectSortKey('MachineClass', 'small'),
      want: { kind: 'MachineClass', namespace: 'team-a', name: 'small' },
    },
    { name: 'a lease', pk: partitionKey('team-a', 'prod'), sk: leaseSortKey('reconcile'), want: undefined },
    { name: 'a name claim', ...claimKey({ kind: 'Cluster', namespace: 'team-a', name: 'prod' }), want: undefined },
    { name: 'an unknown kind', pk: 'team-a#prod', sk: 'Pod#x', want: undefined },
  ])('$name', ({ pk, sk, want }) => {
    expect(objectOfKeys(pk, sk)).toEqual(want);
  });
});

describe('the stream half of the mirror function', () => {
  it('pushes each changed object once, applies the live and removes the gone, and retries from the first failed record', async () => {
    // Prepare
    const store = new MemoryStore();
    await apiCreate(store, manifests.cluster('prod', 'team-a'));
    const calls: string[] = [];
    const mirror = {
      apply: async (obj: { kind: string; metadata: { name: string } }) => {
        calls.push(`apply ${obj.kind}/${obj.metadata.name}`);
      },
      delete: async (kind: string, _ns: string, name: string) => {
        calls.push(`delete ${kind}/${name}`);
        if (name === 'gone-2') throw new Error('the management cluster is down');
      },
    } as unknown as KubernetesMirror;
    const handler = createMirrorHandler({ store, mirror: async () => mirror });
    const pk = partitionKey('team-a', 'prod');
    const records = [
      record(pk, objectSortKey('Cluster', 'prod'), '100'),
      record(pk, objectSortKey('Machine', 'gone-1'), '101'),
      record(pk, objectSortKey('Cluster', 'prod'), '102'),
      record(pk, leaseSortKey('reconcile'), '103'),
      record(pk, objectSortKey('Machine', 'gone-2'), '104'),
    ];
    // Act
    const result = await handler({ Records: records });
    // Assess
    expect(changedObjects(records).map((c) => c.name)).toEqual(['prod', 'gone-1', 'gone-2']);
    expect(calls).toEqual(['apply Cluster/prod', 'delete Machine/gone-1', 'delete Machine/gone-2']);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '104' }] });
  });
});
