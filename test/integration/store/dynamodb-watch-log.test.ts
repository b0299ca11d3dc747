/**
 * The watch log on DynamoDB (dynalite): what the stream function appends, what a watch reads back. Stream records are
 * written as DynamoDB Streams gives them (object images with the kind index attribute); the clock is the writers'.
 */
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '../../../functions/adapters/dynamodb/table.js';
import { DynamoDbWatchLog, watchLogItems, type StreamChange } from '../../../functions/adapters/dynamodb/watch-log.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Change } from '../../../functions/ports.js';
import { uniqueName } from '../../support/aws.js';
import { emulatorDynamoDbClient } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { FakeClock } from '../../support/fake-clock.js';

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

const START = new Date('2026-03-01T10:00:00Z');
const micros = (d: Date, plusMs = 0) => (d.getTime() + plusMs) * 1000;

function machine(namespace: string, name: string, resourceVersion: number, phase = 'Pending'): ApiObject {
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: { namespace, name, resourceVersion: String(resourceVersion), labels: { 'cluster.x-k8s.io/cluster-name': 'prod' } },
    spec: {},
    status: { phase },
  } as ApiObject;
}
const image = (o: ApiObject) => ({ gsi1pk: { S: o.kind }, obj: { S: JSON.stringify(o) } });
const inserted = (o: ApiObject): StreamChange => ({ eventName: 'INSERT', newImage: image(o) });
const modified = (before: ApiObject, after: ApiObject): StreamChange => ({ eventName: 'MODIFY', oldImage: image(before), newImage: image(after) });
const removed = (o: ApiObject, atSeconds: number): StreamChange => ({ eventName: 'REMOVE', oldImage: image(o), approximateCreationSeconds: atSeconds });
const summary = (changes: Change[] | 'expired') =>
  changes === 'expired'
    ? changes
    : changes.map((c) => `${c.type} ${c.object.metadata.namespace}/${c.object.metadata.name}@${c.object.metadata.resourceVersion}`);

async function newLog(clock: FakeClock) {
  const tableName = uniqueName('watch-log');
  await createTable(client, tableName);
  return { tableName, log: new DynamoDbWatchLog({ client, tableName, clock, settleMs: 2000, pollMs: 10 }) };
}

describe('DynamoDB watch log', () => {
  it('answers the changes after a version in version order, whatever order they were appended in', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log } = await newLog(clock);
    const v = [1, 2, 3].map((i) => micros(START, i));
    const a1 = machine('team-a', 'm-1', v[0]!);
    // Act: a later shard's batch first
    await log.append([modified(a1, machine('team-a', 'm-1', v[2]!, 'Running'))]);
    await log.append([inserted(a1), inserted(machine('team-a', 'm-2', v[1]!))]);
    clock.advance(10);

    // Assess
    expect(summary(await log.changesSince('Machine', undefined, String(v[0]! - 1)))).toEqual([
      `ADDED team-a/m-1@${v[0]}`,
      `ADDED team-a/m-2@${v[1]}`,
      `MODIFIED team-a/m-1@${v[2]}`,
    ]);
    expect(summary(await log.changesSince('Machine', undefined, String(v[1])))).toEqual([`MODIFIED team-a/m-1@${v[2]}`]);
    const [modification] = (await log.changesSince('Machine', undefined, String(v[1]))) as Change[];
    expect(modification!.previous?.metadata.resourceVersion).toBe(String(v[0]));
    expect(await log.changesSince('MachineSet', undefined, String(v[0]! - 1))).toEqual([]);
  });

  it('answers the changes of one namespace only when asked for one', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log } = await newLog(clock);
    await log.append([inserted(machine('team-a', 'm-1', micros(START, 1))), inserted(machine('team-b', 'm-1', micros(START, 2)))]);
    clock.advance(10);

    // Act
    const teamB = await log.changesSince('Machine', 'team-b', String(micros(START)));

    // Assess
    expect(summary(teamB)).toEqual([`ADDED team-b/m-1@${micros(START, 2)}`]);
  });

  it('holds back changes newer than the settle delay, and the current version stays below them', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log } = await newLog(clock);
    const early = micros(START, -5000);
    const fresh = micros(START, -1000);
    await log.append([inserted(machine('team-a', 'early', early)), inserted(machine('team-a', 'fresh', fresh))]);

    // Act
    const now = await log.changesSince('Machine', undefined, String(early - 1));
    const current = Number(await log.currentVersion());
    clock.advance(2);
    const later = await log.changesSince('Machine', undefined, String(current));

    // Assess
    expect(summary(now)).toEqual([`ADDED team-a/early@${early}`]);
    expect(current).toBeLessThan(fresh);
    expect(summary(later)).toEqual([`ADDED team-a/fresh@${fresh}`]);
  });

  it('answers expired for a version older than the retention', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log } = await newLog(clock);
    await log.append([inserted(machine('team-a', 'm-1', micros(START, 1)))]);

    // Act
    clock.advance(15 * 60 + 1);

    // Assess
    expect(await log.changesSince('Machine', undefined, String(micros(START)))).toBe('expired');
    expect(await log.changesSince('Machine', undefined, await log.currentVersion())).toEqual([]);
  });

  it('writes the same items when a batch is appended again (a retried stream batch)', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log, tableName } = await newLog(clock);
    const m = machine('team-a', 'm-1', micros(START, 1));
    const batch = [inserted(m), removed(m, START.getTime() / 1000 + 1)];

    // Act
    await log.append(batch);
    await log.append(batch);
    clock.advance(10);

    // Assess
    const items = (await client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    expect(items).toHaveLength(2);
    expect(summary(await log.changesSince('Machine', undefined, String(micros(START))))).toEqual([
      `ADDED team-a/m-1@${micros(START, 1)}`,
      `DELETED team-a/m-1@${micros(START, 1000)}`,
    ]);
  });

  it('logs only objects: leases and name claims (no kind index attribute) are not changes', () => {
    // Act
    const items = watchLogItems([
      { eventName: 'MODIFY', newImage: { holder: { S: 'reconcile-1' } } },
      { eventName: 'INSERT', newImage: { objectPk: { S: 'team-a#prod' } } },
    ]);

    // Assess
    expect(items).toEqual([]);
  });

  it('orders a removal after the object’s last version even when the record’s time is older', async () => {
    // Prepare
    const clock = new FakeClock(START);
    const { log } = await newLog(clock);
    const m = machine('team-a', 'm-1', micros(START, 1500));

    // Act: the record's time is whole seconds, below the last write's microseconds
    await log.append([removed(m, START.getTime() / 1000)]);
    clock.advance(10);

    // Assess
    expect(summary(await log.changesSince('Machine', undefined, String(micros(START, 1500))))).toEqual([`DELETED team-a/m-1@${micros(START, 1500) + 1}`]);
  });
});
