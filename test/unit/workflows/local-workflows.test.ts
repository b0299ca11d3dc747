import { describe, expect, it } from 'vitest';
import { LocalWorkflows, type TaskHandler } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import { childStartsForStep } from '../../../functions/workflows/stepping.js';
import type { TaskFunctionName } from '../../../statemachines/loader.js';
import { FakeClock } from '../../support/fake-clock.js';

const soon = () => new Date(Date.now() + 5).toISOString();
const done: TaskHandler = async () => ({ done: true, next: 'Done' });
const allDone = { reconcile: done, provision: done, rollout: done, remediate: done, teardown: done, 'fleet-upgrade': done };

function engine(handlers: Partial<Record<TaskFunctionName, TaskHandler>>, events: string[] = []) {
  return new LocalWorkflows({
    timeScale: 1000,
    handlers: { reconcile: done, provision: done, rollout: done, remediate: done, teardown: done, 'fleet-upgrade': done, ...handlers },
    onEvent: (wf, e) => events.push(`${wf}:${e.type}:${e.state?.name ?? ''}`),
  });
}

describe('LocalWorkflows', () => {
  it('starts the children the reconcile task asks for, each once, by deterministic name', async () => {
    // Prepare
    const provisioned: string[] = [];
    const child = { workflow: 'provision-machine', name: 'm-1', input: { namespace: 'default', clusterName: 'c', machineName: 'm', machineUid: 'u' } };
    const wf = engine({
      reconcile: async () => ({ children: [child, child] }),
      provision: async (e) => {
        provisioned.push(String(e.step));
        return { next: 'Done', wakeAt: soon(), polls: 0 };
      },
    });
    // Act
    await wf.start('reconcile-cluster', 'r1', { namespace: 'default', clusterName: 'c', trigger: 't' });
    await wf.idle();
    const again = await wf.start('provision-machine', 'm-1', child.input);
    // Assess
    expect(provisioned).toEqual(['recordIntentAndLaunch', 'check']);
    expect(wf.list('provision-machine').map((e) => [e.name, e.status])).toEqual([['m-1', 'SUCCEEDED']]);
    expect(again).toEqual({ started: false });
  });

  it('retries a task that throws a named transient error, and records a failure caught by name', async () => {
    let launches = 0;
    const failures: unknown[] = [];
    const events: string[] = [];
    const wf = engine(
      {
        provision: async (e) => {
          if (e.step === 'recordIntentAndLaunch') {
            launches++;
            throw Object.assign(new Error(launches === 1 ? 'slow down' : 'bad ami'), { name: launches === 1 ? 'ThrottledError' : 'InvalidSpecError' });
          }
          if (e.step === 'recordFailure') failures.push(e.error);
          return {};
        },
      },
      events,
    );
    await wf.start('provision-machine', 'm-2', { namespace: 'default', clusterName: 'c', machineName: 'm', machineUid: 'u' });
    await wf.idle();
    // One retry for throttling, none for an invalid spec, which goes to RecordFailure.
    expect(launches).toBe(2);
    expect(events.filter((e) => e.startsWith('provision-machine:StateRetried'))).toHaveLength(1);
    expect(failures).toEqual([expect.objectContaining({ Error: 'InvalidSpecError' })]);
    expect(wf.list('provision-machine')[0]!.status).toBe('FAILED');
  });

  it('continues a long loop as a new execution after the bounded number of steps', async () => {
    const steps: string[] = [];
    const wf = engine({
      rollout: async (e) => {
        steps.push(`${String(e.continuation)}:${String(e.iteration)}`);
        const finished = e.continuation === 1 && e.iteration === 1;
        return { done: finished, wakeAt: soon() };
      },
    });
    await wf.start('rolling-upgrade', 'md-x', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'md-x',
      continuation: 0,
    });
    await wf.idle();
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([
      ['md-x', 'SUCCEEDED'],
      ['md-x-c1', 'SUCCEEDED'],
    ]);
    // 61 steps (iterations 0..60) in the first execution, then 2 in the continuation.
    expect(steps.filter((s) => s.startsWith('0:'))).toHaveLength(61);
    expect(steps.slice(-2)).toEqual(['1:0', '1:1']);
  });

  it('a stepping workflow whose steps fail past their retries waits 30 s doubling to 15 minutes, with no task in between, and a step that succeeds starts the count over', async () => {
    // Prepare: by iteration, 7 steps fail in a row (every attempt crashes: 1 + 3 retries of States.TaskFailed),
    // one succeeds, one fails, and the last is done.
    const script = ['fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'ok', 'fail', 'done'];
    const calls: string[] = [];
    const handed = new Map<number, { failures: unknown; lastError: unknown }>();
    const events: string[] = [];
    const wf = engine(
      {
        rollout: async (e) => {
          calls.push(String(e.step));
          const iteration = Number(e.iteration);
          if (!handed.has(iteration)) handed.set(iteration, { failures: e.failures, lastError: e.lastError });
          if (script[iteration] === 'fail') throw Object.assign(new Error('crash'), { name: 'InjectedTaskCrash' });
          return { done: script[iteration] === 'done', reason: script[iteration], wakeAt: soon(), children: [] };
        },
      },
      events,
    );
    // Act
    await wf.start('rolling-upgrade', 'md-f', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'md-f',
      continuation: 0,
    });
    await wf.idle();
    // Assess: the execution kept its work (and its name) going, and ended done.
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([['md-f', 'SUCCEEDED']]);
    // Only steps ran: no task records a failure (it would fail as the step did).
    expect(new Set(calls)).toEqual(new Set(['rolloutStep']));
    expect(calls).toHaveLength(8 * 4 + 2);
    // The waits: 30 s doubling per failure in a row up to 15 minutes, the poll after a step that succeeded, and
    // 30 s again for the next failure.
    const waits = events.filter((e) => /^rolling-upgrade:StateEntered:(Backoff\d+|Wait)$/.test(e)).map((e) => e.split(':')[2]);
    expect(waits).toEqual(['Backoff30', 'Backoff60', 'Backoff120', 'Backoff240', 'Backoff480', 'Backoff900', 'Backoff900', 'Wait', 'Backoff30']);
    // Each step is handed how many steps failed in a row before it and the last error, to log.
    expect([...handed.entries()].map(([i, h]) => [i, h.failures])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
      [6, 6],
      [7, 7],
      [8, 0],
      [9, 1],
    ]);
    expect(handed.get(7)!.lastError).toMatchObject({ Error: 'InjectedTaskCrash' });
    expect(handed.get(8)!.lastError).toBeNull();
  });

  it('a child start that fails past its retries fails neither the step nor the execution: it steps on and finishes', async () => {
    // Prepare: every start of a provision-machine execution is refused (the account's execution limit).
    let refused = 0;
    class FullAccount extends LocalWorkflows {
      override async start(workflow: Parameters<LocalWorkflows['start']>[0], name: string, input: Record<string, unknown>) {
        if (workflow === 'provision-machine') {
          refused++;
          throw Object.assign(new Error('limit'), { name: 'StepFunctions.ExecutionLimitExceededException' });
        }
        return super.start(workflow, name, input);
      }
    }
    const steps: number[] = [];
    const child = { workflow: 'provision-machine', name: 'p-1', input: { namespace: 'default', clusterName: 'c', machineName: 'm', machineUid: 'u' } };
    const wf = new FullAccount({
      timeScale: 1000,
      handlers: {
        reconcile: done,
        provision: done,
        remediate: done,
        teardown: done,
        'fleet-upgrade': done,
        rollout: async (e) => {
          steps.push(Number(e.iteration));
          return { done: e.iteration === 2, reason: 'r', wakeAt: soon(), children: [child] };
        },
      },
    });
    // Act
    await wf.start('rolling-upgrade', 'md-c', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'md-c',
      continuation: 0,
    });
    await wf.idle();
    // Assess: each step tried the start (1 + 4 retries), and the execution went on to its end.
    expect(refused).toBe(3 * 5);
    expect(steps).toEqual([0, 1, 2]);
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([['md-c', 'SUCCEEDED']]);
  });

  it.each([
    { workflow: 'rolling-upgrade' as const, task: 'rollout' as const, input: { deploymentName: 'md' }, defaults: { revision: '', generation: 0 } },
    {
      workflow: 'remediate' as const,
      task: 'remediate' as const,
      input: { healthCheckName: 'mhc', machineName: 'm' },
      defaults: { machineUid: '', markedAt: '' },
    },
    { workflow: 'delete-cluster' as const, task: 'teardown' as const, input: {}, defaults: {} },
  ])(
    '$workflow continued from an older definition (its input without the newer fields) steps with their defaults, rather than fail',
    async ({ workflow, task, input, defaults }) => {
      // Prepare: the input the first definitions' ContinueAsNew sent.
      const handed: Record<string, unknown>[] = [];
      const wf = engine({
        [task]: async (e: Record<string, unknown>) => {
          handed.push(e);
          return { done: true, reason: 'r', wakeAt: soon(), children: [] };
        },
      });
      // Act
      await wf.start(workflow, 'old-c1', { namespace: 'default', clusterName: 'c', executionBase: 'old', continuation: 1, ...input });
      await wf.idle();
      // Assess
      expect(wf.list(workflow).map((e) => [e.status, e.error])).toEqual([['SUCCEEDED', undefined]]);
      expect(handed).toEqual([
        expect.objectContaining({ step: expect.any(String), namespace: 'default', executionBase: 'old', continuation: 1, ...input, ...defaults }),
      ]);
    },
  );

  it('keeps a rollout execution that is asked for 250 children every step under 25,000 history events: 20 starts per step', async () => {
    // Prepare: a 1,000-replica rollout asks about 250 provisions per step (the machines of one surge, Pending
    // or Provisioning); the task hands the state machine this step's share of them.
    const asked = Array.from({ length: 250 }, (_, i) => ({
      workflow: 'provision-machine' as const,
      name: `p-${i}`,
      input: { namespace: 'default', clusterName: 'c', machineName: `m-${i}`, machineUid: `u-${i}` },
    }));
    let events = 0;
    const started = new Set<string>();
    const wf = new LocalWorkflows({
      timeScale: 1000,
      handlers: {
        reconcile: done,
        provision: async (e) => {
          started.add(String(e.machineUid));
          return { next: 'Done' };
        },
        remediate: done,
        teardown: done,
        'fleet-upgrade': done,
        // 61 steps (iterations 0 to 60): the longest an execution runs before it continues as new.
        rollout: async (e) => {
          const last = e.iteration === 60;
          return { done: last, reason: 'r', wakeAt: soon(), children: last ? [] : childStartsForStep(asked, Number(e.iteration)) };
        },
      },
      onEvent: (wf) => {
        if (wf === 'rolling-upgrade') events++;
      },
    });
    // Act
    await wf.start('rolling-upgrade', 'md-big', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'md-big',
      continuation: 0,
    });
    await wf.idle();
    // Assess: the local engine records 9 events per child start that Step Functions records in about 11, so
    // 20,000 here is about 24,400 there, under the 25,000 limit; every child was started along the way.
    expect(wf.list('rolling-upgrade').map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(events).toBeLessThan(20_000);
    expect(started.size).toBe(250);
  }, 120_000);

  it('a continuation that cannot be started yet is tried again after a poll interval and another step, not left unstarted', async () => {
    // Prepare: StartExecution of the continuation fails past its 4 retries once (5 attempts), then works.
    let refusals = 5;
    class FlakyStarts extends LocalWorkflows {
      override async start(workflow: Parameters<LocalWorkflows['start']>[0], name: string, input: Record<string, unknown>) {
        if (name.endsWith('-c1') && refusals-- > 0) throw Object.assign(new Error('limit'), { name: 'StepFunctions.ExecutionLimitExceededException' });
        return super.start(workflow, name, input);
      }
    }
    const states: string[] = [];
    const wf = new FlakyStarts({
      timeScale: 1000,
      onEvent: (wf, e) => {
        if (wf === 'rolling-upgrade' && e.type === 'StateEntered' && ['Step', 'Wait', 'ContinueAsNew', 'ContinueLater'].includes(e.state?.name ?? ''))
          states.push(e.state!.name);
      },
      handlers: {
        reconcile: done,
        provision: done,
        remediate: done,
        teardown: done,
        'fleet-upgrade': done,
        rollout: async (e) => ({ done: e.continuation === 1, reason: 'r', wakeAt: soon(), children: [] }),
      },
    });
    // Act
    await wf.start('rolling-upgrade', 'md-s', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'md-s',
      continuation: 0,
    });
    await wf.idle();
    // Assess
    expect(refusals).toBeLessThan(0);
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([
      ['md-s', 'SUCCEEDED'],
      ['md-s-c1', 'SUCCEEDED'],
    ]);
  });

  it('stop() aborts running executions and refuses new ones', async () => {
    const wf = engine({ rollout: async () => ({ done: false, wakeAt: new Date(Date.now() + 60_000).toISOString() }) });
    await wf.start('rolling-upgrade', 'slow', {
      namespace: 'default',
      clusterName: 'c',
      deploymentName: 'md',
      revision: '1',
      generation: 1,
      executionBase: 'slow',
      continuation: 0,
    });
    await wf.stop();
    expect(wf.list()[0]!.status).toBe('ABORTED');
    expect(await wf.start('remediate', 'r', {})).toEqual({ started: false });
  });
});

describe('LocalWorkflows: the records of executions (ExecutionRetention)', () => {
  const machine = (uid: string) => ({ namespace: 'default', clusterName: 'c', machineName: `m-${uid}`, machineUid: uid });
  const provisioned = async () => ({ next: 'Done', wakeAt: soon(), polls: 0 });
  const rollout = (base: string) => ({
    namespace: 'default',
    clusterName: 'c',
    deploymentName: 'md',
    revision: '1',
    generation: 1,
    executionBase: base,
    continuation: 0,
  });
  /** A task that waits until `open` is called. */
  function gate() {
    let open: () => void = () => {};
    const opened = new Promise<void>((r) => (open = r));
    let entered: () => void = () => {};
    const waiting = new Promise<void>((r) => (entered = r));
    return { open, waiting, pass: () => (entered(), opened) };
  }
  const named = (wf: LocalWorkflows, workflow?: Parameters<LocalWorkflows['list']>[0]) => wf.list(workflow).map((e) => `${e.name} ${e.status}`);

  it('keeps a finished execution, refusing its name, for maxAgeMs after it ended; then drops it and the name starts anew', async () => {
    // Prepare
    const clock = new FakeClock();
    const wf = new LocalWorkflows({ timeScale: 1000, clock, retention: { maxAgeMs: 60_000 }, handlers: { ...allDone, provision: provisioned } });
    await wf.start('provision-machine', 'provision-a', machine('a'));
    await wf.idle();
    // Act, Assess: refused while kept
    clock.advance(59);
    expect(await wf.start('provision-machine', 'provision-a', machine('a'))).toEqual({ started: false });
    expect(named(wf)).toEqual(['provision-a SUCCEEDED']);
    // Past the bound: gone from every reader, and the name runs again (Step Functions after its 90 days)
    clock.advance(1);
    expect(await wf.start('provision-machine', 'provision-a', machine('a'))).toEqual({ started: true });
    expect(named(wf)).toEqual(['provision-a RUNNING']);
    await wf.idle();
  });

  it('keeps the newest maxFinished finished executions, dropping the one that ended first', async () => {
    const wf = new LocalWorkflows({ timeScale: 1000, retention: { maxFinished: 2 }, handlers: { ...allDone, provision: provisioned } });
    for (const uid of ['a', 'b', 'c']) {
      await wf.start('provision-machine', `provision-${uid}`, machine(uid));
      await wf.idle();
    }
    expect(named(wf)).toEqual(['provision-b SUCCEEDED', 'provision-c SUCCEEDED']);
    expect(await wf.start('provision-machine', 'provision-b', machine('b'))).toEqual({ started: false });
  });

  it('never drops a running execution: a second start of its name with its input starts nothing, another input is refused', async () => {
    // Prepare: nothing finished is kept; one execution waits in its task
    const held = gate();
    let launches = 0;
    const wf = new LocalWorkflows({
      timeScale: 1000,
      retention: { maxAgeMs: 0, maxFinished: 0 },
      handlers: {
        ...allDone,
        provision: async (e) => {
          if (e.machineUid === 'slow' && e.step === 'recordIntentAndLaunch') {
            launches++;
            await held.pass();
          }
          return provisioned();
        },
      },
    });
    await wf.start('provision-machine', 'provision-slow', machine('slow'));
    await held.waiting;
    // Act: others start and finish (each end drops what is past the retention)
    for (const uid of ['a', 'b']) await wf.start('provision-machine', `provision-${uid}`, machine(uid));
    await expect.poll(() => wf.runningCount).toBe(1);
    const whileRunning = named(wf);
    const again = await wf.start('provision-machine', 'provision-slow', machine('slow'));
    const otherInput = await wf.start('provision-machine', 'provision-slow', { ...machine('slow'), machineName: 'other' });
    held.open();
    await wf.idle();
    // Assess
    expect(whileRunning).toEqual(['provision-slow RUNNING']);
    expect(again).toEqual({ started: true });
    expect(otherInput).toEqual({ started: false });
    expect(launches).toBe(1);
    expect(named(wf)).toEqual([]);
  });

  it("keeps a finished execution while its continuation runs, so a reconcile's start of the chain's first name stays refused", async () => {
    // Prepare: nothing finished is kept; the rollout continues as md-x-c1 (after 61 steps), which waits in its task
    const held = gate();
    const steps: string[] = [];
    const wf = new LocalWorkflows({
      timeScale: 1000,
      retention: { maxAgeMs: 0, maxFinished: 0 },
      handlers: {
        ...allDone,
        rollout: async (e) => {
          steps.push(`${String(e.continuation)}:${String(e.iteration)}`);
          if (e.continuation === 1) await held.pass();
          return { done: e.continuation === 1, wakeAt: soon() };
        },
      },
    });
    await wf.start('rolling-upgrade', 'md-x', rollout('md-x'));
    await held.waiting;
    // Act: the first execution ends (its continuation started), then a reconcile asks for the rollout again
    await expect.poll(() => named(wf)).toEqual(['md-x SUCCEEDED', 'md-x-c1 RUNNING']);
    const restart = await wf.start('rolling-upgrade', 'md-x', rollout('md-x'));
    held.open();
    await wf.idle();
    // Assess: refused while the chain ran, nothing stepped twice; the chain's records go once it has ended
    expect(restart).toEqual({ started: false });
    expect(steps.filter((s) => s === '0:0')).toHaveLength(1);
    expect(named(wf)).toEqual([]);
  });
});
