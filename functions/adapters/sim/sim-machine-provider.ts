import type { InstanceFact } from '../../core/observed.js';
import { ThrottledError, type LaunchSpec, type MachineProvider } from '../../ports.js';
import type { SimCloud } from './sim-cloud.js';

/** MachineProvider over a SimCloud: the default of the embedded host and the base of scale benchmarks. */
export class SimMachineProvider implements MachineProvider {
  constructor(readonly cloud: SimCloud) {}

  async create(spec: LaunchSpec): Promise<InstanceFact> {
    this.throttle('create');
    return this.cloud.launch(spec);
  }

  async describe(namespace: string, clusterName: string): Promise<InstanceFact[]> {
    this.throttle('describe');
    return this.cloud.describe(namespace, clusterName);
  }

  async delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<void> {
    this.throttle('delete');
    this.cloud.terminate(target.machineUid, target.instanceId);
  }

  private throttle(call: string): void {
    if (this.cloud.takeThrottle()) throw new ThrottledError(`simulated throttling of ${call} (RequestLimitExceeded)`);
  }
}
