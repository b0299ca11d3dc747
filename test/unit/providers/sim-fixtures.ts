import { randomUUID } from 'node:crypto';
import { clusterProvider } from '../../../functions/api/cluster.js';
import { machineClassSpec } from '../../../functions/api/machine-class.js';
import { DEFAULT_SIM_INSTANCE_TYPE, SimCloud, type SimCloudOptions } from '../../../functions/adapters/sim/sim-cloud.js';
import { SimMachineProvider } from '../../../functions/adapters/sim/sim-machine-provider.js';
import type { LaunchSpec } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import type { ProviderHarness } from '../../support/provider-contract.js';

export const ZONES = ['zone-a', 'zone-b', 'zone-c'];

export interface SimSpecOptions {
  namespace?: string;
  clusterName?: string;
  machineName?: string;
  machineUid?: string;
  clientToken?: string;
  failureDomain?: string;
  /** The MachineClass spec as a user writes it (defaults filled by the API schema). */
  machineClass?: unknown;
  /** The cluster's provider settings as a user writes them. */
  clusterProvider?: unknown;
}

let machines = 0;

/** A LaunchSpec of a simulated machine, with the API's defaults filled in as the store holds them. */
export function simSpec(o: SimSpecOptions = {}): LaunchSpec {
  machines++;
  return {
    namespace: o.namespace ?? 'default',
    clusterName: o.clusterName ?? 'c1',
    machineName: o.machineName ?? `m${machines}`,
    machineUid: o.machineUid ?? randomUUID(),
    role: 'worker',
    version: 'v1.34.1',
    clientToken: o.clientToken ?? randomUUID(),
    machineClass: machineClassSpec.parse(o.machineClass ?? { sim: { bootSeconds: 5, nodeReadySeconds: 2 } }),
    clusterProvider: clusterProvider.parse(o.clusterProvider ?? { sim: { failureDomains: ZONES } }),
    ...(o.failureDomain !== undefined ? { failureDomain: o.failureDomain } : {}),
  };
}

export function newSim(options: Partial<SimCloudOptions> = {}): { clock: FakeClock; cloud: SimCloud; provider: SimMachineProvider } {
  const clock = new FakeClock();
  const cloud = new SimCloud({ clock, seed: 7, ...options });
  return { clock, cloud, provider: new SimMachineProvider(cloud) };
}

export async function simHarness(): Promise<ProviderHarness> {
  const { clock, cloud, provider } = newSim();
  let clusters = 0;
  return {
    provider,
    zones: ZONES,
    scheme: 'sim',
    instanceTypes: [DEFAULT_SIM_INSTANCE_TYPE],
    otherInstallation: () => new SimMachineProvider(cloud, { installationId: `other-${randomUUID()}` }),
    newCluster: (namespace = 'default') => ({ namespace, clusterName: `c${++clusters}` }),
    launchSpec: (cluster, machine) => simSpec({ ...cluster, ...machine }),
    settle: async () => clock.advance(60),
  };
}
