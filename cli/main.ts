/** The `clusterless` process: binds the CLI to the real terminal, files, network, clock and signals. */
import { readFile, readdir, stat } from 'node:fs/promises';
import type { Io } from './io.js';
import type { CredentialsProvider } from './sigv4.js';
import { runCli } from './program.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const io: Io = {
  stdout: {
    write: (s) => void process.stdout.write(s),
    isTTY: process.stdout.isTTY === true,
    get columns() {
      return process.stdout.columns;
    },
  },
  stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY === true },
  env: process.env,
  readStdin,
  readFile: (path) => readFile(path, 'utf8'),
  listDir: async (path) => ((await stat(path)).isDirectory() ? readdir(path) : undefined),
  fetch: globalThis.fetch,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals) => handler(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  },
  importModule: (specifier) => import(new URL(specifier, import.meta.url).href),
  exit: (code) => process.exit(code),
};

/** The SDK's credential chain, loaded at the first request that asks for credentials (most commands never do). */
function credentialChain(options?: { profile?: string }): CredentialsProvider {
  let chain: Promise<CredentialsProvider> | undefined;
  return async () => {
    chain ??= import('@aws-sdk/credential-providers').then((m) => m.fromNodeProviderChain(options?.profile ? { profile: options.profile } : {}));
    return (await chain)();
  };
}

const code = await runCli(process.argv.slice(2), io, { credentials: credentialChain });
// Let stdout drain (a pipe may still hold a large table), then leave even if a socket lingers.
process.stdout.write('', () => process.exit(code));
