/**
 * What the contract cannot see from outside: the DynamoDB table layout, one paginated consistent Query per
 * cluster, conditional writes that lose at the table, the crash windows of the name claims, and throttling.
 * Faults are injected into the SDK client in front of a real emulator (dynalite and moto_server).
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { DynamoDbStore } from '../../../functions/adapters/dynamodb/dynamodb-store.js';
import { createTable } from '../../../functions/adapters/dynamodb/table.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { AlreadyExistsError, ConflictError, StoreUnavailableError } from '../../../functions/ports.js';
import { emulatorClientConfig } from '../../support/aws.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';
import { startDynalite } from '../../support/dynalite.js';
import { FakeClock } from '../../support/fake-clock.js';
import { attr, interceptCommands } from '../../support/sdk-interceptor.js';
import { cluster, machine, machineClass } from '../../support/store-contract.js';
import { EventReason, eventName, type Event } from '../../../functions/api/event.js';
import { silentLogger, storeEventRecorder } from '../../../functions/workflows/index.js';

class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

const emulators = [
  {
    name: 'dynalite',
    start: async () => {
      const d = await startDynalite();
      return { endpoint: d.endpoint, stop: d.stop };
    },
  },
  { name: 'moto_server', start: async () => ({ endpoint: motoEndpoint(), stop: async () => {} }) },
];

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

describe('DynamoDbStore options', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a maxScannedPerPage or maxReadsPerPage of %s', (bad) => {
    const client = new DynamoDBClient({});
    expect(() => new DynamoDbStore({ client, tableName: 't', maxScannedPerPage: bad })).toThrow(/maxScannedPerPage must be a whole number of 1 or more/);
    expect(() => new DynamoDbStore({ client, tableName: 't', maxReadsPerPage: bad })).toThrow(/maxReadsPerPage must be a whole number of 1 or more/);
    client.destroy();
  });
});

describe.each(emulators)('DynamoDbStore on $name', ({ start }) => {
  let emulator: { endpoint: string; stop: () => Promise<void> };
  let client: DynamoDBClient;
  const extraClients: DynamoDBClient[] = [];

  beforeAll(async () => {
    emulator = await start();
    client = emulatorDynamoDbClient(emulator.endpoint);
  });

  afterEach(() => {
    for (const c of extraClients.splice(0)) c.destroy();
  });

  afterAll(async () => {
    client.destroy();
    await emulator.stop();
  });

  /** Two stores on one table and one clock: `a` on a client of its own that tests intercept, `b` plain. */
  async function twoWriters(options: { claimGraceSeconds?: number } = {}) {
    const clock = new FakeClock();
    const { store: b, tableName } = await newTableStore(client, { clock, ...options });
    const aClient = emulatorDynamoDbClient(emulator.endpoint);
    extraClients.push(aClient);
    const a = new DynamoDbStore({ client: aClient, tableName, clock, ...options });
    return { a, aClient, b, clock, tableName };
  }

  async function scan(tableName: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async function objectItems(tableName: string, name: string): Promise<ApiObject[]> {
    return (await scan(tableName)).filter((i) => i.obj?.S && i.sk?.S?.endsWith(`#${name}`)).map((i) => JSON.parse(i.obj?.S ?? '') as ApiObject);
  }

  describe('table layout', () => {
    it('keeps objects in their cluster partition, namespace-level objects in the namespace, claims and leases apart', async () => {
      // Prepare
      const clock = new FakeClock();
      const { store, tableName } = await newTableStore(client, { clock });
      // Act
      await store.create(cluster('c1'));
      const m1 = await store.create(machine('m1', 'c1'));
      await store.create(machineClass('small'));
      await store.acquireLease('default', 'c1', 'reconcile', 'worker-a', 30);
      // Assess
      const items = await scan(tableName);
      expect(items.map((i) => `${i.pk?.S} ${i.sk?.S}`).sort()).toEqual([
        'default MachineClass#small',
        'default#c1 Cluster#c1',
        'default#c1 Machine#m1',
        'default#c1 lease#reconcile',
        'default/Cluster/c1 claim',
        'default/Machine/m1 claim',
        'default/MachineClass/small claim',
      ]);
      const item = items.find((i) => i.sk?.S === 'Machine#m1');
      expect(item).toMatchObject({
        gsi1pk: { S: 'Machine' },
        gsi1sk: { S: 'default#m1' },
        rv: { S: m1.metadata.resourceVersion },
        uid: { S: m1.metadata.uid },
      });
      expect(JSON.parse(item?.obj?.S ?? '')).toEqual(m1);
      expect(items.find((i) => i.pk?.S === 'default/Machine/m1')).toMatchObject({ objectPk: { S: 'default#c1' }, uid: { S: m1.metadata.uid } });
      expect(items.find((i) => i.sk?.S === 'lease#reconcile')).toMatchObject({
        holder: { S: 'worker-a' },
        expiresAt: { N: String(clock.now().getTime() + 30_000) },
      });
    });

    it('keeps an event in its namespace partition with a TTL an hour past its last observation, and no name claim', async () => {
      // Prepare
      const clock = new FakeClock('2026-03-01T12:00:00Z');
      const { store, tableName } = await newTableStore(client, { clock });
      const recorder = storeEventRecorder(store, clock, silentLogger);
      const input = {
        regarding: { kind: 'Machine', namespace: 'default', name: 'm1', uid: 'u1' },
        type: 'Normal' as const,
        reason: EventReason.SuccessfulCreate,
        action: 'Create',
        note: 'Created new worker instance with id "i-1"',
        workflow: 'provision-machine',
      };
      // Act: recorded, then again 30 s later (a retried step).
      await recorder.record(input);
      clock.advance(30);
      await recorder.record(input);
      // Assess
      const items = await scan(tableName);
      expect(items.map((i) => `${i.pk?.S} ${i.sk?.S}`)).toEqual([`default Event#${eventName(input)}`]);
      expect(items[0]!.ttl).toEqual({ N: String(Date.parse('2026-03-01T12:00:30Z') / 1000 + 3600) });
      expect((await store.get<Event>('Event', 'default', eventName(input)))?.series?.count).toBe(2);
      expect(await store.listCluster('default', 'c1')).toEqual([]);
    });

    it('createTable is idempotent', async () => {
      const { store, tableName } = await newTableStore(client);
      await store.create(machine('m1'));
      await createTable(client, tableName);
      expect(await store.get('Machine', 'default', 'm1')).toBeDefined();
    });

    it('reads a cluster with consistent Query pages of its partition, never a Scan', async () => {
      const { aClient, b, tableName } = await twoWriters();
      const paged = new DynamoDbStore({ client: aClient, tableName, pageLimit: 5 });
      for (let i = 0; i < 12; i++) await b.create(machine(`m-${String(i).padStart(2, '0')}`, 'c1'));
      const calls: { command: string; input: Record<string, unknown> }[] = [];
      interceptCommands(aClient, async (call, send) => {
        calls.push(call);
        return send();
      });
      const listed = await paged.listCluster('default', 'c1');
      expect(listed).toHaveLength(12);
      expect(calls.length).toBeGreaterThanOrEqual(3);
      for (const call of calls) {
        expect(call.command).toBe('QueryCommand');
        expect(call.input).toMatchObject({
          ConsistentRead: true,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'default#c1' } },
          Limit: 5,
        });
      }
      expect(calls.slice(1).every((c) => c.input.ExclusiveStartKey !== undefined)).toBe(true);
    });
  });

  describe('conditional writes', () => {
    it('a replace that loses at the table gets ConflictError carrying the winner', async () => {
      const { a, aClient, b } = await twoWriters();
      const created = await b.create(machine('m1'));
      let winner: ApiObject | undefined;
      interceptCommands(aClient, async (call, send) => {
        // The other writer gets in between a's read and a's conditional write.
        if (call.command === 'PutItemCommand' && !winner) winner = await b.update({ ...created, spec: { clusterName: 'c1', replicas: 2 } });
        return send();
      });
      const err = await rejection(a.update({ ...created, spec: { clusterName: 'c1', replicas: 3 } }));
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).current).toEqual(winner);
      expect(await b.get('Machine', 'default', 'm1')).toEqual(winner);
    });

    it('an unguarded replace that loses at the table re-reads and applies on top of the winner', async () => {
      const { a, aClient, b } = await twoWriters();
      const created = await b.create(machine('m1'));
      let winner: ApiObject | undefined;
      interceptCommands(aClient, async (call, send) => {
        if (call.command === 'PutItemCommand' && !winner) winner = await b.updateStatus({ ...created, status: { phase: 'Running' } });
        return send();
      });
      const updated = await a.update({ ...created, metadata: { ...created.metadata, resourceVersion: undefined }, spec: { clusterName: 'c1', replicas: 3 } });
      expect(updated.status).toEqual({ phase: 'Running' });
      expect(updated.spec).toEqual({ clusterName: 'c1', replicas: 3 });
      expect(await b.get('Machine', 'default', 'm1')).toEqual(updated);
    });

    it('a delete that loses at the table to a new finalizer keeps the object', async () => {
      const { a, aClient, b } = await twoWriters();
      const created = await b.create(machine('m1'));
      let raced = false;
      interceptCommands(aClient, async (call, send) => {
        if (call.command === 'DeleteItemCommand' && !raced) {
          raced = true;
          await b.update({ ...created, metadata: { ...created.metadata, finalizers: ['a.dev/x'] } });
        }
        return send();
      });
      const result = await a.delete('Machine', 'default', 'm1');
      expect(result.removed).toBe(false);
      expect((await b.get('Machine', 'default', 'm1'))?.metadata).toMatchObject({ finalizers: ['a.dev/x'], deletionTimestamp: '2026-01-01T00:00:00Z' });
    });
  });

  describe('name claims: crash windows', () => {
    it('a create that dies after its claim and before its object leaves nothing visible, and the name is free after the grace', async () => {
      const { a, aClient, b, clock, tableName } = await twoWriters({ claimGraceSeconds: 30 });
      const remove = interceptCommands(aClient, async (call, send) => {
        if (call.command === 'PutItemCommand' && attr(call.input, 'Item', 'sk') === 'Machine#m1') throw new InjectedCrash('crash before the object is written');
        return send();
      });
      await expect(a.create(machine('m1', 'c1'))).rejects.toBeInstanceOf(InjectedCrash);
      remove();
      expect(await b.get('Machine', 'default', 'm1')).toBeUndefined();
      expect(await b.listCluster('default', 'c1')).toEqual([]);
      expect(await b.list('Machine')).toEqual([]);
      // The claim may still belong to a create in flight: refused until the grace has passed.
      clock.advance(29);
      await expect(b.create(machine('m1', 'c2'))).rejects.toBeInstanceOf(AlreadyExistsError);
      clock.advance(1);
      const created = await b.create(machine('m1', 'c2'));
      expect(await b.get('Machine', 'default', 'm1')).toEqual(created);
      expect(await b.listCluster('default', 'c2')).toEqual([created]);
      expect(await objectItems(tableName, 'm1')).toEqual([created]);
      await expect(b.create(machine('m1', 'c1'))).rejects.toBeInstanceOf(AlreadyExistsError);
    });

    it('a delete that dies after removing the object and before its claim loses nothing, and the name is free at once', async () => {
      const { a, aClient, b, clock, tableName } = await twoWriters({ claimGraceSeconds: 30 });
      await b.create(machine('m1', 'c1'));
      clock.advance(3600);
      const remove = interceptCommands(aClient, async (call, send) => {
        if (call.command === 'DeleteItemCommand' && attr(call.input, 'Key', 'sk') === 'claim') throw new InjectedCrash('crash before the claim is removed');
        return send();
      });
      await expect(a.delete('Machine', 'default', 'm1')).rejects.toBeInstanceOf(InjectedCrash);
      remove();
      expect(await b.get('Machine', 'default', 'm1')).toBeUndefined();
      expect(await b.listCluster('default', 'c1')).toEqual([]);
      const again = await b.create(machine('m1', 'c2'));
      expect(await b.get('Machine', 'default', 'm1')).toEqual(again);
      expect(await objectItems(tableName, 'm1')).toEqual([again]);
      // And the re-created object can be deleted cleanly, claim included.
      await b.delete('Machine', 'default', 'm1');
      expect((await scan(tableName)).filter((i) => i.pk?.S === 'default/Machine/m1')).toEqual([]);
    });

    it('a delete whose claim was taken over in between leaves the new claim alone', async () => {
      const { a, aClient, b, clock } = await twoWriters({ claimGraceSeconds: 30 });
      await b.create(machine('m1', 'c1'));
      clock.advance(3600);
      let again: ApiObject | undefined;
      interceptCommands(aClient, async (call, send) => {
        if (call.command === 'DeleteItemCommand' && attr(call.input, 'Key', 'sk') === 'claim' && !again) again = await b.create(machine('m1', 'c2'));
        return send();
      });
      const result = await a.delete('Machine', 'default', 'm1');
      expect(result.removed).toBe(true);
      expect(again).toBeDefined();
      expect(await b.get('Machine', 'default', 'm1')).toEqual(again);
    });

    it('get returns only the object its claim names', async () => {
      // The state a create leaves when its claim is taken over between its writes (see the adapter's comment).
      const { b, tableName } = await twoWriters();
      await b.create(machine('m1', 'c1'));
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: 'default/Machine/m1' }, sk: { S: 'claim' }, objectPk: { S: 'default#c1' }, uid: { S: 'someone-else' }, claimedAt: { N: '0' } },
        }),
      );
      expect(await b.get('Machine', 'default', 'm1')).toBeUndefined();
    });

    it('a create in the cluster of an unclaimed leftover object removes the leftover', async () => {
      const { b, tableName } = await twoWriters();
      const leftover = await b.create(machine('m1', 'c1'));
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'default/Machine/m1' }, sk: { S: 'claim' } } }));
      expect(await b.get('Machine', 'default', 'm1')).toBeUndefined();
      const created = await b.create(machine('m1', 'c1'));
      expect(created.metadata.uid).not.toBe(leftover.metadata.uid);
      expect(await b.get('Machine', 'default', 'm1')).toEqual(created);
      expect(await objectItems(tableName, 'm1')).toEqual([created]);
    });

    it.each([
      { case: 'another cluster', otherCluster: 'c2' },
      { case: 'the same cluster', otherCluster: 'c1' },
    ])('a create stalled past the grace whose claim was taken over (in $case) leaves only the other object', async ({ otherCluster }) => {
      const { a, aClient, b, clock, tableName } = await twoWriters({ claimGraceSeconds: 30 });
      let other: ApiObject | undefined;
      interceptCommands(aClient, async (call, send) => {
        if (call.command === 'PutItemCommand' && attr(call.input, 'Item', 'sk') === 'Machine#m1' && !other) {
          clock.advance(31);
          other = await b.create(machine('m1', otherCluster, 'default', { metadata: { name: 'm1', namespace: 'default', labels: { by: 'b' } } }));
        }
        return send();
      });
      await expect(a.create(machine('m1', 'c1'))).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(other).toBeDefined();
      expect(await b.get('Machine', 'default', 'm1')).toEqual(other);
      expect(await objectItems(tableName, 'm1')).toEqual([other]);
      const everywhere = [...(await b.listCluster('default', 'c1')), ...(otherCluster === 'c1' ? [] : await b.listCluster('default', otherCluster))];
      expect(everywhere).toEqual([other]);
    });
  });

  describe('list pages: what one page reads', () => {
    const padded = (i: number) => `m-${String(i).padStart(2, '0')}`;
    const jsonBytes = (o: ApiObject) => Buffer.byteLength(JSON.stringify(o), 'utf8');
    const MB = 1024 * 1024;

    /** Every Query the client sends from now on: how many objects its response held, and their JSON's bytes. */
    function recordQueries(c: DynamoDBClient): { objects: number; bytes: number }[] {
      const reads: { objects: number; bytes: number }[] = [];
      interceptCommands(c, async (call, send) => {
        const res = (await send()) as { output: { Items?: Record<string, AttributeValue>[] } };
        if (call.command === 'QueryCommand') {
          const items = res.output.Items ?? [];
          reads.push({ objects: items.length, bytes: items.reduce((n, i) => n + Buffer.byteLength(i.obj?.S ?? '', 'utf8'), 0) });
        }
        return res;
      });
      return reads;
    }

    const total = (reads: { objects: number; bytes: number }[]) => ({
      queries: reads.length,
      objects: reads.reduce((n, r) => n + r.objects, 0),
      bytes: reads.reduce((n, r) => n + r.bytes, 0),
    });

    /** Machines of about `kb` KB each, in cluster c1 of the default namespace. */
    async function seed(store: DynamoDbStore, count: number, kb: number): Promise<void> {
      const blob = 'x'.repeat(kb * 1024);
      for (let i = 0; i < count; i++)
        await store.create(
          machine(padded(i), 'c1', 'default', kb ? { metadata: { name: padded(i), namespace: 'default', annotations: { 'example.com/blob': blob } } } : {}),
        );
    }

    it('a page of large objects reads what it returns and at most one more 1 MB response, not the whole kind', async () => {
      // Prepare: 30 objects of 200 KB (6 MB); a page budget of 2 MB holds 10 of them.
      const { a, aClient, b } = await twoWriters();
      await seed(b, 30, 200);
      const budget = { maxBytes: 2 * MB, sizeOf: jsonBytes };
      // Act: every page, from the first.
      const pages: { names: string[]; returned: number; read: ReturnType<typeof total> }[] = [];
      let token: string | undefined;
      do {
        const reads = recordQueries(aClient);
        const page = await a.listPage('Machine', 'default', { limit: 500, budget, ...(token ? { continue: token } : {}) });
        pages.push({ names: page.items.map((o) => o.metadata.name), returned: page.items.reduce((n, o) => n + jsonBytes(o), 0), read: total(reads) });
        token = page.continue;
      } while (token && pages.length < 10);
      // Assess: each page read what it returned plus at most one response (about 1 MB, dynalite adds the item
      // that crosses it), in as many Queries as 1 MB responses it returned plus one.
      expect(pages[0]!.names).toHaveLength(10);
      for (const p of pages) {
        expect(p.read.bytes).toBeLessThanOrEqual(p.returned + MB + 210 * 1024);
        expect(p.read.objects).toBeLessThanOrEqual(p.names.length + 6);
        expect(p.read.queries).toBeLessThanOrEqual(Math.ceil(p.returned / MB) + 1);
      }
      expect(pages.flatMap((p) => p.names)).toEqual(Array.from({ length: 30 }, (_, i) => padded(i)));
    });

    it('limit=1 with a filter that matches nothing reads many objects per Query, not one Query per object', async () => {
      const { a, aClient, b } = await twoWriters();
      await seed(b, 40, 0);
      const reads = recordQueries(aClient);
      const page = await a.listPage('Machine', 'default', { limit: 1, filter: () => false });
      expect(page).toEqual({ items: [] });
      expect(total(reads)).toMatchObject({ queries: 1, objects: 40 });
    });

    it('a filtered page stops after maxReadsPerPage Queries, with a continue, and the next page reads on from there', async () => {
      // Prepare: 12 objects of 300 KB: a 1 MB response holds about four.
      const { aClient, b, tableName } = await twoWriters();
      const a = new DynamoDbStore({ client: aClient, tableName, maxReadsPerPage: 2 });
      await seed(b, 12, 300);
      // Act
      const pages: ReturnType<typeof total>[] = [];
      let token: string | undefined;
      do {
        const reads = recordQueries(aClient);
        const page = await a.listPage('Machine', 'default', { limit: 1, filter: () => false, ...(token ? { continue: token } : {}) });
        expect(page.items).toEqual([]);
        pages.push(total(reads));
        token = page.continue;
      } while (token && pages.length < 20);
      // Assess: no page made more than two Queries, and every object was read once over all pages.
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.every((p) => p.queries <= 2)).toBe(true);
      expect(pages.reduce((n, p) => n + p.objects, 0)).toBe(12);
    });
  });

  describe('throttling', () => {
    function throttledClient(failures: number): { client: DynamoDBClient; attempts: () => number } {
      const c = new DynamoDBClient({ ...emulatorClientConfig(emulator.endpoint), maxAttempts: 2 });
      extraClients.push(c);
      let attempts = 0;
      // In the deserialize step, inside the SDK's retry loop, as a throttled response would be.
      c.middlewareStack.add(
        (next) => async (args) => {
          attempts++;
          if (attempts <= failures)
            throw new ProvisionedThroughputExceededException({
              message: 'Rate of requests exceeds the allowed throughput',
              $metadata: { httpStatusCode: 400 },
            });
          return next(args);
        },
        { step: 'deserialize', name: 'throttle' },
      );
      return { client: c, attempts: () => attempts };
    }

    it('is retried by the SDK', async () => {
      const { store: plain, tableName } = await newTableStore(client);
      const created = await plain.create(machine('m1'));
      const { client: c, attempts } = throttledClient(1);
      const store = new DynamoDbStore({ client: c, tableName });
      expect(await store.get('Machine', 'default', 'm1')).toEqual(created);
      expect(attempts()).toBeGreaterThanOrEqual(2);
    });

    it('becomes StoreUnavailableError when the SDK gives up', async () => {
      const { tableName } = await newTableStore(client);
      const { client: c, attempts } = throttledClient(Infinity);
      const store = new DynamoDbStore({ client: c, tableName });
      const err = await rejection(store.create(machine('m1')));
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).cause).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect(attempts()).toBe(2);
    });
  });
});
