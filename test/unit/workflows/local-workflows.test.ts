import { describe, expect, it } from 'vitest';
import { LocalWorkflows, type TaskHandler } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import type { TaskFunctionName } from '../../../statemachines/loader.js';

const soon = () => new Date(Date.now() + 5).toISOString();
const done: TaskHandler = async () => ({ done: true, next: 'Done' });

function engine(handlers: Partial<Record<TaskFunctionName, TaskHandler>>, events: string[] = []) {
  return new LocalWorkflows({
    timeScale: 1000,
    handlers: { reconcile: done, provision: done, rollout: done, remediate: done, teardown: done, ...handlers },
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
        return { next: 'Done' };
      },
    });
    // Act
    await wf.start('reconcile-cluster', 'r1', { namespace: 'default', clusterName: 'c', trigger: 't' });
    await wf.idle();
    const again = await wf.start('provision-machine', 'm-1', child.input);
    // Assess
    expect(provisioned).toEqual(['recordIntent']);
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
          if (e.step === 'recordIntent') return { next: 'Launch', wakeAt: soon(), polls: 0 };
          if (e.step === 'launch') {
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
        return { done: finished, wakeAt: soon(), continueAs: `${String(e.executionBase)}-c${Number(e.continuation) + 1}` };
      },
    });
    await wf.start('rolling-upgrade', 'md-x', { namespace: 'default', clusterName: 'c', deploymentName: 'md', revision: '1', generation: 1, executionBase: 'md-x', continuation: 0 });
    await wf.idle();
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([
      ['md-x', 'SUCCEEDED'],
      ['md-x-c1', 'SUCCEEDED'],
    ]);
    // 61 steps (iterations 0..60) in the first execution, then 2 in the continuation.
    expect(steps.filter((s) => s.startsWith('0:'))).toHaveLength(61);
    expect(steps.slice(-2)).toEqual(['1:0', '1:1']);
  });

  it('a stepping workflow whose step fails past its retries records it and steps again, rather than end', async () => {
    // Prepare: the first 4 attempts of the step crash (1 + 3 retries of States.TaskFailed), then it succeeds.
    let attempts = 0;
    const recorded: string[] = [];
    const wf = engine({
      rollout: async (e) => {
        if (e.step === 'recordStepFailure') {
          recorded.push(String((e.error as { Error?: string }).Error));
          return { done: false, reason: 'the step failed', wakeAt: soon(), continueAs: 'md-f-c1', children: [] };
        }
        if (e.step === 'recordFailure') recorded.push('gave up');
        if (++attempts <= 4) throw Object.assign(new Error('crash'), { name: 'InjectedTaskCrash' });
        return { done: true, reason: 'complete', wakeAt: soon(), continueAs: 'md-f-c1', children: [] };
      },
    });
    // Act
    await wf.start('rolling-upgrade', 'md-f', { namespace: 'default', clusterName: 'c', deploymentName: 'md', revision: '1', generation: 1, executionBase: 'md-f', continuation: 0 });
    await wf.idle();
    // Assess: the execution kept its work (and its name) going: it ended done, not failed.
    expect(recorded).toEqual(['InjectedTaskCrash']);
    expect(attempts).toBe(5);
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([['md-f', 'SUCCEEDED']]);
  });

  it('a continuation that cannot be started yet is tried again after another step, not left unstarted', async () => {
    // Prepare: StartExecution of the continuation fails past its 4 retries once (5 attempts), then works.
    let refusals = 5;
    class FlakyStarts extends LocalWorkflows {
      override async start(workflow: Parameters<LocalWorkflows['start']>[0], name: string, input: Record<string, unknown>) {
        if (name.endsWith('-c1') && refusals-- > 0) throw Object.assign(new Error('limit'), { name: 'StepFunctions.ExecutionLimitExceededException' });
        return super.start(workflow, name, input);
      }
    }
    const wf = new FlakyStarts({
      timeScale: 1000,
      handlers: {
        reconcile: done,
        provision: done,
        remediate: done,
        teardown: done,
        rollout: async (e) => ({ done: e.continuation === 1, reason: 'r', wakeAt: soon(), continueAs: `${String(e.executionBase)}-c${Number(e.continuation) + 1}`, children: [] }),
      },
    });
    // Act
    await wf.start('rolling-upgrade', 'md-s', { namespace: 'default', clusterName: 'c', deploymentName: 'md', revision: '1', generation: 1, executionBase: 'md-s', continuation: 0 });
    await wf.idle();
    // Assess
    expect(refusals).toBeLessThan(0);
    expect(wf.list('rolling-upgrade').map((e) => [e.name, e.status])).toEqual([
      ['md-s', 'SUCCEEDED'],
      ['md-s-c1', 'SUCCEEDED'],
    ]);
  });

  it('stop() aborts running executions and refuses new ones', async () => {
    const wf = engine({ rollout: async () => ({ done: false, wakeAt: new Date(Date.now() + 60_000).toISOString(), continueAs: 'x' }) });
    await wf.start('rolling-upgrade', 'slow', { namespace: 'default', clusterName: 'c', deploymentName: 'md', revision: '1', generation: 1, executionBase: 'slow', continuation: 0 });
    await wf.stop();
    expect(wf.list()[0]!.status).toBe('ABORTED');
    expect(await wf.start('remediate', 'r', {})).toEqual({ started: false });
  });
});
