/**
 * CapaInstanceAdoption on moto: an instance Cluster API AWS launched for the cluster gets the machine's tags and is
 * then what the EC2 provider's describe and create find (no launch); any other instance is refused untouched.
 */
import { randomUUID } from 'node:crypto';
import { CreateTagsCommand, DescribeInstancesCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { CapaInstanceAdoption } from '../../../functions/adapters/ec2/capa-adoption.js';
import { Ec2MachineProvider } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { AdoptionRefusedError } from '../../../functions/api/capi/import-plan.js';
import { uniqueName } from '../../support/aws.js';
import { capaInstance } from '../cli/capi-import-fixtures.js';
import { createMotoNetwork, ec2Spec, motoEc2Client, motoSdkEc2Client, type MotoNetwork } from './ec2-fixtures.js';

let client: Ec2QueryClient;
let sdk: EC2Client;
let net: MotoNetwork;

beforeAll(async () => {
  client = motoEc2Client(motoEndpoint());
  sdk = motoSdkEc2Client(motoEndpoint());
  net = await createMotoNetwork(sdk);
});

afterAll(() => {
  client.destroy();
  sdk.destroy();
});

async function tagsOf(instanceId: string): Promise<Record<string, string>> {
  const out = await sdk.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Object.fromEntries((out.Reservations?.[0]?.Instances?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

function setup() {
  const installationId = uniqueName('inst');
  const cluster = uniqueName('c');
  return { installationId, cluster, adoption: new CapaInstanceAdoption({ client, installationId }) };
}

describe('CapaInstanceAdoption (moto)', () => {
  it("tags Cluster API AWS's instance as the machine's; the provider then describes it and its create adopts it without a launch", async () => {
    const { installationId, cluster, adoption } = setup();
    const i = await capaInstance(sdk, net, { cluster, machine: `${cluster}-w0`, role: 'node' });
    const machineUid = randomUUID();

    const outcome = await adoption.adopt({
      namespace: 'default',
      clusterName: cluster,
      machineName: `${cluster}-w0`,
      machineUid,
      role: 'worker',
      instanceId: i.instanceId,
      capaClusterName: cluster,
    });

    expect(outcome).toEqual({ type: 'Tagged' });
    const provider = new Ec2MachineProvider({ client, installationId });
    expect((await provider.describe('default', cluster)).map((f) => [f.instanceId, f.machineUid])).toEqual([[i.instanceId, machineUid]]);
    const created = await provider.create(ec2Spec(net, { clusterName: cluster, machineName: `${cluster}-w0`, machineUid }));
    expect(created.instanceId).toBe(i.instanceId);
    expect(
      await adoption.adopt({
        namespace: 'default',
        clusterName: cluster,
        machineName: `${cluster}-w0`,
        machineUid,
        role: 'worker',
        instanceId: i.instanceId,
        capaClusterName: cluster,
      }),
    ).toEqual({
      type: 'AlreadyAdopted',
    });
  });

  it.each([
    { name: "without Cluster API AWS's owned tag", prepare: async () => ({ owned: false }), error: /does not carry Cluster API AWS's tag/ },
    { name: 'owned by another Cluster API cluster', prepare: async () => ({ otherCluster: true }), error: /does not carry Cluster API AWS's tag/ },
    { name: 'tagged by another clusterless installation', prepare: async () => ({ foreign: true }), error: /already tagged clusterless\.dev\/machine-uid/ },
    { name: 'terminated', prepare: async () => ({ terminated: true }), error: /is (shutting-down|terminated)/ },
    { name: 'of the other role', prepare: async () => ({ role: 'control-plane' as const }), error: /has Cluster API role control-plane/ },
  ])('refuses an instance $name, leaving its tags as they were', async ({ prepare, error }) => {
    const { cluster, adoption } = setup();
    const o: { owned?: boolean; otherCluster?: boolean; foreign?: boolean; terminated?: boolean; role?: 'control-plane' } = await prepare();
    const i = await capaInstance(sdk, net, {
      cluster: o.otherCluster ? `${cluster}-other` : cluster,
      machine: `${cluster}-w0`,
      role: o.role ?? 'node',
      ...(o.owned === false ? { owned: false } : {}),
    });
    if (o.foreign) await sdk.send(new CreateTagsCommand({ Resources: [i.instanceId], Tags: [{ Key: 'clusterless.dev/machine-uid', Value: 'someone-else' }] }));
    if (o.terminated) await sdk.send(new TerminateInstancesCommand({ InstanceIds: [i.instanceId] }));
    const before = await tagsOf(i.instanceId);

    const adopting = adoption.adopt({
      namespace: 'default',
      clusterName: cluster,
      machineName: `${cluster}-w0`,
      machineUid: randomUUID(),
      role: 'worker',
      instanceId: i.instanceId,
      capaClusterName: cluster,
    });

    await expect(adopting).rejects.toBeInstanceOf(AdoptionRefusedError);
    await expect(adopting).rejects.toThrow(error);
    expect(await tagsOf(i.instanceId)).toEqual(before);
  });

  it('refuses an instance that does not exist', async () => {
    const { cluster, adoption } = setup();

    await expect(
      adoption.adopt({
        namespace: 'default',
        clusterName: cluster,
        machineName: 'm',
        machineUid: randomUUID(),
        role: 'worker',
        instanceId: 'i-0123456789abcdef0',
        capaClusterName: cluster,
      }),
    ).rejects.toThrow(/does not exist/);
  });
});
