/**
 * A short chaos soak in the test suite (fixed seed, bounded in steps and time): the runtime of the embedded
 * host under a random stream of user operations and faults settles with zero invariant violations, and every
 * class of fault was really injected (a soak whose faults never fired would pass for nothing).
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../soak/soak.js';
import { parseArgs } from '../../soak/run.js';

describe('the chaos soak', () => {
  it('keeps every invariant through 100 operations and faults (seed 7), host restarts included', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    // Act
    const summary = await runSoak({ seed: 7, ops: 100, minutes: 1.5, checkpoints: 1, settleSeconds: 60, emit: (l) => lines.push(l) });
    // Assess
    expect(summary.violations, JSON.stringify(summary.violations, null, 1)).toEqual([]);
    expect(summary.checkpoints).toBe(2);
    expect(summary.restarts).toBeGreaterThanOrEqual(1);
    const f = summary.faults;
    expect((f['task-crash-before'] ?? 0) + (f['task-crash-after'] ?? 0)).toBeGreaterThan(0);
    expect(f['task-crash-after'] ?? 0).toBeGreaterThan(0);
    expect((f['store-throttle-before'] ?? 0) + (f['store-throttle-after'] ?? 0) + (f['store-lost-race'] ?? 0)).toBeGreaterThan(0);
    expect((f['throttle'] ?? 0) + (f['capacity'] ?? 0)).toBeGreaterThan(0);
    expect(summary.operations['race-replace'] ?? 0).toBeGreaterThan(0);
    // Spot interruptions (the workers' class and the fault stream) were sent, and warned machines were replaced and
    // their instances terminated by the control plane before EC2's reclaim time.
    expect(summary.interruptions.warned).toBeGreaterThan(0);
    expect(summary.interruptions.terminatedBeforeReclaim).toBeGreaterThan(0);
    expect(summary.accepted).toBeGreaterThan(40);
    // The watchers really looked: machine deletions by rollouts were checked against maxUnavailable.
    expect(summary.watched.rolloutDeletionsChecked).toBeGreaterThan(0);
    // A false alarm was staged (its remediation ended without deleting), then the same machine was killed; the
    // checkpoints' convergence checks (no violation above) saw it replaced, not refused as the ended execution's name.
    const falseAlarms = lines.filter((l) => l.fault === 'false-alarm');
    expect(falseAlarms).toContainEqual(expect.objectContaining({ checkpoint: true, staged: true, marked: true, cleared: true, ended: true, survived: true }));
    // The report: JSON lines of operations, faults and checkpoints, then one summary.
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['op', 'fault', 'checkpoint', 'summary']));
    expect(lines.at(-1)).toMatchObject({ type: 'summary', seed: 7, violations: 0 });
  }, 180_000);

  it('reads its bounds from the command line, and refuses what it cannot bound', () => {
    expect(parseArgs(['--seed', '3', '--ops', '50', '--minutes', '2', '--store', 'dynalite'])).toMatchObject({
      seed: 3,
      ops: 50,
      minutes: 2,
      store: 'dynalite',
    });
    expect(() => parseArgs(['--ops', '0'])).toThrow(/--ops needs a number >= 1/);
    expect(() => parseArgs(['--minutes', 'forever'])).toThrow(/--minutes/);
    expect(() => parseArgs(['--store', 'etcd'])).toThrow(/memory or dynalite/);
  });
});
