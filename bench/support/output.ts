/** The scenarios' output: one JSON object per line, {"scenario","metric","value","unit"}, then a summary line. */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export function emit(scenario: string, metric: string, value: number | string, unit: string): void {
  const v = typeof value === 'number' ? Math.round(value * 1e6) / 1e6 : value;
  console.log(JSON.stringify({ scenario, metric, value: v, unit }));
}

/** nproc, memory, Node version and the load average: what BENCHMARKS.md records with each run. */
export function machineFacts(): string {
  const [l1, l5] = loadavg();
  return `${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${l1!.toFixed(2)}/${l5!.toFixed(2)}`;
}

export interface ResourceUse {
  cpuSeconds: number;
  /**
   * Seconds the process's threads were ready to run but waited for a CPU (Linux /proc/self/schedstat; undefined
   * elsewhere): on a machine shared with other work, time the scenario lost to it, not to its own code.
   */
  runQueueSeconds?: number;
  /** CPU seconds per wall second: 1.0 is one core busy. */
  cpuCores: number;
  peakRssMb: number;
  peakHeapMb: number;
}

/** Samples heap use while it runs; the process's max RSS comes from resourceUsage. */
/** Nanoseconds waited on a run queue, all threads of the process together; undefined when /proc cannot tell. */
function runQueueNs(): number | undefined {
  try {
    let total = 0;
    for (const tid of readdirSync('/proc/self/task')) total += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(total) ? total : undefined;
  } catch {
    return undefined;
  }
}

export function measureResources(): { stop(wallSeconds: number): ResourceUse } {
  const cpu0 = process.cpuUsage();
  const waited0 = runQueueNs();
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 200);
  timer.unref();
  return {
    stop(wallSeconds) {
      clearInterval(timer);
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const waited = runQueueNs();
      return {
        cpuSeconds,
        ...(waited0 !== undefined && waited !== undefined ? { runQueueSeconds: (waited - waited0) / 1e9 } : {}),
        cpuCores: cpuSeconds / Math.max(wallSeconds, 1e-9),
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        peakHeapMb: peakHeap / 2 ** 20,
      };
    },
  };
}

/** Value of `--name=value` or `--name value` in argv. */
export function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}
