/**
 * The same state machines and task code with the EC2 provider against moto_server (nodes simulated, since no
 * kubelet can join an instance moto runs), and faults injected into the real EC2 client through SDK
 * middleware: throttling bursts, capacity errors, a crash after RunInstances returned, NotFound right after a
 * launch, and a task that throws on its first attempt. After each: exactly one instance per Machine, no
 * tagged instance that no Machine owns, no status lost.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { uniqueName } from '../../support/aws.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane, type TestControlPlaneOptions } from '../../support/control-plane.js';
import { Ec2Faults, motoEc2Client } from '../../support/ec2.js';

const P = `${NS_PATH}/default`;
let cp: TestControlPlane | undefined;

afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

async function start(options: Partial<TestControlPlaneOptions> = {}): Promise<TestControlPlane> {
  cp = await startTestControlPlane({ provider: 'ec2', motoEndpoint: inject('motoEndpoint'), timeScale: 40, ...options });
  return cp;
}

async function createCluster(c: TestControlPlane, name: string, workers: number): Promise<void> {
  for (const m of clusterManifests({ name, workers, network: c.ec2!.network })) {
    const r = await c.api('POST', `${P}/${m.plural}`, m.object);
    expect(r.status, r.body).toBe(201);
  }
}

async function machinesOf(c: TestControlPlane, cluster: string): Promise<Machine[]> {
  return (await c.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === cluster);
}

async function converged(c: TestControlPlane, cluster: string, workers: number): Promise<boolean> {
  const [cl, md, machines] = await Promise.all([
    c.store.get<Cluster>('Cluster', 'default', cluster),
    c.store.get<MachineDeployment>('MachineDeployment', 'default', `${cluster}-md`),
    machinesOf(c, cluster),
  ]);
  return (
    cl?.status?.phase === 'Provisioned' &&
    md?.status?.availableReplicas === workers &&
    machines.length === 3 + workers &&
    machines.every((m) => !m.metadata.deletionTimestamp && m.status?.phase === 'Running' && m.spec.providerID?.startsWith('aws:///'))
  );
}

/** Exactly one live instance per Machine, none without its Machine, every Machine's status naming its instance. */
async function assertOneInstancePerMachine(c: TestControlPlane, cluster: string): Promise<void> {
  const machines = await machinesOf(c, cluster);
  const instances = (await c.provider.describe('default', cluster)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
  const byUid = new Map<string, number>();
  for (const i of instances) byUid.set(i.machineUid, (byUid.get(i.machineUid) ?? 0) + 1);
  expect([...byUid.values()].filter((n) => n > 1), 'machines with two instances').toEqual([]);
  expect([...byUid.keys()].sort(), 'instances without a Machine, or Machines without an instance').toEqual(machines.map((m) => m.metadata.uid!).sort());
  for (const m of machines) {
    const instance = instances.find((i) => i.machineUid === m.metadata.uid)!;
    expect(m.status?.infrastructure?.instanceId).toBe(instance.instanceId);
    expect(m.spec.providerID).toBe(instance.providerID);
  }
}

describe('workflows with EC2 on moto_server', () => {
  it('converges a cluster, scales it, upgrades it and deletes it leaving no instance', async () => {
    const c = await start();
    const name = uniqueName('e1').slice(0, 40);
    await createCluster(c, name, 3);
    await c.waitFor('converged', () => converged(c, name, 3), 90_000);
    await assertOneInstancePerMachine(c, name);
    await c.api('PATCH', `${P}/machinedeployments/${name}-md`, { spec: { replicas: 5 } });
    await c.waitFor('scaled to 5', () => converged(c, name, 5), 90_000);
    await c.api('PATCH', `${P}/machinedeployments/${name}-md`, { spec: { template: { spec: { version: 'v1.32.0' } } } });
    await c.waitFor('upgraded', async () => (await converged(c, name, 5)) && (await machinesOf(c, name)).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name']).every((m) => m.spec.version === 'v1.32.0'), 90_000);
    await assertOneInstancePerMachine(c, name);
    await c.api('DELETE', `${P}/clusters/${name}`);
    await c.waitFor('deleted', async () => (await c.store.listCluster('default', name)).length === 0, 90_000);
    const live = (await c.provider.describe('default', name)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
    expect(live).toEqual([]);
  });

  it.each([
    {
      name: 'a burst of RequestLimitExceeded on RunInstances and DescribeInstances',
      faults: (f: Ec2Faults) => {
        f.failWith('RunInstancesCommand', 'RequestLimitExceeded', { times: 6 });
        f.failWith('DescribeInstancesCommand', 'RequestLimitExceeded', { times: 6 });
      },
      check: (f: Ec2Faults) => expect(f.attempts.filter((a) => a.command === 'RunInstancesCommand').length).toBeGreaterThan(5),
    },
    {
      name: 'InsufficientInstanceCapacity in one zone',
      faults: (f: Ec2Faults, subnetA: string) => f.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 1000, when: (i) => i.SubnetId === subnetA }),
      check: (f: Ec2Faults, subnetA: string) =>
        expect(f.calls.filter((x) => x.command === 'RunInstancesCommand' && x.input.SubnetId === subnetA).length).toBeGreaterThan(0),
    },
    {
      name: 'InsufficientInstanceCapacity for the first instance type',
      faults: (f: Ec2Faults) => f.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 1000, when: (i) => i.InstanceType === 't3.micro' }),
      check: (f: Ec2Faults) => expect(f.callsOf('RunInstancesCommand').some((i) => i.InstanceType === 't3.small')).toBe(true),
    },
    {
      name: 'a crash after RunInstances returned, before the instance id was recorded',
      faults: (f: Ec2Faults) => f.crashAfter('RunInstancesCommand', 3),
      check: (f: Ec2Faults) => expect(f.callsOf('RunInstancesCommand').length).toBeGreaterThanOrEqual(3),
    },
    {
      name: 'InvalidInstanceID.NotFound right after a launch',
      faults: (f: Ec2Faults) => {
        f.failWith('DescribeInstancesCommand', 'InvalidInstanceID.NotFound', { times: 3 });
        f.failWith('TerminateInstancesCommand', 'InvalidInstanceID.NotFound', { times: 1 });
      },
      check: (f: Ec2Faults) => expect(f.attempts.filter((a) => a.command === 'DescribeInstancesCommand').length).toBeGreaterThan(3),
    },
  ])('keeps one instance per machine through $name', async ({ faults, check }) => {
    const client = motoEc2Client(inject('motoEndpoint'));
    const f = new Ec2Faults(client);
    const c = await start({ ec2Client: client });
    const name = uniqueName('f').slice(0, 40);
    const subnetA = c.ec2!.network.subnets[0]!.id;
    faults(f, subnetA);
    await createCluster(c, name, 2);
    await c.waitFor('converged despite the faults', () => converged(c, name, 2), 120_000);
    check(f, subnetA);
    await assertOneInstancePerMachine(c, name);
  });

  it('retries a task that throws on its first attempt, and loses nothing', async () => {
    const thrown = new Set<string>();
    const c = await start({
      taskMiddleware: async (task, input, run) => {
        const key = `${task}:${String(input.step)}`;
        if (!thrown.has(key)) {
          thrown.add(key);
          throw new Error(`injected crash in ${key}`);
        }
        return run();
      },
    });
    const name = uniqueName('t').slice(0, 40);
    await createCluster(c, name, 2);
    await c.waitFor('converged despite first attempts failing', () => converged(c, name, 2), 120_000);
    expect([...thrown]).toEqual(expect.arrayContaining(['reconcile:reconcile', 'provision:recordIntent', 'provision:launch', 'provision:checkInstance', 'provision:checkNode']));
    await assertOneInstancePerMachine(c, name);
  });
});
