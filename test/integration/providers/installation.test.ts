/**
 * Where the installation id of a host comes from. The embedded host writes it once into the store of its data
 * folder (claimInstallationId on dynalite: a conditional put of a reserved item), so that a restart keeps it and a
 * fresh data folder is another installation; the AWS tasks take it from INSTALLATION_ID (test/unit/bootstrap).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimInstallationId } from '../../../functions/adapters/dynamodb/installation.js';
import { DynamoDbStore, createTable } from '../../../functions/adapters/dynamodb/index.js';
import { startEmbeddedHost } from '../../../local/embedded-host.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';

let dynalite: RunningDynalite;
let client: DynamoDBClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = new DynamoDBClient(emulatorClientConfig(dynalite.endpoint));
});

afterAll(async () => {
  client?.destroy();
  await dynalite?.stop();
});

async function newTable(): Promise<string> {
  const table = uniqueName('t');
  await createTable(client, table);
  return table;
}

describe('claimInstallationId (dynalite)', () => {
  it('stores the first candidate, and gives it to every later claimant', async () => {
    const table = await newTable();
    expect(await claimInstallationId(client, table, 'first-installation')).toBe('first-installation');
    expect(await claimInstallationId(client, table, 'second-installation')).toBe('first-installation');
  });

  it('gives racing claimants one and the same id, one of theirs', async () => {
    const table = await newTable();
    const candidates = Array.from({ length: 8 }, (_, i) => `candidate-${i}-installation`);
    const claimed = await Promise.all(candidates.map((c) => claimInstallationId(client, table, c)));
    expect(new Set(claimed).size).toBe(1);
    expect(candidates).toContain(claimed[0]);
  });

  it('keeps the item out of every list and cluster read of the store', async () => {
    const table = await newTable();
    await claimInstallationId(client, table, 'listed-nowhere');
    const store = new DynamoDbStore({ client, tableName: table });
    expect((await client.send(new ScanCommand({ TableName: table }))).Count).toBe(1);
    expect(await store.list('Cluster')).toEqual([]);
    expect(await store.list('Machine', 'default')).toEqual([]);
    expect(await store.listCluster('default', 'installation')).toEqual([]);
  });

  it('refuses a candidate that is no installation id, writing nothing', async () => {
    const table = await newTable();
    await expect(claimInstallationId(client, table, 'has spaces')).rejects.toBeInstanceOf(RangeError);
    expect((await client.send(new ScanCommand({ TableName: table }))).Count).toBe(0);
  });
});

describe('the embedded host', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('claims an installation id per data folder: a restart keeps it, another folder gets another', async () => {
    // Prepare
    const [one, two] = [await mkdtemp(join(tmpdir(), 'clusterless-installation-')), await mkdtemp(join(tmpdir(), 'clusterless-installation-'))];
    dirs.push(one, two);
    const idOf = async (dataDir: string) => {
      const host = await startEmbeddedHost({ port: 0, dataDir, sweepSeconds: 3600 });
      try {
        return host.installationId;
      } finally {
        await host.close();
      }
    };
    // Act
    const first = await idOf(one);
    const restarted = await idOf(one);
    const other = await idOf(two);
    // Assess
    expect(first).toMatch(/^[A-Za-z0-9-]{8,64}$/);
    expect(restarted).toBe(first);
    expect(other).not.toBe(first);
  });
});
