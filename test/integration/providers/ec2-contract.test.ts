import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { afterAll, beforeAll } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2MachineProvider } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { uniqueName } from '../../support/aws.js';
import { runProviderContract } from '../../support/provider-contract.js';
import { INSTANCE_TYPES, ZONES, createMotoNetwork, ec2Spec, motoEc2Client, type MotoNetwork } from './ec2-fixtures.js';

let client: Ec2QueryClient;
let net: MotoNetwork;

beforeAll(async () => {
  client = motoEc2Client(motoEndpoint());
  net = await createMotoNetwork(client);
});

afterAll(() => client.destroy());

runProviderContract('ec2 on moto_server', async () => ({
  // An installation per case: the cases share one moto_server with other files.
  provider: new Ec2MachineProvider({ client, installationId: uniqueName('contract') }),
  zones: ZONES,
  scheme: 'aws',
  instanceTypes: INSTANCE_TYPES,
  otherInstallation: () => new Ec2MachineProvider({ client, installationId: uniqueName('other') }),
  newCluster: (namespace = 'default') => ({ namespace, clusterName: uniqueName('c') }),
  launchSpec: (cluster, machine) => ec2Spec(net, { ...cluster, ...machine }),
  // moto starts instances running.
  settle: async () => {},
}));
