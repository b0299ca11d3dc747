/**
 * The cluster lease under real contention: every reconcile takes it under a holder of its own
 * (invocationHolder), so two reconciles of one cluster in one process exclude each other; a reconcile renews it
 * before every pass after the first and stops when it was lost; a stepping workflow whose step finds the lease
 * taken waits and steps again instead of failing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { ForwardingStore } from '../../../functions/adapters/store/index.js';
import { noWorkloadsDrainer, type Lease } from '../../../functions/ports.js';
import {
  LEASE_SECONDS,
  LeaseHeldError,
  executionNames,
  invocationHolder,
  reconcileCluster,
  remediateStep,
  rolloutStep,
  scaledTimer,
  silentLogger,
  teardownStep,
  workflowDeps,
} from '../../../functions/workflows/index.js';
import { scaledClock } from '../../../local/scaled-clock.js';
import { FakeClock } from '../../support/fake-clock.js';
import { API, NS_PATH, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const TIME_SCALE = 40;
const P = `${NS_PATH}/default`;

/** A store that counts the reconcile leases held at once (taken and not yet given back). */
class LeaseCountingStore extends ForwardingStore {
  held = 0;
  maxHeld = 0;
  refused = 0;
  override async acquireLease(namespace: string, clusterName: string, name: string, holder: string, ttlSeconds: number): Promise<Lease | undefined> {
    const lease = await this.inner.acquireLease(namespace, clusterName, name, holder, ttlSeconds);
    if (lease) this.maxHeld = Math.max(this.maxHeld, ++this.held);
    else this.refused++;
    return lease;
  }
  override async releaseLease(namespace: string, clusterName: string, name: string, holder: string): Promise<void> {
    await this.inner.releaseLease(namespace, clusterName, name, holder);
    this.held--;
  }
}

function clusterObject(name: string): ApiObject {
  return {
    apiVersion: API,
    kind: 'Cluster',
    metadata: { name, namespace: 'default' },
    spec: { provider: { sim: { failureDomains: [] } } },
  } as unknown as ApiObject;
}

let cp: TestControlPlane | undefined;
afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

describe('the cluster lease, one holder per reconcile', () => {
  it('two concurrent reconciles of one cluster in one process never both hold the lease', async () => {
    // Prepare: the runtime's own deps (the holder the embedded host's tasks use), over a counting store.
    const clock = scaledClock({ timeScale: TIME_SCALE });
    const store = new LeaseCountingStore(new MemoryStore({ clock }));
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, store });
    await store.create(clusterObject('c1'));
    // Act
    const results = await Promise.allSettled([
      reconcileCluster(cp.runtime.deps, { namespace: 'default', clusterName: 'c1' }),
      reconcileCluster(cp.runtime.deps, { namespace: 'default', clusterName: 'c1' }),
    ]);
    // Assess
    expect(store.maxHeld).toBe(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(LeaseHeldError)]);
    expect(store.refused).toBeGreaterThan(0);
  });

  it('stops a reconcile whose lease expired and was taken before its next pass: it plans nothing more', async () => {
    // Prepare: a MachineDeployment with no MachineSet yet. The first pass creates the MachineSet, which asks for a
    // second pass; just as that create lands, the lease expires and another reconcile takes it.
    const clock = new FakeClock();
    const cloud = new SimCloud({ clock, seed: 1 });
    const inner = new MemoryStore({ clock });
    const store = new (class extends ForwardingStore {
      reads = 0;
      override async listCluster(namespace: string, clusterName: string): Promise<ApiObject[]> {
        this.reads++;
        return this.inner.listCluster(namespace, clusterName);
      }
      override async create<T extends ApiObject>(obj: T): Promise<T> {
        const created = await this.inner.create(obj);
        if (obj.kind === 'MachineSet') {
          clock.advance(LEASE_SECONDS + 1);
          expect(await this.inner.acquireLease('default', 'c2', 'reconcile', 'another-process/1', LEASE_SECONDS)).toBeDefined();
        }
        return created;
      }
    })(inner);
    // Through the API, for its defaults; its writes start no reconcile here.
    for (const [plural, object] of [
      ['machineclasses', { apiVersion: API, kind: 'MachineClass', metadata: { name: 'c2-class', namespace: 'default' }, spec: { sim: {} } }],
      ['clusters', clusterObject('c2')],
      [
        'machinedeployments',
        {
          apiVersion: API,
          kind: 'MachineDeployment',
          metadata: { name: 'c2-md', namespace: 'default' },
          spec: { clusterName: 'c2', replicas: 2, template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'c2-class' } } } },
        },
      ],
    ] as const)
      expect((await handleRequest(jsonRequest('POST', `${P}/${plural}`, object), { store: inner })).status).toBe(201);
    const deps = workflowDeps({
      store,
      provider: new SimMachineProvider(cloud),
      nodes: new SimNodeReader(cloud),
      drainer: noWorkloadsDrainer,
      clock,
      timer: scaledTimer(1),
      holder: invocationHolder('renewing'),
      log: silentLogger,
    });
    // Act
    const outcome = reconcileCluster(deps, { namespace: 'default', clusterName: 'c2' });
    // Assess: no second pass (no second read, no Machine of the new MachineSet), and the new holder keeps its lease.
    await expect(outcome).rejects.toBeInstanceOf(LeaseHeldError);
    expect(store.reads).toBe(1);
    expect(await inner.list('MachineSet', 'default')).toHaveLength(1);
    expect(await inner.list('Machine', 'default')).toEqual([]);
    expect(await inner.acquireLease('default', 'c2', 'reconcile', 'a-third-process/1', LEASE_SECONDS)).toBeUndefined();
  });

  it('gives every call a holder of its own, named after the process', () => {
    const holder = invocationHolder('host-a');
    expect([holder(), holder(), holder()]).toEqual(['host-a/1', 'host-a/2', 'host-a/3']);
  });
});

describe('a step that finds the lease taken', () => {
  const clock = scaledClock({ timeScale: TIME_SCALE });
  const store = new MemoryStore({ clock });
  const cloud = new SimCloud({ clock, seed: 1 });
  /** The waits the steps ask for, in seconds. */
  const waits: number[] = [];
  const deps = workflowDeps({
    store,
    provider: new SimMachineProvider(cloud),
    nodes: new SimNodeReader(cloud),
    drainer: noWorkloadsDrainer,
    clock,
    timer: {
      wakeAt: (seconds) => {
        waits.push(seconds);
        return scaledTimer(TIME_SCALE).wakeAt(seconds);
      },
    },
    holder: invocationHolder('steps'),
    pollSeconds: 5,
    log: silentLogger,
  });
  const common = { namespace: 'default', clusterName: 'held', executionBase: 'base', continuation: 0 };

  it.each([
    { name: 'rolloutStep', step: rolloutStep, input: { ...common, deploymentName: 'md', revision: '1', generation: 1 } },
    {
      name: 'remediateStep',
      step: remediateStep,
      input: { ...common, healthCheckName: 'mhc', machineName: 'm', machineUid: 'u', markedAt: '2026-01-01T00:00:00Z' },
    },
    { name: 'teardownStep', step: teardownStep, input: common },
  ])('$name waits one to two poll intervals and steps again, neither failing nor done', async ({ step, input }) => {
    // Prepare
    if (!(await store.get('Cluster', 'default', 'held'))) await store.create(clusterObject('held'));
    expect(await store.acquireLease('default', 'held', 'reconcile', 'another-process/1', LEASE_SECONDS)).toBeDefined();
    waits.length = 0;
    // Act: twenty steps, for the jitter to show.
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await step(deps, input));
    // Assess: never sooner than a normal poll (5 s), so that steps meeting on the lease do not spin; never
    // later than two, so the step still looks again soon.
    for (const result of results) expect(result).toMatchObject({ done: false, reason: expect.stringMatching(/holds its lease/), children: [] });
    expect(waits).toHaveLength(20);
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(5);
      expect(wait).toBeLessThan(10);
    }
    expect(new Set(waits).size).toBeGreaterThan(1);
  });
});

describe('a stepping workflow on the local engine whose lease stays taken', () => {
  it('outlasts its task retries: it waits, never records a failure, and finishes once the lease is free', async () => {
    // Prepare
    let heldSteps = 0;
    let holding = true;
    const failures: string[] = [];
    cp = await startTestControlPlane({
      timeScale: TIME_SCALE,
      taskMiddleware: async (task, input, run) => {
        if (task === 'teardown' && input.step !== 'teardownStep') failures.push(String(input.step));
        if (task === 'teardown' && input.step === 'teardownStep' && holding) heldSteps++;
        return run();
      },
    });
    for (const [plural, object] of [
      ['machineclasses', { apiVersion: API, kind: 'MachineClass', metadata: { name: 'held-class', namespace: 'default' }, spec: { sim: {} } }],
      ['clusters', clusterObject('held')],
    ] as const)
      expect((await cp.api('POST', `${P}/${plural}`, object)).status).toBe(201);
    const cluster = await cp.waitFor('the cluster reconciled', async () => {
      const c = await cp!.store.get('Cluster', 'default', 'held');
      return c?.status ? c : undefined;
    });
    // Another process takes the lease for longer than the step's retries of LeaseHeldError last (about 45 s).
    expect(await cp.store.acquireLease('default', 'held', 'reconcile', 'another-process/1', 600)).toBeDefined();
    expect((await cp.api('DELETE', `${P}/clusters/held`)).status).toBe(200);
    const name = executionNames.teardown(cluster.metadata.uid!);
    // Act
    await cp.runtime.workflows.start('delete-cluster', name, { namespace: 'default', clusterName: 'held', executionBase: name, continuation: 0 });
    const execution = () => cp!.runtime.workflows.list('delete-cluster').find((e) => e.name === name)!;
    // A first attempt and its 6 retries would have failed the workflow before the 8th step.
    await cp.waitFor('8 steps while the lease is taken, or the end of the execution', async () => heldSteps >= 8 || execution().status !== 'RUNNING');
    const whileHeld = execution().status;
    holding = false;
    await cp.store.releaseLease('default', 'held', 'reconcile', 'another-process/1');
    await cp.waitFor('the execution ends', async () => execution().status !== 'RUNNING');
    // Assess
    expect(whileHeld).toBe('RUNNING');
    expect(failures).toEqual([]);
    expect(execution().status).toBe('SUCCEEDED');
    expect(await cp.store.get('Cluster', 'default', 'held')).toBeUndefined();
  });
});
