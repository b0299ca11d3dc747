/**
 * The metered store and provider count what the DynamoDB store and the EC2 provider would send for each call
 * (the tables in metered-store.ts and metered-provider.ts), over the memory store and the simulator.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider } from '../../../functions/adapters/sim/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { CostMeter, MeteredProvider, MeteredStore, objectItemBytes, writeUnits } from '../../../functions/metering/index.js';
import { ConflictError, type LaunchSpec } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';

const cluster = (name: string, extra: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, namespace: 'default', ...extra },
    spec: { provider: { sim: {} } },
  }) as unknown as ApiObject;

let clock: FakeClock;
let meter: CostMeter;
let store: MeteredStore;

beforeEach(() => {
  clock = new FakeClock();
  meter = new CostMeter({ now: () => clock.now() });
  store = new MeteredStore(new MemoryStore({ clock }), meter);
});

describe('MeteredStore', () => {
  it('create: the claim put, the object put with its index entry, the claim read back', async () => {
    const created = await store.create(cluster('c1'));
    const units = writeUnits(objectItemBytes(created));

    expect(meter.dynamoDb('PutItem', 'claim')).toEqual({ requests: 1, readUnits: 0, writeUnits: 1 });
    expect(meter.dynamoDb('PutItem', 'object')).toEqual({ requests: 1, readUnits: 0, writeUnits: units });
    expect(meter.dynamoDb('PutItem', 'kind-index')).toEqual({ requests: 1, readUnits: 0, writeUnits: units });
    expect(meter.dynamoDb('GetItem', 'claim')).toEqual({ requests: 1, readUnits: 1, writeUnits: 0 });
    expect(meter.dynamoDb().requests).toBe(4);
  });

  it('get: the claim, then the object when there is one', async () => {
    await store.create(cluster('c1'));
    meter.reset();

    await store.get('Cluster', 'default', 'c1');
    await store.get('Cluster', 'default', 'missing');

    expect(meter.dynamoDb('GetItem', 'claim').requests).toBe(2);
    expect(meter.dynamoDb('GetItem', 'object').requests).toBe(1);
  });

  it('updateStatus: one read of the object and one put; a stale version costs the read only', async () => {
    const c = await store.create(cluster('c1'));
    meter.reset();

    await store.updateStatus({ ...c, status: { phase: 'Provisioning' } });
    await expect(store.updateStatus({ ...c, status: { phase: 'Provisioned' } })).rejects.toBeInstanceOf(ConflictError);

    expect(meter.dynamoDb('GetItem', 'object').requests).toBe(2);
    expect(meter.dynamoDb('PutItem', 'object').requests).toBe(1);
  });

  it('delete: a deletionTimestamp is a put; the last finalizer gone removes the object and its claim', async () => {
    const c = await store.create(cluster('c1', { finalizers: ['clusterless.dev/cluster'] }));
    meter.reset();

    const deleting = await store.delete('Cluster', 'default', 'c1');
    expect(meter.dynamoDb('PutItem', 'object').requests).toBe(1);
    await store.update({ ...deleting.object, metadata: { ...deleting.object.metadata, finalizers: [] } });

    expect(meter.dynamoDb('DeleteItem', 'object').requests).toBe(1);
    expect(meter.dynamoDb('DeleteItem', 'kind-index').requests).toBe(1);
    expect(meter.dynamoDb('DeleteItem', 'claim').requests).toBe(1);
    expect(await store.get('Cluster', 'default', c.metadata.name)).toBeUndefined();
  });

  it('listCluster is one strongly consistent Query of the partition; list one eventually consistent Query of the index', async () => {
    for (const n of ['c1', 'c2']) await store.create(cluster(n));
    meter.reset();

    await store.listCluster('default', 'c1');
    await store.list('Cluster');

    // Each returns well under 4 KB: one unit for the consistent Query, half a unit for the index.
    expect(meter.dynamoDb('Query', 'partition')).toEqual({ requests: 1, readUnits: 1, writeUnits: 0 });
    expect(meter.dynamoDb('Query', 'kind-index')).toEqual({ requests: 1, readUnits: 0.5, writeUnits: 0 });
  });

  it('a lease is one conditional put and one delete, billed whether the put wins or not', async () => {
    await store.acquireLease('default', 'c1', 'reconcile', 'a', 60);
    expect(await store.acquireLease('default', 'c1', 'reconcile', 'b', 60)).toBeUndefined();
    await store.releaseLease('default', 'c1', 'reconcile', 'a');

    expect(meter.dynamoDb('PutItem', 'lease')).toEqual({ requests: 2, readUnits: 0, writeUnits: 2 });
    expect(meter.dynamoDb('DeleteItem', 'lease')).toEqual({ requests: 1, readUnits: 0, writeUnits: 1 });
  });
});

describe('MeteredProvider', () => {
  const spec: LaunchSpec = {
    namespace: 'default',
    clusterName: 'c1',
    machineName: 'm1',
    machineUid: 'uid-1',
    role: 'worker',
    version: 'v1.31.2',
    clientToken: 'uid-1',
    machineClass: { sim: { bootSeconds: 0, nodeReadySeconds: 0, failureRate: 0 } } as LaunchSpec['machineClass'],
    clusterProvider: { sim: {} } as LaunchSpec['clusterProvider'],
  };

  it('counts the EC2 calls of create, describe and delete by action', async () => {
    const provider = new MeteredProvider(new SimMachineProvider(new SimCloud({ clock })), meter);

    const instance = await provider.create(spec);
    await provider.describe('default', 'c1');
    await provider.delete({ namespace: 'default', clusterName: 'c1', machineUid: 'uid-1', instanceId: instance.instanceId });

    expect(['RunInstances', 'DescribeInstances', 'TerminateInstances'].map((a) => meter.ec2Calls(a as never))).toEqual([1, 3, 1]);
    expect(
      meter
        .report()
        .items.filter((i) => i.service === 'ec2')
        .every((i) => i.cost === 0),
    ).toBe(true);
  });

  it('counts a call that fails, as EC2 counts it against the request rate', async () => {
    const cloud = new SimCloud({ clock });
    cloud.throttleNext(1);
    const provider = new MeteredProvider(new SimMachineProvider(cloud), meter);

    await expect(provider.describe('default', 'c1')).rejects.toThrow(/throttling/);
    expect(meter.ec2Calls('DescribeInstances')).toBe(1);
  });
});
