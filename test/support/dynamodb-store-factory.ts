import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore, type DynamoDbStoreOptions } from '../../functions/adapters/dynamodb/dynamodb-store.js';
import { createTable } from '../../functions/adapters/dynamodb/table.js';
import { emulatorClientConfig, uniqueName } from './aws.js';
import type { StoreFactory } from './store-contract.js';

/** A DynamoDB client for an emulator endpoint (region us-east-1, dummy credentials). */
export function emulatorDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(emulatorClientConfig(endpoint));
}

/** A DynamoDbStore on a fresh table of its own, so that tests never see each other's objects. */
export async function newTableStore(
  client: DynamoDBClient,
  options: Omit<DynamoDbStoreOptions, 'client' | 'tableName'> = {},
): Promise<{ store: DynamoDbStore; tableName: string }> {
  const tableName = uniqueName('store');
  await createTable(client, tableName);
  return { store: new DynamoDbStore({ ...options, client, tableName }), tableName };
}

/** The contract's factory over one client: each store gets its own table. */
export function dynamoDbStoreFactory(client: () => DynamoDBClient): StoreFactory {
  return async ({ clock, pageLimit }) => (await newTableStore(client(), pageLimit === undefined ? { clock } : { clock, pageLimit })).store;
}
