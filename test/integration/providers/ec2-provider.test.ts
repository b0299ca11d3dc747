/**
 * What the contract cannot see from outside the ec2 adapter: the RunInstances request (IMDSv2, encrypted root
 * volume, tags), throttling, capacity fallback, a crash after launch, eventual consistency, and the error
 * mapping, against moto_server through the adapters' EC2 client with faults injected by its middleware hooks (the
 * SDK's EC2Client only reads moto to check).
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { DescribeInstancesCommand, DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2MachineProvider, IMDS_HOP_LIMIT, attemptToken, type Ec2MachineProviderOptions } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { SimulatedNodes } from '../../../functions/adapters/sim/simulated-nodes.js';
import { zonesFor } from '../../../functions/core/machine/placement.js';
import { seededUnit } from '../../../functions/seeded-random.js';
import {
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidSpecError,
  QuotaExceededError,
  ThrottledError,
  type LaunchSpec,
} from '../../../functions/ports.js';
import { uniqueName } from '../../support/aws.js';
import { FakeClock } from '../../support/fake-clock.js';
import {
  Ec2Faults,
  INSTANCE_TYPES,
  InjectedCrash,
  createMotoInstanceProfile,
  createMotoNetwork,
  ec2Spec,
  motoEc2Client,
  motoSdkEc2Client,
  type MotoNetwork,
} from './ec2-fixtures.js';

/** This file's installation: its instances are its own on the shared moto_server. */
const INSTALLATION = uniqueName('prov');
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

/** A provider on a client of its own, with a fault injector, as the host builds it (SDK retries once). */
function newProvider(options: Partial<Ec2MachineProviderOptions> & { maxAttempts?: number } = {}) {
  const { maxAttempts, ...rest } = options;
  const client = motoEc2Client(motoEndpoint(), maxAttempts);
  const faults = new Ec2Faults(client);
  open.push({ client, faults });
  return { provider: new Ec2MachineProvider({ client, installationId: INSTALLATION, ...rest }), faults, client };
}

async function instancesOf(spec: LaunchSpec) {
  const out = await setupClient.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:clusterless.dev/machine-uid', Values: [spec.machineUid] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const live = (instances: Awaited<ReturnType<typeof instancesOf>>) => instances.filter((i) => !['shutting-down', 'terminated'].includes(i.State?.Name ?? ''));

/** The first subnet a machine tries, and the rest, from the shared placement rules. */
function subnetOrder(spec: LaunchSpec) {
  const placement = zonesFor(spec, '', seededUnit);
  if (!placement.ok) throw new Error(placement.message);
  return placement.zones.map((z) => net.subnets.find((s) => s.availabilityZone === z)!);
}

describe('Ec2MachineProvider on moto_server', () => {
  describe('the launch request', () => {
    it('asks for IMDSv2, an encrypted root volume on the AMI root device, one instance, the tags (the installation among them) on instance and volume, and the user data', async () => {
      // Prepare
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net, {
        namespace: 'team-a',
        userData: '#cloud-boothook\necho hi\n',
        aws: { additionalTags: { 'cost-center': '42' }, rootVolume: { sizeGiB: 60 } },
      });
      // Act
      const created = await provider.create(spec);
      // Assess
      const [run] = faults.callsOf('RunInstancesCommand');
      expect(run).toMatchObject({
        MinCount: 1,
        MaxCount: 1,
        ImageId: net.ami,
        InstanceType: INSTANCE_TYPES[0],
        SecurityGroupIds: [net.securityGroupId],
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: IMDS_HOP_LIMIT },
        BlockDeviceMappings: [{ DeviceName: net.rootDeviceName, Ebs: { Encrypted: true, VolumeSize: 60, VolumeType: 'gp3', DeleteOnTermination: true } }],
      });
      expect(Buffer.from(run!.UserData, 'base64').toString('utf8')).toBe('#cloud-boothook\necho hi\n');
      const expectedTags = {
        'clusterless.dev/installation': INSTALLATION,
        'clusterless.dev/cluster': `team-a/${spec.clusterName}`,
        'clusterless.dev/machine-uid': spec.machineUid,
        'clusterless.dev/machine-name': spec.machineName,
        'clusterless.dev/role': 'worker',
        [`kubernetes.io/cluster/${spec.clusterName}`]: 'owned',
        Name: spec.machineName,
        'cost-center': '42',
        'clusterless.dev/capacity-type': 'on-demand',
      };
      expect(run!.TagSpecifications.map((t: { ResourceType: string }) => t.ResourceType)).toEqual(['instance', 'volume']);
      for (const t of run!.TagSpecifications)
        expect(Object.fromEntries(t.Tags.map((x: { Key: string; Value: string }) => [x.Key, x.Value]))).toEqual(expectedTags);
      // And what moto made of it.
      const [instance] = await instancesOf(spec);
      expect(instance?.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: IMDS_HOP_LIMIT });
      expect(Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual(expectedTags);
      const volumes = await setupClient.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [created.instanceId] }] }));
      expect(volumes.Volumes?.map((v) => [v.Encrypted, v.Size])).toEqual([[true, 60]]);
      expect(volumes.Volumes?.[0]?.Tags).toContainEqual({ Key: 'clusterless.dev/installation', Value: INSTALLATION });
      expect(created).toMatchObject({ providerID: `aws:///${instance?.Placement?.AvailabilityZone}/${created.instanceId}`, instanceType: INSTANCE_TYPES[0] });
      expect(created.addresses).toEqual(
        expect.arrayContaining([
          { type: 'InternalIP', address: instance?.PrivateIpAddress },
          { type: 'InternalDNS', address: instance?.PrivateDnsName },
        ]),
      );
    });

    it('asks for a one-time spot instance with the max price when the class is spot', async () => {
      const { provider, faults } = newProvider();
      await provider.create(ec2Spec(net, { aws: { spot: { maxPrice: '0.05' } } }));
      expect(faults.callsOf('RunInstancesCommand')[0]?.InstanceMarketOptions).toEqual({
        MarketType: 'spot',
        SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '0.05' },
      });
    });

    it("launches with the node role's instance profile when the class names none, and with the class's when it does", async () => {
      // Prepare: the stack's two node profiles (NODE_INSTANCE_PROFILES), and one a class names.
      const endpoint = motoEndpoint();
      const profiles = {
        'control-plane': await createMotoInstanceProfile(endpoint, uniqueName('cp')),
        worker: await createMotoInstanceProfile(endpoint, uniqueName('w')),
      };
      const named = await createMotoInstanceProfile(endpoint, uniqueName('named'));
      const { provider, faults } = newProvider({ nodeInstanceProfiles: profiles });
      // Act
      const worker = await provider.create(ec2Spec(net));
      const controlPlane = await provider.create({ ...ec2Spec(net), role: 'control-plane' });
      await provider.create(ec2Spec(net, { aws: { iamInstanceProfile: named } }));
      // Assess
      expect(faults.callsOf('RunInstancesCommand').map((r) => r.IamInstanceProfile)).toEqual([
        { Arn: profiles.worker },
        { Arn: profiles['control-plane'] },
        { Arn: named },
      ]);
      const described = await setupClient.send(new DescribeInstancesCommand({ InstanceIds: [worker.instanceId, controlPlane.instanceId] }));
      const profileOf = (id: string) => described.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id)?.IamInstanceProfile?.Arn;
      expect([profileOf(worker.instanceId), profileOf(controlPlane.instanceId)]).toEqual([profiles.worker, profiles['control-plane']]);
    });

    it('launches without an instance profile when neither the class nor the provider names one', async () => {
      const { provider, faults } = newProvider();
      await provider.create(ec2Spec(net));
      expect(faults.callsOf('RunInstancesCommand')[0]).not.toHaveProperty('IamInstanceProfile');
    });

    it('tells the instance ARN prefix once EC2 named the owning account', async () => {
      const { provider } = newProvider();
      expect(await provider.instanceArnPrefix()).toBeUndefined();
      await provider.create(ec2Spec(net));
      expect(await provider.instanceArnPrefix()).toBe('arn:aws:ec2:us-east-1:123456789012:instance/');
    });

    it('looks the AMI root device up once per AMI', async () => {
      const { provider, faults } = newProvider({ clock: new FakeClock() });
      await provider.create(ec2Spec(net));
      await provider.create(ec2Spec(net));
      expect(faults.callsOf('DescribeImagesCommand')).toHaveLength(1);
    });
  });

  describe('throttling', () => {
    it('maps a burst of RequestLimitExceeded longer than the one SDK retry to ThrottledError, launching nothing; the next create launches once', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.failWith('RunInstancesCommand', 'RequestLimitExceeded', { times: 2 });
      const error = await provider.create(spec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ThrottledError);
      expect(((error as Error).cause as Error).name).toBe('RequestLimitExceeded');
      expect(faults.attempts.filter((a) => a.command === 'RunInstancesCommand')).toHaveLength(2);
      expect(await instancesOf(spec)).toEqual([]);
      const created = await provider.create(spec);
      expect((await instancesOf(spec)).map((i) => i.InstanceId)).toEqual([created.instanceId]);
    });

    it('lets the SDK absorb a single throttled attempt', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.failWith('RunInstancesCommand', 'RequestLimitExceeded', { times: 1 });
      await expect(provider.create(spec)).resolves.toMatchObject({ machineUid: spec.machineUid });
      expect(faults.callsOf('RunInstancesCommand')).toHaveLength(1);
    });

    it('maps throttling of describe and delete too', async () => {
      const { provider, faults } = newProvider({ maxAttempts: 1 });
      const spec = ec2Spec(net);
      faults.failWith('DescribeInstancesCommand', 'RequestLimitExceeded', { times: 2 });
      await expect(provider.describe(spec.namespace, spec.clusterName)).rejects.toBeInstanceOf(ThrottledError);
      await expect(provider.delete({ ...spec, machineUid: spec.machineUid })).rejects.toBeInstanceOf(ThrottledError);
    });
  });

  describe('capacity fallback', () => {
    it('falls back to the next instance type in the same zone, with a different ClientToken per attempt', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const first = subnetOrder(spec)[0]!;
      faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: (i) => i.InstanceType === INSTANCE_TYPES[0] });
      const created = await provider.create(spec);
      expect(created).toMatchObject({ instanceType: INSTANCE_TYPES[1], availabilityZone: first.availabilityZone });
      const runs = faults.callsOf('RunInstancesCommand');
      expect(runs.map((r) => [r.InstanceType, r.SubnetId, r.ClientToken])).toEqual([
        [INSTANCE_TYPES[0], first.id, attemptToken(spec.clientToken, INSTANCE_TYPES[0]!, first.id)],
        [INSTANCE_TYPES[1], first.id, attemptToken(spec.clientToken, INSTANCE_TYPES[1]!, first.id)],
      ]);
      expect(runs[0]!.ClientToken).not.toBe(runs[1]!.ClientToken);
    });

    it.each(['InsufficientInstanceCapacity', 'Unsupported'])('falls back to the next subnet when the first zone answers %s for every type', async (code) => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const [first, second] = subnetOrder(spec);
      faults.failWith('RunInstancesCommand', code, { times: 99, when: (i) => i.SubnetId === first!.id });
      const created = await provider.create(spec);
      expect(created).toMatchObject({ availabilityZone: second!.availabilityZone, instanceType: INSTANCE_TYPES[0] });
      expect(faults.callsOf('RunInstancesCommand').map((r) => [r.SubnetId, r.InstanceType])).toEqual([
        [first!.id, INSTANCE_TYPES[0]],
        [first!.id, INSTANCE_TYPES[1]],
        [second!.id, INSTANCE_TYPES[0]],
      ]);
      expect((await instancesOf(spec)).map((i) => i.SubnetId)).toEqual([second!.id]);
    });

    it('reports InsufficientCapacityError, launching nothing, when no type in any zone has capacity', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99 });
      const error = await provider.create(spec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InsufficientCapacityError);
      expect(((error as Error).cause as Error).name).toBe('InsufficientInstanceCapacity');
      expect(faults.callsOf('RunInstancesCommand')).toHaveLength(net.subnets.length * INSTANCE_TYPES.length);
      expect(await instancesOf(spec)).toEqual([]);
    });

    it('keeps a pinned machine in its zone: no capacity there is InsufficientCapacityError, not another zone', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net, { failureDomain: net.subnets[1]!.availabilityZone });
      faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', { times: 99, when: (i) => i.SubnetId === net.subnets[1]!.id });
      await expect(provider.create(spec)).rejects.toBeInstanceOf(InsufficientCapacityError);
      expect(new Set(faults.callsOf('RunInstancesCommand').map((r) => r.SubnetId))).toEqual(new Set([net.subnets[1]!.id]));
    });

    it("keeps to the class's failure domains", async () => {
      const { provider } = newProvider();
      for (let i = 0; i < 4; i++)
        expect((await provider.create(ec2Spec(net, { aws: { failureDomains: ['us-east-1c'] } }))).availabilityZone).toBe('us-east-1c');
    });
  });

  describe('crashes and eventual consistency', () => {
    it('adopts the instance of a launch whose caller crashed after RunInstances returned: exactly one instance', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.crashAfter('RunInstancesCommand');
      await expect(provider.create(spec)).rejects.toBeInstanceOf(InjectedCrash);
      const launched = await instancesOf(spec);
      expect(launched).toHaveLength(1);
      // The workflow retries the step, possibly as a new launch attempt with a new token.
      const adopted = await provider.create({ ...spec, clientToken: randomUUID() });
      expect(adopted.instanceId).toBe(launched[0]?.InstanceId);
      expect(faults.callsOf('RunInstancesCommand')).toHaveLength(1);
      expect(await instancesOf(spec)).toHaveLength(1);
    });

    it("sends the recorded attempt's exact token and parameters first after a crash, when DescribeInstances does not list the instance yet: one instance on EC2", async () => {
      // Prepare: no capacity for the first attempt; the second succeeds and the caller dies before recording it.
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const first = subnetOrder(spec)[0]!;
      faults.failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', {
        times: 99,
        when: (i) => i.InstanceType === INSTANCE_TYPES[0] && i.SubnetId === first.id,
      });
      faults.crashAfter('RunInstancesCommand');
      const recorded: { instanceType: string; availabilityZone: string }[] = [];
      const hooks = { recordAttempt: async (a: { instanceType: string; availabilityZone: string }) => void recorded.push(a) };
      await expect(provider.create(spec, hooks)).rejects.toBeInstanceOf(InjectedCrash);
      const [launched] = await instancesOf(spec);
      const beforeRetry = faults.callsOf('RunInstancesCommand');
      // EC2's eventual consistency: the new instance is not listed yet when the retry looks for it by tag.
      faults.hide([launched!.InstanceId!]);
      // Act: the retried step, with the last recorded attempt.
      await provider.create({ ...spec, recordedAttempt: recorded.at(-1)! }, hooks);
      // Assess: both attempts were recorded before their requests; the retry sent one request, the same as the
      // one that launched (token and parameters), which EC2 answers with the instance it made then.
      expect(recorded).toEqual([
        { instanceType: INSTANCE_TYPES[0], availabilityZone: first.availabilityZone, capacityType: 'on-demand' },
        { instanceType: INSTANCE_TYPES[1], availabilityZone: first.availabilityZone, capacityType: 'on-demand' },
      ]);
      const retried = faults.callsOf('RunInstancesCommand').slice(beforeRetry.length);
      expect(retried).toEqual([beforeRetry.at(-1)]);
      expect(retried[0]!.ClientToken).toBe(attemptToken(spec.clientToken, INSTANCE_TYPES[1]!, first.id));
      const launches = new Set(
        faults
          .callsOf('RunInstancesCommand')
          .filter((r) => !(r.InstanceType === INSTANCE_TYPES[0] && r.SubnetId === first.id))
          .map((r) => JSON.stringify(r)),
      );
      expect(launches.size).toBe(1);
    });

    it("terminates an instance named by id that carries the machine's tags although the lookup by tag misses it", async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const created = await provider.create(spec);
      faults.hide([created.instanceId], (input) => Array.isArray(input.Filters));
      await expect(provider.delete({ ...spec, instanceId: created.instanceId })).resolves.toEqual({ refused: [] });
      expect(live(await instancesOf(spec))).toEqual([]);
      expect(faults.callsOf('TerminateInstancesCommand')).toEqual([{ InstanceIds: [created.instanceId] }]);
    });

    it('never reads a new instance back by id, so InvalidInstanceID.NotFound right after launch cannot fail the create', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.failWith('DescribeInstancesCommand', 'InvalidInstanceID.NotFound', { times: 99, when: (i) => Array.isArray(i.InstanceIds) });
      const created = await provider.create(spec);
      expect(created.state).toBe('pending');
      expect((await provider.describe(spec.namespace, spec.clusterName)).map((f) => f.instanceId)).toEqual([created.instanceId]);
    });

    it('terminates a just-launched instance that TerminateInstances does not know yet, once it does', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const created = await provider.create(spec);
      faults.failWith('TerminateInstancesCommand', 'InvalidInstanceID.NotFound', { times: 1 });
      await provider.delete({ ...spec, instanceId: created.instanceId });
      expect(live(await instancesOf(spec))).toEqual([]);
    });

    it('reports a tagged instance that TerminateInstances keeps not knowing as InstanceNotFoundError, never as gone', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      const created = await provider.create(spec);
      faults.failWith('TerminateInstancesCommand', 'InvalidInstanceID.NotFound', { times: 2 });
      await expect(provider.delete({ ...spec, instanceId: created.instanceId })).rejects.toBeInstanceOf(InstanceNotFoundError);
      expect(live(await instancesOf(spec))).toHaveLength(1);
      await provider.delete({ ...spec, instanceId: created.instanceId });
      expect(live(await instancesOf(spec))).toEqual([]);
    });

    it('treats an instance id EC2 does not know and no tag names as gone, and still terminates the tagged one', async () => {
      const { provider } = newProvider();
      const spec = ec2Spec(net);
      await provider.create(spec);
      await expect(provider.delete({ ...spec, instanceId: 'i-0123456789abcdef0' })).resolves.toEqual({ refused: [] });
      expect(live(await instancesOf(spec))).toEqual([]);
    });
  });

  describe('error mapping', () => {
    it.each([
      { code: 'RequestLimitExceeded', type: ThrottledError },
      { code: 'Throttling', type: ThrottledError },
      { code: 'InsufficientInstanceCapacity', type: InsufficientCapacityError },
      { code: 'InsufficientHostCapacity', type: InsufficientCapacityError },
      { code: 'Unsupported', type: InsufficientCapacityError },
      { code: 'InstanceLimitExceeded', type: QuotaExceededError },
      { code: 'VcpuLimitExceeded', type: QuotaExceededError },
      { code: 'MaxSpotInstanceCountExceeded', type: QuotaExceededError },
      { code: 'InvalidAMIID.NotFound', type: InvalidSpecError },
      { code: 'InvalidAMIID.Malformed', type: InvalidSpecError },
      { code: 'InvalidSubnetID.NotFound', type: InvalidSpecError },
      { code: 'InvalidParameterValue', type: InvalidSpecError },
      { code: 'InvalidGroup.NotFound', type: InvalidSpecError },
      { code: 'UnauthorizedOperation', type: InvalidSpecError },
    ])('RunInstances answering $code is $type.name, with the SDK error as cause', async ({ code, type }) => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      faults.failWith('RunInstancesCommand', code, { times: 99 });
      const error = await provider.create(spec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect(((error as Error).cause as Error).name).toBe(code);
      expect(await instancesOf(spec)).toEqual([]);
    });

    it('TerminateInstances answering InvalidInstanceID.NotFound for a tagged instance is InstanceNotFoundError', async () => {
      const { provider, faults } = newProvider();
      const spec = ec2Spec(net);
      await provider.create(spec);
      faults.failWith('TerminateInstancesCommand', 'InvalidInstanceID.NotFound', { times: 99 });
      const error = await provider.delete(spec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InstanceNotFoundError);
      expect(((error as Error).cause as Error).name).toBe('InvalidInstanceID.NotFound');
    });

    it.each([
      { name: 'an AMI moto does not know', spec: () => ec2Spec(net, { aws: { ami: 'ami-0123456789abcdef0' } }) },
      {
        name: 'a subnet that does not exist',
        spec: () => ({
          ...ec2Spec(net),
          clusterProvider: {
            aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }], securityGroupIds: [] },
          },
        }),
      },
      {
        name: 'a security group that does not exist',
        spec: () => {
          const s = ec2Spec(net);
          return { ...s, clusterProvider: { aws: { ...s.clusterProvider.aws!, securityGroupIds: ['sg-0123456789abcdef0'] } } };
        },
      },
      { name: 'an instance profile that does not exist', spec: () => ec2Spec(net, { aws: { iamInstanceProfile: 'no-such-profile' } }) },
      { name: 'an image SSM parameter with no resolver', spec: () => ec2Spec(net, { aws: { ami: undefined, imageSsmParameter: '/aws/service/ami' } }) },
      { name: 'user data over 16 KB', spec: () => ec2Spec(net, { userData: 'x'.repeat(16 * 1024 + 1) }) },
      {
        name: 'a cluster in another region',
        spec: () => {
          const s = ec2Spec(net);
          return { ...s, clusterProvider: { aws: { ...s.clusterProvider.aws!, region: 'eu-west-1' } } };
        },
      },
      {
        name: 'a class without aws settings',
        spec: () => ({ ...ec2Spec(net), machineClass: { sim: { bootSeconds: 1, nodeReadySeconds: 1, failureRate: 0, failureDomains: [] } } }),
      },
    ])('refuses $name with InvalidSpecError, launching nothing', async ({ spec }) => {
      const { provider } = newProvider();
      const s = spec() as LaunchSpec;
      await expect(provider.create(s)).rejects.toBeInstanceOf(InvalidSpecError);
      expect(await instancesOf(s)).toEqual([]);
    });

    it('resolves an image SSM parameter through the given resolver', async () => {
      const resolved: string[] = [];
      const { provider, faults } = newProvider({ resolveImageParameter: async (name) => (resolved.push(name), net.ami) });
      await provider.create(ec2Spec(net, { aws: { ami: undefined, imageSsmParameter: '/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2' } }));
      expect(resolved).toEqual(['/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2']);
      expect(faults.callsOf('RunInstancesCommand')[0]?.ImageId).toBe(net.ami);
    });
  });

  describe('describe', () => {
    it("reads every page, with one DescribeInstances call per page filtered by the cluster's and the installation's tags", async () => {
      const { provider, faults } = newProvider({ pageSize: 5 });
      const first = ec2Spec(net);
      const ids = [(await provider.create(first)).instanceId];
      for (let i = 1; i < 7; i++) ids.push((await provider.create(ec2Spec(net, { clusterName: first.clusterName, machineName: `m-${i}` }))).instanceId);
      const before = faults.callsOf('DescribeInstancesCommand').length;
      const described = await provider.describe(first.namespace, first.clusterName);
      expect(described.map((f) => f.instanceId).sort()).toEqual([...ids].sort());
      const pages = faults.callsOf('DescribeInstancesCommand').slice(before);
      expect(pages).toHaveLength(2);
      expect(pages[0]).toMatchObject({
        MaxResults: 5,
        Filters: [
          { Name: 'tag:clusterless.dev/cluster', Values: [`default/${first.clusterName}`] },
          { Name: 'tag:clusterless.dev/installation', Values: [INSTALLATION] },
        ],
      });
    });
  });

  describe('SimulatedNodes over ec2', () => {
    it('makes a node per running instance, named by its private DNS name, Ready after the delay; none once terminated', async () => {
      const { provider } = newProvider();
      const spec = ec2Spec(net);
      const created = await provider.create(spec);
      const clock = new FakeClock(created.launchTime!);
      const nodes = new SimulatedNodes({ provider, clock, readySeconds: 30 });
      const [node] = await nodes.listNodes(spec.namespace, spec.clusterName);
      const [instance] = await instancesOf(spec);
      expect(node).toMatchObject({ name: instance?.PrivateDnsName, providerID: created.providerID });
      expect(node?.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
      clock.advance(30);
      expect((await nodes.listNodes(spec.namespace, spec.clusterName))[0]?.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      await provider.delete(spec);
      expect(await nodes.listNodes(spec.namespace, spec.clusterName)).toEqual([]);
    });
  });
});
