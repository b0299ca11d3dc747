/**
 * FleetUpgrade on the embedded host's runtime (the fleet-upgrade state machine on the local ASL engine, the real
 * tasks, the topology planner, the simulated cloud, a fast clock): each cluster is a managed topology of one
 * ClusterClass (one control-plane machine, one worker), upgraded for real by the topology planner. A cluster is
 * held in flight by pausing it (spec.paused: the planner leaves a paused cluster alone), released by resuming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Event } from '../../../functions/api/event.js';
import type { FleetUpgrade } from '../../../functions/api/fleet-upgrade.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import { getCondition } from '../../../functions/core/conditions.js';
import { ObjectService } from '../../../functions/api/service/index.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { API, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const TIME_SCALE = 100;
const FROM = 'v1.31.2';
const TO = 'v1.32.0';

let cp: TestControlPlane;

/** The MachineClasses and the ClusterClass of a namespace, and its clusters, converged (TopologyReconciled True). */
async function makeClusters(namespace: string, names: string[], labels: Record<string, string> = { fleet: 'yes' }): Promise<void> {
  const machineClass = (name: string) => ({
    apiVersion: API,
    kind: 'MachineClass',
    metadata: { name, namespace },
    spec: { sim: { bootSeconds: 4, nodeReadySeconds: 2 } },
  });
  await cp.apply([
    machineClass('cp-m5'),
    machineClass('worker-m5'),
    {
      apiVersion: API,
      kind: 'ClusterClass',
      metadata: { name: 'standard', namespace },
      spec: {
        controlPlane: { machineClassRef: { name: 'cp-m5' }, replicas: 1 },
        workers: { machineDeployments: [{ class: 'default-worker', template: { machineClassRef: { name: 'worker-m5' } } }] },
      },
    },
    ...names.map((name) => ({
      apiVersion: API,
      kind: 'Cluster',
      metadata: { name, namespace, labels },
      spec: { topology: { class: 'standard', version: FROM, workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 1 }] } } },
    })),
  ]);
  await cp.waitFor(
    `the clusters of ${namespace} reconciled`,
    async () => {
      for (const name of names) if (!(await reconciled(namespace, name))) return false;
      return true;
    },
    120_000,
  );
}

/** TopologyReconciled True for the Cluster's current generation. */
async function reconciled(namespace: string, name: string): Promise<boolean> {
  const c = await cp.store.get<Cluster>('Cluster', namespace, name);
  const t = getCondition(c?.status?.conditions, 'TopologyReconciled');
  return t?.status === 'True' && (t.observedGeneration ?? 0) >= (c?.metadata.generation ?? 1);
}

/** Pauses or resumes a Cluster: a paused cluster's topology is not rolled, so it stays in flight. */
async function hold(namespace: string, name: string, paused: boolean): Promise<void> {
  await cp.service.mergePatch({ kind: 'Cluster', namespace, name }, { spec: { paused } });
}

async function createUpgrade(namespace: string, spec: Record<string, unknown>): Promise<FleetUpgrade> {
  return cp.service.create<FleetUpgrade>('FleetUpgrade', namespace, {
    apiVersion: API,
    kind: 'FleetUpgrade',
    metadata: { name: 'to-1-32', namespace },
    spec: { clusterClass: 'standard', version: TO, ...spec },
  });
}

const upgrade = (namespace: string) => cp.store.get<FleetUpgrade>('FleetUpgrade', namespace, 'to-1-32');
const versionOf = async (namespace: string, name: string) => (await cp.store.get<Cluster>('Cluster', namespace, name))?.spec.topology?.version;
const entry = (fu: FleetUpgrade | undefined, name: string) => fu?.status?.clusters?.find((c) => c.name === name);

async function waitForPhase(namespace: string, phase: string): Promise<FleetUpgrade> {
  return cp.waitFor(
    `fleet upgrade in ${namespace} ${phase}`,
    async () => {
      const fu = await upgrade(namespace);
      return fu?.status?.phase === phase ? fu : undefined;
    },
    120_000,
  );
}

beforeAll(async () => {
  cp = await startTestControlPlane({ timeScale: TIME_SCALE, sweepSeconds: 600, events: true });
});

afterAll(async () => {
  await cp?.stop();
});

describe('FleetUpgrade on the embedded host', () => {
  it('succeeds at once when no cluster matches, with no wave', async () => {
    await makeClusters('fleet-none', ['other'], { fleet: 'no' });
    await createUpgrade('fleet-none', { clusterClass: undefined, clusterSelector: { matchLabels: { fleet: 'yes' } } });
    const fu = await waitForPhase('fleet-none', 'Succeeded');
    expect(fu.status?.waves).toEqual([]);
    expect(fu.status?.counts).toMatchObject({ total: 0 });
    expect(fu.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(await versionOf('fleet-none', 'other')).toBe(FROM);
  });

  it('upgrades the canary first, then each batch at most maxInFlight clusters at once, and ends Succeeded', async () => {
    const ns = 'fleet-happy';
    await makeClusters(ns, ['a', 'b', 'c', 'd', 'e']);
    for (const n of ['b', 'c', 'd']) await hold(ns, n, true);
    await createUpgrade(ns, { waves: { canary: 1, batches: ['50%', '50%'] }, maxInFlight: 2 });
    // The canary (a, first by name) is done before batch-1 (b, c, d) starts; two of batch-1 are in flight, the third waits.
    const during = await cp.waitFor('two clusters of batch-1 in flight', async () => {
      const fu = await upgrade(ns);
      return fu?.status?.clusters?.filter((c) => c.phase === 'InFlight').length === 2 ? fu : undefined;
    });
    expect(during.status?.waves?.map((w) => [w.name, w.clusters])).toEqual([
      ['canary', 1],
      ['batch-1', 3],
      ['batch-2', 1],
    ]);
    expect(entry(during, 'a')?.phase).toBe('Succeeded');
    expect(during.status?.waves?.[0]?.phase).toBe('Succeeded');
    expect(entry(during, 'b')?.phase).toBe('InFlight');
    expect(entry(during, 'c')?.phase).toBe('InFlight');
    expect(entry(during, 'd')?.phase).toBe('Pending');
    expect(await versionOf(ns, 'd')).toBe(FROM);
    expect(entry(during, 'e')?.phase).toBe('Pending');
    // Release batch-1.
    for (const n of ['b', 'c', 'd']) await hold(ns, n, false);
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(fu.status?.counts).toEqual({ total: 5, pending: 0, inFlight: 0, succeeded: 5, failed: 0, skipped: 0 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) expect(await versionOf(ns, n)).toBe(TO);
    // Done means rolled out, not merely written: the control plane runs the new version on every replica.
    const controlPlane = await cp.store.get<ControlPlane>('ControlPlane', ns, 'e-control-plane');
    expect(controlPlane?.status).toMatchObject({ version: TO, updatedReplicas: 1, readyReplicas: 1 });
    expect(fu.status?.clusters?.every((c) => c.fromVersion === FROM && c.reason === 'Upgraded')).toBe(true);
  });

  it('halts when the canary fails, before the first batch touches anything', async () => {
    const ns = 'fleet-canary';
    await makeClusters(ns, ['a', 'b', 'c']);
    // Every cluster is to move onto a ClusterClass that does not exist: the canary's TopologyReconciled turns
    // False with ClusterClassNotFound, and the upgrade must stop there.
    await createUpgrade(ns, { class: 'missing', waves: { canary: 1, batches: ['100%'] }, maxInFlight: 2 });
    const fu = await waitForPhase(ns, 'Halted');
    expect(fu.status?.reason).toBe('TooManyFailedClusters');
    expect(entry(fu, 'a')).toMatchObject({ phase: 'Failed', reason: 'ClusterClassNotFound' });
    expect(entry(fu, 'b')).toMatchObject({ phase: 'Skipped', reason: 'Halted' });
    expect(entry(fu, 'c')).toMatchObject({ phase: 'Skipped', reason: 'Halted' });
    expect(fu.status?.waves?.map((w) => w.phase)).toEqual(['Failed', 'Skipped']);
    expect(await versionOf(ns, 'b')).toBe(FROM);
    expect(await versionOf(ns, 'c')).toBe(FROM);
    expect(fu.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'TooManyFailedClusters' });
    // Told on the FleetUpgrade, as `clusterless describe` shows them.
    const events = (await cp.store.list<Event>('Event', ns)).filter((e) => e.regarding.kind === 'FleetUpgrade');
    expect(events.map((e) => [e.type, e.reason])).toEqual(
      expect.arrayContaining([
        ['Normal', 'ClusterUpgradeStarted'],
        ['Warning', 'ClusterUpgradeFailed'],
        ['Warning', 'FleetUpgradeHalted'],
      ]),
    );
    expect(events.find((e) => e.reason === 'ClusterUpgradeFailed')?.note).toContain('cluster a: ClusterClassNotFound');
    const untouched = await cp.store.get<Cluster>('Cluster', ns, 'b');
    expect(untouched?.spec.topology).toMatchObject({ class: 'standard', version: FROM });
  });

  it('touches nothing while paused, and goes on once resumed', async () => {
    const ns = 'fleet-pause';
    await makeClusters(ns, ['a', 'b']);
    await createUpgrade(ns, { paused: true });
    const paused = await waitForPhase(ns, 'Paused');
    expect(paused.status?.counts).toMatchObject({ total: 2, pending: 2 });
    expect(await versionOf(ns, 'a')).toBe(FROM);
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { paused: false } });
    await waitForPhase(ns, 'Succeeded');
    expect(await versionOf(ns, 'a')).toBe(TO);
    expect(await versionOf(ns, 'b')).toBe(TO);
  });

  it('paused mid-wave: the cluster in flight finishes, the next waits until resumed', async () => {
    const ns = 'fleet-midpause';
    await makeClusters(ns, ['a', 'b']);
    await hold(ns, 'a', true);
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] }, maxInFlight: 1 });
    await cp.waitFor('a in flight', async () => entry(await upgrade(ns), 'a')?.phase === 'InFlight');
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { paused: true } });
    await hold(ns, 'a', false);
    const paused = await waitForPhase(ns, 'Paused');
    expect(entry(paused, 'a')?.phase).toBe('Succeeded');
    expect(entry(paused, 'b')?.phase).toBe('Pending');
    expect(await versionOf(ns, 'b')).toBe(FROM);
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { paused: false } });
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(entry(fu, 'b')?.phase).toBe('Succeeded');
    expect(await versionOf(ns, 'b')).toBe(TO);
  });

  it('an abort leaves the upgraded clusters as they are and touches no more', async () => {
    const ns = 'fleet-abort';
    await makeClusters(ns, ['a', 'b', 'c']);
    await hold(ns, 'a', true);
    await createUpgrade(ns, { waves: { canary: 1, batches: ['100%'] } });
    await cp.waitFor('the canary in flight', async () => entry(await upgrade(ns), 'a')?.phase === 'InFlight');
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { abort: true } });
    await hold(ns, 'a', false);
    const fu = await waitForPhase(ns, 'Aborted');
    expect(entry(fu, 'a')?.phase).toBe('Succeeded');
    expect(entry(fu, 'b')).toMatchObject({ phase: 'Skipped', reason: 'Aborted' });
    expect(entry(fu, 'c')).toMatchObject({ phase: 'Skipped', reason: 'Aborted' });
    expect(await versionOf(ns, 'a')).toBe(TO);
    expect(await versionOf(ns, 'b')).toBe(FROM);
    // An abort cannot be taken back.
    await expect(cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { abort: false } })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.abort' })] } },
    });
  });

  it('sees an abort during the bake between waves at once, not when the bake ends', async () => {
    const ns = 'fleet-bake';
    await makeClusters(ns, ['a', 'b']);
    // A week of bake: 100 minutes of this clock, far beyond any wait of the test.
    await createUpgrade(ns, { waves: { canary: 1, batches: ['100%'] }, bakeSeconds: 7 * 24 * 3600 });
    const baking = await cp.waitFor('the canary done and baking', async () => {
      const fu = await upgrade(ns);
      return fu?.status?.waves?.[0]?.bakeUntil ? fu : undefined;
    });
    expect(entry(baking, 'a')?.phase).toBe('Succeeded');
    expect(entry(baking, 'b')?.phase).toBe('Pending');
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { abort: true } });
    const fu = await waitForPhase(ns, 'Aborted');
    expect(entry(fu, 'b')).toMatchObject({ phase: 'Skipped', reason: 'Aborted' });
    expect(await versionOf(ns, 'b')).toBe(FROM);
  });

  it('fails a cluster whose topology update the API refuses, and goes on within maxFailedClusters', async () => {
    const ns = 'fleet-refused';
    await makeClusters(ns, ['a', 'b']);
    // A version decrease is refused by the Cluster's update rules (a 422), as the user's own patch would be.
    await cp.service.mergePatch({ kind: 'Cluster', namespace: ns, name: 'a' }, { spec: { topology: { version: 'v1.32.5' } } });
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] }, maxFailedClusters: 1 });
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(entry(fu, 'a')).toMatchObject({ phase: 'Failed', reason: 'UpdateRefused' });
    expect(entry(fu, 'a')?.message).toContain('spec.topology.version');
    expect(entry(fu, 'b')?.phase).toBe('Succeeded');
    expect(fu.status?.counts).toMatchObject({ succeeded: 1, failed: 1 });
    expect(await versionOf(ns, 'a')).toBe('v1.32.5');
  });

  it('skips a cluster deleted while it upgrades; the others finish', async () => {
    const ns = 'fleet-delete';
    await makeClusters(ns, ['a', 'b']);
    for (const n of ['a', 'b']) await hold(ns, n, true);
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] }, maxInFlight: 2 });
    await cp.waitFor('both in flight', async () => (await upgrade(ns))?.status?.counts?.inFlight === 2);
    await cp.service.delete({ kind: 'Cluster', namespace: ns, name: 'b' });
    await hold(ns, 'a', false);
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(entry(fu, 'a')?.phase).toBe('Succeeded');
    expect(entry(fu, 'b')?.phase).toBe('Skipped');
    expect(['ClusterDeleting', 'ClusterDeleted']).toContain(entry(fu, 'b')?.reason);
  });

  it('refuses a change of the target once started, naming the field', async () => {
    const ns = 'fleet-happy';
    await expect(cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { version: 'v1.32.1' } })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.version' })] } },
    });
  });

  it('goes on from its status after the host restarts mid-wave', async () => {
    const ns = 'fleet-restart';
    await makeClusters(ns, ['a', 'b']);
    await hold(ns, 'a', true);
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] } });
    await cp.waitFor('a in flight', async () => entry(await upgrade(ns), 'a')?.phase === 'InFlight');
    // The host's runtime stops (its engine forgets every execution) and a new one starts over the same store and
    // cloud, as `clusterless up` does again over its data folder.
    await cp.runtime.stop();
    const restarted = new ControlPlaneRuntime({ deps: { ...cp.runtime.deps, store: cp.store }, timeScale: TIME_SCALE, sweepSeconds: 600 });
    try {
      await restarted.start();
      await new ObjectService({ store: restarted.store }).mergePatch({ kind: 'Cluster', namespace: ns, name: 'a' }, { spec: { paused: false } });
      const fu = await waitForPhase(ns, 'Succeeded');
      expect(fu.status?.clusters?.map((c) => [c.name, c.phase])).toEqual([
        ['a', 'Succeeded'],
        ['b', 'Succeeded'],
      ]);
      expect(await versionOf(ns, 'b')).toBe(TO);
    } finally {
      await restarted.stop();
    }
  });
});
