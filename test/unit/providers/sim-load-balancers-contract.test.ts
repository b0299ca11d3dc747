/** The ManagedLoadBalancers and TargetGroupRegistrations contracts on the simulator's load balancers (a SimCloud). */
import { randomUUID } from 'node:crypto';
import { TagKeys } from '../../../functions/adapters/aws/tags.js';
import {
  SimManagedLoadBalancers,
  SimMachineProvider,
  SimTargetGroupRegistrations,
  simLoadBalancerName,
  type SimCloud,
} from '../../../functions/adapters/sim/index.js';
import { runManagedLoadBalancersContract, runTargetGroupRegistrationsContract } from '../../support/load-balancers-contract.js';
import { newSim, simSpec } from './sim-fixtures.js';

/** A target group made outside clusterless (as a user makes one in ELBv2), with these tags. */
const namedTargetGroup = (cloud: SimCloud, tags: Record<string, string>): string =>
  cloud.createTargetGroup(`named-${randomUUID().slice(0, 8)}`, 6443, tags).arn;

/** An ARN of the simulator's shape whose group was never made. */
const missingTargetGroupArn = async (cloud: SimCloud): Promise<string> =>
  namedTargetGroup(cloud, {})
    .replace(/[0-9a-f]{16}$/, '0000000000000000')
    .replace('/named-', '/missing-');

runManagedLoadBalancersContract('sim', async () => {
  const { cloud } = newSim();
  const installationId = `lbs-${randomUUID()}`;
  let clusters = 0;
  return {
    loadBalancers: new SimManagedLoadBalancers(cloud, { installationId }),
    otherInstallation: () => new SimManagedLoadBalancers(cloud, { installationId: `other-${randomUUID()}` }),
    newClusterName: () => `lb${++clusters}`,
    subnetIds: ['sim-subnet-a'],
    namedTargetGroup: async (tags) => namedTargetGroup(cloud, tags),
    ownTags: (namespace, clusterName) => ({ [TagKeys.installation]: installationId, [TagKeys.cluster]: `${namespace}/${clusterName}` }),
    missingTargetGroupArn: () => missingTargetGroupArn(cloud),
    deleteLoadBalancerOnly: async (namespace, clusterName) => cloud.deleteLoadBalancer(simLoadBalancerName(namespace, clusterName, installationId)),
    withoutSubnets: 'made',
  };
});

runTargetGroupRegistrationsContract('sim', async () => {
  const { cloud, clock } = newSim();
  const provider = new SimMachineProvider(cloud);
  return {
    registrations: new SimTargetGroupRegistrations(cloud),
    newTargetGroup: async () => namedTargetGroup(cloud, {}),
    newInstance: async () => {
      const instance = await provider.create(simSpec({ machineClass: { sim: { bootSeconds: 5, nodeReadySeconds: 2 } } }));
      clock.advance(5);
      return instance.instanceId;
    },
    terminate: async (instanceId) => {
      cloud.kill(instanceId);
    },
    targetsOf: async (targetGroupArn) => cloud.targetsOf(targetGroupArn),
    missingTargetGroupArn: () => missingTargetGroupArn(cloud),
  };
});
