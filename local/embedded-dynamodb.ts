/**
 * dynalite, the embedded DynamoDB of the local host, persisted on disk and reachable on 127.0.0.1 only. dynalite
 * checks no signatures, and any process on this machine (or a web page: it answers CORS preflights) can reach a
 * loopback port; so every request must be signed (SigV4) with a credential made at start and known only to
 * this process, or it gets a DynamoDB-style 403 and never reaches dynalite. Otherwise the table would be a way
 * around the API's --token and the controller token.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { DynamoDbStore, createDynamoDbClient, createTable } from '../functions/adapters/dynamodb/index.js';
import type { Clock } from '../functions/ports.js';
import { PRIVATE_DIR_MODE } from './data-dir.js';
import { LOOPBACK } from './http-server.js';
import { sigV4Verifier, type SigV4Credentials } from './sigv4-verifier.js';

interface DynaliteOptions {
  /** A LevelDB directory; in memory when absent. */
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite is CommonJS without types; this is the one function it exports.
const dynalite = createRequire(import.meta.url)('dynalite') as (options?: DynaliteOptions) => Server;

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}
// The LevelDB binding dynalite itself opens its folder with (its dependency, resolved from it).
const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as { Level: new (path: string) => LevelDatabase };

/** The LevelDB folder is held by another process (or another host in this one): another host is running on it. */
export class StoreInUseError extends Error {
  override name = 'StoreInUseError';
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`the embedded DynamoDB in ${path} is in use by another process`, options);
  }
}

/**
 * Refuses a folder whose LevelDB lock another process holds. dynalite opens its database lazily and, when the
 * lock is taken, throws 'Database is closed' from a callback at the first request, out of anyone's reach; so the
 * lock is tried first, with the same binding, and released for dynalite at once. Two hosts started on one
 * folder within that instant can still both pass; the loser then fails at its first request, before it has
 * written anything into the folder.
 */
async function checkNotInUse(path: string): Promise<void> {
  const db = new Level(path);
  try {
    await db.open();
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    if (e.cause?.code === 'LEVEL_LOCKED') throw new StoreInUseError(path, { cause: err });
    throw err;
  }
  await db.close();
}

export interface EmbeddedDynamoDb {
  endpoint: string;
  /** The region requests must be signed for. */
  region: string;
  /** The only credential it accepts: random, made at start, kept in this process's memory only. */
  credentials: SigV4Credentials;
  /** Stops the server and closes the database, so that everything written is on disk. */
  stop(): Promise<void>;
}

export const EMBEDDED_REGION = 'local';
/** dynalite's own limit on a request body. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

function refuse(res: ServerResponse, type: string, message: string, status = 403): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** Reads the body (at most dynalite's limit), or undefined when it is larger. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Puts the signature check in front of dynalite's request handler. What the head alone can refuse (no or a
 * malformed Authorization, another key id, scope or region, a date out of the window, a body over the limit)
 * is refused before a byte of the body is read, and the connection closed, so that an unsigned client cannot
 * make the host buffer 16 MiB; otherwise the body is read, the signature verified, and only then is the request
 * replayed (same method, URL, headers and body) to dynalite.
 */
function requireSignature(server: Server, expected: { credentials: SigV4Credentials; region: string }): void {
  const [inner] = server.listeners('request') as RequestListener[];
  if (!inner) throw new Error('dynalite has no request handler to guard');
  server.removeAllListeners('request');
  const verifier = sigV4Verifier({ ...expected, service: 'dynamodb' });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Refused without reading the rest: once the answer is out, the connection goes.
    const refuseAndClose = (type: string, message: string, status = 403) => {
      res.on('finish', () => req.destroy());
      refuse(res, type, message, status);
    };
    const head = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    if (Number(req.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) return refuseAndClose('ValidationException', 'the request is too large', 413);
    const early = verifier.head(head, new Date());
    if (early) return refuseAndClose(early.type, early.message);
    void (async () => {
      const body = await readBody(req);
      if (!body) return refuseAndClose('ValidationException', 'the request is too large', 413);
      const refusal = await verifier.verify({ ...head, body }, new Date());
      if (refusal) return refuse(res, refusal.type, refusal.message);
      const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), { headers: req.headers, method: req.method, url: req.url });
      inner(replay as unknown as IncomingMessage, res);
    })().catch(() => req.destroy());
  });
}

/**
 * Starts dynalite on a free 127.0.0.1 port, keeping its data under `path` (created if missing), answering only
 * requests signed with the credential it returns.
 */
export async function startEmbeddedDynamoDb(path: string): Promise<EmbeddedDynamoDb> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  await checkNotInUse(path);
  const credentials: SigV4Credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(32).toString('base64url'),
  };
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  requireSignature(server, { credentials, region: EMBEDDED_REGION });
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
    region: EMBEDDED_REGION,
    credentials,
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
  /** Where the embedded DynamoDB listens (it answers only this process's signed requests). */
  endpoint: string;
  /** Destroys the client and stops dynalite, so that everything written is on disk. */
  close(): Promise<void>;
}

/** The store of a local host: dynalite under `path`, its table made, and a DynamoDbStore on it signing with its credential. */
export async function startEmbeddedStore(path: string, options: { tableName: string; clock?: Clock }): Promise<EmbeddedStore> {
  const db = await startEmbeddedDynamoDb(path);
  const client = createDynamoDbClient({ endpoint: db.endpoint, region: db.region, credentials: db.credentials });
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
  return {
    store: new DynamoDbStore({ client, tableName: options.tableName, ...(options.clock ? { clock: options.clock } : {}) }),
    client,
    endpoint: db.endpoint,
    close,
  };
}
