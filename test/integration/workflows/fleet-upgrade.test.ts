/**
 * FleetUpgrade on the embedded host's runtime (the fleet-upgrade state machine on the local ASL engine, the real
 * tasks, the simulated cloud, a fast clock). The topology planner's progress is played by the test: it writes each
 * cluster's TopologyReconciled condition as the topology contract says the planner does (True/Reconciled once a
 * generation is rolled out, False/TopologyInvalid when it cannot be), or holds a cluster in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Event } from '../../../functions/api/event.js';
import type { FleetUpgrade } from '../../../functions/api/fleet-upgrade.js';
import { ConflictError } from '../../../functions/ports.js';
import { API, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const TIME_SCALE = 100;
const FROM = 'v1.31.2';
const TO = 'v1.32.0';

type Behaviour = 'ok' | 'fail' | 'hold';

let cp: TestControlPlane;
/** What the played topology planner does with each cluster (namespace/name); absent: ok. */
const behaviour = new Map<string, Behaviour>();
let planner: NodeJS.Timeout;
let stopped = false;

/** One pass of the played topology planner: a cluster whose generation has no TopologyReconciled yet gets one. */
async function playTopologyPlanner(): Promise<void> {
  for (const c of await cp.store.list<Cluster>('Cluster')) {
    if (!c.spec.topology || c.metadata.deletionTimestamp) continue;
    const what = behaviour.get(`${c.metadata.namespace}/${c.metadata.name}`) ?? 'ok';
    const generation = c.metadata.generation ?? 0;
    const current = c.status?.conditions?.find((k) => k.type === 'TopologyReconciled');
    if (what === 'hold' || current?.observedGeneration === generation) continue;
    const condition =
      what === 'ok'
        ? { type: 'TopologyReconciled', status: 'True' as const, reason: 'Reconciled' }
        : {
            type: 'TopologyReconciled',
            status: 'False' as const,
            reason: 'TopologyInvalid',
            message: 'spec.topology.workers: the class has no such worker class',
          };
    const others = (c.status?.conditions ?? []).filter((k) => k.type !== 'TopologyReconciled');
    try {
      await cp.store.updateStatus({
        ...c,
        status: { ...c.status, conditions: [...others, { ...condition, lastTransitionTime: new Date().toISOString(), observedGeneration: generation }] },
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}

function loop(): void {
  if (stopped) return;
  planner = setTimeout(() => void playTopologyPlanner().finally(loop), 20);
}

async function makeClusters(namespace: string, names: string[], labels: Record<string, string> = { fleet: 'yes' }): Promise<void> {
  for (const name of names)
    await cp.service.create('Cluster', namespace, {
      apiVersion: API,
      kind: 'Cluster',
      metadata: { name, namespace, labels },
      spec: { topology: { class: 'standard', version: FROM } },
    });
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
  return cp.waitFor(`fleet upgrade in ${namespace} ${phase}`, async () => {
    const fu = await upgrade(namespace);
    return fu?.status?.phase === phase ? fu : undefined;
  });
}

beforeAll(async () => {
  cp = await startTestControlPlane({ timeScale: TIME_SCALE, sweepSeconds: 600, events: true });
  loop();
});

afterAll(async () => {
  stopped = true;
  clearTimeout(planner);
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
    for (const n of ['b', 'c', 'd']) behaviour.set(`${ns}/${n}`, 'hold');
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
    for (const n of ['b', 'c', 'd']) behaviour.delete(`${ns}/${n}`);
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(fu.status?.counts).toEqual({ total: 5, pending: 0, inFlight: 0, succeeded: 5, failed: 0, skipped: 0 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) expect(await versionOf(ns, n)).toBe(TO);
    expect(fu.status?.clusters?.every((c) => c.fromVersion === FROM && c.reason === 'Upgraded')).toBe(true);
  });

  it('halts when the canary fails, before the first batch touches anything', async () => {
    const ns = 'fleet-canary';
    await makeClusters(ns, ['a', 'b', 'c']);
    behaviour.set(`${ns}/a`, 'fail');
    await createUpgrade(ns, { waves: { canary: 1, batches: ['100%'] }, maxInFlight: 2 });
    const fu = await waitForPhase(ns, 'Halted');
    expect(fu.status?.reason).toBe('TooManyFailedClusters');
    expect(entry(fu, 'a')).toMatchObject({ phase: 'Failed', reason: 'TopologyInvalid' });
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
    expect(events.find((e) => e.reason === 'ClusterUpgradeFailed')?.note).toContain('cluster a: TopologyInvalid');
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

  it('an abort leaves the upgraded clusters as they are and touches no more', async () => {
    const ns = 'fleet-abort';
    await makeClusters(ns, ['a', 'b', 'c']);
    behaviour.set(`${ns}/a`, 'hold');
    await createUpgrade(ns, { waves: { canary: 1, batches: ['100%'] } });
    await cp.waitFor('the canary in flight', async () => entry(await upgrade(ns), 'a')?.phase === 'InFlight');
    await cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { abort: true } });
    behaviour.delete(`${ns}/a`);
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
    for (const n of ['a', 'b']) behaviour.set(`${ns}/${n}`, 'hold');
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] }, maxInFlight: 2 });
    await cp.waitFor('both in flight', async () => (await upgrade(ns))?.status?.counts?.inFlight === 2);
    await cp.service.delete({ kind: 'Cluster', namespace: ns, name: 'b' });
    behaviour.delete(`${ns}/a`);
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(entry(fu, 'a')?.phase).toBe('Succeeded');
    expect(entry(fu, 'b')?.phase).toBe('Skipped');
    expect(['ClusterDeleting', 'ClusterDeleted']).toContain(entry(fu, 'b')?.reason);
  });

  it('goes on from its status after the host restarts mid-wave', async () => {
    const ns = 'fleet-restart';
    await makeClusters(ns, ['a', 'b']);
    behaviour.set(`${ns}/a`, 'hold');
    await createUpgrade(ns, { waves: { canary: 0, batches: ['100%'] } });
    await cp.waitFor('a in flight', async () => entry(await upgrade(ns), 'a')?.phase === 'InFlight');
    // The host stops (its engine forgets every execution) and a new one starts over the same store.
    await cp.stop();
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, sweepSeconds: 600, events: true, store: cp.store });
    behaviour.delete(`${ns}/a`);
    const fu = await waitForPhase(ns, 'Succeeded');
    expect(fu.status?.clusters?.map((c) => [c.name, c.phase])).toEqual([
      ['a', 'Succeeded'],
      ['b', 'Succeeded'],
    ]);
    expect(await versionOf(ns, 'b')).toBe(TO);
  });

  it('refuses a change of the target once started, naming the field', async () => {
    const ns = 'fleet-happy';
    await expect(cp.service.mergePatch({ kind: 'FleetUpgrade', namespace: ns, name: 'to-1-32' }, { spec: { version: 'v1.32.1' } })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.version' })] } },
    });
  });
});
