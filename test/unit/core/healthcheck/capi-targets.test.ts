/**
 * Cluster API's TestHealthCheckTargets (core/reconcilers/machinehealthcheck/machinehealthcheck_targets_test.go,
 * kubernetes-sigs/cluster-api), the cases targets.test.ts does not already hold: the next check of every
 * target of a mix, and the cases where clusterless judges differently on purpose (with the reason).
 */
import { describe, expect, it } from 'vitest';
import { healthCheckTargets, needsRemediation } from '../../../../functions/core/healthcheck/targets.js';
import { T0, at, cluster, condition, healthCheck, machine, node } from '../cluster/fixtures.js';

const mhc = healthCheck({ nodeStartupTimeout: '10m' });
const c = cluster({ since: at(-3600) });

describe('TestHealthCheckTargets, per target', () => {
  it('with a mix of healthy and unhealthy nodes: one healthy, one to remediate, next checks 201s and 101s', () => {
    // Prepare: Ready Unknown for 100s, 200s and 400s of a 300s timeout, and one Ready node.
    const ms = [machine('unknown-100'), machine('unknown-200'), machine('unknown-400'), machine('healthy')];
    const nodes = [node(ms[0]!, 'Unknown', at(-100)), node(ms[1]!, 'Unknown', at(-200)), node(ms[2]!, 'Unknown', at(-400)), node(ms[3]!, 'True', at(-400))];
    // Act
    const h = healthCheckTargets(mhc, c, ms, { instances: [], nodes }, T0);
    // Assess
    expect(h.targets.map((t) => [t.machine.metadata.name, t.unhealthy, t.nextCheckSeconds])).toEqual([
      ['unknown-100', false, 201],
      ['unknown-200', false, 101],
      ['unknown-400', true, 0],
      ['healthy', false, 0],
    ]);
    expect(h.targets.filter((t) => t.state === 'healthy').map((t) => t.machine.metadata.name)).toEqual(['healthy']);
  });
});

describe('cases where clusterless judges differently on purpose', () => {
  it('a machine condition (EtcdPodHealthy False for 400s) with a Ready node is healthy: there are no unhealthyMachineConditions', () => {
    // Why: a health check here watches node conditions only; the etcd health of control-plane machines is the
    // ControlPlane's (EtcdMemberHealthy, core/controlplane/etcd-health.ts), which remediates by its own rules.
    // Cluster API (v1beta2 checks.unhealthyMachineConditions) marks it UnhealthyMachine after the 5m timeout.
    // Prepare
    const m = machine('machine1', {
      conditions: [condition('InfrastructureReady', 'True', at(-7200)), condition('EtcdPodHealthy', 'False', at(-400), 'Failed')],
    });
    // Act
    const need = needsRemediation({ machine: m, node: node(m, 'True', at(-3600)), nodeMissing: false }, mhc, c, T0);
    // Assess
    expect(need).toEqual({ unhealthy: false, nextCheckSeconds: 0 });
  });

  it('a deleting machine whose node is NotReady is counted as not healthy but not as one to remediate', () => {
    // Why: Cluster API marks it unhealthy (its MachineSet then skips it); clusterless leaves its conditions alone,
    // since its replacement is already under way. Both count it against maxUnhealthy and neither replaces it twice.
    // Prepare
    const m = machine('going', { deleting: true });
    // Act
    const h = healthCheckTargets(mhc, c, [m], { instances: [], nodes: [node(m, 'False', at(-3600))] }, T0);
    // Assess
    expect(h.targets.map((t) => [t.state, t.unhealthy])).toEqual([['deleting', false]]);
  });
});
