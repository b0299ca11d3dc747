/**
 * Spot notices on the process provider (ProcessCloud.notice, which the embedded host's `sim interrupt` route
 * calls for a process machine): each notice reaches the host with the machine the instance was launched for and is
 * recorded on that Machine (the path of every notice, functions/workflows/interruption.ts), a warning once per
 * instance; the warned instance is reclaimed (its programs killed, `stopped`) when its notice ends, across a
 * restart of the host too. Workers only: their boot writes kubelet credentials and starts no program, so no
 * etcd or kube-apiserver is needed to show the path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClusterCertificates, type ClusterCertificates } from '../../../functions/adapters/kubeadm/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import { interruptionNoticeOf } from '../../../functions/core/machine/interruption.js';
import type { LaunchSpec, Workflows } from '../../../functions/ports.js';
import { recordInterruptionNotice } from '../../../functions/workflows/interruption.js';
import { ProcessCloud, type ProcessInterruptionNotice } from '../../../local/process/process-cloud.js';
import { readState } from '../../../local/process/state.js';
import { waitUntil } from '../../support/wait.js';

const NS = 'default';
const CLUSTER = 'notices';
const dir = mkdtempSync(join(tmpdir(), 'clusterless-process-notices-'));
let certs: ClusterCertificates;
let cloud: ProcessCloud;
const store = new MemoryStore();
const reconciles: { name: string; input: Record<string, unknown> }[] = [];
const workflows: Workflows = { start: async (_workflow, name, input) => (reconciles.push({ name, input }), { started: true }) };
const notices: ProcessInterruptionNotice[] = [];
const stateChanges: { instanceId: string; state: string }[] = [];
const recorded: Promise<unknown>[] = [];

/** As the embedded host wires it: every notice recorded on its machine, then the cluster reconciled. */
const start = () =>
  ProcessCloud.start({
    dir,
    ca: { certificates: async () => certs },
    installationId: 'test',
    heartbeatMs: 3_600_000,
    buildBinaries: false,
    onInstanceStateChange: (c) => stateChanges.push({ instanceId: c.instanceId, state: c.state }),
    onInterruptionNotice: (n) => {
      notices.push(n);
      recorded.push(recordInterruptionNotice({ store, workflows }, n, n.kind, new Date(n.at), `notice-${notices.length}`));
    },
  });

/** A worker Machine in the store and its process instance, running. */
async function worker(name: string): Promise<{ machine: Machine; instanceId: string }> {
  const machine = (await store.create({
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: { name, namespace: NS, labels: { 'cluster.x-k8s.io/cluster-name': CLUSTER } },
    spec: { clusterName: CLUSTER, version: 'v1.34.1', machineClassRef: { name: 'local' } },
  } as unknown as ApiObject)) as Machine;
  const spec: LaunchSpec = {
    namespace: NS,
    clusterName: CLUSTER,
    machineName: name,
    machineUid: machine.metadata.uid!,
    role: 'worker',
    version: 'v1.34.1',
    clientToken: `token-${name}`,
    machineClass: { process: {} },
    clusterProvider: { process: {} },
  };
  const { instanceId } = await cloud.machines.create(spec);
  await waitUntil(`${name} running`, async () => cloud.instance(instanceId)?.state === 'running', 30_000, 20);
  return { machine, instanceId };
}

const target = (m: Machine) => ({ namespace: NS, machineName: m.metadata.name, machineUid: m.metadata.uid! });

beforeAll(async () => {
  certs = await generateClusterCertificates(new Date(), 'ecdsa-p256');
  cloud = await start();
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('spot notices on the process provider', { timeout: 60_000 }, () => {
  it('a warning: recorded on its machine once, the cluster reconciled, and the instance reclaimed (stopped) when its notice ends', async () => {
    // Prepare
    const { machine, instanceId } = await worker('w-0');
    const at = new Date('2026-12-07T10:00:00Z');

    // Act
    const sent = await cloud.notice(target(machine), 'SpotInterruptionWarning', { at, reclaimAfterMs: 1_000 });
    const again = await cloud.notice(target(machine), 'SpotInterruptionWarning', { at: new Date(at.getTime() + 5_000), reclaimAfterMs: 1_000 });
    await Promise.all(recorded);

    // Assess: one notice, for this machine, recorded with the time it was sent; a reconcile of its cluster.
    expect(sent).toEqual([expect.objectContaining({ instanceId, machineUid: machine.metadata.uid, kind: 'SpotInterruptionWarning', at: at.toISOString() })]);
    expect(again).toEqual([]);
    expect(notices.filter((n) => n.instanceId === instanceId)).toHaveLength(1);
    const stored = await store.get<Machine>('Machine', NS, 'w-0');
    expect(interruptionNoticeOf(stored!)).toEqual({
      reason: 'SpotInterruptionWarning',
      noticedAt: '2026-12-07T10:00:00Z',
      terminationTime: '2026-12-07T10:02:00Z',
    });
    expect(reconciles.at(-1)?.input).toMatchObject({ namespace: NS, clusterName: CLUSTER, trigger: 'instance-event' });
    // Reclaimed at the end of the notice: stopped, and told as a state change.
    // (the state is set before the change is told: wait for the telling)
    await waitUntil(
      'the warned instance reclaimed and told',
      async () => stateChanges.some((c) => c.instanceId === instanceId && c.state === 'stopped'),
      30_000,
      20,
    );
    expect(cloud.instance(instanceId)?.state).toBe('stopped');
    expect(await cloud.notice(target(machine), 'SpotInterruptionWarning', { at, reclaimAfterMs: 1_000 })).toEqual([]);
  });

  it('a rebalance recommendation: recorded on its machine, and the instance keeps running', async () => {
    const { machine, instanceId } = await worker('w-1');
    const sent = await cloud.notice(target(machine), 'RebalanceRecommendation', { at: new Date('2026-12-07T10:00:00Z'), reclaimAfterMs: 0 });
    await Promise.all(recorded);
    expect(sent).toEqual([expect.objectContaining({ instanceId, kind: 'RebalanceRecommendation' })]);
    expect(sent[0]!.reclaimAt).toBeUndefined();
    expect(interruptionNoticeOf((await store.get<Machine>('Machine', NS, 'w-1'))!)?.reason).toBe('RebalanceRecommendation');
    // Nothing to reclaim: no reclaim time kept, and the instance still runs.
    expect(readState(join(dir, 'state.json')).instances.find((i) => i.instanceId === instanceId)?.reclaimAt).toBeUndefined();
    expect(cloud.instance(instanceId)?.state).toBe('running');
  });

  it('sends nothing for an instance of another machine of the same name (another uid)', async () => {
    const { machine } = await worker('w-2');
    expect(await cloud.notice({ ...target(machine), machineUid: 'another-uid' }, 'SpotInterruptionWarning', { at: new Date(), reclaimAfterMs: 0 })).toEqual([]);
    expect(notices.some((n) => n.machineName === 'w-2')).toBe(false);
  });

  it('keeps a warning across a restart of the host: not started again when its time passed while down, reclaimed by the next host at its time otherwise', async () => {
    // Prepare: two warned workers, one reclaimed while the host is down, one after it is back.
    const early = await worker('w-3');
    const late = await worker('w-4');
    const [soon] = await cloud.notice(target(early.machine), 'SpotInterruptionWarning', { at: new Date(), reclaimAfterMs: 1_500 });
    const [later] = await cloud.notice(target(late.machine), 'SpotInterruptionWarning', { at: new Date(), reclaimAfterMs: 4_000 });

    // Act: the host stops before the first reclaim, and starts again after it.
    await cloud.close();
    const kept = readState(join(dir, 'state.json')).instances;
    expect(kept.find((i) => i.instanceId === early.instanceId)).toMatchObject({ state: 'running', reclaimAt: soon!.reclaimAt });
    await waitUntil('the first reclaim time passed while the host is down', async () => Date.now() > Date.parse(soon!.reclaimAt!), 10_000, 50);
    cloud = await start();

    // Assess: the one whose time passed reads stopped at once, not booted again; the other is reclaimed at its own time.
    expect(cloud.instance(early.instanceId)?.state).toBe('stopped');
    expect(cloud.instance(late.instanceId)?.reclaimAt).toBe(later!.reclaimAt);
    await waitUntil('the other reclaimed by the new host', async () => cloud.instance(late.instanceId)?.state === 'stopped', 30_000, 20);
  });
});
