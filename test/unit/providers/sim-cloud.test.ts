/** The simulator beyond the contract: timing, nodes, failures, kills, zones, faults and persistence, on a fake clock. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonFileSimPersistence } from '../../../functions/adapters/sim/persistence.js';
import { DEFAULT_SIM_ZONE, SIM_INTERRUPTION_NOTICE_SECONDS, SimCloud, type SimInterruptionNotice } from '../../../functions/adapters/sim/sim-cloud.js';
import { SimMachineProvider } from '../../../functions/adapters/sim/sim-machine-provider.js';
import { SimNodeDrainer } from '../../../functions/adapters/sim/sim-node-drainer.js';
import { SimNodeReader } from '../../../functions/adapters/sim/sim-node-reader.js';
import type { NodeFact } from '../../../functions/core/observed.js';
import { InsufficientCapacityError, InvalidSpecError, NodeReaderUnavailableError, ThrottledError } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ZONES, newSim, simSpec } from './sim-fixtures.js';

const ready = (n: NodeFact | undefined) => n?.conditions.find((c) => c.type === 'Ready');

async function stateOf(provider: SimMachineProvider, instanceId: string, clusterName = 'c1') {
  return (await provider.describe('default', clusterName)).find((f) => f.instanceId === instanceId)?.state;
}

describe('SimCloud', () => {
  describe('boot', () => {
    it.each([
      { bootSeconds: 0, expectAtLaunch: 'running' },
      { bootSeconds: 5, expectAtLaunch: 'pending' },
      { bootSeconds: 90, expectAtLaunch: 'pending' },
    ])('an instance with bootSeconds $bootSeconds is $expectAtLaunch at launch and running from bootSeconds on', async ({ bootSeconds, expectAtLaunch }) => {
      // Prepare
      const { clock, provider } = newSim();
      // Act
      const created = await provider.create(simSpec({ machineClass: { sim: { bootSeconds } } }));
      // Assess
      expect(created.state).toBe(expectAtLaunch);
      if (bootSeconds > 0) {
        clock.advance(bootSeconds - 1);
        expect(await stateOf(provider, created.instanceId)).toBe('pending');
      }
      clock.advance(1);
      expect(await stateOf(provider, created.instanceId)).toBe('running');
      expect(created.launchTime).toBe('2026-01-01T00:00:00.000Z');
    });
  });

  describe('nodes', () => {
    it('registers NotReady when the instance runs, becomes Ready nodeReadySeconds later, with its providerID and version', async () => {
      const { clock, cloud, provider } = newSim();
      const nodes = new SimNodeReader(cloud);
      const created = await provider.create(simSpec({ machineName: 'worker-1', machineClass: { sim: { bootSeconds: 10, nodeReadySeconds: 20 } } }));
      clock.advance(9);
      expect(await nodes.listNodes('default', 'c1')).toEqual([]);
      clock.advance(1);
      const registered = await nodes.listNodes('default', 'c1');
      expect(registered).toEqual([expect.objectContaining({ name: 'worker-1', providerID: created.providerID, kubeletVersion: 'v1.34.1' })]);
      expect(ready(registered[0])).toMatchObject({ status: 'False', reason: 'KubeletNotReady', lastTransitionTime: '2026-01-01T00:00:10.000Z' });
      clock.advance(19);
      expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('False');
      clock.advance(1);
      const node = (await nodes.listNodes('default', 'c1'))[0];
      expect(ready(node)).toMatchObject({ status: 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-01T00:00:30.000Z' });
      expect(node?.conditions.filter((c) => c.type !== 'Ready').map((c) => [c.type, c.status])).toEqual([
        ['MemoryPressure', 'False'],
        ['DiskPressure', 'False'],
        ['PIDPressure', 'False'],
      ]);
    });

    it("lists only the cluster's nodes", async () => {
      const { clock, cloud, provider } = newSim();
      await provider.create(simSpec({ clusterName: 'c1', machineName: 'a' }));
      await provider.create(simSpec({ clusterName: 'c2', machineName: 'b' }));
      await provider.create(simSpec({ namespace: 'other', clusterName: 'c1', machineName: 'c' }));
      clock.advance(60);
      expect((await new SimNodeReader(cloud).listNodes('default', 'c1')).map((n) => n.name)).toEqual(['a']);
    });

    it('fails node reads on demand with NodeReaderUnavailableError, then answers again', async () => {
      const { cloud } = newSim();
      const nodes = new SimNodeReader(cloud);
      cloud.failNodeReads(1);
      await expect(nodes.listNodes('default', 'c1')).rejects.toBeInstanceOf(NodeReaderUnavailableError);
      await expect(nodes.listNodes('default', 'c1')).resolves.toEqual([]);
    });
  });

  describe('failureRate', () => {
    async function launchMany(seed: number, failureRate: number, count: number) {
      const { clock, provider } = newSim({ seed });
      const outcomes: { instanceId: string; failed: boolean }[] = [];
      for (let i = 0; i < count; i++)
        outcomes.push({
          instanceId: (
            await provider.create(simSpec({ machineUid: `uid-${i}`, clientToken: `token-${i}`, machineClass: { sim: { bootSeconds: 10, failureRate } } }))
          ).instanceId,
          failed: false,
        });
      clock.advance(10);
      const states = new Map((await provider.describe('default', 'c1')).map((f) => [f.instanceId, f.state]));
      for (const o of outcomes) o.failed = states.get(o.instanceId) === 'terminated';
      return outcomes;
    }

    it('with a fixed seed, fails the same launches every time, at about the configured rate', async () => {
      const first = await launchMany(42, 0.3, 200);
      const second = await launchMany(42, 0.3, 200);
      expect(second).toEqual(first);
      const failed = first.filter((o) => o.failed).length;
      expect(failed).toBeGreaterThan(40);
      expect(failed).toBeLessThan(80);
      const otherSeed = await launchMany(43, 0.3, 200);
      expect(otherSeed.map((o) => o.failed)).not.toEqual(first.map((o) => o.failed));
    });

    it.each([
      { failureRate: 0, failed: 0 },
      { failureRate: 1, failed: 20 },
    ])('failureRate $failureRate fails $failed of 20 launches', async ({ failureRate, failed }) => {
      expect((await launchMany(1, failureRate, 20)).filter((o) => o.failed)).toHaveLength(failed);
    });

    it('a failed launch is accepted, stays pending, terminates before it would run, and never gets a node', async () => {
      const { clock, cloud, provider } = newSim();
      const created = await provider.create(simSpec({ machineClass: { sim: { bootSeconds: 10, failureRate: 1 } } }));
      expect(created.state).toBe('pending');
      const seen = new Set<string | undefined>();
      for (let t = 0; t < 12; t++) {
        seen.add(await stateOf(provider, created.instanceId));
        expect(await new SimNodeReader(cloud).listNodes('default', 'c1')).toEqual([]);
        clock.advance(1);
      }
      expect([...seen]).toEqual(['pending', 'terminated']);
      expect(cloud.instances()[0]?.stateReason).toBe('Server.InternalError');
    });
  });

  describe('kill', () => {
    it.each([
      { name: 'machine name', target: () => 'victim' },
      { name: 'instance id', target: (id: string) => id },
      { name: 'providerID', target: (id: string, providerID: string) => providerID },
    ])('by $name: terminates the instance; its node goes Unknown at once and is deleted later', async ({ target }) => {
      const { clock, cloud, provider } = newSim({ nodeDeletionSeconds: 40 });
      const nodes = new SimNodeReader(cloud);
      const victim = await provider.create(simSpec({ machineName: 'victim' }));
      const bystander = await provider.create(simSpec({ machineName: 'bystander' }));
      clock.advance(60);
      const killed = cloud.kill(target(victim.instanceId, victim.providerID));
      expect(killed.map((f) => [f.instanceId, f.state])).toEqual([[victim.instanceId, 'terminated']]);
      expect(await stateOf(provider, victim.instanceId)).toBe('terminated');
      expect(await stateOf(provider, bystander.instanceId)).toBe('running');
      const lost = (await nodes.listNodes('default', 'c1')).find((n) => n.name === 'victim');
      expect(lost?.conditions.map((c) => c.status)).toEqual(['Unknown', 'Unknown', 'Unknown', 'Unknown']);
      expect(ready(lost)).toMatchObject({ reason: 'NodeStatusUnknown', lastTransitionTime: '2026-01-01T00:01:00.000Z' });
      clock.advance(39);
      expect((await nodes.listNodes('default', 'c1')).map((n) => n.name)).toEqual(['bystander', 'victim']);
      clock.advance(1);
      expect((await nodes.listNodes('default', 'c1')).map((n) => n.name)).toEqual(['bystander']);
    });

    it('deleteNode removes the node of a terminated instance at once; the node of a live instance stays (its kubelet registers it again)', async () => {
      const { clock, cloud, provider } = newSim({ nodeDeletionSeconds: 40 });
      const nodes = new SimNodeReader(cloud);
      const drainer = new SimNodeDrainer(cloud);
      await provider.create(simSpec({ machineName: 'victim' }));
      await provider.create(simSpec({ machineName: 'bystander' }));
      clock.advance(60);
      expect(await drainer.deleteNode('default', 'c1', 'bystander')).toMatchObject({ deleted: true });
      expect((await nodes.listNodes('default', 'c1')).map((n) => n.name)).toEqual(['bystander', 'victim']);
      cloud.kill('victim');
      clock.advance(1);
      expect(await drainer.deleteNode('default', 'c1', 'victim')).toEqual({ deleted: true, message: 'Node victim deleted' });
      expect((await nodes.listNodes('default', 'c1')).map((n) => n.name)).toEqual(['bystander']);
      expect(await drainer.deleteNode('default', 'c1', 'victim')).toEqual({ deleted: true, message: 'Node victim is gone already' });
      // Another cluster's node of the same name is not touched.
      expect(cloud.deleteNode('default', 'c2', 'bystander')).toBe(false);
    });

    it('kills nothing for an unknown or already terminated machine', async () => {
      const { cloud, provider } = newSim();
      await provider.create(simSpec({ machineName: 'm' }));
      expect(cloud.kill('nobody')).toEqual([]);
      expect(cloud.kill('m')).toHaveLength(1);
      expect(cloud.kill('m')).toEqual([]);
    });

    it('asks for the namespace when a machine name is used in several, and narrows by it', async () => {
      const { cloud, provider } = newSim();
      await provider.create(simSpec({ namespace: 'a', machineName: 'same' }));
      const inB = await provider.create(simSpec({ namespace: 'b', machineName: 'same' }));
      expect(() => cloud.kill('same')).toThrow(/several namespaces \(a, b\)/);
      expect(cloud.kill('same', 'b').map((f) => f.instanceId)).toEqual([inB.instanceId]);
    });
  });

  describe('setNodeCondition', () => {
    it('makes a Ready node NotReady or Unknown, keeps the transition time while the status holds, and clears', async () => {
      const { clock, cloud, provider } = newSim();
      const nodes = new SimNodeReader(cloud);
      await provider.create(simSpec({ machineName: 'sick' }));
      await provider.create(simSpec({ machineName: 'fine' }));
      clock.advance(60);
      cloud.setNodeCondition('sick', { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' });
      const byName = async () => new Map((await nodes.listNodes('default', 'c1')).map((n) => [n.name, n]));
      expect(ready((await byName()).get('sick'))).toEqual({
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'PLEG is not healthy',
        lastTransitionTime: '2026-01-01T00:01:00.000Z',
      });
      expect(ready((await byName()).get('fine'))?.status).toBe('True');
      clock.advance(30);
      cloud.setNodeCondition('sick', { type: 'Ready', status: 'False', reason: 'KubeletNotReady' });
      expect(ready((await byName()).get('sick'))?.lastTransitionTime).toBe('2026-01-01T00:01:00.000Z');
      cloud.setNodeCondition('sick', { type: 'Ready', status: 'Unknown' });
      expect(ready((await byName()).get('sick'))).toMatchObject({ status: 'Unknown', lastTransitionTime: '2026-01-01T00:01:30.000Z' });
      cloud.setNodeCondition('sick', { type: 'DiskPressure', status: 'True' });
      expect((await byName()).get('sick')?.conditions.find((c) => c.type === 'DiskPressure')?.status).toBe('True');
      cloud.clearNodeCondition('sick', 'Ready');
      expect(ready((await byName()).get('sick'))?.status).toBe('True');
      expect((await byName()).get('sick')?.conditions.find((c) => c.type === 'DiskPressure')?.status).toBe('True');
      cloud.clearNodeCondition('sick');
      expect((await byName()).get('sick')?.conditions.find((c) => c.type === 'DiskPressure')?.status).toBe('False');
    });

    it('changes nothing for a machine that does not exist', async () => {
      const { cloud } = newSim();
      expect(cloud.setNodeCondition('ghost', { type: 'Ready', status: 'False' })).toEqual([]);
    });
  });

  describe('zones', () => {
    it("spreads unpinned machines over the cluster's zones", async () => {
      const { provider } = newSim();
      const zones = new Set<string | undefined>();
      for (let i = 0; i < 30; i++) zones.add((await provider.create(simSpec({ machineUid: `spread-${i}` }))).availabilityZone);
      expect([...zones].sort()).toEqual(ZONES);
    });

    it("keeps to the class's failure domains", async () => {
      const { provider } = newSim();
      const zones = new Set<string | undefined>();
      for (let i = 0; i < 20; i++) zones.add((await provider.create(simSpec({ machineClass: { sim: { failureDomains: ['zone-b'] } } }))).availabilityZone);
      expect([...zones]).toEqual(['zone-b']);
    });

    it.each([
      { name: 'a class whose zones the cluster lacks', spec: { machineClass: { sim: { failureDomains: ['zone-x'] } } } },
      { name: 'a pin outside the class zones', spec: { failureDomain: 'zone-a', machineClass: { sim: { failureDomains: ['zone-b'] } } } },
    ])('refuses $name with InvalidSpecError', async ({ spec }) => {
      const { provider } = newSim();
      await expect(provider.create(simSpec(spec))).rejects.toBeInstanceOf(InvalidSpecError);
    });

    it(`uses ${DEFAULT_SIM_ZONE} when the cluster has no zones, and any pinned zone`, async () => {
      const { provider } = newSim();
      expect((await provider.create(simSpec({ clusterProvider: { sim: {} } }))).providerID).toMatch(new RegExp(`^sim:///${DEFAULT_SIM_ZONE}/i-[0-9a-f]{17}$`));
      expect((await provider.create(simSpec({ clusterProvider: { sim: {} }, failureDomain: 'rack-1' }))).availabilityZone).toBe('rack-1');
    });

    it("takes an aws class's instance types and the subnets' zones", async () => {
      const { provider } = newSim();
      const created = await provider.create(
        simSpec({
          machineClass: { aws: { instanceTypes: ['m7g.large', 'm7g.xlarge'], ami: 'ami-0123456789abcdef0' } },
          clusterProvider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
        }),
      );
      expect(created).toMatchObject({ instanceType: 'm7g.large', availabilityZone: 'us-east-1a', state: 'pending' });
    });
  });

  describe('faults', () => {
    it('throttles the next N provider calls, then answers', async () => {
      const { cloud, provider } = newSim();
      cloud.throttleNext(3);
      await expect(provider.create(simSpec())).rejects.toBeInstanceOf(ThrottledError);
      await expect(provider.describe('default', 'c1')).rejects.toBeInstanceOf(ThrottledError);
      await expect(provider.delete({ namespace: 'default', clusterName: 'c1', machineUid: 'x' })).rejects.toBeInstanceOf(ThrottledError);
      expect(await provider.describe('default', 'c1')).toEqual([]);
      await expect(provider.create(simSpec())).resolves.toMatchObject({ state: 'pending' });
    });

    it('falls back to the next zone when a zone has no capacity, and fails when none has', async () => {
      const { cloud, provider } = newSim();
      cloud.failCapacity({ zone: 'zone-a' });
      for (let i = 0; i < 10; i++) expect((await provider.create(simSpec())).availabilityZone).not.toBe('zone-a');
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).rejects.toBeInstanceOf(InsufficientCapacityError);
      cloud.failCapacity({});
      await expect(provider.create(simSpec())).rejects.toThrow(InsufficientCapacityError);
      cloud.clearFaults();
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).resolves.toMatchObject({ availabilityZone: 'zone-a' });
    });

    it('falls back to the next instance type, within the same zone first', async () => {
      const { cloud, provider } = newSim();
      cloud.failCapacity({ instanceType: 'm7g.large', zone: 'us-east-1a' });
      const spec = (failureDomain?: string) =>
        simSpec({
          machineClass: { aws: { instanceTypes: ['m7g.large', 'c7g.large'], ami: 'ami-0123456789abcdef0' } },
          clusterProvider: {
            aws: {
              region: 'us-east-1',
              subnets: [
                { id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' },
                { id: 'subnet-0123456789abcdef1', availabilityZone: 'us-east-1b' },
              ],
            },
          },
          ...(failureDomain ? { failureDomain } : {}),
        });
      expect(await provider.create(spec('us-east-1a'))).toMatchObject({ availabilityZone: 'us-east-1a', instanceType: 'c7g.large' });
      expect(await provider.create(spec('us-east-1b'))).toMatchObject({ availabilityZone: 'us-east-1b', instanceType: 'm7g.large' });
    });

    it('lifts a capacity fault by itself after the given number of refused launches', async () => {
      const { cloud, provider } = newSim();
      const lift = cloud.failCapacity({ zone: 'zone-a', launches: 2 });
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).rejects.toBeInstanceOf(InsufficientCapacityError);
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).rejects.toBeInstanceOf(InsufficientCapacityError);
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).resolves.toMatchObject({ availabilityZone: 'zone-a' });
      const again = cloud.failCapacity({ zone: 'zone-a' });
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).rejects.toBeInstanceOf(InsufficientCapacityError);
      again();
      lift();
      await expect(provider.create(simSpec({ failureDomain: 'zone-a' }))).resolves.toMatchObject({ availabilityZone: 'zone-a' });
    });
  });

  describe('EC2 semantics', () => {
    it('keeps terminated instances visible for the retention, then forgets them', async () => {
      const { clock, provider } = newSim({ terminatedRetentionSeconds: 3600 });
      const spec = simSpec();
      const created = await provider.create(spec);
      await provider.delete({ namespace: 'default', clusterName: 'c1', machineUid: spec.machineUid });
      clock.advance(3599);
      expect(await stateOf(provider, created.instanceId)).toBe('terminated');
      clock.advance(1);
      expect(await provider.describe('default', 'c1')).toEqual([]);
    });

    it('returns the instance a ClientToken made, even terminated, as RunInstances does', async () => {
      const { provider } = newSim();
      const spec = simSpec();
      const created = await provider.create(spec);
      await provider.delete({ namespace: 'default', clusterName: 'c1', machineUid: spec.machineUid });
      expect(await provider.create(spec)).toMatchObject({ instanceId: created.instanceId, state: 'terminated' });
    });

    it('refuses a ClientToken already used by another machine', async () => {
      const { provider } = newSim();
      await provider.create(simSpec({ clientToken: 'shared' }));
      await expect(provider.create(simSpec({ clientToken: 'shared' }))).rejects.toBeInstanceOf(InvalidSpecError);
    });
  });

  describe('persistence', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });

    async function world(cloud: SimCloud) {
      return {
        instances: await new SimMachineProvider(cloud).describe('default', 'c1'),
        nodes: await new SimNodeReader(cloud).listNodes('default', 'c1'),
        all: cloud.instances(),
      };
    }

    it('round-trips through toJSON/fromJSON: same instances, nodes and overrides, and a retried create adopts', async () => {
      const { clock, cloud, provider } = newSim();
      const specs = [simSpec(), simSpec(), simSpec({ machineClass: { sim: { failureRate: 1 } } })];
      for (const s of specs) await provider.create(s);
      clock.advance(60);
      cloud.kill(specs[1]!.machineName);
      cloud.setNodeCondition(specs[0]!.machineName, { type: 'Ready', status: 'False' });
      const before = await world(cloud);
      const restored = SimCloud.fromJSON(JSON.parse(JSON.stringify(cloud.toJSON())), { clock });
      expect(await world(restored)).toEqual(before);
      await new SimMachineProvider(restored).create({ ...specs[0]!, clientToken: 'another-attempt' });
      expect(restored.instances()).toHaveLength(3);
    });

    it('saves to a JSON file on every change, atomically, and a new cloud on the same file carries on', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'clusterless-sim-'));
      dirs.push(dir);
      const path = join(dir, 'state', 'sim.json');
      const clock = new FakeClock();
      const first = new SimCloud({ clock, persistence: new JsonFileSimPersistence(path) });
      expect(existsSync(path)).toBe(false);
      const spec = simSpec();
      const created = await new SimMachineProvider(first).create(spec);
      expect(existsSync(path)).toBe(true);
      expect(readdirSync(join(dir, 'state'))).toEqual(['sim.json']);
      clock.advance(60);
      const second = new SimCloud({ clock, persistence: new JsonFileSimPersistence(path) });
      expect(await world(second)).toEqual(await world(first));
      expect((await new SimMachineProvider(second).create({ ...spec, clientToken: 'after-restart' })).instanceId).toBe(created.instanceId);
      second.kill(spec.machineName);
      const third = new SimCloud({ clock, persistence: new JsonFileSimPersistence(path) });
      expect(third.instances().map((i) => i.state)).toEqual(['terminated']);
    });

    it('refuses a snapshot of an unknown version', () => {
      expect(() => SimCloud.fromJSON({ version: 2 } as never, { clock: new FakeClock() })).toThrow(/version 2/);
    });
  });
});

describe('SimCloud spot notices', () => {
  it('interrupt sends the warning now, once, and the instance terminates 120 s later (Server.SpotInstanceTermination)', async () => {
    // Prepare
    const notices: SimInterruptionNotice[] = [];
    const { clock, cloud, provider } = newSim({ onInterruptionNotice: (n) => notices.push(n) });
    const created = await provider.create(simSpec({ machineName: 'spot-1', machineClass: { sim: { bootSeconds: 0 } } }));
    clock.advance(10);
    // Act
    expect(cloud.interrupt('spot-1')).toHaveLength(1);
    expect(cloud.interrupt('spot-1')).toEqual([]);
    // Assess
    expect(notices).toEqual([
      expect.objectContaining({ instanceId: created.instanceId, machineName: 'spot-1', kind: 'SpotInterruptionWarning', at: '2026-01-01T00:00:10.000Z' }),
    ]);
    clock.advance(SIM_INTERRUPTION_NOTICE_SECONDS - 1);
    expect(await stateOf(provider, created.instanceId)).toBe('running');
    clock.advance(1);
    expect(await stateOf(provider, created.instanceId)).toBe('terminated');
    expect(cloud.instances()[0]?.stateReason).toBe('Server.SpotInstanceTermination');
  });

  it('recommendRebalance sends the recommendation and terminates nothing', async () => {
    const notices: SimInterruptionNotice[] = [];
    const { clock, cloud, provider } = newSim({ onInterruptionNotice: (n) => notices.push(n) });
    const created = await provider.create(simSpec({ machineName: 'spot-2', machineClass: { sim: { bootSeconds: 0 } } }));
    cloud.recommendRebalance('spot-2');
    clock.advance(3600);
    expect(notices.map((n) => n.kind)).toEqual(['RebalanceRecommendation']);
    expect(await stateOf(provider, created.instanceId)).toBe('running');
  });

  it('interruptionsPerHour draws an interruption per instance, sent by deliverDueNotices once its time has come', async () => {
    // Prepare: 60 an hour, so about one a minute per instance.
    const notices: SimInterruptionNotice[] = [];
    const { clock, cloud, provider } = newSim({ onInterruptionNotice: (n) => notices.push(n) });
    // Fixed uids: the draws are keyed by machine uid, so the times are the same in every run (a random uid could draw
    // an interruption due at its very launch).
    for (let i = 0; i < 20; i++)
      await provider.create(simSpec({ machineUid: `spot-${i}`, machineClass: { sim: { bootSeconds: 0, interruptionsPerHour: 60 } } }));
    await provider.create(simSpec({ machineName: 'on-demand', machineClass: { sim: { bootSeconds: 0 } } }));
    const first = cloud.nextNoticeAt()!;
    expect(first).toBeGreaterThan(clock.now().getTime());
    // Act: nothing is sent before its time; everything once the hour has passed.
    expect(cloud.deliverDueNotices()).toBe(0);
    clock.advance((first - clock.now().getTime()) / 1000);
    expect(cloud.deliverDueNotices()).toBeGreaterThanOrEqual(1);
    clock.advance(3600 * 10);
    cloud.deliverDueNotices();
    // Assess: each spot instance warned once, the on-demand one never.
    expect(notices).toHaveLength(20);
    expect(new Set(notices.map((n) => n.instanceId)).size).toBe(20);
    expect(notices.some((n) => n.machineName === 'on-demand')).toBe(false);
    expect(cloud.nextNoticeAt()).toBeUndefined();
  });
});
