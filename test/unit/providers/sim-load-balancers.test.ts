/** The simulator's load balancers beyond the contract: their names, a teardown that stops halfway, and persistence. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JsonFileSimPersistence,
  SimCloud,
  SimManagedLoadBalancers,
  SimMachineProvider,
  SimTargetGroupRegistrations,
} from '../../../functions/adapters/sim/index.js';
import { ThrottledError, type ManagedLoadBalancerSpec } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { newSim, simSpec } from './sim-fixtures.js';

const spec = (clusterName: string, namespace = 'default'): ManagedLoadBalancerSpec => ({
  namespace,
  clusterName,
  scheme: 'internal',
  subnetIds: [],
  port: 6443,
});

describe('SimManagedLoadBalancers', () => {
  it('names the endpoint {cluster}-{hash}.elb.sim.local, the same for the same cluster and installation', async () => {
    // Prepare
    const { cloud } = newSim();
    const lbs = new SimManagedLoadBalancers(cloud);
    // Act
    await lbs.ensure(spec('prod'));
    const fact = await lbs.describe('default', 'prod');
    // Assess
    expect(fact).toMatchObject({ state: 'active', dnsName: expect.stringMatching(/^prod-[0-9a-f]{16}\.elb\.sim\.local$/) });
    const again = new SimManagedLoadBalancers(newSim().cloud);
    await again.ensure(spec('prod'));
    expect((await again.describe('default', 'prod'))?.dnsName).toBe(fact?.dnsName);
  });

  it('keeps the first DNS label within 63 characters for the longest cluster names', async () => {
    const { cloud } = newSim();
    const lbs = new SimManagedLoadBalancers(cloud);
    await lbs.ensure(spec('c'.repeat(63)));
    expect((await lbs.describe('default', 'c'.repeat(63)))?.dnsName?.split('.')[0]).toHaveLength(63);
  });

  it('leaves the target group behind when its delete fails after the load balancer went, and a later delete finishes', async () => {
    // Prepare
    const { cloud } = newSim();
    const lbs = new SimManagedLoadBalancers(cloud);
    await lbs.ensure(spec('prod'));
    cloud.failTargetGroupDeletes(1);
    // Act
    await expect(lbs.delete('default', 'prod')).rejects.toBeInstanceOf(ThrottledError);
    const halfway = { lb: await lbs.describe('default', 'prod'), leftovers: await lbs.hasLeftovers('default', 'prod') };
    await lbs.delete('default', 'prod');
    // Assess
    expect(halfway).toEqual({ lb: undefined, leftovers: true });
    expect(await lbs.hasLeftovers('default', 'prod')).toBe(false);
  });

  it('drops a target from its group once the instance is terminated, as ELBv2 does', async () => {
    const { cloud, clock } = newSim();
    const lbs = new SimManagedLoadBalancers(cloud);
    await lbs.ensure(spec('prod'));
    const tg = (await lbs.targetGroupArn('default', 'prod'))!;
    const instance = await new SimMachineProvider(cloud).create(simSpec({ clusterName: 'prod' }));
    clock.advance(10);
    await new SimTargetGroupRegistrations(cloud).register(tg, { namespace: 'default', clusterName: 'prod', instanceId: instance.instanceId, port: 6443 });
    expect(cloud.targetsOf(tg)).toEqual([{ instanceId: instance.instanceId, port: 6443 }]);
    cloud.kill(instance.instanceId);
    expect(cloud.targetsOf(tg)).toEqual([]);
  });

  describe('persistence', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });

    it('keeps load balancers, target groups and registrations in the SimCloud file: a restarted host finds them', async () => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'clusterless-sim-lb-'));
      dirs.push(dir);
      const path = join(dir, 'sim.json');
      const clock = new FakeClock();
      const first = new SimCloud({ clock, persistence: new JsonFileSimPersistence(path) });
      const lbs = new SimManagedLoadBalancers(first);
      await lbs.ensure(spec('prod'));
      const tg = (await lbs.targetGroupArn('default', 'prod'))!;
      const instance = await new SimMachineProvider(first).create(simSpec({ clusterName: 'prod' }));
      await new SimTargetGroupRegistrations(first).register(tg, { namespace: 'default', clusterName: 'prod', instanceId: instance.instanceId, port: 6443 });
      // Act
      const second = new SimCloud({ clock, persistence: new JsonFileSimPersistence(path) });
      const restarted = new SimManagedLoadBalancers(second);
      // Assess
      expect(await restarted.describe('default', 'prod')).toEqual(await lbs.describe('default', 'prod'));
      expect(await restarted.targetGroupArn('default', 'prod')).toBe(tg);
      expect(second.targetsOf(tg)).toEqual([{ instanceId: instance.instanceId, port: 6443 }]);
    });

    it('loads a file written before the simulator had load balancers', () => {
      const restored = SimCloud.fromJSON({ version: 1, seed: 3, instances: [] }, { clock: new FakeClock() });
      expect(restored.toJSON()).toEqual({ version: 1, seed: 3, instances: [] });
    });
  });
});
