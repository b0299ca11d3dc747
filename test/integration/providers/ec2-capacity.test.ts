/**
 * The EC2 provider honours the market the MachineSet planner chose (LaunchSpec.capacity): a spot request with the
 * machine's price cap, the market tagged on the instance and read back, and the on-demand fallback when spot
 * capacity is gone, only when the machine was granted it; offerings a launch found without capacity are tried last
 * by the next launches until their mark expires. Against moto_server, capacity errors injected by the client's
 * middleware (test/support/ec2.ts).
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { CAPACITY_TYPE_TAG, Ec2MachineProvider, attemptToken } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { MemoryUnavailableOfferings } from '../../../functions/adapters/memory/index.js';
import { UNAVAILABLE_OFFERING_TTL_SECONDS, unavailableUntil } from '../../../functions/core/machine/offerings.js';
import { InsufficientCapacityError, QuotaExceededError, type LaunchAttempt, type LaunchHooks, type LaunchSpec } from '../../../functions/ports.js';
import { InjectedCrash } from '../../support/ec2.js';
import { uniqueName } from '../../support/aws.js';
import { FakeClock } from '../../support/fake-clock.js';
import { Ec2Faults, INSTANCE_TYPES, createMotoNetwork, ec2Spec, motoEc2Client, motoSdkEc2Client, type MotoNetwork } from './ec2-fixtures.js';

const INSTALLATION = uniqueName('cap');
let setupClient: EC2Client;
let net: MotoNetwork;
const open: { client: Ec2QueryClient; faults: Ec2Faults }[] = [];

beforeAll(async () => {
  setupClient = motoSdkEc2Client(motoEndpoint());
  net = await createMotoNetwork(setupClient);
});

afterAll(() => setupClient.destroy());

afterEach(() => {
  for (const { client, faults } of open.splice(0)) {
    faults.remove();
    client.destroy();
  }
});

function newProvider() {
  const client = motoEc2Client(motoEndpoint());
  const faults = new Ec2Faults(client);
  open.push({ client, faults });
  return { provider: new Ec2MachineProvider({ client, installationId: INSTALLATION }), faults };
}

async function tagsOf(spec: LaunchSpec): Promise<Record<string, string>[]> {
  const out = await setupClient.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:clusterless.dev/machine-uid', Values: [spec.machineUid] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])));
}

const isSpot = (input: { InstanceMarketOptions?: unknown }) => input.InstanceMarketOptions !== undefined;
const spotRequests = (faults: Ec2Faults) => faults.callsOf('RunInstancesCommand').filter(isSpot);
const onDemandRequests = (faults: Ec2Faults) => faults.callsOf('RunInstancesCommand').filter((r) => !isSpot(r));

describe('the market of a launch', () => {
  it("asks for spot with the machine's price cap (over the class's), tags the market, and describe reports it", async () => {
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net, { aws: { spot: { maxPrice: '0.50' } } }), capacity: { capacityType: 'spot' as const, spotMaxPrice: '0.04' } };
    const created = await provider.create(spec);
    const [run] = faults.callsOf('RunInstancesCommand');
    expect(run!.InstanceMarketOptions).toEqual({
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '0.04' },
    });
    expect(created.capacityType).toBe('spot');
    expect((await tagsOf(spec)).map((t) => t[CAPACITY_TYPE_TAG])).toEqual(['spot']);
    const described = (await provider.describe(spec.namespace, spec.clusterName)).find((i) => i.machineUid === spec.machineUid);
    expect(described?.capacityType).toBe('spot');
  });

  it('launches on-demand a machine the planner put on-demand, even from a class that says spot', async () => {
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net, { aws: { spot: {} } }), capacity: { capacityType: 'on-demand' as const } };
    const created = await provider.create(spec);
    expect(faults.callsOf('RunInstancesCommand').map(isSpot)).toEqual([false]);
    expect(created.capacityType).toBe('on-demand');
  });

  it('a machine without a planner market follows its class: spot with the class price, and the market tagged', async () => {
    const { provider, faults } = newProvider();
    const spec = ec2Spec(net, { aws: { spot: { maxPrice: '0.07' } } });
    expect((await provider.create(spec)).capacityType).toBe('spot');
    expect(faults.callsOf('RunInstancesCommand')[0]!.InstanceMarketOptions.SpotOptions.MaxPrice).toBe('0.07');
  });
});

describe('the on-demand fallback', () => {
  it.each(['InsufficientInstanceCapacity', 'SpotMaxPriceTooLow'])(
    'with the grant, %s for every spot type and zone: on-demand, in the same order, with tokens of its own',
    async (code) => {
      const { provider, faults } = newProvider();
      const spec = { ...ec2Spec(net), capacity: { capacityType: 'spot' as const, onDemandFallback: true } };
      faults.failWith('RunInstancesCommand', code, { times: 99, when: isSpot });
      const created = await provider.create(spec);
      expect(spotRequests(faults)).toHaveLength(net.subnets.length * INSTANCE_TYPES.length);
      const [fallback, ...more] = onDemandRequests(faults);
      expect(more).toEqual([]);
      expect(fallback!.InstanceType).toBe(spotRequests(faults)[0]!.InstanceType);
      expect(fallback!.ClientToken).toBe(attemptToken(spec.clientToken, fallback!.InstanceType, fallback!.SubnetId, 'on-demand-fallback'));
      expect(fallback!.ClientToken).not.toBe(spotRequests(faults)[0]!.ClientToken);
      expect(created.capacityType).toBe('on-demand');
      expect((await tagsOf(spec)).map((t) => t[CAPACITY_TYPE_TAG])).toEqual(['on-demand']);
    },
  );

  it('without the grant, no spot capacity is InsufficientCapacityError and nothing is launched', async () => {
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net), capacity: { capacityType: 'spot' as const } };
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: isSpot });
    await expect(provider.create(spec)).rejects.toBeInstanceOf(InsufficientCapacityError);
    expect(onDemandRequests(faults)).toEqual([]);
    expect(await tagsOf(spec)).toEqual([]);
  });

  it("the account's spot limit (MaxSpotInstanceCountExceeded) ends the spot round at once: on-demand with the grant", async () => {
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net), capacity: { capacityType: 'spot' as const, onDemandFallback: true } };
    faults.failWith('RunInstancesCommand', 'MaxSpotInstanceCountExceeded', { times: 99, when: isSpot });
    expect((await provider.create(spec)).capacityType).toBe('on-demand');
    expect(faults.callsOf('RunInstancesCommand').map(isSpot)).toEqual([true, false]);
  });

  it('a crash right after the fallback launched: the retry sends that on-demand request again first, never a spot one', async () => {
    // Prepare: spot has no capacity during the first launch; its fallback launches and the caller dies before it
    // records the instance, which DescribeInstances does not list yet.
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net), capacity: { capacityType: 'spot' as const, onDemandFallback: true } };
    const spotAttempts = net.subnets.length * INSTANCE_TYPES.length;
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: spotAttempts, when: isSpot });
    faults.crashAfter('RunInstancesCommand');
    const recorded: LaunchAttempt[] = [];
    const hooks = { recordAttempt: async (a: LaunchAttempt) => void recorded.push(a) };
    await expect(provider.create(spec, hooks)).rejects.toBeInstanceOf(InjectedCrash);
    const launchedIds = (await tagsOf(spec)).length;
    expect(launchedIds).toBe(1);
    const out = await setupClient.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:clusterless.dev/machine-uid', Values: [spec.machineUid] }] }));
    faults.hide((out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
    const before = faults.callsOf('RunInstancesCommand');
    // Act: the retried step, with the last recorded attempt (spot would have capacity now).
    const created = await provider.create({ ...spec, recordedAttempt: recorded.at(-1)! }, hooks);
    // Assess: the fallback's attempt was recorded as on-demand; the retry repeated exactly the request that launched
    // (its token makes EC2 answer with that instance), and asked for no spot instance beside it.
    expect(recorded.at(-1)).toMatchObject({ capacityType: 'on-demand' });
    const retried = faults.callsOf('RunInstancesCommand').slice(before.length);
    expect(retried).toEqual([before.at(-1)]);
    expect(retried.filter(isSpot)).toEqual([]);
    expect(created.capacityType).toBe('on-demand');
  });

  it("the account's spot limit without the grant is QuotaExceededError", async () => {
    const { provider, faults } = newProvider();
    const spec = { ...ec2Spec(net), capacity: { capacityType: 'spot' as const } };
    faults.failWith('RunInstancesCommand', 'MaxSpotInstanceCountExceeded', { times: 99, when: isSpot });
    await expect(provider.create(spec)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(await tagsOf(spec)).toEqual([]);
  });
});

describe('capacity-optimized order: offerings without capacity last', () => {
  // As provision-machine's launch does (workflows/provision-machine.ts): the unexpired marks into the spec, each
  // offering EC2 had no capacity for marked for the TTL, each attempt recorded before its request.
  function installation() {
    const clock = new FakeClock('2026-12-07T10:00:00Z');
    const marks = new MemoryUnavailableOfferings();
    const recorded: LaunchAttempt[] = [];
    const hooks: LaunchHooks = {
      recordAttempt: async (a) => void recorded.push(a),
      offeringUnavailable: (o) => marks.mark(unavailableUntil(o, clock.now())),
    };
    const spotMachine = async (): Promise<LaunchSpec> => ({
      ...ec2Spec(net),
      preferredFailureDomain: net.subnets[0]!.availabilityZone,
      capacity: { capacityType: 'spot' },
      unavailableOfferings: await marks.list(clock.now()),
    });
    return { clock, marks, recorded, hooks, spotMachine };
  }
  const [first, second] = INSTANCE_TYPES as [string, string];
  const offeringOf = (r: Record<string, any>) => `${r.InstanceType}@${net.subnets.find((s) => s.id === r.SubnetId)!.availabilityZone}`;
  const zoneA = () => net.subnets[0]!;
  const isExhausted = (r: Record<string, any>) => isSpot(r) && r.InstanceType === first && r.SubnetId === zoneA().id;

  it('the next machine skips the offering an earlier launch found without spot capacity, keeping the class order among the rest', async () => {
    // Prepare: no spot capacity for the class's first type in the preferred zone, for as long as the test runs.
    const { provider, faults } = newProvider();
    const i = installation();
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: isExhausted });
    const launched = await provider.create(await i.spotMachine(), i.hooks);
    const before = faults.callsOf('RunInstancesCommand').length;
    // Act
    const next = await provider.create(await i.spotMachine(), i.hooks);
    // Assess: the first launch was refused once and marked the offering; the second asked for the next one at once.
    expect(faults.callsOf('RunInstancesCommand').slice(0, before).map(offeringOf)).toEqual([
      `${first}@${zoneA().availabilityZone}`,
      `${second}@${zoneA().availabilityZone}`,
    ]);
    expect(await i.marks.list(i.clock.now())).toEqual([
      { instanceType: first, availabilityZone: zoneA().availabilityZone, capacityType: 'spot', expiresAt: '2026-12-07T10:03:00.000Z' },
    ]);
    expect(faults.callsOf('RunInstancesCommand').slice(before).map(offeringOf)).toEqual([`${second}@${zoneA().availabilityZone}`]);
    expect([launched.instanceType, next.instanceType]).toEqual([second, second]);
  });

  it("marks no offering for a price cap too low (SpotMaxPriceTooLow is the machine's, not the pool's)", async () => {
    const { provider, faults } = newProvider();
    const i = installation();
    faults.failWith('RunInstancesCommand', 'SpotMaxPriceTooLow', { times: 1, when: isExhausted });
    await provider.create(await i.spotMachine(), i.hooks);
    expect(await i.marks.list(i.clock.now())).toEqual([]);
  });

  it('a crash between recording an attempt and its request: the retry sends that attempt first, whatever the marks say by then, and one instance runs', async () => {
    // Prepare: the first type in zone A is marked, so the launch records the second type; the process dies then.
    const { provider, faults } = newProvider();
    const i = installation();
    await i.marks.mark(unavailableUntil({ instanceType: first, availabilityZone: zoneA().availabilityZone, capacityType: 'spot' }, i.clock.now()));
    const spec = await i.spotMachine();
    const crash = new InjectedCrash('died after recording the attempt');
    await expect(provider.create(spec, { ...i.hooks, recordAttempt: async (a) => (i.recorded.push(a), Promise.reject(crash)) })).rejects.toBe(crash);
    expect(faults.callsOf('RunInstancesCommand')).toEqual([]);
    // Act: the mark has expired when the step is retried (the class order would start at the first type again).
    i.clock.advance(UNAVAILABLE_OFFERING_TTL_SECONDS);
    const retried = await provider.create({ ...spec, recordedAttempt: i.recorded.at(-1)!, unavailableOfferings: await i.marks.list(i.clock.now()) }, i.hooks);
    // Assess
    expect(i.recorded).toEqual([{ instanceType: second, availabilityZone: zoneA().availabilityZone, capacityType: 'spot' }]);
    expect(faults.callsOf('RunInstancesCommand').map(offeringOf)).toEqual([`${second}@${zoneA().availabilityZone}`]);
    expect(retried.instanceType).toBe(second);
    expect(await tagsOf(spec)).toHaveLength(1);
  });

  it('a crash after the request launched: the retry repeats exactly that request (its token), not the first offering the expired mark gives back', async () => {
    // Prepare: a launch that skipped the marked offering; its caller dies after RunInstances returned, before it
    // recorded the instance, which DescribeInstances does not list yet.
    const { provider, faults } = newProvider();
    const i = installation();
    await i.marks.mark(unavailableUntil({ instanceType: first, availabilityZone: zoneA().availabilityZone, capacityType: 'spot' }, i.clock.now()));
    const spec = await i.spotMachine();
    faults.crashAfter('RunInstancesCommand');
    await expect(provider.create(spec, i.hooks)).rejects.toBeInstanceOf(InjectedCrash);
    const out = await setupClient.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:clusterless.dev/machine-uid', Values: [spec.machineUid] }] }));
    faults.hide((out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((x) => x.InstanceId!));
    const [launch] = faults.callsOf('RunInstancesCommand');
    i.clock.advance(UNAVAILABLE_OFFERING_TTL_SECONDS);
    // Act
    await provider.create({ ...spec, recordedAttempt: i.recorded.at(-1)!, unavailableOfferings: await i.marks.list(i.clock.now()) }, i.hooks);
    // Assess: EC2 answers a repeated token with the instance it launched; no other offering was asked.
    expect(faults.callsOf('RunInstancesCommand').slice(1)).toEqual([launch]);
    expect(launch!.ClientToken).toBe(attemptToken(spec.clientToken, second, zoneA().id));
  });

  it("the mark's expiry restores the class order: the first offering is asked first again", async () => {
    // Prepare
    const { provider, faults } = newProvider();
    const i = installation();
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 1, when: isExhausted });
    await provider.create(await i.spotMachine(), i.hooks);
    const marked = await provider.create(await i.spotMachine(), i.hooks);
    const before = faults.callsOf('RunInstancesCommand').length;
    // Act: capacity is back, and the mark expires.
    i.clock.advance(UNAVAILABLE_OFFERING_TTL_SECONDS);
    const restored = await provider.create(await i.spotMachine(), i.hooks);
    // Assess
    expect(marked.instanceType).toBe(second);
    expect(faults.callsOf('RunInstancesCommand').slice(before).map(offeringOf)).toEqual([`${first}@${zoneA().availabilityZone}`]);
    expect(restored).toMatchObject({ instanceType: first, availabilityZone: zoneA().availabilityZone });
  });

  it("an on-demand fallback's refusal marks the on-demand offering, not the spot one", async () => {
    const { provider, faults } = newProvider();
    const i = installation();
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: isSpot });
    faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', {
      times: 1,
      when: (r) => !isSpot(r) && r.InstanceType === first && r.SubnetId === zoneA().id,
    });
    const spec = { ...(await i.spotMachine()), capacity: { capacityType: 'spot' as const, onDemandFallback: true } };
    const created = await provider.create(spec, i.hooks);
    const marks = await i.marks.list(i.clock.now());
    expect(created).toMatchObject({ capacityType: 'on-demand', instanceType: second });
    expect(marks.filter((m) => m.capacityType === 'on-demand').map((m) => `${m.instanceType}@${m.availabilityZone}`)).toEqual([
      `${first}@${zoneA().availabilityZone}`,
    ]);
    expect(marks.filter((m) => m.capacityType === 'spot')).toHaveLength(net.subnets.length * INSTANCE_TYPES.length);
  });
});
