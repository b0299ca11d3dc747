/**
 * The same state machines and task code with the EC2 provider against moto_server (nodes simulated, since no
 * kubelet can join an instance moto runs), and faults injected into the real EC2 client through SDK
 * middleware: throttling bursts, capacity errors, a crash after RunInstances returned, NotFound right after a
 * launch, and a task that throws on its first attempt. After each: exactly one instance per Machine, no
 * tagged instance that no Machine owns, no status lost. And ownership: another installation's instances of a
 * same-named cluster are never seen or terminated; a Machine whose status names another machine's instance
 * terminates only its own; a launch retried after a crash sends its recorded attempt again first.
 */
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2MachineProvider } from '../../../functions/adapters/ec2/index.js';
import { Elbv2ManagedLoadBalancers, Elbv2TargetGroupRegistrations, createElbv2Client } from '../../../functions/adapters/elbv2/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { getCondition } from '../../../functions/core/conditions.js';
import { InvalidSpecError, noWorkloadsDrainer, systemClock } from '../../../functions/ports.js';
import { MAX_INSTANCE_POLLS, checkInstance, launch, recordFailure, recordIntent } from '../../../functions/workflows/provision-machine.js';
import { reconcileCluster } from '../../../functions/workflows/reconcile-cluster.js';
import { scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { API, NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane, type TestControlPlaneOptions } from '../../support/control-plane.js';
import { Ec2Faults, InjectedCrash, createMotoNetwork, motoEc2Client, type MotoNetwork } from '../../support/ec2.js';
import { ec2Spec } from '../providers/ec2-fixtures.js';

const P = `${NS_PATH}/default`;
let cp: TestControlPlane | undefined;
const clients: Ec2QueryClient[] = [];
const elbs: ElasticLoadBalancingV2Client[] = [];

afterEach(async () => {
  await cp?.stop();
  cp = undefined;
  for (const c of clients.splice(0)) c.destroy();
  for (const c of elbs.splice(0)) c.destroy();
});

async function start(options: Partial<TestControlPlaneOptions> = {}): Promise<TestControlPlane> {
  cp = await startTestControlPlane({ provider: 'ec2', motoEndpoint: motoEndpoint(), timeScale: 40, ...options });
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
  expect(
    [...byUid.values()].filter((n) => n > 1),
    'machines with two instances',
  ).toEqual([]);
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
    await c.api('PATCH', `${P}/machinedeployments/${name}-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    await c.waitFor(
      'upgraded',
      async () =>
        (await converged(c, name, 5)) &&
        (await machinesOf(c, name)).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name']).every((m) => m.spec.version === 'v1.31.3'),
      90_000,
    );
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
      faults: (f: Ec2Faults, subnetA: string) =>
        f.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 1000, when: (i) => i.SubnetId === subnetA }),
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
    const client = motoEc2Client(motoEndpoint());
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
    expect([...thrown]).toEqual(expect.arrayContaining(['reconcile:reconcile', 'provision:recordIntentAndLaunch', 'provision:check']));
    await assertOneInstancePerMachine(c, name);
  });
});

describe('ownership on EC2 (moto_server)', () => {
  it("never sees, nor terminates as orphans, another installation's instances of a cluster of the same namespace and name", async () => {
    // Prepare: installation A's instances, tagged with cluster default/NAME, whose machine uids B's store never had.
    const c = await start({ installationId: uniqueName('b') });
    const name = uniqueName('same').slice(0, 40);
    const a = new Ec2MachineProvider({ client: c.ec2!.client, installationId: uniqueName('a') });
    const theirs = [
      await a.create(ec2Spec(c.ec2!.network, { clusterName: name })),
      await a.create(ec2Spec(c.ec2!.network, { clusterName: name, machineName: `${name}-m2` })),
    ];
    // Act: installation B makes and reconciles its own cluster of that name.
    await createCluster(c, name, 1);
    await c.waitFor('converged', () => converged(c, name, 1), 120_000);
    // Assess
    const described = await c.provider.describe('default', name);
    expect(described.some((i) => theirs.some((t) => t.instanceId === i.instanceId))).toBe(false);
    expect((await a.describe('default', name)).map((i) => [i.instanceId, i.state]).sort()).toEqual(theirs.map((t) => [t.instanceId, 'running']).sort());
    await assertOneInstancePerMachine(c, name);
  }, 150_000);

  it("terminates only a deleting Machine's own instance when its status names another machine's: InstanceNotOwned on the Machine and in the log, and the Machine goes once its own instance is gone", async () => {
    // Prepare: two machines with instances; w1's status is made to name w2's instance, as any /status writer can.
    const w = await stepWorld();
    const [w1, w2] = [await w.machine('w1'), await w.machine('w2')];
    for (const m of [w1, w2]) {
      await recordIntent(w.deps, w.input(m));
      await launch(w.deps, w.input(m));
    }
    const own = (await w.get('w1')).status!.infrastructure!.instanceId!;
    const victim = (await w.get('w2')).status!.infrastructure!.instanceId!;
    const forged = await w.get('w1');
    await w.store.updateStatus({ ...forged, status: { ...forged.status, infrastructure: { ...forged.status!.infrastructure, instanceId: victim } } });
    expect((await w.api('DELETE', `${P}/machines/${w.name}-w1`)).status).toBe(200);
    // Act
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: w.name });
    // Assess: w2's instance runs; w1's own is terminated; the refusal is on w1 and in the log.
    const states = async () => new Map((await w.deps.provider.describe('default', w.name)).map((i) => [i.instanceId, i.state]));
    expect((await states()).get(victim)).toBe('running');
    expect((await states()).get(own)).toMatch(/^(shutting-down|terminated)$/);
    const condition = getCondition((await w.get('w1')).status?.conditions, 'InfrastructureOwned');
    expect(condition).toMatchObject({ status: 'False', reason: 'InstanceNotOwned', message: expect.stringContaining(victim) });
    expect(w.logs).toContainEqual(expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ instanceIds: [victim] }) }));
    // Act 2: the next reconciles see w1's own instance gone.
    for (let i = 0; i < 3 && (await w.store.get('Machine', 'default', `${w.name}-w1`)); i++)
      await reconcileCluster(w.deps, { namespace: 'default', clusterName: w.name });
    // Assess 2
    expect(await w.store.get('Machine', 'default', `${w.name}-w1`)).toBeUndefined();
    expect((await states()).get(victim)).toBe('running');
  }, 60_000);

  it("deregisters from the control plane's target group only the deleting machine's own instance, not the one its status names", async () => {
    // Prepare: two control-plane machines in the cluster's own target group; cp1's status names cp2's instance.
    const w = await stepWorld({ targetGroupOf: (name) => `default/${name}` });
    const [cp1, cp2] = [await w.machine('cp1', true), await w.machine('cp2', true)];
    for (const m of [cp1, cp2]) {
      await recordIntent(w.deps, w.input(m));
      await launch(w.deps, w.input(m));
      await checkInstance(w.deps, w.input(m));
    }
    const own = (await w.get('cp1')).status!.infrastructure!.instanceId!;
    const victim = (await w.get('cp2')).status!.infrastructure!.instanceId!;
    expect((await w.targets()).sort()).toEqual([own, victim].sort());
    const forged = await w.get('cp1');
    await w.store.updateStatus({ ...forged, status: { ...forged.status, infrastructure: { ...forged.status!.infrastructure, instanceId: victim } } });
    expect((await w.api('DELETE', `${P}/machines/${w.name}-cp1`)).status).toBe(200);
    // Act
    await reconcileCluster(w.deps, { namespace: 'default', clusterName: w.name });
    // Assess
    expect(w.calls.filter((c) => c.startsWith('deregister'))).toEqual([`deregister ${own}`]);
    expect(await w.targets()).toEqual([victim]);
    const states = new Map((await w.deps.provider.describe('default', w.name)).map((i) => [i.instanceId, i.state]));
    expect(states.get(victim)).toBe('running');
  }, 60_000);

  it("registers nothing into another cluster's target group that a cluster names: the check fails with InvalidSpecError naming the group and the tag it lacks, which fails the Machine", async () => {
    // Prepare: a target group of this installation tagged for another cluster; this cluster names it.
    const w = await stepWorld({ targetGroupOf: () => 'default/another-cluster' });
    const m = await w.machine('cp1', true);
    await recordIntent(w.deps, w.input(m));
    await launch(w.deps, w.input(m));
    // Act: the look that finds the instance running registers it.
    const error = await checkInstance(w.deps, w.input(m)).catch((e: unknown) => e);
    // Assess: refused before any RegisterTargets; the group has no target of this cluster.
    expect(error).toBeInstanceOf(InvalidSpecError);
    expect((error as Error).message).toContain(w.targetGroupArn!);
    expect((error as Error).message).toContain(`lacks the tag clusterless.dev/cluster=default/${w.name}`);
    expect(w.calls).toEqual([]);
    expect(await w.targets()).toEqual([]);
    // The state machine's Catch hands the error to RecordFailure, as for any other refused registration.
    await recordFailure(w.deps, { ...w.input(m), error: { Error: (error as Error).name, Cause: JSON.stringify({ errorMessage: (error as Error).message }) } });
    expect((await w.get('cp1')).status).toMatchObject({
      failureReason: 'CreateError',
      failureMessage: expect.stringContaining(`InvalidSpecError: target group ${w.targetGroupArn}`),
    });
    expect(w.logs).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'provisioning failed', fields: expect.objectContaining({ error: 'InvalidSpecError' }) }),
    );
  }, 60_000);

  it.each([
    {
      name: 'without the installation tag',
      tags: (name: string) => ({ 'clusterless.dev/cluster': `default/${name}` }),
      lacks: 'clusterless.dev/installation=',
    },
    {
      name: "of another installation's cluster of the same name",
      tags: (name: string) => ({ 'clusterless.dev/installation': 'another-installation', 'clusterless.dev/cluster': `default/${name}` }),
      lacks: 'clusterless.dev/installation=',
    },
    {
      name: 'tagged for another cluster',
      tags: () => ({ 'clusterless.dev/installation': INSTALLATION, 'clusterless.dev/cluster': 'default/another-cluster' }),
      lacks: 'clusterless.dev/cluster=default/',
    },
  ])(
    'deregisters nothing from a named target group $name when its machine is deleted, and reports the refusal',
    async ({ tags, lacks }) => {
      // Prepare: the control-plane machine's instance is in the group (registered there from outside).
      const w = await stepWorld({ targetGroupTags: tags });
      const m = await w.machine('cp1', true);
      await recordIntent(w.deps, w.input(m));
      const { instanceId } = await launch(w.deps, w.input(m));
      await w.elb.send(new RegisterTargetsCommand({ TargetGroupArn: w.targetGroupArn!, Targets: [{ Id: instanceId!, Port: 6443 }] }));
      expect((await w.api('DELETE', `${P}/machines/${w.name}-cp1`)).status).toBe(200);
      // Act
      const outcome = await reconcileCluster(w.deps, { namespace: 'default', clusterName: w.name });
      // Assess
      expect(w.calls).toEqual([]);
      expect(await w.targets()).toEqual([instanceId]);
      const refusal = outcome.errors.find((e) => e.startsWith(`TerminateInstance: InvalidSpecError: target group ${w.targetGroupArn} `));
      expect(refusal).toMatch(new RegExp(`lacks the tags? ${lacks}`));
      expect(w.logs).toContainEqual(
        expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ action: 'TerminateInstance', error: 'InvalidSpecError' }) }),
      );
    },
    60_000,
  );

  it('sends the recorded launch attempt again first when a launch step that died after its second attempt succeeded is retried, and DescribeInstances cannot see that instance yet', async () => {
    // Prepare: no t3.micro capacity, so the first attempt fails and the second (t3.small) launches; then the step dies.
    const w = await stepWorld();
    const m = await w.machine('m1');
    w.faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: (i) => i.InstanceType === 't3.micro' });
    w.faults.crashAfter('RunInstancesCommand');
    await recordIntent(w.deps, w.input(m));
    await expect(launch(w.deps, w.input(m))).rejects.toBeInstanceOf(InjectedCrash);
    const sent = w.faults.callsOf('RunInstancesCommand');
    const succeeded = sent.at(-1)!;
    // Intent before action: the attempt that launched is on the Machine, with no instance id yet.
    const infra = (await w.get('m1')).status!.infrastructure!;
    expect(infra).toMatchObject({ instanceType: 't3.small', availabilityZone: w.network.subnets.find((x) => x.id === succeeded.SubnetId)!.availabilityZone });
    expect(infra.instanceId).toBeUndefined();
    // EC2's eventual consistency: the instance is not listed when the retried step looks for it by tag.
    const [launched] = await w.deps.provider.describe('default', w.name);
    w.faults.hide([launched!.instanceId]);
    // Act: the state machine retries the step.
    await launch(w.deps, w.input(m));
    // Assess: one request, the very one that launched (same token, same parameters), which EC2 answers with the
    // instance it made then; no other attempt was sent.
    expect(w.faults.callsOf('RunInstancesCommand').slice(sent.length)).toEqual([succeeded]);
    expect(sent.filter((r) => r.InstanceType === 't3.micro').length + 1).toBe(sent.length);
  }, 60_000);

  it('records the fallback attempt of a launch made again because the instance never showed up, so that a retry after a crash sends that request again first instead of making a second instance', async () => {
    // Prepare: the first launch's instance is recorded, then never listed (checkInstance gives up on it).
    const w = await stepWorld();
    const m = await w.machine('m1');
    await recordIntent(w.deps, w.input(m));
    const { instanceId: first } = await launch(w.deps, w.input(m));
    expect(w.faults.callsOf('RunInstancesCommand').map((r) => r.InstanceType)).toEqual(['t3.micro']);
    w.faults.hide([first!]);
    const next = await checkInstance(w.deps, { ...w.input(m), polls: MAX_INSTANCE_POLLS / 4 - 1 });
    expect(next.next).toBe('Launch');
    // The launch again finds no t3.micro capacity, falls back to t3.small, and dies once that request returned.
    let noMicro = true;
    w.faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: (i) => noMicro && i.InstanceType === 't3.micro' });
    w.faults.crashAfter('RunInstancesCommand');
    const before = w.faults.callsOf('RunInstancesCommand').length;
    // Act
    await expect(launch(w.deps, w.input(m))).rejects.toBeInstanceOf(InjectedCrash);
    // Assess: intent before action, as on a first launch: the fallback is on the Machine, without the old instance id.
    const sent = w.faults.callsOf('RunInstancesCommand').slice(before);
    expect(sent.map((r) => r.InstanceType)).toEqual(['t3.micro', 't3.small']);
    const infra = (await w.get('m1')).status!.infrastructure!;
    expect(infra).toMatchObject({ instanceType: 't3.small', availabilityZone: w.network.subnets.find((x) => x.id === sent[1]!.SubnetId)!.availabilityZone });
    expect(infra.instanceId).toBeUndefined();
    // Act 2: t3.micro has capacity again; the retried step cannot list the fallback's instance yet either.
    noMicro = false;
    const live = (await w.deps.provider.describe('default', w.name)).map((i) => i.instanceId).filter((id) => id !== first);
    w.faults.hide(live);
    const retriedFrom = w.faults.callsOf('RunInstancesCommand').length;
    await launch(w.deps, w.input(m));
    // Assess 2: one request, the very one that launched (same token and parameters: EC2 returns its instance).
    expect(w.faults.callsOf('RunInstancesCommand').slice(retriedFrom)).toEqual([sent[1]]);
  }, 60_000);
});

/** The installation of every stepWorld: tagged on its instances, and required of the target groups it uses. */
const INSTALLATION = uniqueName('steps');

/**
 * The provision and reconcile task code on moto, called step by step (no state machine), with a log kept. With
 * `targetGroupOf` or `targetGroupTags`, the cluster names a target group made on moto (ELBv2) with those tags (the
 * first: this installation's tag and the given cluster tag value), and every RegisterTargets and DeregisterTargets
 * that reaches ELBv2 is kept in `calls`.
 */
async function stepWorld(o: { targetGroupOf?: (name: string) => string; targetGroupTags?: (name: string) => Record<string, string> } = {}) {
  const client = motoEc2Client(motoEndpoint());
  clients.push(client);
  const elb = createElbv2Client(emulatorClientConfig(motoEndpoint()));
  elbs.push(elb);
  const faults = new Ec2Faults(client);
  const network: MotoNetwork = await createMotoNetwork(client);
  const store = new MemoryStore({ clock: systemClock });
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, ...(fields ? { fields } : {}) });
  const calls: string[] = [];
  const targets = new Elbv2TargetGroupRegistrations(elb);
  const deps = workflowDeps({
    store,
    provider: new Ec2MachineProvider({ client, clock: systemClock, installationId: INSTALLATION }),
    // Known and empty: no node to drain.
    nodes: { listNodes: async () => [] },
    drainer: noWorkloadsDrainer,
    clock: systemClock,
    timer: scaledTimer(1),
    holder: () => 'ec2-faults-steps',
    log: { info: line('info'), warn: line('warn'), error: line('error') },
    targetGroups: {
      register: async (tg, t) => {
        await targets.register(tg, t);
        calls.push(`register ${t.instanceId}`);
      },
      deregister: async (tg, t) => {
        await targets.deregister(tg, t);
        calls.push(`deregister ${t.instanceId}`);
      },
    },
    managedLoadBalancers: new Elbv2ManagedLoadBalancers({ elb, ec2: client, installationId: INSTALLATION }),
  });
  const name = uniqueName('s').slice(0, 40);
  const tags =
    o.targetGroupTags?.(name) ??
    (o.targetGroupOf ? { 'clusterless.dev/installation': INSTALLATION, 'clusterless.dev/cluster': o.targetGroupOf(name) } : undefined);
  const targetGroupArn = tags
    ? (
        await elb.send(
          new CreateTargetGroupCommand({
            Name: uniqueName('tg').slice(0, 32),
            Protocol: 'TCP',
            Port: 6443,
            VpcId: network.vpcId,
            TargetType: 'instance',
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        )
      ).TargetGroups![0]!.TargetGroupArn!
    : undefined;
  const api = (method: string, path: string, body?: unknown) => handleRequest(jsonRequest(method, path, body), { store });
  for (const m of clusterManifests({ name, network, controlPlaneReplicas: 1, workers: 0 }).filter(
    (x) => x.plural === 'machineclasses' || x.plural === 'clusters',
  )) {
    const spec = m.object.spec as { provider: { aws?: Record<string, unknown> } };
    const object =
      m.plural === 'clusters' && targetGroupArn
        ? {
            ...m.object,
            spec: {
              ...spec,
              controlPlaneEndpoint: { host: `${name}.k8s.test`, port: 6443 },
              provider: { aws: { ...spec.provider.aws, controlPlaneLoadBalancer: { scheme: 'internal', targetGroupArn } } },
            },
          }
        : m.object;
    const r = await api('POST', `${P}/${m.plural}`, object);
    expect(r.status, r.body).toBe(201);
  }
  const get = async (short: string) => (await store.get<Machine>('Machine', 'default', `${name}-${short}`))!;
  return {
    name,
    store,
    deps,
    faults,
    network,
    logs,
    elb,
    targetGroupArn,
    calls,
    /** The instance ids registered in the cluster's target group now. */
    targets: async () =>
      ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn! }))).TargetHealthDescriptions ?? []).map((t) => t.Target!.Id!),
    api,
    get,
    /** A Machine as a user creates it (no owner), a worker unless said, read back with its uid. */
    machine: async (short: string, controlPlane = false) => {
      const metadata = { name: `${name}-${short}`, namespace: 'default', ...(controlPlane ? { labels: { 'clusterless.dev/control-plane': '' } } : {}) };
      const r = await api('POST', `${P}/machines`, {
        apiVersion: API,
        kind: 'Machine',
        metadata,
        spec: { clusterName: name, version: 'v1.31.2', machineClassRef: { name: `${name}-class` } },
      });
      expect(r.status, r.body).toBe(201);
      return get(short);
    },
    input: (m: Machine) => ({ namespace: 'default', clusterName: name, machineName: m.metadata.name, machineUid: m.metadata.uid! }),
  };
}
