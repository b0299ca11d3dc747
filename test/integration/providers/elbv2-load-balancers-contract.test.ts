/** The ManagedLoadBalancers and TargetGroupRegistrations contracts on ELBv2 (and EC2) on moto_server. */
import {
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Elbv2ManagedLoadBalancers, Elbv2TargetGroupRegistrations, createElbv2Client, loadBalancerName } from '../../../functions/adapters/elbv2/index.js';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { TagKeys } from '../../../functions/adapters/aws/tags.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { runManagedLoadBalancersContract, runTargetGroupRegistrationsContract } from '../../support/load-balancers-contract.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from './ec2-fixtures.js';

let elb: ElasticLoadBalancingV2Client;
let ec2: Ec2QueryClient;
let net: MotoNetwork;

beforeAll(async () => {
  elb = createElbv2Client(emulatorClientConfig(motoEndpoint()));
  ec2 = motoEc2Client(motoEndpoint());
  net = await createMotoNetwork(ec2);
});

afterAll(() => {
  elb.destroy();
  ec2.destroy();
});

async function targetGroup(tags: Record<string, string> = {}): Promise<string> {
  const out = await elb.send(
    new CreateTargetGroupCommand({
      Name: uniqueName('tg').slice(-32).replace(/^-+/, ''),
      Protocol: 'TCP',
      Port: 6443,
      VpcId: net.vpcId,
      TargetType: 'instance',
      ...(Object.keys(tags).length ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    }),
  );
  return out.TargetGroups![0]!.TargetGroupArn!;
}

/** An ARN of this account's shape whose group was never made. */
async function missingTargetGroupArn(): Promise<string> {
  return (await targetGroup()).replace(/[0-9a-f]{16}$/, '0000000000000000');
}

runManagedLoadBalancersContract('ELBv2 on moto_server', async () => {
  // An installation per case: the cases share one moto_server with other files.
  const installationId = uniqueName('lbs');
  return {
    loadBalancers: new Elbv2ManagedLoadBalancers({ elb, ec2, installationId }),
    otherInstallation: () => new Elbv2ManagedLoadBalancers({ elb, ec2, installationId: uniqueName('other') }),
    newClusterName: () => uniqueName('lb'),
    subnetIds: net.subnets.map((s) => s.id),
    namedTargetGroup: targetGroup,
    ownTags: (namespace, clusterName) => ({ [TagKeys.installation]: installationId, [TagKeys.cluster]: `${namespace}/${clusterName}` }),
    missingTargetGroupArn,
    deleteLoadBalancerOnly: async (namespace, clusterName) => {
      const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(namespace, clusterName, installationId)] }))).LoadBalancers![0]!;
      await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn! }));
    },
    withoutSubnets: 'refused',
  };
});

runTargetGroupRegistrationsContract('ELBv2 on moto_server', async () => ({
  registrations: new Elbv2TargetGroupRegistrations(elb),
  newTargetGroup: () => targetGroup(),
  newInstance: async () => {
    const out = await ec2.runInstances({ ImageId: net.ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: net.subnets[0]!.id });
    return out.Instances![0]!.InstanceId!;
  },
  terminate: async (instanceId) => {
    await ec2.terminateInstances({ InstanceIds: [instanceId] });
  },
  targetsOf: async (targetGroupArn) => {
    const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return (out.TargetHealthDescriptions ?? [])
      .filter((d) => d.TargetHealth?.State !== 'draining')
      .map((d) => ({ instanceId: d.Target!.Id!, port: d.Target!.Port! }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  },
  missingTargetGroupArn,
}));
