/** The sweep's decisions once it found drift: which clusters it probes, and which it reconciles after the probes. */
import { describe, expect, it } from 'vitest';
import type { NodeProbeVerdict } from '../../../../functions/core/healthcheck/index.js';
import { decideSweep, planSweep, probeInputOf, type ClusterDrift } from '../../../../functions/core/trigger/index.js';
import { fleetOf, withHealthCheck } from './fleet-fixtures.js';

const drift = (clusterName: string, onlyHealthChecks: boolean): ClusterDrift => ({
  namespace: 'default',
  clusterName,
  reasons: [onlyHealthChecks ? `health check ${clusterName}-mhc has timeouts to evaluate` : `cluster phase is Provisioning`],
  onlyHealthChecks,
});
const names = (ds: readonly ClusterDrift[]) => ds.map((d) => d.clusterName);
const settled: NodeProbeVerdict = { reconcile: false, reasons: [] };
const sick: NodeProbeVerdict = {
  reconcile: true,
  reasons: [{ reason: 'UnhealthyCondition', message: 'health check x: node(s) w-1 report an unhealthy condition' }],
};

describe('planSweep', () => {
  it('probes only the clusters whose only drift is their health checks', () => {
    const plan = planSweep([drift('a', false), drift('b', true)], true);
    expect(names(plan.probe)).toEqual(['b']);
    expect(names(plan.drifting)).toEqual(['a', 'b']);
  });

  it('probes nothing without a node reader', () => {
    expect(planSweep([drift('a', false), drift('b', true)], false).probe).toEqual([]);
  });
});

describe('decideSweep', () => {
  it('reconciles every drifting cluster but the probed ones whose nodes call for nothing, in the order of the drift', () => {
    // Prepare
    const plan = planSweep([drift('a', true), drift('b', false), drift('c', true), drift('d', true)], true);
    // Act
    const decision = decideSweep(plan, [settled, sick, undefined], 30_000);
    // Assess
    expect(names(decision.reconcile)).toEqual(['b', 'c', 'd']);
    expect(names(decision.settled)).toEqual(['a']);
  });

  it("says why: the probe's reasons, or that the nodes were not judged in time", () => {
    const plan = planSweep([drift('c', true), drift('d', true)], true);
    const [c, d] = decideSweep(plan, [sick, undefined], 50).reconcile;
    expect(c!.reasons).toEqual(['health check c-mhc has timeouts to evaluate', 'health check x: node(s) w-1 report an unhealthy condition']);
    expect(d!.reasons).toEqual(['health check d-mhc has timeouts to evaluate', 'nodes not judged within 50 ms: reconcile anyway']);
  });

  it('without a node reader reconciles every drifting cluster', () => {
    expect(names(decideSweep(planSweep([drift('a', true), drift('b', false)], false), [], 30_000).reconcile)).toEqual(['a', 'b']);
  });
});

describe('probeInputOf', () => {
  it("takes the cluster and the health checks, control planes and deployments of that cluster, in that cluster's namespace only", () => {
    // Prepare: c1 and c2 in default, and another c1 in namespace other.
    const elsewhere = withHealthCheck('c1');
    const moved = <T extends { metadata: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, namespace: 'other' } });
    const fleet = fleetOf(withHealthCheck('c1'), withHealthCheck('c2'), {
      clusters: elsewhere.clusters.map(moved),
      controlPlanes: elsewhere.controlPlanes.map(moved),
      machineDeployments: elsewhere.machineDeployments.map(moved),
      healthChecks: elsewhere.healthChecks.map(moved),
    });
    // Act
    const input = probeInputOf(fleet, drift('c1', true));
    // Assess
    expect(input?.cluster).toBe(fleet.clusters[0]);
    expect(input?.healthChecks).toEqual([fleet.healthChecks[0]]);
    expect(input?.controlPlanes).toEqual([fleet.controlPlanes[0]]);
    expect(input?.machineDeployments).toEqual([fleet.machineDeployments[0]]);
  });

  it('finds nothing for a cluster that is no longer in the snapshot', () => {
    expect(probeInputOf(withHealthCheck('c1'), drift('c9', true))).toBeUndefined();
    expect(probeInputOf(withHealthCheck('c1'), { ...drift('c1', true), namespace: 'other' })).toBeUndefined();
  });
});

describe('decideSweep, reasons', () => {
  it('a cluster that was not probed keeps its own reasons, nothing about probes', () => {
    const [a] = decideSweep(planSweep([drift('a', false)], true), [], 50).reconcile;
    expect(a!.reasons).toEqual(['cluster phase is Provisioning']);
  });
});
