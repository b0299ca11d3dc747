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
  /** Appended to the command line (a flag given there first wins). */
  args?: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'plan', file: 'plan.ts', quick: true, description: 'deployment, set and Machine planner latency against MachineDeployment size' },
  { name: 'plan-50k', file: 'plan.ts', quick: false, description: 'the same at 50,000 machines', args: ['--sizes', 'large'] },
  { name: 'scale', file: 'scale.ts', quick: false, description: '1,000 clusters x 13 machines from nothing to Ready (zero boot time)' },
  { name: 'scale-quick', file: 'scale.ts', quick: true, description: 'the same with 50 clusters', args: ['--clusters', '50', '--scenario', 'scale-quick'] },
  {
    name: 'scale-10k',
    file: 'scale.ts',
    quick: false,
    description: '10,000 clusters x 13 machines to Ready through the SQLite store npm start uses: <= 900 s, peak RSS <= 2 GiB',
    args: ['--clusters', '10000', '--store', 'sqlite', '--scenario', 'scale-10k', '--target-seconds', '900', '--target-rss-mib', '2048'],
  },
  {
    name: 'api-vs-kube',
    file: 'api-vs-kube.ts',
    quick: false,
    description: "the embedded host's API and kube-apiserver + etcd with the CRDs: create, get, paged list, merge patch, watch fan-out (ratios)",
  },
  { name: 'rollout', file: 'rollout.ts', quick: true, description: '50-node rolling update, maxSurge 10, 60 s boots: time over waves x boot' },
  {
    name: 'spot',
    file: 'spot.ts',
    quick: false,
    description: '100-machine spot pool, 60 s boots, 1,000 interruption warnings: share replaced before termination',
  },
  { name: 'remediation', file: 'remediation.ts', quick: true, description: "out-of-band kill to the replacement's launch request" },
  { name: 'idle', file: 'idle.ts', quick: false, description: '100 clusters x 50 nodes for a simulated day: API calls, transitions, cost per cluster-month' },
  { name: 'coldstart', file: 'coldstart.ts', quick: false, description: "every function's bundle size and fresh-process import + first invocation (Node 22)" },
  {
    name: 'fleet',
    file: 'fleet.ts',
    quick: false,
    description: '200 topology clusters x 13 machines, one FleetUpgrade (canary, 10/30/60 %): time over the physical bound',
  },
  { name: 'idle-quick', file: 'idle.ts', quick: true, description: 'the same with 20 clusters', args: ['--clusters', '20', '--scenario', 'idle-quick'] },
];

/** Scenario names on the command line; a word right after a `--flag` is that flag's value. */
function scenarioNames(argv: readonly string[]): string[] {
  const names: string[] = [];
  argv.forEach((a, i) => {
    if (a.startsWith('-')) return;
    const previous = argv[i - 1];
    const isValue = previous?.startsWith('--') && !previous.includes('=') && !SCENARIOS.some((s) => s.name === a);
    if (!isValue) names.push(a);
  });
  return names;
}

async function main(): Promise<void> {
  const wanted = scenarioNames(process.argv.slice(2));
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
    await mod.run([...process.argv.slice(2), ...(s.args ?? [])]);
  }
}

await main();
