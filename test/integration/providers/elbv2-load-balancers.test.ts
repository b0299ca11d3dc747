/**
 * Elbv2ManagedLoadBalancers against ELBv2 and EC2 on moto_server: a cluster's network load balancer, its
 * target group and listener are made once however often ensure runs, described by the cluster alone, and
 * deleted with nothing left; the names are fixed by the cluster and the installation and fit ELBv2's limit; what
 * another installation made (or anyone made under our name without our installation's tag) is never adopted,
 * registered into or deleted.
 */
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Elbv2ManagedLoadBalancers, createElbv2Client, loadBalancerName } from '../../../functions/adapters/elbv2/index.js';
import { InvalidSpecError } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from './ec2-fixtures.js';

let elb: ElasticLoadBalancingV2Client;
let ec2: Ec2QueryClient;
let net: MotoNetwork;
let lbs: Elbv2ManagedLoadBalancers;
const INSTALLATION = uniqueName('lbs');

beforeAll(async () => {
  elb = createElbv2Client(emulatorClientConfig(motoEndpoint()));
  ec2 = motoEc2Client(motoEndpoint());
  net = await createMotoNetwork(ec2);
  lbs = new Elbv2ManagedLoadBalancers({ elb, ec2, installationId: INSTALLATION });
});

afterAll(() => {
  elb.destroy();
  ec2.destroy();
});

const spec = (clusterName: string) => ({ namespace: 'team-a', clusterName, scheme: 'internal' as const, subnetIds: net.subnets.map((s) => s.id), port: 6443 });

describe('Elbv2ManagedLoadBalancers', () => {
  it("names a cluster's load balancer from the cluster and the installation, within 32 characters, differently per namespace and per installation", () => {
    const name = loadBalancerName('team-a', 'a'.repeat(63), INSTALLATION);
    expect(name).toMatch(/^clusterless-[0-9a-f]{20}$/);
    expect(name.length).toBeLessThanOrEqual(32);
    expect(loadBalancerName('team-a', 'prod', INSTALLATION)).toBe(loadBalancerName('team-a', 'prod', INSTALLATION));
    expect(loadBalancerName('team-b', 'prod', INSTALLATION)).not.toBe(loadBalancerName('team-a', 'prod', INSTALLATION));
    expect(loadBalancerName('team-a', 'prod', 'another-installation')).not.toBe(loadBalancerName('team-a', 'prod', INSTALLATION));
  });

  it('makes one internal network load balancer, target group and listener, however often ensure runs', async () => {
    // Arrange
    const cluster = uniqueName('lb');
    const name = loadBalancerName('team-a', cluster, INSTALLATION);
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
    for (const t of tags) {
      expect(t.Tags).toContainEqual({ Key: 'clusterless.dev/cluster', Value: `team-a/${cluster}` });
      expect(t.Tags).toContainEqual({ Key: 'clusterless.dev/installation', Value: INSTALLATION });
    }
  });

  it("gives two installations' clusters of the same namespace and name a load balancer each; neither sees, nor deletes, the other's", async () => {
    // Arrange
    const cluster = uniqueName('lb');
    const other = new Elbv2ManagedLoadBalancers({ elb, ec2, installationId: uniqueName('other') });
    await lbs.ensure(spec(cluster));
    const mine = (await lbs.describe('team-a', cluster))!;
    // Act
    const before = await other.describe('team-a', cluster);
    await other.ensure(spec(cluster));
    const theirs = (await other.describe('team-a', cluster))!;
    await other.delete('team-a', cluster);
    // Assess
    expect(before).toBeUndefined();
    expect(theirs.name).not.toBe(mine.name);
    expect(await other.describe('team-a', cluster)).toBeUndefined();
    expect(await lbs.describe('team-a', cluster)).toEqual(mine);
    expect(await lbs.targetGroupArn('team-a', cluster)).toBeDefined();
  });

  it('treats a load balancer and target group of its name that lack its installation tag as not its own: not described, not adopted, not deleted', async () => {
    // Arrange: someone else made a load balancer and a target group under the name this cluster's would have.
    const cluster = uniqueName('lb');
    const name = loadBalancerName('team-a', cluster, INSTALLATION);
    const squatter = (
      await elb.send(
        new CreateLoadBalancerCommand({
          Name: name,
          Type: 'network',
          Scheme: 'internal',
          Subnets: [net.subnets[0]!.id],
          Tags: [{ Key: 'clusterless.dev/cluster', Value: `team-a/${cluster}` }],
        }),
      )
    ).LoadBalancers![0]!;
    const squattersGroup = (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'TCP', Port: 6443, VpcId: net.vpcId, TargetType: 'instance' })))
      .TargetGroups![0]!;
    // Act
    const described = await lbs.describe('team-a', cluster);
    const targetGroup = await lbs.targetGroupArn('team-a', cluster);
    const leftovers = await lbs.hasLeftovers('team-a', cluster);
    const ensured = await lbs.ensure(spec(cluster)).catch((e: unknown) => e);
    await lbs.delete('team-a', cluster);
    // Assess
    expect(described).toBeUndefined();
    expect(targetGroup).toBeUndefined();
    expect(leftovers).toBe(false);
    expect(ensured).toBeInstanceOf(InvalidSpecError);
    expect((ensured as Error).message).toMatch(/not adopted/);
    expect((await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.map((l) => l.LoadBalancerArn)).toEqual([
      squatter.LoadBalancerArn,
    ]);
    expect((await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.map((t) => t.TargetGroupArn)).toEqual([
      squattersGroup.TargetGroupArn,
    ]);
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

  it('accepts a target group a cluster names only when it is tagged with this installation and that cluster, asking ELBv2 once for a group it accepted', async () => {
    // Arrange: a client that counts DescribeTags; groups tagged for the cluster, for another cluster, for no installation.
    const counted = createElbv2Client(emulatorClientConfig(motoEndpoint()));
    let describeTags = 0;
    counted.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'DescribeTagsCommand') describeTags++;
        return next(args);
      },
      { step: 'initialize', name: 'count-describe-tags' },
    );
    const checker = new Elbv2ManagedLoadBalancers({ elb: counted, ec2, installationId: INSTALLATION });
    const group = async (tags: Record<string, string>) =>
      (
        await elb.send(
          new CreateTargetGroupCommand({
            Name: uniqueName('tg').slice(0, 32),
            Protocol: 'TCP',
            Port: 6443,
            VpcId: net.vpcId,
            TargetType: 'instance',
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        )
      ).TargetGroups![0]!.TargetGroupArn!;
    const cluster = uniqueName('named');
    const own = await group({ 'clusterless.dev/installation': INSTALLATION, 'clusterless.dev/cluster': `team-a/${cluster}` });
    const anothers = await group({ 'clusterless.dev/installation': INSTALLATION, 'clusterless.dev/cluster': 'team-a/another' });
    const untagged = await group({});
    const missing = own.replace(/[0-9a-f]{16}$/, '0000000000000000');
    try {
      // Act
      await checker.checkTargetGroup(own, 'team-a', cluster);
      await checker.checkTargetGroup(own, 'team-a', cluster);
      const refusals = await Promise.all([anothers, untagged, missing].map((arn) => checker.checkTargetGroup(arn, 'team-a', cluster).catch((e: unknown) => e)));
      const otherCluster = await checker.checkTargetGroup(own, 'team-b', cluster).catch((e: unknown) => e);
      // Assess
      for (const e of [...refusals, otherCluster]) expect(e).toBeInstanceOf(InvalidSpecError);
      expect((refusals[0] as Error).message).toMatch(new RegExp(`^target group ${anothers} .*: it lacks the tag clusterless.dev/cluster=team-a/${cluster};`));
      expect((refusals[1] as Error).message).toContain(
        `it lacks the tags clusterless.dev/installation=${INSTALLATION} and clusterless.dev/cluster=team-a/${cluster};`,
      );
      // ELBv2 answers TargetGroupNotFound for it; moto describes it with no tags: refused either way.
      expect((refusals[2] as Error).message).toMatch(new RegExp(`^target group ${missing} .*: it (does not exist|lacks the tags)`));
      expect((otherCluster as Error).message).toContain(`it lacks the tag clusterless.dev/cluster=team-b/${cluster};`);
      // One DescribeTags for the two checks of the accepted group, one for each refusal (refusals are not kept).
      expect(describeTags).toBe(5);
    } finally {
      counted.destroy();
    }
  });

  it('refuses a cluster without subnets, or with a subnet that does not exist, with InvalidSpecError', async () => {
    await expect(lbs.ensure({ ...spec(uniqueName('lb')), subnetIds: [] })).rejects.toBeInstanceOf(InvalidSpecError);
    await expect(lbs.ensure({ ...spec(uniqueName('lb')), subnetIds: ['subnet-0000000000000dead'] })).rejects.toBeInstanceOf(InvalidSpecError);
  });
});
