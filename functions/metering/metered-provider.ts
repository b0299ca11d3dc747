/**
 * A MachineProvider that tells the meter which EC2 API calls each call costs, whatever provider is underneath
 * (the simulator, or EC2). It models what Ec2MachineProvider (adapters/ec2/ec2-machine-provider.ts) sends:
 * - create: DescribeInstances by the machine-uid tag (adoption), then RunInstances (one; a capacity fallback
 *   to another zone or type would add one per attempt, not seen from here);
 * - describe: DescribeInstances by the cluster tag, one call per 1,000 instances;
 * - delete: DescribeInstances by the machine-uid tag, then TerminateInstances.
 * Calls that fail are counted too: EC2 counts them against the account's request rate.
 */
import type { InstanceFact } from '../core/observed.js';
import type { InstanceDeletion, LaunchHooks, LaunchSpec, MachineProvider } from '../ports.js';
import type { CostMeter } from './meter.js';

const DESCRIBE_PAGE = 1000;

export class MeteredProvider implements MachineProvider {
  constructor(
    private readonly inner: MachineProvider,
    private readonly meter: CostMeter,
  ) {}

  async create(spec: LaunchSpec, hooks?: LaunchHooks): Promise<InstanceFact> {
    this.meter.recordEc2('DescribeInstances');
    this.meter.recordEc2('RunInstances');
    return this.inner.create(spec, hooks);
  }

  async describe(namespace: string, clusterName: string): Promise<InstanceFact[]> {
    try {
      const instances = await this.inner.describe(namespace, clusterName);
      this.meter.recordEc2('DescribeInstances', Math.max(1, Math.ceil(instances.length / DESCRIBE_PAGE)));
      return instances;
    } catch (err) {
      this.meter.recordEc2('DescribeInstances');
      throw err;
    }
  }

  async delete(target: { namespace: string; clusterName: string; machineUid: string; instanceId?: string }): Promise<InstanceDeletion> {
    this.meter.recordEc2('DescribeInstances');
    this.meter.recordEc2('TerminateInstances');
    return this.inner.delete(target);
  }
}
