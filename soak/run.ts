/**
 * `npm run soak -- --seed N --ops N --minutes N`: the chaos soak, JSON lines on stdout (operations, faults,
 * checkpoints, violations, then a summary), exit code 1 when any invariant was violated, 2 on bad arguments.
 *
 * Other flags: --clusters N (live at most, 3), --time-scale N (40), --store memory|dynalite (memory),
 * --settle-seconds N (wall-clock bound of each checkpoint, 120), --checkpoints N (besides the final one, 2),
 * --quiet (only violations and the summary).
 */
import { pathToFileURL } from 'node:url';
import { runSoak, type SoakOptions } from './soak.js';

const USAGE =
  'usage: npm run soak -- [--seed N] [--ops N] [--minutes N] [--clusters N] [--time-scale N] [--store memory|dynalite] [--settle-seconds N] [--checkpoints N] [--quiet]';

export function parseArgs(argv: readonly string[]): SoakOptions & { quiet: boolean } {
  const out: SoakOptions & { quiet: boolean } = { seed: 1, ops: 120, minutes: 5, quiet: false };
  const number = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--seed':
        out.seed = Math.trunc(number(flag, value(), 0));
        break;
      case '--ops':
        out.ops = Math.trunc(number(flag, value(), 1));
        break;
      case '--minutes':
        out.minutes = number(flag, value(), 0.05);
        break;
      case '--clusters':
        out.clusters = Math.trunc(number(flag, value(), 1));
        break;
      case '--time-scale':
        out.timeScale = number(flag, value(), 1);
        break;
      case '--settle-seconds':
        out.settleSeconds = number(flag, value(), 1);
        break;
      case '--checkpoints':
        out.checkpoints = Math.trunc(number(flag, value(), 0));
        break;
      case '--store': {
        const v = value();
        if (v !== 'memory' && v !== 'dynalite') throw new Error('--store is memory or dynalite');
        out.store = v;
        break;
      }
      case '--quiet':
        out.quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { quiet, ...soak } = options;
  const summary = await runSoak({
    ...soak,
    emit: (line) => {
      if (!quiet || line.type === 'violation' || line.type === 'summary' || line.type === 'checkpoint') process.stdout.write(`${JSON.stringify(line)}\n`);
    },
  });
  return summary.violations.length > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(3);
    },
  );
