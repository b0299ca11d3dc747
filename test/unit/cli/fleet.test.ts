/** `clusterless fleet status|pause|resume|abort` against the real router on a memory store. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { FleetUpgrade } from '../../../functions/api/fleet-upgrade.js';
import { fakeWorld, type FakeWorld } from './harness.js';

const PATH = '/apis/clusterless.dev/v1alpha1/namespaces/default/fleetupgrades/to-1-32';

let w: FakeWorld;

beforeEach(async () => {
  w = fakeWorld();
  const created: FleetUpgrade = await w.create({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'FleetUpgrade',
    metadata: { name: 'to-1-32', namespace: 'default' },
    spec: { clusterClass: 'standard', version: 'v1.32.0', waves: { canary: 1, batches: ['100%'] } },
  } as never);
  // The status the fleet-upgrade tasks would have written: the canary done, batch-1 under way.
  await w.store.updateStatus<FleetUpgrade>({
    ...created,
    status: {
      phase: 'Progressing',
      currentWave: 1,
      waves: [
        { name: 'canary', clusters: 1, phase: 'Succeeded' },
        { name: 'batch-1', clusters: 3, phase: 'InFlight' },
      ],
      clusters: [
        { name: 'a', wave: 0, phase: 'Succeeded', reason: 'Upgraded' },
        { name: 'b', wave: 1, phase: 'InFlight', reason: 'ControlPlaneUpgradePending', message: 'the control plane rolls to v1.32.0' },
        { name: 'c', wave: 1, phase: 'Failed', reason: 'Timeout', message: 'not upgraded within clusterTimeoutSeconds 3600' },
        { name: 'd', wave: 1, phase: 'Skipped', reason: 'ClusterDeleted', message: 'the Cluster is gone' },
      ],
      counts: { total: 4, pending: 0, inFlight: 1, succeeded: 1, failed: 1, skipped: 1 },
    },
  });
});

describe('clusterless fleet', () => {
  it('status prints the phase, a bar with the counts, the waves and the clusters not simply upgraded', async () => {
    const r = await w.run(['fleet', 'status', 'to-1-32']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('fleetupgrade.clusterless.dev/to-1-32: Progressing to v1.32.0, wave 2/2 (batch-1)');
    // 2 of 4 done (a succeeded, d skipped): 15 of 30 cells; c failed: 8 more; b in flight: 8 (cut to what is left).
    expect(lines[1]).toBe(`[${'█'.repeat(15)}${'█'.repeat(8)}${'▒'.repeat(7)}] 2/4 done: 1 succeeded, 1 skipped, 1 in flight, 1 failed, 0 pending`);
    expect(r.stdout).toMatch(/WAVE\s+CLUSTERS\s+PHASE\s+SUCCEEDED\s+IN FLIGHT\s+FAILED\s+SKIPPED/);
    expect(r.stdout).toMatch(/batch-1\s+3\s+InFlight\s+0\s+1\s+1\s+1/);
    expect(r.stdout).toMatch(/c\s+batch-1\s+Failed\s+Timeout\s+not upgraded within clusterTimeoutSeconds 3600/);
    expect(r.stdout).toMatch(/b\s+batch-1\s+InFlight\s+ControlPlaneUpgradePending/);
    expect(r.stdout).not.toMatch(/^a\s+canary/m);
  });

  it('pause and resume set spec.paused, and say so when there is nothing to do', async () => {
    expect((await w.run(['fleet', 'pause', 'to-1-32'])).stdout).toBe('fleetupgrade.clusterless.dev/to-1-32 paused\n');
    expect((await w.api('GET', PATH)).json.spec.paused).toBe(true);
    expect((await w.run(['fleet', 'pause', 'to-1-32'])).stdout).toBe('fleetupgrade.clusterless.dev/to-1-32 already paused\n');
    expect((await w.run(['fleet', 'status', 'to-1-32'])).stdout.split('\n')[0]).toContain('[paused]');
    expect((await w.run(['fleet', 'resume', 'to-1-32'])).stdout).toBe('fleetupgrade.clusterless.dev/to-1-32 resumed\n');
    expect((await w.api('GET', PATH)).json.spec.paused).toBe(false);
  });

  it('abort sets spec.abort once; the API refuses to take it back', async () => {
    expect((await w.run(['fleet', 'abort', 'to-1-32'])).stdout).toMatch(/^fleetupgrade.clusterless.dev\/to-1-32 aborted/);
    expect((await w.api('GET', PATH)).json.spec.abort).toBe(true);
    expect((await w.run(['fleet', 'abort', 'to-1-32'])).stdout).toBe('fleetupgrade.clusterless.dev/to-1-32 already aborted\n');
    const undo = await w.api('PATCH', PATH, { spec: { abort: false } }, 'application/merge-patch+json');
    expect(undo.status).toBe(422);
    expect(undo.json.details.causes[0].field).toBe('spec.abort');
  });

  it('names a FleetUpgrade that does not exist', async () => {
    const r = await w.run(['fleet', 'status', 'nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nope');
  });
});
