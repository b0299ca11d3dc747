/**
 * The EC2 provider honours the market the MachineSet planner chose (LaunchSpec.capacity): a spot request with the
 * machine's price cap, the market tagged on the instance and read back, and the on-demand fallback when spot
 * capacity is gone, only when the machine was granted it. Against moto_server, capacity errors injected by the
 * client's middleware (test/support/ec2.ts).
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { CAPACITY_TYPE_TAG, Ec2MachineProvider, attemptToken } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { InsufficientCapacityError, QuotaExceededError, type LaunchAttempt, type LaunchSpec } from '../../../functions/ports.js';
import { InjectedCrash } from '../../support/ec2.js';
import { uniqueName } from '../../support/aws.js';
import { Ec2Faults, INSTANCE_TYPES, createMotoNetwork, ec2Spec, motoEc2Client, motoSdkEc2Client, type MotoNetwork } from './ec2-fixtures.js';

const INSTALLATION = uniqueName('cap');
let setupClient: EC2Client;
let net: MotoNetwork;
const open: { client: Ec2QueryClient; faults: Ec2Faults }[] = [];

beforeAll(async () => {
  setupClient = motoSdkEc2Client(inject('motoEndpoint'));
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
  const client = motoEc2Client(inject('motoEndpoint'));
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
