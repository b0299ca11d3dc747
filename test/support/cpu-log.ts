/**
 * With CLUSTERLESS_TEST_CPU_LOG=FILE, each test file appends one line to FILE when it ends: its path and the CPU
 * seconds of its worker process, with every child it started and waited for (etcd, kube-apiserver, Lambda
 * environments...; /proc/self/stat utime, stime, cutime, cstime): the suite is CPU-bound on two cores, so CPU, not
 * wall time, says which files to make cheaper. Without the variable it does nothing. The global setup's moto_servers
 * are in no file's figure.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, expect } from 'vitest';

const target = process.env['CLUSTERLESS_TEST_CPU_LOG'];
if (target) {
  const ticks = 100; // USER_HZ on Linux
  const cpuSeconds = () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 to 17 of proc(5), counted from the state (field 3) here.
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / ticks;
  };
  const started = Date.now();
  const file = expect.getState().testPath ?? 'unknown';
  afterAll(() => {
    appendFileSync(target, `${JSON.stringify({ file, pid: process.pid, cpu: cpuSeconds(), wall: (Date.now() - started) / 1000 })}\n`);
  });
}
