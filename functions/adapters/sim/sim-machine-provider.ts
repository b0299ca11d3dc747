import { capacityOrdered } from '../../core/machine/offerings.js';
import { launchAttempts, sameAttempt } from '../../core/machine/placement.js';
import type { InstanceFact } from '../../core/observed.js';
import {
  InsufficientCapacityError,
  InvalidSpecError,
  ThrottledError,
  type InstanceDeletion,
  type LaunchHooks,
  type LaunchSpec,
  type MachineProvider,
} from '../../ports.js';
import { seededUnit } from '../../seeded-random.js';
import { DEFAULT_SIM_ZONE, type SimCloud } from './sim-cloud.js';

export interface SimMachineProviderOptions {
  /**
   * The installation this provider acts for, as the ec2 adapter's installation tag: it sees, adopts and
   * terminates only its instances. The embedded host needs none: its simulated cloud is of its data folder alone.
   * @default - the default installation
   */
  installationId?: string;
}

/** MachineProvider over a SimCloud: the default of the embedded host and the base of scale benchmarks. */
export class SimMachineProvider implements MachineProvider {
  readonly installationId: string | undefined;

  constructor(
    readonly cloud: SimCloud,
    options: SimMachineProviderOptions = {},
  ) {
    this.installationId = options.installationId;
  }

  async create(spec: LaunchSpec, hooks?: LaunchHooks): Promise<InstanceFact> {
    this.throttle('create');
    const adopted = this.cloud.adopt(spec, this.installationId);
    if (adopted) return adopted;
    const refused: string[] = [];
    const instanceTypes = spec.machineClass.aws?.instanceTypes ?? [this.cloud.defaultInstanceType];
    // Zones in order (pinned, or starting at the preferred one or one picked by the machine uid, so that unpinned
    // machines spread), types in order within a zone; a capacity fault moves on to the next.
    const placement = launchAttempts(spec, instanceTypes, DEFAULT_SIM_ZONE, seededUnit);
    if (!placement.ok) throw new InvalidSpecError(placement.message);
    // The sim launches any market alike, but keys the offerings by the machine's as EC2 does: those marked without
    // capacity go last, the recorded attempt first.
    const capacityType = spec.capacity?.capacityType ?? (spec.machineClass.aws?.spot ? 'spot' : 'on-demand');
    for (const attempt of capacityOrdered(placement.attempts, capacityType, spec.unavailableOfferings ?? [], spec.recordedAttempt)) {
      // Intent before action, as the ec2 adapter does: the caller records the attempt before its request.
      if (!sameAttempt(attempt, spec.recordedAttempt)) await hooks?.recordAttempt(attempt);
      const launched = this.cloud.tryLaunch(spec, attempt, this.installationId);
      if (launched) return launched;
      await hooks?.offeringUnavailable?.({ ...attempt, capacityType }, 'InsufficientInstanceCapacity');
      refused.push(`${attempt.instanceType} in ${attempt.availabilityZone}`);
    }
    throw new InsufficientCapacityError(`insufficient capacity for ${refused.join(', ')}`);
  }

  async describe(namespace: string, clusterName: string): Promise<InstanceFact[]> {
    this.throttle('describe');
    return this.cloud.describe(namespace, clusterName, this.installationId);
  }

  async delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<InstanceDeletion> {
    this.throttle('delete');
    const scope = {
      namespace: target.namespace,
      clusterName: target.clusterName,
      ...(this.installationId !== undefined ? { installationId: this.installationId } : {}),
    };
    return this.cloud.terminate(target.machineUid, target.instanceId, scope);
  }

  private throttle(call: string): void {
    if (this.cloud.takeThrottle()) throw new ThrottledError(`simulated throttling of ${call} (RequestLimitExceeded)`);
  }
}
