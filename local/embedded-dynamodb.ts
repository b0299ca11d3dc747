/** dynalite, the embedded DynamoDB of the local host, persisted on disk and reachable on 127.0.0.1 only. */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DynamoDbStore, createDynamoDbClient, createTable } from '../functions/adapters/dynamodb/index.js';
import type { Clock } from '../functions/ports.js';
import { LOOPBACK } from './http-server.js';

interface DynaliteOptions {
  /** A LevelDB directory; in memory when absent. */
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite is CommonJS without types; this is the one function it exports.
const dynalite = createRequire(import.meta.url)('dynalite') as (options?: DynaliteOptions) => Server;

export interface EmbeddedDynamoDb {
  endpoint: string;
  /** Stops the server and closes the database, so that everything written is on disk. */
  stop(): Promise<void>;
}

/** Starts dynalite on a free 127.0.0.1 port, keeping its data under `path` (created if missing). */
export async function startEmbeddedDynamoDb(path: string): Promise<EmbeddedDynamoDb> {
  await mkdir(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface EmbeddedStore {
  store: DynamoDbStore;
  /** The store's client, for the items beside the objects (the installation id). */
  client: DynamoDBClient;
  /** Destroys the client and stops dynalite, so that everything written is on disk. */
  close(): Promise<void>;
}

/**
 * The store of a local host: dynalite under `path`, its table made, and a DynamoDbStore on it. dynalite checks
 * no signatures, but the SDK will not sign without some credentials.
 */
export async function startEmbeddedStore(path: string, options: { tableName: string; clock?: Clock }): Promise<EmbeddedStore> {
  const db = await startEmbeddedDynamoDb(path);
  const client = createDynamoDbClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const close = async () => {
    client.destroy();
    await db.stop();
  };
  try {
    await createTable(client, options.tableName);
  } catch (err) {
    await close();
    throw err;
  }
  return { store: new DynamoDbStore({ client, tableName: options.tableName, ...(options.clock ? { clock: options.clock } : {}) }), client, close };
}
