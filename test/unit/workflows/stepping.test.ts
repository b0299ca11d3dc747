/**
 * The task side of the stepping workflows: how many children one step starts, the log line of a step that
 * failed past its retries (the state machine hands the next step the failures in a row), the give-up path, and
 * the remediation mark an ending remediate execution clears.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import type { Condition } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import { getCondition } from '../../../functions/core/conditions.js';
import { noWorkloadsDrainer } from '../../../functions/ports.js';
import {
  MAX_CHILD_STARTS_PER_STEP,
  STEP_FAILED_MESSAGE,
  childStartsForStep,
  clearRemediationMark,
  executionNames,
  invocationHolder,
  rolloutStep,
  scaledTimer,
  steppingTask,
  type ChildStart,
  type Logger,
  type StepResult,
  workflowDeps,
} from '../../../functions/workflows/index.js';
import { API, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { FakeClock } from '../../support/fake-clock.js';

const provision = (i: number): ChildStart => ({ workflow: 'provision-machine', name: `provision-u${i}`, input: { machineUid: `u${i}` } });
const remediation = (i: number): ChildStart => ({ workflow: 'remediate', name: `remediate-r${i}`, input: {} });

describe('childStartsForStep', () => {
  it('hands every child asked for when there are at most 20', () => {
    const children = Array.from({ length: MAX_CHILD_STARTS_PER_STEP }, (_, i) => provision(i));
    expect(childStartsForStep(children, 7)).toEqual(children);
  });

  it('hands at most 20 per step, remediations and stepping workflows first, and every provision within ceil(n / room) steps', () => {
    // Prepare: 250 provisions (one surge of a 1,000-replica rollout) and 2 remediations.
    const children = [
      ...Array.from({ length: 125 }, (_, i) => provision(i)),
      remediation(0),
      ...Array.from({ length: 125 }, (_, i) => provision(125 + i)),
      remediation(1),
    ];
    // Act: 14 steps, ceil(250 / 18).
    const steps = Array.from({ length: 14 }, (_, iteration) => childStartsForStep(children, iteration));
    // Assess
    for (const step of steps) {
      expect(step).toHaveLength(20);
      expect(step.slice(0, 2).map((c) => c.name)).toEqual(['remediate-r0', 'remediate-r1']);
      expect(new Set(step.map((c) => c.name)).size).toBe(step.length);
    }
    expect(new Set(steps.flat().map((c) => c.name)).size).toBe(252);
  });
});

describe('the names of stepping executions', () => {
  it('leave room for the continuation suffix the state machine adds (-c1 up to -c99999999) within 80 characters', () => {
    const uid = '0123456789abcdef0123456789abcdef0123';
    const names = [
      executionNames.rollout(uid, '9'.repeat(40), 2 ** 31 - 1),
      executionNames.remediate(uid, '2026-03-01T12:00:05.123456789+00:00'),
      executionNames.teardown(uid),
    ];
    for (const name of names) expect(`${name}-c99999999`.length).toBeLessThanOrEqual(80);
  });
});

let cp: TestControlPlane | undefined;
afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

describe('a step of a large rollout', () => {
  it('asks for at most 20 child starts, and the next steps for the rest', async () => {
    // Prepare: 45 workers whose instances take a day to boot, so every reconcile asks for their provisions again.
    cp = await startTestControlPlane({ timeScale: 40 });
    const slowClass = { apiVersion: API, kind: 'MachineClass', metadata: { name: 'slow', namespace: 'default' }, spec: { sim: { bootSeconds: 86_400 } } };
    const md = {
      apiVersion: API,
      kind: 'MachineDeployment',
      metadata: { name: 'many-slow', namespace: 'default' },
      spec: { clusterName: 'many', replicas: 45, template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'slow' } } } },
    };
    const objects = [...clusterManifests({ name: 'many', controlPlaneReplicas: 1, workers: 0 }).map((m) => m.object), slowClass, md];
    expect((await cp.apply(objects)).map((a) => a.result)).toEqual(objects.map(() => 'created'));
    const workers = await cp.waitFor('45 workers provisioning', async () => {
      const machines = (await cp!.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'many-slow');
      return machines.length === 45 && machines.every((m) => m.status?.phase === 'Provisioning') ? machines : undefined;
    });
    const input = {
      namespace: 'default',
      clusterName: 'many',
      deploymentName: 'many-slow',
      revision: '1',
      generation: 1,
      executionBase: 'rollout-many',
      continuation: 0,
    };
    // Act: three steps (each retried while the host's own reconciles hold the lease).
    const steps: StepResult[] = [];
    for (const iteration of [0, 1, 2])
      steps.push(
        await cp.waitFor(`step ${iteration}`, async () => {
          const r = await rolloutStep(cp!.runtime.deps, { ...input, iteration });
          return r.reason === 'rolling out' ? r : undefined;
        }),
      );
    // Assess
    for (const step of steps) expect(step.children.length).toBeLessThanOrEqual(20);
    const provisioned = new Set(steps.flatMap((s) => s.children.filter((c) => c.workflow === 'provision-machine').map((c) => c.input.machineUid)));
    expect(provisioned).toEqual(new Set(workers.map((m) => m.metadata.uid)));
  }, 120_000);
});

/** Deps over a memory store and the simulator, with a logger that keeps what it is told. */
function depsWithLog() {
  const clock = new FakeClock();
  const cloud = new SimCloud({ clock, seed: 1 });
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (message, fields) => lines.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  const store = new MemoryStore({ clock });
  const deps = workflowDeps({
    store,
    provider: new SimMachineProvider(cloud),
    nodes: new SimNodeReader(cloud),
    drainer: noWorkloadsDrainer,
    clock,
    timer: scaledTimer(1),
    holder: invocationHolder('t'),
    log,
  });
  return { deps, store, clock, lines };
}

const stepInput = {
  step: 'rolloutStep',
  namespace: 'default',
  clusterName: 'gone',
  deploymentName: 'md',
  revision: '1',
  generation: 1,
  executionBase: 'rollout-x',
  continuation: 0,
  iteration: 3,
};

describe('the log line of a step that failed past its retries', () => {
  it(`is "${STEP_FAILED_MESSAGE}", written once by the next step with the failures in a row and the last error`, async () => {
    // Prepare
    const { deps, lines } = depsWithLog();
    const error = { Error: 'States.Timeout', Cause: 'the task timed out' };
    // Act: the step after two failed ones, then one after a step that succeeded.
    const result = (await steppingTask('rolloutStep')(deps, { ...stepInput, failures: 2, lastError: error })) as StepResult;
    await steppingTask('rolloutStep')(deps, { ...stepInput, failures: 0, lastError: null });
    // Assess: the step itself ran (and found its MachineDeployment gone).
    expect(result).toMatchObject({ done: true, reason: 'the MachineDeployment is gone or being deleted' });
    expect(lines.filter((l) => l.message === STEP_FAILED_MESSAGE)).toEqual([
      {
        level: 'warn',
        message: STEP_FAILED_MESSAGE,
        fields: expect.objectContaining({ namespace: 'default', clusterName: 'gone', executionBase: 'rollout-x', failuresInARow: 2, error }),
      },
    ]);
  });

  it('is written by the recordStepFailure of executions of older definitions still running, which step again', async () => {
    // Prepare
    const { deps, lines } = depsWithLog();
    // Act
    const result = await steppingTask('teardownStep')(deps, {
      step: 'recordStepFailure',
      namespace: 'default',
      clusterName: 'c',
      executionBase: 'delete-x',
      continuation: 2,
      error: { Error: 'Boom' },
    });
    // Assess: what the older definitions read (done, wakeAt, continueAs), and the line.
    expect(result).toMatchObject({ done: false, continueAs: 'delete-x-c3', children: [], wakeAt: expect.any(String) });
    expect(lines.map((l) => l.message)).toEqual([STEP_FAILED_MESSAGE]);
  });
});

/** A worker machine of cluster c, marked for remediation at `markedAt`. */
async function markedMachine(store: MemoryStore, markedAt: string): Promise<Machine> {
  const created = await store.create<Machine>({
    apiVersion: API,
    kind: 'Machine',
    metadata: { name: 'w1', namespace: 'default', labels: { 'clusterless.dev/cluster-name': 'c' } },
    spec: { clusterName: 'c', version: 'v1.31.2', machineClassRef: { name: 'k' } },
  } as unknown as Machine);
  const conditions: Condition[] = [
    { type: 'HealthCheckSucceeded', status: 'False', reason: 'UnhealthyNode', lastTransitionTime: markedAt },
    { type: 'OwnerRemediated', status: 'False', reason: 'WaitingForRemediation', lastTransitionTime: markedAt },
  ];
  return store.updateStatus({ ...created, status: { ...created.status, conditions } } as ApiObject) as Promise<Machine>;
}

const ownerRemediated = async (store: MemoryStore) =>
  getCondition((await store.get<Machine>('Machine', 'default', 'w1'))?.status?.conditions, 'OwnerRemediated');

describe('clearRemediationMark', () => {
  it("clears the mark of its own episode, and leaves another episode's alone", async () => {
    // Prepare
    const { deps, store } = depsWithLog();
    const machine = await markedMachine(store, '2026-01-01T00:00:00Z');
    // Act
    const other = await clearRemediationMark(deps, 'default', 'w1', machine.metadata.uid!, '2025-12-31T23:00:00Z');
    const afterOther = await ownerRemediated(store);
    const own = await clearRemediationMark(deps, 'default', 'w1', machine.metadata.uid!, '2026-01-01T00:00:00Z');
    // Assess: the health check's own condition stays; only the mark goes.
    expect([other, own]).toEqual([false, true]);
    expect(afterOther).toMatchObject({ status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(await ownerRemediated(store)).toBeUndefined();
    expect(getCondition((await store.get<Machine>('Machine', 'default', 'w1'))?.status?.conditions, 'HealthCheckSucceeded')).toMatchObject({ status: 'False' });
  });

  it('leaves a machine of the same name but another uid alone', async () => {
    const { deps, store } = depsWithLog();
    await markedMachine(store, '2026-01-01T00:00:00Z');
    expect(await clearRemediationMark(deps, 'default', 'w1', 'another-uid', '2026-01-01T00:00:00Z')).toBe(false);
    expect(await ownerRemediated(store)).toMatchObject({ status: 'False' });
  });
});

describe('the give-up path (recordFailure)', () => {
  it('logs that the workflow gave up, not the step-failure line, and a remediation clears the mark it was named after', async () => {
    // Prepare
    const { deps, store, lines } = depsWithLog();
    const machine = await markedMachine(store, '2026-01-01T00:00:00Z');
    // Act
    await steppingTask('remediateStep')(deps, {
      step: 'recordFailure',
      error: { Error: 'ValidationError', Cause: 'bad input' },
      namespace: 'default',
      clusterName: 'c',
      healthCheckName: 'mhc',
      machineName: 'w1',
      machineUid: machine.metadata.uid,
      markedAt: '2026-01-01T00:00:00Z',
      executionBase: 'remediate-x',
    });
    // Assess
    expect(lines.filter((l) => l.level !== 'info').map((l) => [l.level, l.message])).toEqual([['error', 'stepping workflow gave up']]);
    expect(await ownerRemediated(store)).toBeUndefined();
  });
});
