/**
 * Elbv2ControlPlaneLoadBalancers against ELBv2 and EC2 on moto_server: a cluster's network load balancer, its
 * target group and listener are made once however often ensure runs, described by the cluster alone, and
 * deleted with nothing left; the names are fixed by the cluster and fit ELBv2's limit.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTagsCommand, DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Elbv2ControlPlaneLoadBalancers, createElbv2Client, loadBalancerName } from '../../../functions/adapters/elbv2/index.js';
import { InvalidSpecError } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from './ec2-fixtures.js';

let elb: ElasticLoadBalancingV2Client;
let ec2: EC2Client;
let net: MotoNetwork;
let lbs: Elbv2ControlPlaneLoadBalancers;

beforeAll(async () => {
  elb = createElbv2Client(emulatorClientConfig(inject('motoEndpoint')));
  ec2 = motoEc2Client(inject('motoEndpoint'));
  net = await createMotoNetwork(ec2);
  lbs = new Elbv2ControlPlaneLoadBalancers(elb, ec2);
});

afterAll(() => {
  elb.destroy();
  ec2.destroy();
});

const spec = (clusterName: string) => ({ namespace: 'team-a', clusterName, scheme: 'internal' as const, subnetIds: net.subnets.map((s) => s.id), port: 6443 });

describe('Elbv2ControlPlaneLoadBalancers', () => {
  it('names a cluster\'s load balancer from the cluster alone, within 32 characters, differently per namespace', () => {
    const name = loadBalancerName('team-a', 'a'.repeat(63));
    expect(name).toMatch(/^clusterless-[0-9a-f]{20}$/);
    expect(name.length).toBeLessThanOrEqual(32);
    expect(loadBalancerName('team-a', 'prod')).toBe(loadBalancerName('team-a', 'prod'));
    expect(loadBalancerName('team-b', 'prod')).not.toBe(loadBalancerName('team-a', 'prod'));
  });

  it('makes one internal network load balancer, target group and listener, however often ensure runs', async () => {
    // Arrange
    const cluster = uniqueName('lb');
    const name = loadBalancerName('team-a', cluster);
    // Act
    const before = await lbs.describe('team-a', cluster);
    await lbs.ensure(spec(cluster));
    await lbs.ensure(spec(cluster));
    const fact = await lbs.describe('team-a', cluster);
    // Assess
    expect(before).toBeUndefined();
    expect(fact).toMatchObject({ name, state: expect.stringMatching(/^(provisioning|active)$/), dnsName: expect.any(String) });
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers!;
    expect(lb).toHaveLength(1);
    expect(lb[0]).toMatchObject({ Type: 'network', Scheme: 'internal', VpcId: net.vpcId });
    const tg = (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups!;
    expect(tg).toHaveLength(1);
    expect(tg[0]).toMatchObject({ Protocol: 'TCP', Port: 6443, VpcId: net.vpcId, TargetType: 'instance' });
    expect(await lbs.targetGroupArn('team-a', cluster)).toBe(tg[0]!.TargetGroupArn);
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb[0]!.LoadBalancerArn! }))).Listeners!;
    expect(listeners.map((l) => [l.Protocol, l.Port, l.DefaultActions?.[0]?.TargetGroupArn])).toEqual([['TCP', 6443, tg[0]!.TargetGroupArn]]);
    const tags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [lb[0]!.LoadBalancerArn!, tg[0]!.TargetGroupArn!] }))).TagDescriptions!;
    for (const t of tags) expect(t.Tags).toContainEqual({ Key: 'clusterless.dev/cluster', Value: `team-a/${cluster}` });
  });

  it('deletes the load balancer and its target group, and a second delete finds nothing to do', async () => {
    const cluster = uniqueName('lb');
    await lbs.ensure(spec(cluster));
    await lbs.delete('team-a', cluster);
    await lbs.delete('team-a', cluster);
    expect(await lbs.describe('team-a', cluster)).toBeUndefined();
    expect(await lbs.targetGroupArn('team-a', cluster)).toBeUndefined();
    expect(await lbs.hasLeftovers('team-a', cluster)).toBe(false);
  });

  it('refuses a cluster without subnets, or with a subnet that does not exist, with InvalidSpecError', async () => {
    await expect(lbs.ensure({ ...spec(uniqueName('lb')), subnetIds: [] })).rejects.toBeInstanceOf(InvalidSpecError);
    await expect(lbs.ensure({ ...spec(uniqueName('lb')), subnetIds: ['subnet-0000000000000dead'] })).rejects.toBeInstanceOf(InvalidSpecError);
  });
});
