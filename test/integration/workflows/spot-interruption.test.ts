/**
 * Spot notices on the simulated cloud, through the same path as the embedded host (SimCloud's notice ->
 * recordInterruptionNotice -> reconcile): a warned worker's replacement is Ready before the warned instance would
 * be reclaimed, and the warned node is drained and its instance terminated by us before then; a rebalance
 * recommendation in a pool that does not allow proactive replacement changes nothing but the Machine's condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { interruptionNoticeOf } from '../../../functions/core/machine/interruption.js';
import type { MachineProvider } from '../../../functions/ports.js';
import { clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { isReady, ofDeployment } from '../../support/fleet-watch.js';

const CLUSTER = 'spot';
let cp: TestControlPlane;
/** What the Machine said of its drain when its instance was terminated, by machine uid. */
const drainAtTermination = new Map<string, { drained: string | undefined; at: number }>();

function recordingDrains(machines: MachineProvider): MachineProvider {
  return {
    create: (spec, hooks) => machines.create(spec, hooks),
    describe: (ns, cluster) => machines.describe(ns, cluster),
    async delete(target) {
      const m = (await cp.list<Machine>('Machine', target.namespace)).find((x) => x.metadata.uid === target.machineUid);
      const drain = m?.status?.conditions?.find((c) => c.type === 'DrainingSucceeded');
      if (!drainAtTermination.has(target.machineUid)) drainAtTermination.set(target.machineUid, { drained: drain?.status, at: cp.clock.now().getTime() });
      return machines.delete(target);
    },
  };
}

const workers = async () => (await cp.list<Machine>('Machine', 'default')).filter(ofDeployment(`${CLUSTER}-md`));

beforeAll(async () => {
  cp = await startTestControlPlane({ timeScale: 40, wrapSimMachines: recordingDrains });
  // Boot 20 s and Ready 10 s later: a replacement is up well within the two minutes.
  await cp.apply(clusterManifests({ name: CLUSTER, workers: 3, controlPlaneReplicas: 1 }).map((m) => m.object));
  await cp.waitFor('three Ready workers', async () => {
    const w = await workers();
    return w.length === 3 && w.every(isReady);
  });
});
afterAll(() => cp?.stop());

describe('spot notices on the simulated cloud', () => {
  it('a rebalance recommendation in a pool without spec.spot.rebalance: Replace is recorded and changes nothing else', async () => {
    const before = (await workers()).map((m) => m.metadata.name).sort();
    const [target] = before;
    expect(cp.cloud!.recommendRebalance(target!, 'default')).toHaveLength(1);
    await cp.waitFor('the recommendation recorded', async () => {
      const m = await cp.store.get<Machine>('Machine', 'default', target!);
      return interruptionNoticeOf(m!)?.reason === 'RebalanceRecommendation';
    });
    await cp.runtime.sweep();
    const after = await workers();
    expect(after.map((m) => m.metadata.name).sort()).toEqual(before);
    expect(after.some((m) => m.metadata.deletionTimestamp)).toBe(false);
  });

  it('an interruption warning: the replacement is Ready and the warned node drained and terminated before EC2 would reclaim it', async () => {
    const before = await workers();
    const target = before.find((m) => !interruptionNoticeOf(m))!;
    const [warned] = cp.cloud!.interrupt(target.metadata.name, 'default');
    expect(warned).toBeDefined();
    const reclaimAt = Date.parse(cp.cloud!.instances().find((i) => i.instanceId === warned!.instanceId)!.terminatedAt!);

    const replacement = await cp.waitFor(
      'the warned machine gone and a Ready replacement',
      async () => {
        const now = await workers();
        const fresh = now.filter((m) => !before.some((b) => b.metadata.name === m.metadata.name));
        return !now.some((m) => m.metadata.name === target.metadata.name) && fresh.length === 1 && isReady(fresh[0]!) ? fresh[0] : undefined;
      },
      60_000,
    );

    // Replaced before termination: the new node was Ready before the warned instance's reclaim time.
    const fresh = cp.cloud!.instances().find((i) => i.machineUid === replacement.metadata.uid && i.state === 'running')!;
    expect(Date.parse(fresh.nodeReadyAt)).toBeLessThan(reclaimAt);
    // Drained, then terminated by us (not reclaimed by EC2), before the reclaim time.
    const old = cp.cloud!.instances().find((i) => i.instanceId === warned!.instanceId)!;
    expect(old.stateReason).toBe('Client.UserInitiatedShutdown');
    expect(Date.parse(old.terminatedAt!)).toBeLessThan(reclaimAt);
    // Started at once: the replacement was launched before the warned instance went, not after.
    expect(Date.parse(fresh.launchTime)).toBeLessThanOrEqual(Date.parse(old.terminatedAt!));
    expect(drainAtTermination.get(target.metadata.uid!)?.drained).toBe('True');
    // One replacement only, and the pool at its size.
    const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', `${CLUSTER}-md`);
    expect(await workers()).toHaveLength(md!.spec.replicas);
  });
});
