import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { emulatorDynamoDbClient, dynamoDbStoreFactory } from '../../support/dynamodb-store-factory.js';
import { runStoreContract } from '../../support/store-contract.js';

let client: DynamoDBClient;

beforeAll(() => {
  client = emulatorDynamoDbClient(motoEndpoint());
});

afterAll(() => {
  client.destroy();
});

// moto as test/support/moto.ts starts it: one request at a time, so a conditional write is atomic, as on DynamoDB.
runStoreContract(
  'DynamoDB on moto_server',
  dynamoDbStoreFactory(() => client),
);
