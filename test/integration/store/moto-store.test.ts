import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { emulatorDynamoDbClient, dynamoDbStoreFactory } from '../../support/dynamodb-store-factory.js';
import { runStoreContract } from '../../support/store-contract.js';

let client: DynamoDBClient;

beforeAll(() => {
  client = emulatorDynamoDbClient(inject('motoEndpoint'));
});

afterAll(() => {
  client.destroy();
});

runStoreContract(
  'DynamoDB on moto_server',
  dynamoDbStoreFactory(() => client),
);
