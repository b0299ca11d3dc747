/**
 * One installation runs sim and aws clusters side by side (workflows/providers.ts): the same runtime, each
 * cluster's machines launched by the provider its Cluster names, the simulator or EC2 on moto_server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { uniqueName } from '../../support/aws.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const P = `${NS_PATH}/default`;
let cp: TestControlPlane | undefined;

afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

async function create(c: TestControlPlane, manifests: ReturnType<typeof clusterManifests>): Promise<void> {
  for (const m of manifests) {
    const r = await c.api('POST', `${P}/${m.plural}`, m.object);
    expect(r.status, r.body).toBe(201);
  }
}

async function provisioned(c: TestControlPlane, name: string, machines: number): Promise<Machine[] | undefined> {
  const cluster = await c.store.get<Cluster>('Cluster', 'default', name);
  const mine = (await c.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === name);
  return cluster?.status?.phase === 'Provisioned' && mine.length === machines && mine.every((m) => m.status?.phase === 'Running') ? mine : undefined;
}

describe('a host that runs the simulator and EC2', () => {
  it('reconciles a sim cluster and an aws cluster side by side, each machine launched by its own provider', async () => {
    // Prepare
    const c = (cp = await startTestControlPlane({ provider: 'sim+ec2', motoEndpoint: motoEndpoint(), timeScale: 40 }));
    const simName = uniqueName('sbs-sim').slice(0, 30);
    const awsName = uniqueName('sbs-aws').slice(0, 30);
    // Act
    await create(c, clusterManifests({ name: simName, controlPlaneReplicas: 1, workers: 1 }));
    await create(c, clusterManifests({ name: awsName, controlPlaneReplicas: 1, workers: 1, network: c.ec2!.network }));
    const simMachines = await c.waitFor('the sim cluster provisioned', () => provisioned(c, simName, 2), 90_000);
    const awsMachines = await c.waitFor('the aws cluster provisioned', () => provisioned(c, awsName, 2), 90_000);
    // Assess: the simulator launched the sim cluster's machines, EC2 the aws cluster's, and neither the other's.
    const simInstances = c.cloud!.instances().filter((i) => i.clusterName === simName);
    const simOfAws = c.cloud!.instances().filter((i) => i.clusterName === awsName);
    expect(simMachines.map((m) => m.spec.providerID).every((id) => id?.startsWith('sim://'))).toBe(true);
    expect(simInstances.map((i) => i.machineUid).sort()).toEqual(simMachines.map((m) => m.metadata.uid).sort());
    expect(simOfAws).toEqual([]);
    expect(awsMachines.map((m) => m.spec.providerID).every((id) => id?.startsWith('aws:///'))).toBe(true);
    const ec2Instances = (await c.provider.describe('default', awsName)).filter((i) => i.state === 'running');
    expect(ec2Instances.map((i) => i.machineUid).sort()).toEqual(awsMachines.map((m) => m.metadata.uid).sort());
    expect(await c.provider.describe('default', simName)).toHaveLength(2);
  });
});
