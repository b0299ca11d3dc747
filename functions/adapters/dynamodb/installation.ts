/**
 * The installation id of a host whose store is its own (the embedded host and its data folder): written once into
 * the table by a conditional put, read back ever after, so a restart keeps the id and a fresh data folder gets a
 * new one. On AWS the stack sets the id instead (functions/installation.ts, INSTALLATION_ENV).
 *
 * The item: pk `#installation`, sk `installation`, attribute `id`. No other item can have that key (see table.ts):
 * object partitions are `{ns}` or `{ns}#{cluster}` and claims `{ns}/{Kind}/{name}`, and a namespace is a non-empty
 * DNS label, so no partition of theirs starts with `#`. The item has no kind-index attributes, so no list sees it.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkInstallationId } from '../../installation.js';
import { StoreError } from '../../ports.js';
import { toStoreError } from './dynamodb-store.js';

export const INSTALLATION_ITEM_KEY = { pk: '#installation', sk: 'installation' } as const;

/**
 * Stores `candidate` as the installation id unless one is stored already, and returns the stored one: the
 * candidate the first time, the first claimant's id on every later call (and to every racing claimant).
 */
export async function claimInstallationId(client: DynamoDBClient, tableName: string, candidate: string): Promise<string> {
  checkInstallationId(candidate);
  const Key = { pk: { S: INSTALLATION_ITEM_KEY.pk }, sk: { S: INSTALLATION_ITEM_KEY.sk } };
  try {
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...Key, id: { S: candidate } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return candidate;
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw toStoreError(e);
  }
  let stored: string | undefined;
  try {
    stored = (await client.send(new GetItemCommand({ TableName: tableName, Key, ConsistentRead: true }))).Item?.['id']?.S;
  } catch (e) {
    throw toStoreError(e);
  }
  if (stored === undefined) throw new StoreError(`the installation item of table ${tableName} has no id`);
  return checkInstallationId(stored);
}
