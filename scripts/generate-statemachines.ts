/**
 * `npm run statemachines`: writes statemachines/*.asl.json from statemachines/definitions.ts. The files stay
 * committed: infra/ and local/ read them through statemachines/loader.ts, and CloudFormation gets them as they
 * are. `npm run statemachines -- --check` writes nothing and exits 1 when one is stale (test/unit/workflows does
 * the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFINITIONS } from '../statemachines/definitions.js';
import { STATE_MACHINES } from '../statemachines/loader.js';

export const STATE_MACHINES_DIR = resolve(import.meta.dirname, '..', 'statemachines');

/** Every .asl.json file with the text it must have, by file name: 2-space JSON and a final newline. */
export function renderStateMachineFiles(): Map<string, string> {
  return new Map(STATE_MACHINES.map((sm) => [sm.file, `${JSON.stringify(DEFINITIONS[sm.name], null, 2)}\n`]));
}

/** Files whose text differs from what would be generated, or that are missing. */
export function staleStateMachineFiles(dir = STATE_MACHINES_DIR): string[] {
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  return [...renderStateMachineFiles()].filter(([file, text]) => read(file) !== text).map(([file]) => file).sort();
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const stale = staleStateMachineFiles();
    if (stale.length) {
      console.error(`statemachines/ is stale (${stale.join(', ')}): run npm run statemachines`);
      return 1;
    }
    return 0;
  }
  const files = renderStateMachineFiles();
  for (const [file, text] of files) writeFileSync(join(STATE_MACHINES_DIR, file), text);
  console.log(`wrote ${files.size} files to ${STATE_MACHINES_DIR}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
