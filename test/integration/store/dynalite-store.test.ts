import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { emulatorDynamoDbClient, dynamoDbStoreFactory } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { runStoreContract } from '../../support/store-contract.js';

let dynalite: RunningDynalite;
let client: DynamoDBClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = emulatorDynamoDbClient(dynalite.endpoint);
});

afterAll(async () => {
  client.destroy();
  await dynalite.stop();
});

runStoreContract(
  'DynamoDB on dynalite',
  dynamoDbStoreFactory(() => client),
);
