/**
 * provision-machine's launch and the offerings without capacity (workflows/provision-machine.ts): it hands the
 * provider the installation's unexpired marks and marks each offering the provider reports for the TTL, so the
 * next machine's launch (another Lambda: the marks live in the store, not in the process) tries it last. The marks
 * are a hint: a store that cannot read or write them leaves the launch in the class's order, never failed.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore, MemoryUnavailableOfferings } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { UNAVAILABLE_OFFERING_TTL_SECONDS } from '../../../functions/core/machine/offerings.js';
import type { LaunchSpec, MachineProvider, Offering, UnavailableOfferings } from '../../../functions/ports.js';
import { invocationHolder, noBootstrap, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { launch } from '../../../functions/workflows/provision-machine.js';
import { FakeClock } from '../../support/fake-clock.js';

const exhausted: Offering = { instanceType: 'm5.large', availabilityZone: 'zone-a', capacityType: 'spot' };

async function installation(offerings: UnavailableOfferings) {
  const clock = new FakeClock('2026-12-07T10:00:00Z');
  const store = new MemoryStore({ clock });
  const meta = (name: string) => ({ name, namespace: 'default' });
  await store.create({ apiVersion: API_VERSION, kind: 'Cluster', metadata: meta('c1'), spec: { provider: { sim: {} } } } as unknown as ApiObject);
  await store.create({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta('small'), spec: { sim: {} } } as unknown as ApiObject);
  const specs: LaunchSpec[] = [];
  const warnings: string[] = [];
  // A provider that finds no capacity for `exhausted` on every launch that does not already try it last.
  const provider: MachineProvider = {
    create: async (spec, hooks) => {
      specs.push(spec);
      if (!spec.unavailableOfferings?.length) await hooks?.offeringUnavailable?.(exhausted, 'InsufficientInstanceCapacity');
      return { machineUid: spec.machineUid, instanceId: `i-${specs.length}`, providerID: `sim:///i-${specs.length}`, state: 'pending' };
    },
    describe: async () => [],
    delete: async () => ({ refused: [] }),
  };
  // Each machine's launch builds its own deps, as each Lambda container does; only the store is shared.
  const launchMachine = async (name: string) => {
    const machine = await store.create({
      apiVersion: API_VERSION,
      kind: 'Machine',
      metadata: { ...meta(name), labels: { 'cluster.x-k8s.io/cluster-name': 'c1' } },
      spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300 },
    } as unknown as ApiObject);
    const deps = workflowDeps({
      store,
      provider,
      bootstrap: noBootstrap,
      nodes: { listNodes: async () => [] },
      clock,
      timer: scaledTimer(),
      holder: invocationHolder('test'),
      log: { info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
      unavailableOfferings: offerings,
    });
    return launch(deps, { namespace: 'default', clusterName: 'c1', machineName: name, machineUid: machine.metadata.uid! });
  };
  return { clock, specs, warnings, launchMachine };
}

describe('provision: offerings without capacity', () => {
  it("marks the offering a launch found without capacity for the TTL, and hands it to the next machine's launch until then", async () => {
    // Prepare
    const offerings = new MemoryUnavailableOfferings();
    const w = await installation(offerings);
    // Act
    await w.launchMachine('w-0');
    const marked = await offerings.list(w.clock.now());
    await w.launchMachine('w-1');
    w.clock.advance(UNAVAILABLE_OFFERING_TTL_SECONDS);
    await w.launchMachine('w-2');
    // Assess: the expired mark is gone for w-2, whose launch marks the offering again, for another TTL.
    expect(marked).toEqual([{ ...exhausted, expiresAt: '2026-12-07T10:03:00.000Z' }]);
    expect(w.specs.map((s) => s.unavailableOfferings)).toEqual([undefined, [exhausted], undefined]);
    expect(await offerings.list(w.clock.now())).toEqual([{ ...exhausted, expiresAt: '2026-12-07T10:06:00.000Z' }]);
  });

  it('launches in the class order when the marks cannot be read, and launches still when a mark cannot be written', async () => {
    // Prepare
    const broken: UnavailableOfferings = {
      list: async () => Promise.reject(new Error('store unavailable')),
      mark: async () => Promise.reject(new Error('store unavailable')),
    };
    const w = await installation(broken);
    // Act
    const out = await w.launchMachine('w-0');
    // Assess
    expect(out).toEqual({ instanceId: 'i-1' });
    expect(w.specs[0]).not.toHaveProperty('unavailableOfferings');
    expect(w.warnings).toHaveLength(2);
  });
});
