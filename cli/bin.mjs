#!/usr/bin/env node
// The `clusterless` launcher: runs cli/main.ts on Node 22 with tsx, so that no build step is needed.
// An older `node` (e.g. a system Node 20 running `node cli/bin.mjs`) hands over to the project's pinned
// Node 22 from node_modules/node, since the embedded host needs Node 22.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);

if (major < 22) {
  const node22 = [resolve(here, '../node_modules/node/bin/node'), resolve(here, '../../node/bin/node')].find((p) => existsSync(p));
  if (!node22) {
    process.stderr.write(`error: clusterless needs Node.js 22 or newer (this is ${process.version}); run npm install in the project, or use Node 22\n`);
    process.exit(2);
  }
  const child = spawn(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // The child gets a terminal's Ctrl-C itself (same process group); a kill sent to this process is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
