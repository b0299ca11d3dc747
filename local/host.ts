/**
 * The HTTP API on the embedded store: what `npm start` runs today, and the part of `clusterless up` (the
 * whole embedded host of DESIGN section 8, a later issue) that serves the API.
 */
import { resolve } from 'node:path';
import type { Store } from '../functions/ports.js';
import { holdPrivateUmask, preparePrivateDataDir } from './data-dir.js';
import { startEmbeddedStore } from './embedded-dynamodb.js';
import { startHttpServer } from './http-server.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_DATA_DIR = '.clusterless';
export const TABLE_NAME = 'clusterless';

export interface ApiHostOptions {
  /**
   * Port on 127.0.0.1; 0 picks any free port.
   * @default 8080
   */
  port?: number;
  /**
   * Where the embedded DynamoDB keeps its data (in `dynamodb/` below it).
   * @default - `.clusterless` in the working directory
   */
  dataDir?: string;
  /** Told about requests that failed with a 500. */
  onInternalError?(err: unknown): void;
  /** Lines worth telling the user (a data folder whose permissions were tightened). */
  log?: (line: string) => void;
}

export interface ApiHost {
  url: string;
  port: number;
  dataDir: string;
  store: Store;
  /** Stops the HTTP server, then the store; resolves when the data is on disk. */
  close(): Promise<void>;
}

export async function startApiHost(options: ApiHostOptions = {}): Promise<ApiHost> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  // Private as the embedded host's (local/data-dir.ts): the folder 0700, what LevelDB writes in it 0600.
  const releaseUmask = holdPrivateUmask();
  let embedded: Awaited<ReturnType<typeof startEmbeddedStore>>;
  try {
    await preparePrivateDataDir(dataDir, options.log ?? (() => {}));
    embedded = await startEmbeddedStore(resolve(dataDir, 'dynamodb'), { tableName: TABLE_NAME });
  } catch (err) {
    releaseUmask();
    throw err;
  }
  const { store } = embedded;
  try {
    const http = await startHttpServer({
      port: options.port ?? DEFAULT_PORT,
      deps: { store, ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}) },
    });
    return {
      url: http.url,
      port: http.port,
      dataDir,
      store,
      async close() {
        await http.close();
        await embedded.close();
        releaseUmask();
      },
    };
  } catch (err) {
    await embedded.close();
    releaseUmask();
    throw err;
  }
}
