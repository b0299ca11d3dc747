/** The Store on DynamoDB: the adapter, the table layout and createTable. */
export { DynamoDbStore, createDynamoDbClient, toStoreError, type DynamoDbStoreOptions } from './dynamodb-store.js';
export * from './table.js';
