/**
 * The meter counts what a list page read, not only what it returned: MeteredStore over DynamoDbStore on dynalite,
 * compared with the Query requests the SDK client sent and the read units dynalite says they consumed
 * (ReturnConsumedCapacity, added to each Query on its way out).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbStore } from '../../../functions/adapters/dynamodb/dynamodb-store.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { CostMeter, MeteredStore } from '../../../functions/metering/index.js';
import type { ListPageOptions } from '../../../functions/ports.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { FakeClock } from '../../support/fake-clock.js';
import { interceptCommands } from '../../support/sdk-interceptor.js';
import { machine } from '../../support/store-contract.js';

let dynalite: RunningDynalite;
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  await dynalite.stop();
});

const padded = (i: number) => `m-${String(i).padStart(2, '0')}`;

/** A store on a fresh table with `count` machines of about `kb` KB, and the Queries sent from now on with what dynalite billed for them. */
async function seeded(count: number, kb: number): Promise<{ store: DynamoDbStore; sent: { queries: number; readUnits: number } }> {
  const client = emulatorDynamoDbClient(dynalite.endpoint);
  clients.push(client);
  const { store } = await newTableStore(client, { clock: new FakeClock() });
  const blob = 'x'.repeat(kb * 1024);
  for (let i = 0; i < count; i++)
    await store.create(machine(padded(i), 'c1', 'default', { metadata: { name: padded(i), namespace: 'default', annotations: { 'example.com/blob': blob } } }));
  const sent = { queries: 0, readUnits: 0 };
  interceptCommands(client, async (call, send) => {
    if (call.command !== 'QueryCommand') return send();
    call.input['ReturnConsumedCapacity'] = 'TOTAL';
    const res = (await send()) as { output: { ConsumedCapacity?: { CapacityUnits?: number } } };
    sent.queries++;
    // DynamoDB bills an eventually consistent Query half a unit at least (dynamodb-units.ts); dynalite bills an
    // empty response (the one that finds nothing after a LastEvaluatedKey) nothing.
    sent.readUnits += Math.max(0.5, res.output.ConsumedCapacity?.CapacityUnits ?? Number.NaN);
    return res;
  });
  return { store, sent };
}

/** Every page of a list, from the first. */
async function allPages(store: MeteredStore, options: Omit<ListPageOptions, 'continue'>): Promise<ApiObject[]> {
  const items: ApiObject[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.listPage('Machine', 'default', { ...options, ...(token ? { continue: token } : {}) });
    items.push(...page.items);
    token = page.continue;
  } while (token && ++pages < 50);
  return items;
}

describe('MeteredStore.listPage on DynamoDB', () => {
  it.each([
    { name: 'a filter that drops every object', kb: 200, options: { limit: 1, filter: () => false }, returned: 0 },
    {
      name: 'a byte budget that cuts pages of large objects short',
      kb: 200,
      options: { limit: 500, budget: { maxBytes: 1024 * 1024, sizeOf: (o: ApiObject) => JSON.stringify(o).length } },
      returned: 12,
    },
    { name: 'small pages of small objects', kb: 1, options: { limit: 5 }, returned: 12 },
  ])('counts one Query per request sent and the read units DynamoDB billed: $name', async ({ kb, options, returned }) => {
    // Prepare
    const { store, sent } = await seeded(12, kb);
    const meter = new CostMeter({ now: () => new Date(0) });
    const metered = new MeteredStore(store, meter);
    // Act
    const items = await allPages(metered, options);
    // Assess
    expect(items).toHaveLength(returned);
    expect(sent.queries).toBeGreaterThan(0);
    expect(meter.dynamoDb('Query', 'kind-index')).toEqual({ requests: sent.queries, readUnits: sent.readUnits, writeUnits: 0 });
  });

  it("passes each read on to the caller's onRead as well", async () => {
    const { store } = await seeded(3, 1);
    const seen: string[][] = [];
    await new MeteredStore(store, new CostMeter({ now: () => new Date(0) })).listPage('Machine', 'default', {
      limit: 1,
      filter: () => false,
      onRead: (objects) => seen.push(objects.map((o) => o.metadata.name)),
    });
    expect(seen).toEqual([[padded(0), padded(1), padded(2)]]);
  });
});
