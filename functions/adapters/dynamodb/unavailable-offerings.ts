/**
 * UnavailableOfferings in the clusterless table: one item per offering a launch found without capacity, so that
 * every Lambda and host of the installation (one table each) tries it last until the mark expires.
 *
 * The items: pk `#unavailable-offerings`, sk `{market}:{type}:{zone}`, attributes instanceType, availabilityZone,
 * capacityType, expiresAt (epoch ms) and the table's ttl (epoch s), so that DynamoDB deletes them some time after;
 * readers skip the expired ones meanwhile (and dynalite, which never deletes, keeps at most one per offering). No
 * object, claim or lease can have that partition (see table.ts), and the items carry no kind-index attributes,
 * so no list, watch or stream mapping sees them. Only the provision function writes them (infra: every other
 * function is denied writes to the partition).
 */
import { ConditionalCheckFailedException, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { offeringKey, type UnavailableOffering } from '../../core/machine/offerings.js';
import type { UnavailableOfferings } from '../../ports.js';
import { toStoreError } from './dynamodb-store.js';
import { TABLE_KEYS } from './table.js';

/** The partition of the marks; `#` starts no namespace, so no object's partition equals it. */
export const UNAVAILABLE_OFFERINGS_PARTITION = '#unavailable-offerings';

const MARKETS = new Set(['spot', 'on-demand']);

export class DynamoDbUnavailableOfferings implements UnavailableOfferings {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async list(now: Date): Promise<UnavailableOffering[]> {
    const found: UnavailableOffering[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
            ExpressionAttributeValues: { ':pk': { S: UNAVAILABLE_OFFERINGS_PARTITION } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          const mark = toMark(item);
          if (mark && Date.parse(mark.expiresAt) > now.getTime()) found.push(mark);
        }
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (e) {
      throw toStoreError(e);
    }
    return found;
  }

  async mark(offering: UnavailableOffering): Promise<void> {
    const expiresAtMs = Date.parse(offering.expiresAt);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [TABLE_KEYS.partitionKey]: { S: UNAVAILABLE_OFFERINGS_PARTITION },
            [TABLE_KEYS.sortKey]: { S: offeringKey(offering) },
            instanceType: { S: offering.instanceType },
            availabilityZone: { S: offering.availabilityZone },
            capacityType: { S: offering.capacityType },
            expiresAt: { N: String(expiresAtMs) },
            [TABLE_KEYS.timeToLiveAttribute]: { N: String(Math.ceil(expiresAtMs / 1000)) },
          },
          // Two launches marking the same offering: the later expiry stays, whichever write comes last.
          ConditionExpression: 'attribute_not_exists(#pk) OR expiresAt < :expiresAt',
          ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
          ExpressionAttributeValues: { ':expiresAt': { N: String(expiresAtMs) } },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return;
      throw toStoreError(e);
    }
  }
}

/** An item read back as a mark; one that is not well formed is skipped. */
function toMark(item: Record<string, AttributeValue>): UnavailableOffering | undefined {
  const instanceType = item['instanceType']?.S;
  const availabilityZone = item['availabilityZone']?.S;
  const capacityType = item['capacityType']?.S;
  const expiresAt = Number(item['expiresAt']?.N);
  if (!instanceType || !availabilityZone || !capacityType || !MARKETS.has(capacityType) || !Number.isFinite(expiresAt)) return undefined;
  return { instanceType, availabilityZone, capacityType: capacityType as UnavailableOffering['capacityType'], expiresAt: new Date(expiresAt).toISOString() };
}
