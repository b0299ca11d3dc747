/** SimulatedNodes: nodes invented for any provider's instances, here over the simulator's provider. */
import { describe, expect, it } from 'vitest';
import { SimulatedNodes } from '../../../functions/adapters/sim/simulated-nodes.js';
import type { InstanceFact, NodeFact } from '../../../functions/core/observed.js';
import { NodeReaderUnavailableError, type MachineProvider } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { newSim, simSpec } from './sim-fixtures.js';

const ready = (n: NodeFact | undefined) => n?.conditions.find((c) => c.type === 'Ready');

describe('SimulatedNodes', () => {
  it('registers a node when the instance runs and makes it Ready readySeconds after launch; none once terminated', async () => {
    // Prepare
    const { clock, cloud, provider } = newSim();
    const nodes = new SimulatedNodes({ provider, clock, readySeconds: 30 });
    const spec = simSpec({ machineClass: { sim: { bootSeconds: 10 } } });
    const created = await provider.create(spec);
    // Act / Assess
    expect(await nodes.listNodes('default', 'c1')).toEqual([]);
    clock.advance(10);
    const registered = await nodes.listNodes('default', 'c1');
    expect(registered).toEqual([expect.objectContaining({ name: created.instanceId, providerID: created.providerID })]);
    expect(ready(registered[0])).toMatchObject({ status: 'False', lastTransitionTime: '2026-01-01T00:00:00.000Z' });
    clock.advance(19);
    expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('False');
    clock.advance(1);
    expect(ready((await nodes.listNodes('default', 'c1'))[0])).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:30.000Z' });
    cloud.kill(spec.machineName);
    expect(await nodes.listNodes('default', 'c1')).toEqual([]);
  });

  it('derives readiness from launchTime, so a new reader (a restarted host) agrees at once', async () => {
    const { clock, provider } = newSim();
    await provider.create(simSpec({ machineClass: { sim: { bootSeconds: 1 } } }));
    clock.advance(45);
    const fresh = new SimulatedNodes({ provider, clock, readySeconds: 30 });
    expect(ready((await fresh.listNodes('default', 'c1'))[0])?.status).toBe('True');
  });

  it('falls back to when it first saw the instance running when there is no launchTime', async () => {
    const clock = new FakeClock();
    const instance: InstanceFact = { machineUid: 'u', instanceId: 'i-1', providerID: 'x:///z/i-1', state: 'running' };
    const provider: MachineProvider = { create: async () => instance, describe: async () => [instance], delete: async () => ({ refused: [] }) };
    const nodes = new SimulatedNodes({ provider, clock, readySeconds: 5 });
    expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('False');
    clock.advance(5);
    expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('True');
  });

  it.each([
    { state: 'stopped' as const, nodes: 1 },
    { state: 'stopping' as const, nodes: 1 },
    { state: 'shutting-down' as const, nodes: 1 },
    { state: 'pending' as const, nodes: 0 },
    { state: 'terminated' as const, nodes: 0 },
  ])('an instance $state has $nodes node(s), never Ready', async ({ state, nodes: count }) => {
    const clock = new FakeClock();
    const instance: InstanceFact = { machineUid: 'u', instanceId: 'i-1', providerID: 'x:///z/i-1', state, launchTime: '2025-01-01T00:00:00Z' };
    const provider: MachineProvider = { create: async () => instance, describe: async () => [instance], delete: async () => ({ refused: [] }) };
    const listed = await new SimulatedNodes({ provider, clock }).listNodes('default', 'c1');
    expect(listed).toHaveLength(count);
    for (const n of listed) expect(ready(n)?.status).toBe('Unknown');
  });

  it('reports a provider that cannot answer as NodeReaderUnavailableError', async () => {
    const { clock, cloud, provider } = newSim();
    cloud.throttleNext(1);
    await expect(new SimulatedNodes({ provider, clock }).listNodes('default', 'c1')).rejects.toBeInstanceOf(NodeReaderUnavailableError);
  });

  it('applies node conditions set by providerID, instance id or name until cleared', async () => {
    const { clock, provider } = newSim();
    const created = await provider.create(simSpec({ machineClass: { sim: { bootSeconds: 0 } } }));
    clock.advance(60);
    const nodes = new SimulatedNodes({ provider, clock, readySeconds: 0 });
    nodes.setNodeCondition(created.providerID, { type: 'Ready', status: 'False', reason: 'KubeletNotReady' });
    expect(ready((await nodes.listNodes('default', 'c1'))[0])).toMatchObject({ status: 'False', lastTransitionTime: '2026-01-01T00:01:00.000Z' });
    nodes.clearNodeCondition(created.providerID);
    expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('True');
    nodes.setNodeCondition(created.instanceId, { type: 'Ready', status: 'Unknown' });
    expect(ready((await nodes.listNodes('default', 'c1'))[0])?.status).toBe('Unknown');
  });
});
