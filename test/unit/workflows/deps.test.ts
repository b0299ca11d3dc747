/**
 * workflowDeps(): what a host leaves out gets its "none" implementation, which behaves as a host without the port
 * always did: a cluster that needs a load balancer waits for one, a named target group is refused, nothing is
 * registered and no machine is bootstrapped.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { Labels } from '../../../functions/api/common.js';
import { ClusterKind, type Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { InvalidSpecError, type TargetGroupRegistrations } from '../../../functions/ports.js';
import { bootstrapsCluster, registerControlPlaneTarget } from '../../../functions/workflows/bootstrap-hooks.js';
import {
  hostBootstraps,
  invocationHolder,
  noBootstrap,
  noManagedLoadBalancers,
  noTargetGroups,
  scaledTimer,
  workflowDeps,
} from '../../../functions/workflows/index.js';
import { observeLoadBalancer, provisionLoadBalancer, targetGroupArnOf } from '../../../functions/workflows/load-balancer.js';
import { full } from '../api/fixtures.js';
import { FakeClock } from '../../support/fake-clock.js';

function hostWithout(extra: { targetGroups?: TargetGroupRegistrations } = {}) {
  const clock = new FakeClock();
  const cloud = new SimCloud({ clock });
  return workflowDeps({
    store: new MemoryStore({ clock }),
    provider: new SimMachineProvider(cloud),
    nodes: new SimNodeReader(cloud),
    clock,
    timer: scaledTimer(1),
    holder: invocationHolder('deps-test'),
    ...extra,
  });
}

const awsCluster = (patch: Record<string, unknown> = {}): Cluster => {
  const manifest = full.awsCluster() as { spec: { provider: { aws: Record<string, unknown> } } };
  Object.assign(manifest.spec.provider.aws, patch);
  return { ...(ClusterKind.schema.parse(manifest) as Cluster), metadata: { name: 'aws-prod', namespace: 'default', uid: 'c1' } };
};

const controlPlaneMachine = {
  metadata: { name: 'cp-1', namespace: 'default', labels: { [Labels.controlPlane]: '' } },
  spec: { clusterName: 'aws-prod' },
} as unknown as Machine;

describe('workflowDeps', () => {
  it('gives every port a host leaves out its none implementation', () => {
    // Prepare / Act
    const deps = hostWithout();
    // Assess
    expect(deps.bootstrap).toBe(noBootstrap);
    expect(deps.targetGroups).toBe(noTargetGroups);
    expect(deps.managedLoadBalancers).toBe(noManagedLoadBalancers);
    expect(hostBootstraps(deps)).toBe(false);
  });

  it('a host without load balancers sees none for a cluster that needs one, and makes none', async () => {
    const deps = hostWithout();
    const cluster = awsCluster();
    await provisionLoadBalancer(deps, cluster);
    expect(await observeLoadBalancer(deps, cluster)).toBeUndefined();
    expect(await targetGroupArnOf(deps, cluster)).toBeUndefined();
  });

  it('a host without load balancers refuses a target group a cluster names: it cannot read its tags', async () => {
    const deps = hostWithout();
    const cluster = awsCluster({
      controlPlaneLoadBalancer: { scheme: 'internal', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/1' },
    });
    await expect(targetGroupArnOf(deps, cluster)).rejects.toBeInstanceOf(InvalidSpecError);
  });

  it('a host without target groups registers nothing, not even into a named group it could not check', async () => {
    const deps = hostWithout();
    const cluster = awsCluster({
      controlPlaneLoadBalancer: { scheme: 'internal', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/1' },
    });
    await expect(registerControlPlaneTarget(deps, cluster, controlPlaneMachine, 'i-0123456789abcdef0')).resolves.toBeUndefined();
  });

  it('a host without a bootstrap bootstraps no aws cluster', () => {
    expect(bootstrapsCluster(hostWithout(), awsCluster())).toBe(false);
  });
});
