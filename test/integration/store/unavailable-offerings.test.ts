/**
 * The offerings without capacity where hosts keep them: DynamoDB (the stack's table, on dynalite and on moto, as
 * the embedded host's dynalite and the Lambdas use it) and the embedded host's SQLite file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { DynamoDbUnavailableOfferings } from '../../../functions/adapters/dynamodb/unavailable-offerings.js';
import { createTable } from '../../../functions/adapters/dynamodb/table.js';
import { openEmbeddedSqliteStore, type EmbeddedSqliteStore } from '../../../local/embedded-sqlite.js';
import { uniqueName } from '../../support/aws.js';
import { emulatorDynamoDbClient } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { runUnavailableOfferingsContract } from '../../support/unavailable-offerings-contract.js';

let dynalite: RunningDynalite;
let dynaliteClient: DynamoDBClient;
let motoClient: DynamoDBClient;
const dirs: string[] = [];
const opened: EmbeddedSqliteStore[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  dynaliteClient = emulatorDynamoDbClient(dynalite.endpoint);
  motoClient = emulatorDynamoDbClient(motoEndpoint());
});

afterAll(async () => {
  for (const s of opened) s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dynaliteClient.destroy();
  motoClient.destroy();
  await dynalite.stop();
});

async function onTable(client: DynamoDBClient): Promise<DynamoDbUnavailableOfferings> {
  const tableName = uniqueName('offerings');
  await createTable(client, tableName);
  return new DynamoDbUnavailableOfferings(client, tableName);
}

runUnavailableOfferingsContract('DynamoDB on dynalite', () => onTable(dynaliteClient));
runUnavailableOfferingsContract('DynamoDB on moto', () => onTable(motoClient));
runUnavailableOfferingsContract('the embedded SQLite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'clusterless-offerings-'));
  dirs.push(dir);
  const store = await openEmbeddedSqliteStore(join(dir, 'store'));
  opened.push(store);
  return store.unavailableOfferings;
});
