/** dynalite, the embedded DynamoDB of the local host, persisted on disk and reachable on 127.0.0.1 only. */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
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
