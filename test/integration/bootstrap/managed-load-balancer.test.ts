/**
 * A cluster that names no target group gets a load balancer clusterless makes (ELBv2 and EC2 on moto_server,
 * join tokens in a real kube-apiserver): its endpoint is recorded in the Cluster before any machine launches,
 * control-plane instances are registered in its target group, and the cluster's deletion deletes it.
 */
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Elbv2ControlPlaneLoadBalancers, loadBalancerName } from '../../../functions/adapters/elbv2/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { NS_PATH } from '../../support/control-plane.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { applyManifests, bootstrapClusterManifests, startBootstrapWorld, type BootstrapWorld } from './harness.js';

const NAME = 'managed-lb';
let kube: RunningKube;
let world: BootstrapWorld;

beforeAll(async () => {
  kube = await startKube();
  world = await startBootstrapWorld({ motoEndpoint: inject('motoEndpoint'), workloadKubeconfig: kube.adminKubeconfigYaml });
}, 120_000);

afterAll(async () => {
  await world?.stop();
  await kube?.stop();
});

it('makes the control plane a load balancer, records its endpoint, registers control-plane instances, and deletes it with the cluster', async () => {
  // Arrange
  const lbs = new Elbv2ControlPlaneLoadBalancers(world.elb, world.ec2);
  const machines = async () => (await world.store.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === NAME);
  // Act
  await applyManifests(world, bootstrapClusterManifests({ name: NAME, network: world.network, controlPlaneReplicas: 1, workers: 1, version: 'v1.34.1' }));
  await world.waitFor('both machines running', async () => {
    const all = await machines();
    return all.length === 2 && all.every((m) => m.status?.phase === 'Running');
  }, 120_000);
  // Assess: the endpoint is the load balancer's, and the control-plane instance is its target.
  const lb = (await lbs.describe('default', NAME))!;
  expect(lb).toMatchObject({ name: loadBalancerName('default', NAME), dnsName: expect.any(String) });
  const cluster = (await world.store.get<Cluster>('Cluster', 'default', NAME))!;
  expect(cluster.spec.controlPlaneEndpoint).toEqual({ host: lb.dnsName, port: 6443 });
  expect(cluster.status?.infrastructureReady).toBe(true);
  const controlPlane = (await machines()).find((m) => Object.hasOwn(m.metadata.labels ?? {}, 'clusterless.dev/control-plane'))!;
  const targets = ((await world.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn! }))).TargetHealthDescriptions ?? []).map((t) => t.Target!.Id);
  expect(targets).toEqual([controlPlane.status!.infrastructure!.instanceId]);

  // Act: delete the cluster.
  expect((await world.api('DELETE', `${NS_PATH}/default/clusters/${NAME}`)).status).toBe(200);
  await world.waitFor('the cluster gone', async () => (await world.store.get('Cluster', 'default', NAME)) === undefined, 120_000);
  // Assess: nothing of its load balancer is left.
  expect(await lbs.describe('default', NAME)).toBeUndefined();
  expect(await lbs.hasLeftovers('default', NAME)).toBe(false);
}, 300_000);
