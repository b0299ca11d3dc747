/**
 * `npm start -- --port N --data-dir DIR`: the HTTP API on the embedded store, until SIGINT or SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR, DEFAULT_PORT, startApiHost, type ApiHost } from './host.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one)');
  return n;
}

const program = new Command('clusterless-local')
  .description('Serve the clusterless API on 127.0.0.1, with an embedded DynamoDB persisted on disk.')
  .option('--port <port>', 'port on 127.0.0.1; 0 picks a free one', parsePort, DEFAULT_PORT)
  .option('--data-dir <dir>', 'where the data is kept', DEFAULT_DATA_DIR)
  .showHelpAfterError();

const { port, dataDir } = program.parse().opts<{ port: number; dataDir: string }>();

let host: ApiHost;
try {
  host = await startApiHost({ port, dataDir, onInternalError: (err) => console.error('internal error:', err), log: (line) => console.log(line) });
} catch (err) {
  console.error(`clusterless: could not start: ${(err as Error).message}`);
  console.error(`(is another clusterless using ${dataDir}, or port ${port} taken?)`);
  process.exit(1);
}

console.log(`clusterless API listening on ${host.url} (data in ${host.dataDir})`);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    console.error(`clusterless: ${signal} again, exiting without waiting`);
    process.exit(1);
  }
  stopping = true;
  console.log(`clusterless: ${signal}, shutting down`);
  host.close().then(
    () => {
      console.log('clusterless: stopped');
      process.exit(0);
    },
    (err: unknown) => {
      console.error(`clusterless: error while stopping: ${(err as Error).message}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
