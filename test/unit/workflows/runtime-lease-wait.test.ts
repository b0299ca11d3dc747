/**
 * The embedded host's trigger when the cluster's reconcile waits out a held lease: reconcile-cluster's Reconcile
 * state retries a LeaseHeldError after its Retry interval, and a change that arrives once the lease is free (a
 * remediation's delete follows its step's release) starts a reconcile at once, as the stream starts one per change
 * on AWS; a change while the lease is still held only marks the cluster for one more, as any change meanwhile does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { invocationHolder, scaledTimer, silentLogger, workflowDeps } from '../../../functions/workflows/index.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { FakeClock } from '../../support/fake-clock.js';

const NS = 'default';
const OTHER = 'a-stepping-step/1';

/** Told of each Reconcile attempt refused the lease, by cluster (each test has its own). */
const refusedBy = new Map<string, () => void>();
let rt: ControlPlaneRuntime;

beforeAll(() => {
  const clock = new FakeClock();
  const cloud = new SimCloud({ clock, seed: 1 });
  rt = new ControlPlaneRuntime({
    deps: workflowDeps({
      store: new MemoryStore({ clock }),
      provider: new SimMachineProvider(cloud),
      nodes: new SimNodeReader(cloud),
      clock,
      timer: scaledTimer(20),
      holder: invocationHolder('test-host'),
      log: silentLogger,
    }),
    // Retry intervals of 50 ms: the refused reconcile retries while the test looks, not a second later.
    timeScale: 20,
    sweepSeconds: 1e6,
    taskMiddleware: async (task, input, run) => {
      try {
        return await run();
      } catch (err) {
        if (task === 'reconcile' && (err as Error).name === 'LeaseHeldError') refusedBy.get(String(input['clusterName']))?.();
        throw err;
      }
    },
  });
});
afterAll(() => rt.stop());

function cluster(name: string) {
  const nextRefusal = () => new Promise<void>((resolve) => refusedBy.set(name, resolve));
  const reconciles = () => rt.workflows.list('reconcile-cluster').filter((r) => r.input?.['clusterName'] === name);
  const idle = async () => {
    while (reconciles().some((r) => r.status === 'RUNNING')) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { nextRefusal, reconciles, idle };
}

/** Lets the runtime see the refusal (its handler runs after the test's middleware has rethrown). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ControlPlaneRuntime trigger while the reconcile waits out a held lease', () => {
  it('starts the reconcile of a change that arrives once the lease is released, without waiting for the refused one', async () => {
    const CLUSTER = 'c1';
    const { nextRefusal, reconciles, idle } = cluster(CLUSTER);
    expect(await rt.store.acquireLease(NS, CLUSTER, 'reconcile', OTHER, 300)).toBeDefined();
    const refusal = nextRefusal();
    rt.trigger(NS, CLUSTER);
    await refusal;
    await settle();
    // Still held: a change only marks the cluster for one more reconcile.
    rt.trigger(NS, CLUSTER);
    expect(reconciles()).toHaveLength(1);

    await rt.store.releaseLease(NS, CLUSTER, 'reconcile', OTHER);
    // The change that waited starts its reconcile on the release; the refused one is still waiting.
    expect(reconciles()).toHaveLength(2);
    expect(reconciles()[0]!.status).toBe('RUNNING');
    await idle();
    expect(reconciles().map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('starts the reconcile of a change made after the release at once, and one more after it for changes while it runs', async () => {
    const CLUSTER = 'c2';
    const { nextRefusal, reconciles, idle } = cluster(CLUSTER);
    expect(await rt.store.acquireLease(NS, CLUSTER, 'reconcile', OTHER, 300)).toBeDefined();
    const refusal = nextRefusal();
    rt.trigger(NS, CLUSTER);
    await refusal;
    await settle();
    // Nothing changed meanwhile: the release alone starts nothing (the refused one retries as it would).
    await rt.store.releaseLease(NS, CLUSTER, 'reconcile', OTHER);
    expect(reconciles()).toHaveLength(1);

    rt.trigger(NS, CLUSTER);
    expect(reconciles()).toHaveLength(2);
    expect(reconciles()[0]!.status).toBe('RUNNING');
    // The reconcile just started is the cluster's running one: a change now waits for it, as any change does.
    rt.trigger(NS, CLUSTER);
    expect(reconciles()).toHaveLength(2);
    await idle();
    expect(reconciles()).toHaveLength(3);
    expect(reconciles().every((r) => r.status === 'SUCCEEDED')).toBe(true);
  });

  it('starts no second reconcile for changes while the lease is held, by its first holder or by another after a release', async () => {
    const CLUSTER = 'c3';
    const { nextRefusal, reconciles } = cluster(CLUSTER);
    expect(await rt.store.acquireLease(NS, CLUSTER, 'reconcile', OTHER, 300)).toBeDefined();
    const refusal = nextRefusal();
    rt.trigger(NS, CLUSTER);
    await refusal;
    await settle();
    await rt.store.releaseLease(NS, CLUSTER, 'reconcile', OTHER);
    expect(await rt.store.acquireLease(NS, CLUSTER, 'reconcile', 'another-step/2', 300)).toBeDefined();
    for (let i = 0; i < 5; i++) rt.trigger(NS, CLUSTER);
    expect(reconciles()).toHaveLength(1);
  });
});
