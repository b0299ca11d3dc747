import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../../functions/api/cluster.js';
import type { FleetUpgradeCluster } from '../../../../functions/api/fleet-upgrade.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { clusterProgress, haltDecision, nextWave, planClusterStart, waveOutcome } from '../../../../functions/core/fleet/index.js';
import { NOW, cluster, fleetUpgrade } from './fixtures.js';

const SPEC = fleetUpgrade({ clusterClass: 'standard', clusterTimeoutSeconds: 600 }).spec;
const inFlight: FleetUpgradeCluster = { name: 'a', uid: 'a-uid', wave: 0, phase: 'InFlight', generation: 3, startedAt: '2026-01-01T00:00:00Z' };

function withTopology(status: Record<string, unknown>, reconciled?: { status: 'True' | 'False'; reason: string; observedGeneration: number }): Cluster {
  const c = cluster('a', { topology: { class: 'standard', version: 'v1.32.0' } });
  const conditions = reconciled ? [{ type: 'TopologyReconciled', lastTransitionTime: '2026-01-01T00:00:00Z', message: 'm', ...reconciled }] : [];
  return { ...c, metadata: { ...c.metadata, generation: 3 }, status: { ...status, conditions } } as Cluster;
}

const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const progress = (c: Cluster | undefined, at = later(60), extra: { machines?: Machine[]; healthChecks?: MachineHealthCheck[] } = {}) =>
  clusterProgress(inFlight, { cluster: c, machines: extra.machines ?? [], healthChecks: extra.healthChecks ?? [] }, SPEC, at);

describe('clusterProgress: one cluster from its Cluster', () => {
  it('succeeds when TopologyReconciled is True for the generation the update produced', () => {
    expect(progress(withTopology({}, { status: 'True', reason: 'Reconciled', observedGeneration: 3 })).phase).toBe('Succeeded');
  });

  it('is still in flight while the condition is True for an older generation, or False while rolling', () => {
    expect(progress(withTopology({}, { status: 'True', reason: 'Reconciled', observedGeneration: 2 })).phase).toBe('InFlight');
    const rolling = progress(withTopology({}, { status: 'False', reason: 'ControlPlaneUpgradePending', observedGeneration: 3 }));
    expect(rolling).toMatchObject({ phase: 'InFlight', reason: 'ControlPlaneUpgradePending' });
  });

  it.each(['ClusterClassNotFound', 'VariablesInvalid', 'TopologyInvalid'])('fails on TopologyReconciled False %s after the update', (reason) => {
    expect(progress(withTopology({}, { status: 'False', reason, observedGeneration: 3 }))).toMatchObject({ phase: 'Failed', reason });
  });

  it('does not fail on such a reason the condition reported before the update', () => {
    expect(progress(withTopology({}, { status: 'False', reason: 'TopologyInvalid', observedGeneration: 2 })).phase).toBe('InFlight');
  });

  it('fails when the Cluster is Failed', () => {
    expect(progress(withTopology({ phase: 'Failed' })).reason).toBe('ClusterFailed');
  });

  it('fails once the timeout passed without being done', () => {
    const rolling = withTopology({}, { status: 'False', reason: 'MachineDeploymentsUpgradePending', observedGeneration: 3 });
    expect(progress(rolling, later(599)).phase).toBe('InFlight');
    expect(progress(rolling, later(600))).toMatchObject({ phase: 'Failed', reason: 'Timeout' });
  });

  it('skips a cluster gone, being deleted, or replaced by another of its name', () => {
    expect(progress(undefined).reason).toBe('ClusterDeleted');
    const c = withTopology({});
    expect(progress({ ...c, metadata: { ...c.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } })).toMatchObject({
      phase: 'Skipped',
      reason: 'ClusterDeleting',
    });
    expect(progress({ ...c, metadata: { ...c.metadata, uid: 'other' } })).toMatchObject({ phase: 'Skipped', reason: 'ClusterReplaced' });
  });

  it('fails when a health check finds more machines unhealthy than maxUnhealthyMachinesPercent', () => {
    const machine = (name: string, healthy: boolean) =>
      ({
        metadata: { name, namespace: 'default', labels: { pool: 'w' } },
        spec: { clusterName: 'a' },
        status: { conditions: [{ type: 'HealthCheckSucceeded', status: healthy ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
      }) as unknown as Machine;
    const mhc = {
      metadata: { name: 'a-md-0', namespace: 'default' },
      spec: { clusterName: 'a', selector: { matchLabels: { pool: 'w' } } },
    } as unknown as MachineHealthCheck;
    const machines = [machine('m1', false), machine('m2', true), machine('m3', true), machine('m4', true)];
    const at = (max: number) =>
      clusterProgress(inFlight, { cluster: withTopology({}), machines, healthChecks: [mhc] }, { ...SPEC, maxUnhealthyMachinesPercent: max }, later(60));
    expect(at(25).phase).toBe('InFlight');
    expect(at(24)).toMatchObject({ phase: 'Failed', reason: 'MachinesUnhealthy' });
  });
});

describe('halt rules', () => {
  const entries = (phases: FleetUpgradeCluster['phase'][]): FleetUpgradeCluster[] => phases.map((phase, i) => ({ name: `c${i}`, wave: 0, phase }));

  it('halts on a failure beyond maxFailedClusters (0 by default: the first)', () => {
    expect(haltDecision(entries(['Succeeded', 'Failed']), { maxFailedClusters: 0 })?.reason).toBe('TooManyFailedClusters');
    expect(haltDecision(entries(['Succeeded', 'Failed']), { maxFailedClusters: 1 })).toBeUndefined();
    expect(haltDecision(entries(['Failed', 'Failed']), { maxFailedClusters: 1 })?.message).toContain('2 cluster(s) failed (c0, c1)');
  });

  it('skipped clusters are not failures', () => {
    expect(haltDecision(entries(['Skipped', 'Skipped']), { maxFailedClusters: 0 })).toBeUndefined();
  });

  it('a wave is finished when nothing is pending or in flight, failed when one cluster failed', () => {
    expect(waveOutcome(0, entries(['Succeeded', 'InFlight']))).toBe('InFlight');
    expect(waveOutcome(0, entries(['Succeeded', 'Skipped']))).toBe('Succeeded');
    expect(waveOutcome(0, entries(['Succeeded', 'Failed']))).toBe('Failed');
  });
});

describe('planClusterStart: a pending cluster when its turn comes', () => {
  const entry: FleetUpgradeCluster = { name: 'a', uid: 'a-uid', wave: 0, phase: 'Pending' };
  const c = cluster('a', { topology: { class: 'standard', version: 'v1.31.2' } });

  it('sets the version, and the class when the upgrade rebases', () => {
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard' }), entry, c)).toEqual({ action: 'update', topology: { version: 'v1.32.0' } });
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard', class: 'standard-v2' }), entry, c)).toEqual({
      action: 'update',
      topology: { version: 'v1.32.0', class: 'standard-v2' },
    });
  });

  it('stops after an abort or once the failure budget is spent, holds while paused', () => {
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard', abort: true }), entry, c)).toEqual({ action: 'stop', reason: 'Aborted' });
    const failed = fleetUpgrade({ clusterClass: 'standard' }, { clusters: [{ name: 'z', wave: 0, phase: 'Failed' }] });
    expect(planClusterStart(failed, entry, c)).toEqual({ action: 'stop', reason: 'Halted' });
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard', paused: true }), entry, c)).toEqual({ action: 'hold' });
  });

  it('skips a cluster gone or without topology', () => {
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard' }), entry, undefined)).toMatchObject({
      action: 'skip',
      verdict: { reason: 'ClusterDeleted' },
    });
    expect(planClusterStart(fleetUpgrade({ clusterClass: 'standard' }), entry, cluster('a'))).toMatchObject({
      action: 'skip',
      verdict: { reason: 'NoTopology' },
    });
  });
});

describe('nextWave', () => {
  const waves = (...phases: string[]) => ({ phase: 'Progressing', waves: phases.map((phase, i) => ({ name: `w${i}`, clusters: 1, phase })) });

  it('runs the first wave not finished, then succeeds', () => {
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, waves('Succeeded', 'Pending')), NOW)).toEqual({ kind: 'run', wave: 1 });
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, waves('Succeeded', 'Succeeded')), NOW)).toEqual({ kind: 'succeed' });
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, waves()), NOW)).toEqual({ kind: 'succeed' });
  });

  it('pauses before a new wave, and before running again a wave whose clusters the pause kept from starting', () => {
    expect(nextWave(fleetUpgrade({ clusterClass: 's', paused: true }, waves('Succeeded', 'Pending')), NOW)).toEqual({ kind: 'pause' });
    expect(nextWave(fleetUpgrade({ clusterClass: 's', paused: true }, waves('InFlight')), NOW)).toEqual({ kind: 'pause' });
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, waves('InFlight')), NOW)).toEqual({ kind: 'run', wave: 0 });
  });

  it('waits out the bake after a wave in steps, and sees an abort or a pause meanwhile', () => {
    const baking = {
      phase: 'Progressing',
      waves: [
        { name: 'w0', clusters: 1, phase: 'Succeeded', bakeUntil: '2026-01-01T00:10:00Z' },
        { name: 'w1', clusters: 1, phase: 'Pending' },
      ],
    };
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, baking), NOW)).toEqual({ kind: 'bake', seconds: 600 });
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, baking), new Date('2026-01-01T00:10:00Z'))).toEqual({ kind: 'run', wave: 1 });
    expect(nextWave(fleetUpgrade({ clusterClass: 's', abort: true }, baking), NOW)).toEqual({ kind: 'abort' });
    expect(nextWave(fleetUpgrade({ clusterClass: 's', paused: true }, baking), NOW)).toEqual({ kind: 'pause' });
  });

  it('aborts, and does nothing once finished', () => {
    expect(nextWave(fleetUpgrade({ clusterClass: 's', abort: true }, waves('Pending')), NOW)).toEqual({ kind: 'abort' });
    expect(nextWave(fleetUpgrade({ clusterClass: 's' }, { ...waves('Pending'), phase: 'Halted' }), NOW)).toEqual({ kind: 'done' });
  });
});
