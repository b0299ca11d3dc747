/** The provider tests' launch specs; the moto network and the EC2 faults live in test/support/ec2.ts. */
import { clusterProvider } from '../../../functions/api/cluster.js';
import { machineClassSpec } from '../../../functions/api/machine-class.js';
import type { LaunchSpec } from '../../../functions/ports.js';
import { randomUUID } from 'node:crypto';
import { INSTANCE_TYPES, type MotoNetwork } from '../../support/ec2.js';
import { uniqueName } from '../../support/aws.js';

export * from '../../support/ec2.js';

export interface Ec2SpecOptions {
  namespace?: string;
  clusterName?: string;
  machineName?: string;
  machineUid?: string;
  clientToken?: string;
  failureDomain?: string;
  userData?: string;
  /** Merged into the aws machine class as a user writes it. */
  aws?: Record<string, unknown>;
}

/** A LaunchSpec for a machine on the moto network, with the API's defaults filled in. */
export function ec2Spec(net: MotoNetwork, o: Ec2SpecOptions = {}): LaunchSpec {
  const clusterName = o.clusterName ?? uniqueName('c');
  return {
    namespace: o.namespace ?? 'default',
    clusterName,
    machineName: o.machineName ?? `${clusterName}-m`,
    machineUid: o.machineUid ?? randomUUID(),
    role: 'worker',
    version: 'v1.34.1',
    clientToken: o.clientToken ?? randomUUID(),
    machineClass: machineClassSpec.parse({ aws: { instanceTypes: INSTANCE_TYPES, ami: net.ami, ...o.aws } }),
    clusterProvider: clusterProvider.parse({ aws: { region: 'us-east-1', subnets: net.subnets, securityGroupIds: [net.securityGroupId] } }),
    ...(o.failureDomain !== undefined ? { failureDomain: o.failureDomain } : {}),
    ...(o.userData !== undefined ? { userData: o.userData } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fault injection
