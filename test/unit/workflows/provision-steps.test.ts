/**
 * The provision-machine state machine's merged steps: Launch records the intent and then launches, Check looks for
 * the node in the call that sees the instance running. A machine whose instance and node come up at once takes
 * five Standard transitions, and the merges keep intent before action and the idempotent launch.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { LocalWorkflows, type TaskHandler } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { InstanceFact, NodeFact } from '../../../functions/core/observed.js';
import type { LaunchSpec, MachineProvider } from '../../../functions/ports.js';
import { invocationHolder, noBootstrap, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { check, provisionTask, recordIntentAndLaunch } from '../../../functions/workflows/provision-machine.js';
import { FakeClock } from '../../support/fake-clock.js';

interface World {
  input: Record<string, unknown>;
  deps: ReturnType<typeof workflowDeps>;
  store: MemoryStore;
  /** The launch requests, with the clientToken the store held when each was sent. */
  creates: { spec: LaunchSpec; tokenRecorded: string | undefined }[];
  describes: number;
  instanceState: InstanceFact['state'];
  nodeReady: boolean;
  failNextCreate: boolean;
}

async function world(): Promise<World> {
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const store = new MemoryStore({ clock });
  const meta = (name: string) => ({ name, namespace: 'default' });
  await store.create({ apiVersion: API_VERSION, kind: 'Cluster', metadata: meta('c1'), spec: { provider: { sim: {} } } } as unknown as ApiObject);
  await store.create({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta('small'), spec: { sim: {} } } as unknown as ApiObject);
  const machine = await store.create({
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: { ...meta('w-0'), labels: { 'cluster.x-k8s.io/cluster-name': 'c1' } },
    spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300 },
  } as unknown as ApiObject);
  const uid = machine.metadata.uid!;
  const instance = (): InstanceFact => ({ machineUid: uid, instanceId: 'i-1', providerID: 'sim:///i-1', state: w.instanceState });
  const provider: MachineProvider = {
    create: async (spec) => {
      const stored = await store.get<Machine>('Machine', 'default', 'w-0');
      w.creates.push({ spec, tokenRecorded: stored?.status?.infrastructure?.clientToken });
      if (w.failNextCreate) {
        w.failNextCreate = false;
        throw new Error('crashed after the request');
      }
      return instance();
    },
    describe: async () => (w.describes++, w.creates.length > 0 ? [instance()] : []),
    delete: async () => ({ refused: [] }),
  };
  const node = (): NodeFact => ({
    name: 'w-0-node',
    providerID: 'sim:///i-1',
    conditions: [{ type: 'Ready', status: w.nodeReady ? 'True' : 'False', lastTransitionTime: '2026-03-01T00:00:00Z' }],
  });
  const deps = workflowDeps({
    store,
    provider,
    bootstrap: noBootstrap,
    nodes: { listNodes: async () => [node()] },
    clock,
    timer: scaledTimer(),
    holder: invocationHolder('test'),
  });
  const w: World = {
    input: { namespace: 'default', clusterName: 'c1', machineName: 'w-0', machineUid: uid },
    deps,
    store,
    creates: [],
    describes: 0,
    instanceState: 'running',
    nodeReady: true,
    failNextCreate: false,
  };
  return w;
}

const nodeRefOf = async (w: World) => (await w.store.get<Machine>('Machine', 'default', 'w-0'))?.status?.nodeRef;

describe('provision-machine: Launch (recordIntentAndLaunch)', () => {
  it('records the ClientToken in the store before it sends the launch, then waits for the instance', async () => {
    // Prepare
    const w = await world();
    // Act
    const next = await recordIntentAndLaunch(w.deps, w.input);
    // Assess
    expect(w.creates.map((c) => [c.spec.clientToken, c.tokenRecorded])).toEqual([[w.input.machineUid, w.input.machineUid]]);
    expect(next).toMatchObject({ next: 'WaitForInstance', polls: 0 });
  });

  it('a retry after a crash in the launch sends the same ClientToken; a retry after the instance is recorded sends nothing', async () => {
    // Prepare
    const w = await world();
    w.failNextCreate = true;
    // Act
    const crashed = await recordIntentAndLaunch(w.deps, w.input).catch((e: unknown) => e);
    await recordIntentAndLaunch(w.deps, w.input);
    const again = await recordIntentAndLaunch(w.deps, w.input);
    // Assess
    expect(crashed).toBeInstanceOf(Error);
    expect(w.creates.map((c) => c.spec.clientToken)).toEqual([w.input.machineUid, w.input.machineUid]);
    expect(again).toMatchObject({ next: 'WaitForInstance' });
  });
});

describe('provision-machine: Check', () => {
  it('looks for the node in the call that sees the instance running, and records it when Ready', async () => {
    // Prepare
    const w = await world();
    await recordIntentAndLaunch(w.deps, w.input);
    // Act
    const next = await check(w.deps, { ...w.input, waitingFor: 'WaitForInstance', polls: 0 });
    // Assess
    expect(next).toMatchObject({ next: 'Done' });
    expect(await nodeRefOf(w)).toEqual({ name: 'w-0-node' });
  });

  it('waits for a node that is not Ready yet as its first node poll, then polls the node without the instance', async () => {
    // Prepare
    const w = await world();
    w.nodeReady = false;
    await recordIntentAndLaunch(w.deps, w.input);
    // Act
    const first = await check(w.deps, { ...w.input, waitingFor: 'WaitForInstance', polls: 0 });
    const describes = w.describes;
    w.nodeReady = true;
    const second = await check(w.deps, { ...w.input, waitingFor: first.next, polls: first.polls });
    // Assess
    expect(first).toMatchObject({ next: 'WaitForNode', polls: 1 });
    expect(second).toMatchObject({ next: 'Done' });
    expect(w.describes).toBe(describes);
  });

  it('keeps waiting for an instance that is still pending, without looking for its node', async () => {
    // Prepare
    const w = await world();
    w.instanceState = 'pending';
    await recordIntentAndLaunch(w.deps, w.input);
    // Act
    const next = await check(w.deps, { ...w.input, waitingFor: 'WaitForInstance', polls: 0 });
    // Assess
    expect(next).toMatchObject({ next: 'WaitForInstance', polls: 1 });
    expect(await nodeRefOf(w)).toBeUndefined();
  });

  it('refuses a waitingFor it does not know (a task input that is not what the task needs)', async () => {
    const w = await world();
    await expect(check(w.deps, { ...w.input, waitingFor: 'Somewhere', polls: 0 })).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('provision-machine on the local engine', () => {
  it('takes five Standard transitions for a machine whose instance and node come up at once, and records its node', async () => {
    // Prepare
    const w = await world();
    const entered: string[] = [];
    const provision: TaskHandler = (input) => provisionTask(w.deps, input);
    const done: TaskHandler = async () => ({ done: true, next: 'Done' });
    const engine = new LocalWorkflows({
      timeScale: 1000,
      handlers: { reconcile: done, provision, rollout: done, remediate: done, teardown: done, 'fleet-upgrade': done },
      onEvent: (wf, e) => {
        if (wf === 'provision-machine' && e.type === 'StateEntered') entered.push(e.state!.name);
      },
    });
    // Act
    await engine.start('provision-machine', 'w-0', w.input);
    await engine.idle();
    // Assess
    expect(entered).toEqual(['Launch', 'Wait', 'Check', 'NextStep', 'Done']);
    expect(engine.list('provision-machine').map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(w.creates).toHaveLength(1);
    expect(await nodeRefOf(w)).toEqual({ name: 'w-0-node' });
  });
});
