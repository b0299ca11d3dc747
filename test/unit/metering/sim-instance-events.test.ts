/**
 * SimCloud's onInstanceStateChange: the local stand-in for EC2's instance state-change events, which the
 * hosts turn into a reconcile of the instance's cluster (and the remediation benchmark relies on).
 */
import { describe, expect, it } from 'vitest';
import { SimCloud, SimMachineProvider, type InstanceStateChange } from '../../../functions/adapters/sim/index.js';
import type { LaunchSpec } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';

const spec = (machineName: string): LaunchSpec => ({
  namespace: 'team-a',
  clusterName: 'c1',
  machineName,
  machineUid: `uid-${machineName}`,
  role: 'worker',
  version: 'v1.31.2',
  clientToken: `uid-${machineName}`,
  machineClass: { sim: { bootSeconds: 0, nodeReadySeconds: 0, failureRate: 0 } } as LaunchSpec['machineClass'],
  clusterProvider: { sim: {} } as LaunchSpec['clusterProvider'],
});

/** A simulated cloud that keeps the changes it tells, and the provider that launches into it. */
function cloud(): { cloud: SimCloud; provider: SimMachineProvider; changes: InstanceStateChange[] } {
  const changes: InstanceStateChange[] = [];
  const c = new SimCloud({ clock: new FakeClock(), onInstanceStateChange: (x) => changes.push(x) });
  return { cloud: c, provider: new SimMachineProvider(c), changes };
}

describe('SimCloud onInstanceStateChange', () => {
  it('tells an out-of-band kill, with the cluster and machine the event needs', async () => {
    const { cloud: c, provider, changes } = cloud();
    const instance = await provider.create(spec('m1'));

    c.kill('m1', 'team-a');

    expect(changes).toEqual([
      {
        instanceId: instance.instanceId,
        machineUid: 'uid-m1',
        machineName: 'm1',
        namespace: 'team-a',
        clusterName: 'c1',
        state: 'terminated',
        reason: 'Sim.Killed',
      },
    ]);
  });

  it('tells a termination asked for through the provider, as EC2 emits one for any termination', async () => {
    const { provider, changes } = cloud();
    await provider.create(spec('m1'));

    await provider.delete({ namespace: 'team-a', clusterName: 'c1', machineUid: 'uid-m1' });

    expect(changes.map((x) => [x.machineName, x.reason])).toEqual([['m1', 'Client.UserInitiatedShutdown']]);
  });

  it('tells nothing for a launch, or for a kill or termination that finds no live instance', async () => {
    const { cloud: c, provider, changes } = cloud();
    await provider.create(spec('m1'));
    expect(changes).toEqual([]);
    c.kill('m1', 'team-a');
    changes.length = 0;

    c.kill('m1', 'team-a');
    await provider.delete({ namespace: 'team-a', clusterName: 'c1', machineUid: 'uid-m1' });
    c.kill('nobody');

    expect(changes).toEqual([]);
  });
});
