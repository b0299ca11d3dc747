/** The Store on DynamoDB: the adapter, the table layout and createTable. */
export { DynamoDbStore, toStoreError, type DynamoDbStoreOptions } from './dynamodb-store.js';
// What its users imported from here before the AWS adapters shared their clients (aws/clients.ts).
export { createDynamoDbClient } from '../aws/clients.js';
export * from './table.js';
export { DynamoDbUnavailableOfferings, UNAVAILABLE_OFFERINGS_PARTITION } from './unavailable-offerings.js';
