/**
 * MachineProvider on EC2. Learnt from cluster-api-provider-aws pkg/cloud/services/ec2/instances.go
 * (GetRunningInstanceByTags before CreateInstance, runInstance with TagSpecifications for the instance and
 * its volumes, the root device name from DescribeImages, SDKToInstance and its addresses), written anew.
 * Everything it makes carries the installation's tag, and everything it finds or terminates must carry it.
 *
 * create: 1. DescribeInstances by the machine-uid, cluster and installation tags in a live state -> adopt (moto
 *            ignores ClientToken, and a token alone does not cover a crash between RunInstances and recording
 *            the instance id);
 *         2. RunInstances, one instance, for each subnet (zone) in order and each instance type in order
 *            (launchAttempts of core/machine/placement.ts, as the simulator), offerings recently without capacity
 *            last, moving on when EC2 has no capacity; each (type, subnet) attempt has its own ClientToken derived
 *            from the Machine's, because EC2 refuses one token with other parameters
 *            (IdempotentParameterMismatch) while a retry of the same attempt must reuse it. Each attempt is
 *            recorded by the caller (LaunchHooks) before its request, and the recorded one is tried first next
 *            time: a crash after attempt 2 succeeded cannot become a second instance from attempt 1, even when
 *            DescribeInstances does not list attempt 2's instance yet.
 *         The market is the machine's (LaunchSpec.capacity, chosen by the MachineSet planner) or else its class's:
 *         a spot machine granted the on-demand fallback runs the same attempts on-demand once every spot one got
 *         no capacity (or at once on the account's spot limit), each with a token of its own; the market is tagged
 *         on the instance, and describe reads it back, so that the planner counts what really runs.
 *         Note: ordered RunInstances attempts rather than CreateFleet `instant` with the capacity-optimized
 *         allocation strategy. CreateFleet picks the instance type itself, so the attempt could not be recorded
 *         before the request (intent before action, above), it needs a launch template per class (one more
 *         resource to own, tag and delete), and moto's instant fleet neither refuses for capacity nor allocates
 *         by it, so the choice could not be tested. Capacity-optimized order instead: in each market round, the
 *         offerings (type, zone, market) a launch of the installation found without capacity in the last minutes
 *         (LaunchSpec.unavailableOfferings, read from the store by the caller) go last, the class's instanceTypes
 *         priority kept among the rest (capacityOrdered of core/machine/offerings.ts, after Karpenter's
 *         unavailable offerings cache); the recorded attempt stays first. Each capacity refusal (other than a price
 *         cap too low, the machine's own) is told to the caller (LaunchHooks.offeringUnavailable), which marks it.
 *         EC2 GetSpotPlacementScores is not used: moto 5.2.5 does not implement it, so no order by it could be
 *         tested here.
 *         The instance is returned as RunInstances reports it (pending) and never read back by id here, so
 *         EC2's eventual consistency (InvalidInstanceID.NotFound for a moment after a launch) cannot fail it.
 * describe: one paginated DescribeInstances filtered by the cluster and installation tags (CAPA filters by its
 *         cluster-owned tag the same way: pkg/cloud/filter/ec2.go).
 * delete: TerminateInstances of the live instances tagged with the machine uid, cluster and installation, plus
 *         the given id once DescribeInstances shows it with those same tags. The given id comes from Machine
 *         status, which any writer of /status can set: one that exists and is not the machine's is refused, never
 *         terminated. An id EC2 does not know is gone; one the lookup saw but TerminateInstances does not know
 *         yet (just launched) is InstanceNotFoundError, for the workflow to retry, never "gone".
 */
import { createHash } from 'node:crypto';
import { checkInstallationId } from '../../installation.js';
import { CapacityLabels, type CapacityType } from '../../api/capacity.js';
import { capacityOrdered } from '../../core/machine/offerings.js';
import { launchAttempts, sameAttempt } from '../../core/machine/placement.js';
import type { InstanceFact, InstanceState } from '../../core/observed.js';
import {
  InsufficientCapacityError,
  InstanceNotFoundError,
  InvalidSpecError,
  ProviderError,
  systemClock,
  type Clock,
  type InstanceDeletion,
  type LaunchHooks,
  type LaunchSpec,
  type MachineProvider,
  type MachineRole,
} from '../../ports.js';
import { seededUnit } from '../../seeded-random.js';
import { paginateDescribeInstances, type Ec2QueryClient, type Filter, type Instance, type RunInstancesInput } from '../aws/ec2-query/index.js';
import { CAPACITY_CODES, INSTANCE_NOT_FOUND, errorCode, toProviderError } from '../aws/errors.js';
import { TagKeys, clusterTagValue, tagValue, toTagList } from '../aws/tags.js';
import { LIVE_STATES, machineTags, tagFilter } from './instance-tags.js';

const MALFORMED_INSTANCE_ID = 'InvalidInstanceID.Malformed';
/** The account's limit of spot instances: no spot anywhere until some go (a quota, not a pool's capacity). */
const SPOT_LIMIT = 'MaxSpotInstanceCountExceeded';
/** No spot capacity at the machine's price cap: the machine's refusal, not the offering's (not marked). */
const SPOT_PRICE_TOO_LOW = 'SpotMaxPriceTooLow';
/** The instance's market, tagged at launch so that the planner counts what really runs (api/capacity.ts). */
export const CAPACITY_TYPE_TAG = CapacityLabels.capacityType;

export interface Ec2MachineProviderOptions {
  /** A client of the region the clusters run in (see aws/clients.ts for its retry settings). */
  client: Ec2QueryClient;
  /**
   * The installation (functions/installation.ts): tagged on every instance and volume launched, and required of
   * every instance found, adopted or terminated, so that two installations in one account never touch each
   * other's instances, even for clusters of the same namespace and name.
   */
  installationId: string;
  /**
   * The instance profiles of the node roles (NODE_INSTANCE_PROFILES on AWS), by machine role: launched with when
   * a MachineClass names no iamInstanceProfile.
   * @default - none: such a machine's instance gets no instance profile
   */
  nodeInstanceProfiles?: Partial<Record<MachineRole, string>>;
  /** @default systemClock */
  clock?: Clock;
  /** DescribeInstances page size (5 to 1000). @default 1000 */
  pageSize?: number;
  /**
   * Resolves a MachineClass's imageSsmParameter to an AMI id (imageParameterResolver: an SSM GetParameter).
   * Without it such classes fail with InvalidSpecError.
   * @default - imageSsmParameter is refused
   */
  resolveImageParameter?: (parameterName: string) => Promise<string>;
  /** How long the root device name of an AMI is cached. @default 3600 */
  imageCacheSeconds?: number;
}

/** EC2 caps user data at 16 KB before base64. */
const MAX_USER_DATA_BYTES = 16 * 1024;

/**
 * The PUT response hop limit of IMDSv2 tokens. 1 keeps the instance role's credentials away from pods on the
 * pod network (their packets take a second hop); the node's own agents (kubelet, cloud provider, CNI) run on
 * the host network and need only one. Pods that need AWS use IRSA or Pod Identity. Cluster API AWS's default.
 */
export const IMDS_HOP_LIMIT = 1;

type Subnet = NonNullable<LaunchSpec['clusterProvider']['aws']>['subnets'][number];

export class Ec2MachineProvider implements MachineProvider {
  private readonly client: Ec2QueryClient;
  readonly installationId: string;
  private readonly nodeInstanceProfiles: Partial<Record<MachineRole, string>>;
  private ownerId: string | undefined;
  private readonly clock: Clock;
  private readonly pageSize: number;
  private readonly resolveImageParameter: ((name: string) => Promise<string>) | undefined;
  private readonly imageCacheMs: number;
  private readonly rootDevices = new Map<string, { name: string; at: number }>();
  private regionChecked: string | undefined;

  constructor(options: Ec2MachineProviderOptions) {
    this.client = options.client;
    this.installationId = checkInstallationId(options.installationId);
    this.nodeInstanceProfiles = { ...options.nodeInstanceProfiles };
    this.clock = options.clock ?? systemClock;
    this.pageSize = options.pageSize ?? 1000;
    this.resolveImageParameter = options.resolveImageParameter;
    this.imageCacheMs = (options.imageCacheSeconds ?? 3600) * 1000;
  }

  /**
   * `arn:{partition}:ec2:{region}:{account}:instance/` for this client's region and the account seen owning the
   * instances; undefined until a response named the account. For hosts that are not told the prefix (the embedded
   * host: INSTANCE_ARN_PREFIX is the stack's).
   */
  async instanceArnPrefix(): Promise<string | undefined> {
    if (!this.ownerId) return undefined;
    const region = await this.client.region();
    const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
    return `arn:${partition}:ec2:${region}:${this.ownerId}:instance/`;
  }

  async create(spec: LaunchSpec, hooks?: LaunchHooks): Promise<InstanceFact> {
    const aws = spec.machineClass.aws;
    const cluster = spec.clusterProvider.aws;
    if (!aws) throw new InvalidSpecError(`machine ${spec.machineName}: its MachineClass has no aws settings`);
    if (!cluster) throw new InvalidSpecError(`machine ${spec.machineName}: cluster ${spec.clusterName} has no aws provider settings`);
    await this.checkRegion(cluster.region);
    const userData = encodeUserData(spec.userData);

    const [adopted] = await this.liveInstancesOf(spec.machineUid, spec.namespace, spec.clusterName);
    if (adopted) return toFact(adopted, spec.machineUid);

    const imageId = await this.imageId(aws);
    const rootDeviceName = await this.rootDeviceName(imageId);
    const baseTags = machineTags(spec, this.installationId);
    const profile = aws.iamInstanceProfile ?? this.nodeInstanceProfiles[spec.role];
    const market = marketOf(spec);
    const refused: string[] = [];
    let lastRefusal: unknown;
    const placement = launchAttempts(spec, aws.instanceTypes, '', seededUnit);
    if (!placement.ok) throw new InvalidSpecError(placement.message);
    // Spot first when the machine is a spot one; its on-demand fallback, when granted, after every spot attempt.
    const allRounds: { capacityType: CapacityType; fallback: boolean }[] = [
      { capacityType: market.capacityType, fallback: false },
      ...(market.onDemandFallback ? [{ capacityType: 'on-demand' as const, fallback: true }] : []),
    ];
    // A retry resumes at the round of the recorded attempt: a fallback was sent only once every spot attempt got no
    // capacity, and a spot request now (capacity may be back) could launch a second instance beside the fallback's,
    // which DescribeInstances may not list yet.
    // An attempt recorded without its market was recorded before markets were: it is of the first round.
    const recordedAttempt = spec.recordedAttempt && {
      ...spec.recordedAttempt,
      capacityType: spec.recordedAttempt.capacityType ?? allRounds[0]!.capacityType,
    };
    const recordedRound = allRounds.findIndex((r) => r.capacityType === recordedAttempt?.capacityType);
    const rounds = recordedRound > 0 ? allRounds.slice(recordedRound) : allRounds;
    for (const round of rounds) {
      const spot = round.capacityType === 'spot';
      const tags = toTagList({ ...baseTags, [CAPACITY_TYPE_TAG]: round.capacityType });
      // Offerings a launch of the installation found without capacity lately go last; the recorded attempt first.
      const attempts = capacityOrdered(placement.attempts, round.capacityType, spec.unavailableOfferings ?? [], recordedAttempt);
      for (const attempt of attempts) {
        const { instanceType } = attempt;
        const subnet = subnetIn(cluster.subnets, attempt.availabilityZone);
        // Intent before action: the caller records the attempt, so that a retry after a crash sends it again first.
        const request = { ...attempt, capacityType: round.capacityType };
        if (!sameAttempt(request, recordedAttempt)) await hooks?.recordAttempt(request);
        const input: RunInstancesInput = {
          MinCount: 1,
          MaxCount: 1,
          // A fallback's attempt is another request than the spot one of the same type and subnet: its own token.
          ClientToken: attemptToken(spec.clientToken, instanceType, subnet.id, round.fallback ? 'on-demand-fallback' : undefined),
          ImageId: imageId,
          InstanceType: instanceType,
          SubnetId: subnet.id,
          ...(cluster.securityGroupIds.length ? { SecurityGroupIds: cluster.securityGroupIds } : {}),
          ...(cluster.sshKeyName ? { KeyName: cluster.sshKeyName } : {}),
          ...(profile ? { IamInstanceProfile: profile.startsWith('arn:') ? { Arn: profile } : { Name: profile } } : {}),
          BlockDeviceMappings: [
            {
              DeviceName: rootDeviceName,
              Ebs: { VolumeSize: aws.rootVolume.sizeGiB, VolumeType: aws.rootVolume.type, Encrypted: true, DeleteOnTermination: true },
            },
          ],
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: IMDS_HOP_LIMIT },
          ...(spot
            ? {
                InstanceMarketOptions: {
                  MarketType: 'spot',
                  SpotOptions: {
                    SpotInstanceType: 'one-time',
                    InstanceInterruptionBehavior: 'terminate',
                    ...(market.spotMaxPrice ? { MaxPrice: market.spotMaxPrice } : {}),
                  },
                },
              }
            : {}),
          ...(userData !== undefined ? { UserData: userData } : {}),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        };
        try {
          const out = await this.client.runInstances(input);
          if (out.OwnerId) this.ownerId = out.OwnerId;
          const instance = out.Instances?.[0];
          if (!instance?.InstanceId) throw new ProviderError(`RunInstances returned no instance for machine ${spec.machineName}`);
          return toFact(instance, spec.machineUid);
        } catch (e) {
          const code = errorCode(e);
          // The account's spot limit holds in every zone and for every type: the spot round is over.
          if (spot && code === SPOT_LIMIT && round !== rounds[rounds.length - 1]) {
            refused.push(`spot (${code})`);
            lastRefusal = e;
            break;
          }
          if (code === undefined || !CAPACITY_CODES.has(code)) throw toProviderError(e);
          // A price cap too low is this machine's, not the pool's: another machine may bid more.
          if (code !== SPOT_PRICE_TOO_LOW)
            await hooks?.offeringUnavailable?.({ instanceType, availabilityZone: subnet.availabilityZone, capacityType: round.capacityType }, code);
          refused.push(`${spot ? 'spot ' : round.fallback ? 'on-demand ' : ''}${instanceType} in ${subnet.availabilityZone} (${code})`);
          lastRefusal = e;
        }
      }
    }
    throw new InsufficientCapacityError(`machine ${spec.machineName}: no capacity for ${refused.join(', ')}`, { cause: lastRefusal });
  }

  async describe(namespace: string, clusterName: string): Promise<InstanceFact[]> {
    const facts: InstanceFact[] = [];
    const filters = [tagFilter(TagKeys.cluster, clusterTagValue(namespace, clusterName)), tagFilter(TagKeys.installation, this.installationId)];
    try {
      for await (const page of paginateDescribeInstances(this.client, { Filters: filters }, this.pageSize))
        for (const r of page.Reservations ?? []) {
          if (r.OwnerId) this.ownerId = r.OwnerId;
          for (const i of r.Instances ?? []) {
            // Every instance we launch has these tags (TagSpecifications are atomic with the launch); one
            // without a machine uid is not ours to manage.
            const uid = tagValue(i.Tags, TagKeys.machineUid);
            if (uid) facts.push(toFact(i, uid));
          }
        }
    } catch (e) {
      throw toProviderError(e);
    }
    return facts.sort((a, b) => (a.launchTime ?? '').localeCompare(b.launchTime ?? '') || a.instanceId.localeCompare(b.instanceId));
  }

  async delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<InstanceDeletion> {
    const seen = new Set((await this.liveInstancesOf(target.machineUid, target.namespace, target.clusterName)).map((i) => i.InstanceId!));
    const refused: string[] = [];
    if (target.instanceId && !seen.has(target.instanceId)) {
      // Named but not found by the machine's tags: terminated only if EC2 shows it with them (a lookup by tag can
      // miss an instance for a moment after its launch).
      const named = await this.instanceById(target.instanceId);
      if (named && !this.isMachines(named, target)) refused.push(target.instanceId);
      else if (named && LIVE_STATES.includes(named.State?.Name ?? '')) seen.add(target.instanceId);
    }
    if (seen.size === 0) return { refused };
    try {
      await this.terminate([...seen]);
      return { refused };
    } catch (e) {
      if (errorCode(e) !== INSTANCE_NOT_FOUND) throw toProviderError(e);
    }
    // One of the ids is unknown to TerminateInstances: one at a time, to tell which.
    for (const id of seen) {
      try {
        await this.terminate([id]);
      } catch (e) {
        if (errorCode(e) !== INSTANCE_NOT_FOUND) throw toProviderError(e);
        throw new InstanceNotFoundError(
          `instance ${id} of machine uid ${target.machineUid} is tagged but not yet known to TerminateInstances (eventual consistency); retry`,
          { cause: e },
        );
      }
    }
    return { refused };
  }

  // --- internals ------------------------------------------------------------------------------------------

  private async terminate(ids: string[]): Promise<void> {
    await this.client.terminateInstances({ InstanceIds: ids });
  }

  /** The machine's instances (its uid, cluster and this installation) that are, or may again be, running; oldest first. */
  private async liveInstancesOf(machineUid: string, namespace: string, clusterName: string): Promise<Instance[]> {
    const filters: Filter[] = [
      tagFilter(TagKeys.machineUid, machineUid),
      tagFilter(TagKeys.cluster, clusterTagValue(namespace, clusterName)),
      tagFilter(TagKeys.installation, this.installationId),
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ];
    const found: Instance[] = [];
    try {
      for await (const page of paginateDescribeInstances(this.client, { Filters: filters }, this.pageSize))
        for (const r of page.Reservations ?? []) {
          if (r.OwnerId) this.ownerId = r.OwnerId;
          found.push(...(r.Instances ?? []).filter((i) => i.InstanceId));
        }
    } catch (e) {
      throw toProviderError(e);
    }
    return found.sort((a, b) => (a.LaunchTime?.getTime() ?? 0) - (b.LaunchTime?.getTime() ?? 0) || a.InstanceId!.localeCompare(b.InstanceId!));
  }

  /** The instance of that id, in any state; undefined when EC2 does not know it (or it is no instance id at all). */
  private async instanceById(instanceId: string): Promise<Instance | undefined> {
    try {
      const out = await this.client.describeInstances({ InstanceIds: [instanceId] });
      return out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    } catch (e) {
      const code = errorCode(e);
      if (code === INSTANCE_NOT_FOUND || code === MALFORMED_INSTANCE_ID) return undefined;
      throw toProviderError(e);
    }
  }

  /** Whether the instance carries the machine's uid, its cluster and this installation. */
  private isMachines(i: Instance, target: { namespace: string; clusterName: string; machineUid: string }): boolean {
    return (
      tagValue(i.Tags, TagKeys.machineUid) === target.machineUid &&
      tagValue(i.Tags, TagKeys.cluster) === clusterTagValue(target.namespace, target.clusterName) &&
      tagValue(i.Tags, TagKeys.installation) === this.installationId
    );
  }

  /** One provider serves one region: describe has no cluster settings to choose a client by. */
  private async checkRegion(region: string): Promise<void> {
    if (this.regionChecked === region) return;
    const own = await this.client.region();
    if (own !== region) throw new InvalidSpecError(`the cluster is in region ${region}, but this provider's EC2 client is for ${own}`);
    this.regionChecked = region;
  }

  private async imageId(aws: NonNullable<LaunchSpec['machineClass']['aws']>): Promise<string> {
    if (aws.ami) return aws.ami;
    const parameter = aws.imageSsmParameter!;
    if (!this.resolveImageParameter)
      throw new InvalidSpecError(
        `imageSsmParameter ${parameter} cannot be resolved by this host (no SSM resolver configured); set ami in the MachineClass instead`,
      );
    try {
      return await this.resolveImageParameter(parameter);
    } catch (e) {
      throw toProviderError(e);
    }
  }

  /** The AMI's root device, so that the encrypted volume replaces the root one instead of adding a disk. */
  private async rootDeviceName(imageId: string): Promise<string> {
    const now = this.clock.now().getTime();
    const cached = this.rootDevices.get(imageId);
    if (cached && now - cached.at < this.imageCacheMs) return cached.name;
    let name: string | undefined;
    try {
      const out = await this.client.describeImages({ ImageIds: [imageId] });
      name = out.Images?.[0]?.RootDeviceName;
    } catch (e) {
      throw toProviderError(e);
    }
    if (!name) throw new InvalidSpecError(`AMI ${imageId} was not found (or has no root device)`);
    this.rootDevices.set(imageId, { name, at: now });
    return name;
  }
}

/**
 * The ClientToken of one launch attempt: deterministic in (Machine token, type, subnet), at most 64 ASCII
 * characters as EC2 requires, and different for each attempt of a fallback.
 */
export function attemptToken(clientToken: string, instanceType: string, subnetId: string, round?: string): string {
  return createHash('sha256')
    .update(`${clientToken}\n${instanceType}\n${subnetId}${round !== undefined ? `\n${round}` : ''}`)
    .digest('hex')
    .slice(0, 64);
}

/**
 * The market of a launch: the one the MachineSet planner chose for the machine (LaunchSpec.capacity, from its
 * deployment's spec.capacity), else the class's: spot when it sets `spot`. The price cap is the machine's, else
 * the class's.
 */
export function marketOf(spec: LaunchSpec): { capacityType: CapacityType; spotMaxPrice?: string; onDemandFallback: boolean } {
  const classSpot = spec.machineClass.aws?.spot;
  const capacityType = spec.capacity?.capacityType ?? (classSpot ? 'spot' : 'on-demand');
  if (capacityType === 'on-demand') return { capacityType, onDemandFallback: false };
  const price = spec.capacity?.spotMaxPrice ?? classSpot?.maxPrice;
  return { capacityType, ...(price !== undefined ? { spotMaxPrice: price } : {}), onDemandFallback: spec.capacity?.onDemandFallback === true };
}

/** The cluster's subnet in a zone of the shared placement rules (which take the zones from these subnets). */
function subnetIn(subnets: Subnet[], zone: string): Subnet {
  const subnet = subnets.find((s) => s.availabilityZone === zone);
  if (!subnet) throw new InvalidSpecError(`the cluster names no subnet in zone ${zone || '(none)'}`);
  return subnet;
}

function encodeUserData(userData: string | undefined): string | undefined {
  if (userData === undefined || userData === '') return undefined;
  const bytes = Buffer.from(userData, 'utf8');
  if (bytes.length > MAX_USER_DATA_BYTES) throw new InvalidSpecError(`user data is ${bytes.length} bytes; EC2 accepts at most ${MAX_USER_DATA_BYTES}`);
  return bytes.toString('base64');
}

/** The market recorded by the tag every launch sets (moto does not report EC2's instanceLifecycle). */
function capacityTypeOfInstance(i: Instance): { capacityType?: CapacityType } {
  const v = tagValue(i.Tags, CAPACITY_TYPE_TAG);
  return v === 'spot' || v === 'on-demand' ? { capacityType: v } : {};
}

const STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

function toFact(i: Instance, machineUid: string): InstanceFact {
  const az = i.Placement?.AvailabilityZone;
  const state = STATES.find((s) => s === i.State?.Name) ?? 'pending';
  const addresses: NonNullable<InstanceFact['addresses']> = [];
  const add = (type: NonNullable<InstanceFact['addresses']>[number]['type'], address: string | undefined) => {
    if (address) addresses.push({ type, address });
  };
  add('InternalIP', i.PrivateIpAddress);
  add('ExternalIP', i.PublicIpAddress);
  add('InternalDNS', i.PrivateDnsName);
  add('ExternalDNS', i.PublicDnsName);
  return {
    machineUid: tagValue(i.Tags, TagKeys.machineUid) ?? machineUid,
    instanceId: i.InstanceId!,
    providerID: `aws:///${az ?? ''}/${i.InstanceId!}`,
    state,
    ...(az ? { availabilityZone: az } : {}),
    ...(i.InstanceType ? { instanceType: i.InstanceType } : {}),
    ...capacityTypeOfInstance(i),
    ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}),
    ...(addresses.length ? { addresses } : {}),
  };
}
