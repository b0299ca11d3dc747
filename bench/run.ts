/**
 * `npm run bench` runs the quick subset; `npm run bench -- NAME` runs one scenario.
 * Each scenario prints one JSON object per line ({"scenario","metric","value","unit"}) and a one-line summary.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

interface Scenario {
  name: string;
  file: string;
  quick: boolean;
  description: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'plan', file: 'plan.ts', quick: true, description: 'planner latency against MachineDeployment size' },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (wanted.includes('list')) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(12)} ${s.quick ? '(quick) ' : '        '}${s.description}`);
    return;
  }
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length) {
    console.error(`unknown scenario: ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
    process.exitCode = 2;
    return;
  }
  const run = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS.filter((s) => s.quick);
  for (const s of run) {
    const mod = (await import(pathToFileURL(resolve(import.meta.dirname, s.file)).href)) as { run?: (argv: string[]) => Promise<void> };
    if (typeof mod.run !== 'function') throw new Error(`bench/${s.file} does not export run()`);
    await mod.run(process.argv.slice(2));
  }
}

await main();
