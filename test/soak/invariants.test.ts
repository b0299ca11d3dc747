/**
 * The soak's invariant checks, fed planted violations: each must catch what it exists to catch, and let pass
 * what the design allows (a user's deletion, Cluster API's deadlock breaker, a remediation within its
 * short-circuit). A soak that reports zero violations is worth only as much as these.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { SimCloud, type SimSnapshot } from '../../functions/adapters/sim/index.js';
import type { ApiObject } from '../../functions/api/kind.js';
import type { Machine } from '../../functions/api/machine.js';
import { instanceViolations } from '../../soak/convergence.js';
import type { WriteContext } from '../../soak/context.js';
import { WriteLedger } from '../../soak/ledger.js';
import { FleetWatch, isReadyMachine as isReady, resolveIntOrPercent, type Violation } from '../../soak/watch.js';
import { FakeClock } from '../support/fake-clock.js';

const NS = 'soak';
const T0 = 1_000_000;

function machine(name: string, o: { md?: string; cp?: string; version?: string; ready?: boolean; deleting?: boolean } = {}): Machine {
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      finalizers: ['clusterless.dev/machine'],
      labels: {
        'clusterless.dev/cluster-name': 'c1',
        ...(o.md ? { 'clusterless.dev/deployment-name': o.md } : {}),
        ...(o.cp ? { 'clusterless.dev/control-plane': '', 'clusterless.dev/control-plane-name': o.cp } : {}),
      },
      ...(o.deleting ? { deletionTimestamp: '2030-01-01T00:00:00Z' } : {}),
    },
    spec: { clusterName: 'c1', version: o.version ?? 'v1.31.2', machineClassRef: { name: 'small' } },
    status: o.ready === false ? {} : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2030-01-01T00:00:00Z' }] },
  } as unknown as Machine;
}

const deleted = (m: Machine): Machine => ({ ...m, metadata: { ...m.metadata, deletionTimestamp: '2030-01-01T00:00:10Z' } });

function deployment(replicas: number, maxUnavailable: number | string, version = 'v1.31.2'): ApiObject {
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name: 'md', namespace: NS, uid: 'uid-md' },
    spec: {
      clusterName: 'c1',
      replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable } },
      template: { spec: { version, machineClassRef: { name: 'small' } } },
    },
  };
}

const clusterObj: ApiObject = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'c1', namespace: NS, uid: 'uid-c1' }, spec: {} };

function healthCheck(maxUnhealthy: number | string, selector: Record<string, string> = { 'clusterless.dev/deployment-name': 'md' }): ApiObject {
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineHealthCheck',
    metadata: { name: 'mhc', namespace: NS, uid: 'uid-mhc' },
    spec: { clusterName: 'c1', selector: { matchLabels: selector }, maxUnhealthy },
  };
}

/** A watch on a fake timeline; a node is Ready in the world when its record says so and it is not in `dead`. */
function newWatch(now = { t: T0 }, dead = new Set<string>()) {
  const violations: Violation[] = [];
  const watch = new FleetWatch(
    (v) => violations.push(v),
    (m) => !dead.has(m.metadata.uid ?? '') && isReady(m),
    () => now.t,
  );
  const task: WriteContext = { actor: 'task', task: 'reconcile', step: 'reconcile', startedAt: T0 + 500 };
  const seed = (...objects: ApiObject[]) => {
    for (const object of objects) watch.seen({ op: 'create', object, context: undefined });
  };
  return { watch, violations, task, seed, now };
}

describe('the rollout watch (maxUnavailable at every step)', () => {
  it('flags a reconcile that deletes an available machine below replicas - maxUnavailable', () => {
    const { watch, violations, task, seed, now } = newWatch();
    const ms = ['a', 'b', 'c'].map((n) => machine(n, { md: 'md' }));
    seed(clusterObj, deployment(3, 0), ...ms);
    now.t = T0 + 1000;
    watch.seen({ op: 'delete', object: deleted(ms[0]!), context: task });
    expect(violations.map((v) => v.invariant)).toEqual(['rollout-max-unavailable']);
  });

  it.each([
    ['a spot interruption warning', 'SpotInterruptionWarning', undefined, []],
    ['a rebalance recommendation where the pool replaces on one', 'RebalanceRecommendation', 'Replace', []],
    ['a rebalance recommendation the pool ignores (then it is a rollout deletion)', 'RebalanceRecommendation', 'Ignore', ['rollout-max-unavailable']],
  ])('a deletion on %s is judged as the interruption it is', (_name, reason, rebalance, want) => {
    const { watch, violations, task, seed, now } = newWatch();
    const ms = ['a', 'b', 'c'].map((n) => machine(n, { md: 'md' }));
    const warned: Machine = {
      ...ms[0]!,
      status: {
        ...ms[0]!.status,
        conditions: [...(ms[0]!.status?.conditions ?? []), { type: 'InterruptionNotice', status: 'True', reason, lastTransitionTime: '2030-01-01T00:00:00Z' }],
      },
    };
    const md = deployment(3, 0);
    seed(clusterObj, rebalance ? { ...md, spec: { ...(md.spec as object), spot: { rebalance } } } : md, warned, ms[1]!, ms[2]!);
    now.t = T0 + 1000;
    watch.seen({ op: 'delete', object: deleted(warned), context: task });
    expect(violations.map((v) => v.invariant)).toEqual(want);
  });

  it('lets a deletion within maxUnavailable pass, and a user deletion whatever it leaves', () => {
    const { watch, violations, task, seed } = newWatch();
    const ms = ['a', 'b', 'c'].map((n) => machine(n, { md: 'md' }));
    seed(clusterObj, deployment(3, 1), ...ms);
    watch.seen({ op: 'delete', object: deleted(ms[0]!), context: task });
    watch.seen({ op: 'delete', object: deleted(ms[1]!), context: { actor: 'api', startedAt: T0 } });
    expect(violations).toEqual([]);
  });

  it('judges by the lowest replicas - maxUnavailable in force since the task began (a user scaled down meanwhile)', () => {
    const { watch, violations, task, seed, now } = newWatch();
    const ms = ['a', 'b', 'c'].map((n) => machine(n, { md: 'md' }));
    seed(clusterObj, deployment(3, 0), ...ms);
    now.t = T0 + 700; // after the task began
    watch.seen({ op: 'update', object: deployment(2, 0), context: { actor: 'api', startedAt: T0 + 700 } });
    watch.seen({ op: 'delete', object: deleted(ms[0]!), context: task });
    expect(violations).toEqual([]);
  });

  it('judges availability in the world: a machine dead before the task began counts as unavailable, one hit after it as available', () => {
    for (const [killedAt, want] of [
      [T0 + 100, ['rollout-max-unavailable']],
      [T0 + 700, []],
    ] as const) {
      const dead = new Set<string>();
      const now = { t: T0 };
      const { watch, violations, task, seed } = newWatch(now, dead);
      const ms = ['a', 'b', 'c'].map((n) => machine(n, { md: 'md' }));
      seed(clusterObj, deployment(3, 1), ...ms);
      // c dies in the world; its record still says Ready (the reconcile has not written it yet).
      now.t = killedAt;
      watch.noteKill(ms[2]!.metadata.uid!);
      dead.add(ms[2]!.metadata.uid!);
      now.t = T0 + 1000;
      watch.seen({ op: 'delete', object: deleted(ms[0]!), context: task });
      expect(violations.map((v) => v.invariant)).toEqual(want);
    }
  });

  it("allows Cluster API's deadlock breaker: new machines all available, an old one not", () => {
    const { watch, violations, task, seed } = newWatch();
    const fresh = machine('new', { md: 'md', version: 'v1.32.0' });
    const old = [machine('old1', { md: 'md' }), machine('old2', { md: 'md', ready: false })];
    seed(clusterObj, deployment(2, 0, 'v1.32.0'), fresh, ...old);
    watch.seen({ op: 'delete', object: deleted(old[0]!), context: task });
    expect(violations).toEqual([]);
  });
});

describe('the remediation watch (short-circuit)', () => {
  /** Runs a deletion from a function named as the remediate step is, as the watch recognises it. */
  async function remediateStep(watch: FleetWatch, m: Machine, ctx: WriteContext): Promise<void> {
    await Promise.resolve();
    watch.seen({ op: 'delete', object: deleted(m), context: ctx });
  }

  it('flags a remediation while more targets than maxUnhealthy were known unhealthy', async () => {
    const { watch, violations, seed, now } = newWatch();
    const ms = ['a', 'b', 'c', 'd', 'e'].map((n) => machine(n, { md: 'md' }));
    seed(clusterObj, deployment(5, 1), healthCheck('40%'), ...ms);
    // Three killed before the task began: 3 of 5 > 40% (2), so nothing may be remediated.
    for (const m of ms.slice(0, 3)) watch.noteKill(m.metadata.uid!);
    now.t = T0 + 1000;
    await remediateStep(watch, ms[0]!, { actor: 'task', task: 'remediate', step: 'remediateStep', startedAt: T0 + 500 });
    expect(violations.map((v) => v.invariant)).toEqual(['remediation-short-circuit']);
  });

  it('lets a remediation within maxUnhealthy pass, and does not blame one on a kill made after its task began', async () => {
    const { watch, violations, seed, now } = newWatch();
    const ms = ['a', 'b', 'c', 'd', 'e'].map((n) => machine(n, { md: 'md' }));
    seed(clusterObj, deployment(5, 1), healthCheck(2), ...ms);
    watch.noteKill(ms[0]!.metadata.uid!);
    now.t = T0 + 800; // two more killed after the task began
    watch.noteKill(ms[1]!.metadata.uid!);
    watch.noteKill(ms[2]!.metadata.uid!);
    await remediateStep(watch, ms[0]!, { actor: 'task', task: 'remediate', step: 'remediateStep', startedAt: T0 + 500 });
    expect(violations).toEqual([]);
    expect(watch.counts.remediationsChecked).toBe(1);
  });

  it('recognises a control-plane remediation by the ControlPlane intent (status.lastRemediation)', () => {
    const { watch, violations, task, seed } = newWatch();
    const ms = ['p1', 'p2', 'p3'].map((n) => machine(n, { cp: 'cp' }));
    const cp = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'cp', namespace: NS },
      spec: { clusterName: 'c1', replicas: 3 },
      status: { lastRemediation: { machine: 'p1', timestamp: '2030-01-01T00:00:00Z', retryCount: 0 } },
    } as ApiObject;
    seed(clusterObj, cp, healthCheck(0, { 'clusterless.dev/control-plane-name': 'cp' }), ...ms);
    watch.seen({ op: 'delete', object: deleted(ms[0]!), context: task });
    expect(violations.map((v) => v.invariant)).toEqual(['remediation-short-circuit']);
  });
});

describe('the instance invariants', () => {
  const clock = new FakeClock(new Date('2030-01-01T00:00:00Z'));
  const record = (instanceId: string, machineUid: string, terminatedAt?: string) => ({
    instanceId,
    machineUid,
    machineName: machineUid.replace('uid-', ''),
    namespace: NS,
    clusterName: 'c1',
    role: 'worker' as const,
    version: 'v1.31.2',
    zone: 'zone-a',
    instanceType: 'sim.standard',
    clientToken: machineUid,
    privateIp: '10.0.0.1',
    launchTime: '2029-12-31T23:00:00Z',
    runningAt: '2029-12-31T23:00:10Z',
    nodeReadyAt: '2029-12-31T23:00:20Z',
    ...(terminatedAt ? { terminatedAt, stateReason: 'Sim.Killed' as const } : {}),
  });

  it('flags a machine with two live instances and a live instance without its Machine', async () => {
    const store = new MemoryStore({ clock });
    const owned = await store.create(machine('a', { md: 'md' }));
    const snapshot: SimSnapshot = {
      version: 1,
      seed: 1,
      instances: [
        record('i-1', owned.metadata.uid!),
        record('i-2', owned.metadata.uid!),
        record('i-3', 'uid-gone'),
        record('i-4', 'uid-dead', '2029-12-31T23:30:00Z'),
      ],
    };
    const cloud = new SimCloud({ clock, snapshot });
    const found = await instanceViolations(store, cloud, true);
    expect(found.map((v) => v.invariant).sort()).toEqual(['no-orphan-instance', 'one-instance-per-machine']);
    expect(found.find((v) => v.invariant === 'no-orphan-instance')?.detail?.instanceId).toBe('i-3');
    expect(found.find((v) => v.invariant === 'one-instance-per-machine')?.detail?.instances).toEqual(['i-1', 'i-2']);
    // In flight (not settled) an instance may briefly outlive its Machine; two instances never.
    expect((await instanceViolations(store, cloud, false)).map((v) => v.invariant)).toEqual(['one-instance-per-machine']);
  });
});

describe('the ledger of accepted writes', () => {
  it('flags a lost accepted write, an object gone without a DELETE and a DELETE not in effect', async () => {
    const store = new MemoryStore();
    const ledger = new WriteLedger();
    const a = await store.create(deployment(3, 0));
    ledger.accept(a, 'c1');
    const patched = await store.update({ ...a, spec: { ...(a.spec as object), replicas: 5 } });
    ledger.accept(patched, 'c1');
    // Someone (a buggy reconcile) puts the old spec back: the accepted write is lost.
    await store.update({ ...patched, spec: a.spec });
    const b = await store.create({ ...clusterObj, metadata: { name: 'c2', namespace: NS } });
    ledger.accept(b, 'c2');
    await store.delete('Cluster', NS, 'c2');
    const c = await store.create({ ...clusterObj, metadata: { name: 'c3', namespace: NS } });
    ledger.accept(c, 'c3');
    ledger.acceptDelete('Cluster', NS, 'c3');
    const found = await ledger.check(store);
    expect(found.map((v) => v.message)).toEqual([
      'MachineDeployment soak/md: the stored spec is not the one of the last accepted write',
      'Cluster soak/c2 is missing although it was never deleted',
      'Cluster soak/c3: an accepted DELETE is not in effect',
    ]);
  });

  it('orders two accepted patches by resourceVersion, not by when their answers came back', async () => {
    const store = new MemoryStore();
    const ledger = new WriteLedger();
    const a = await store.create(deployment(3, 0));
    const first = await store.update({ ...a, spec: { ...(a.spec as object), replicas: 4 } });
    const second = await store.update({ ...first, spec: { ...(a.spec as object), replicas: 5 } });
    ledger.accept(second, 'c1');
    ledger.accept(first, 'c1'); // its answer arrived last
    expect(await ledger.check(store)).toEqual([]);
  });
});

describe('resolveIntOrPercent', () => {
  it.each([
    { value: 1, total: 10, want: 1 },
    { value: '25%', total: 5, want: 1 },
    { value: '60%', total: 4, want: 2 },
    { value: undefined, total: 4, want: 7 },
  ])('$value of $total is $want', ({ value, total, want }) => {
    expect(resolveIntOrPercent(value, total, 7)).toBe(want);
  });
});
