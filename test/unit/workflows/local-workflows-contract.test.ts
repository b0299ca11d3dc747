/** The Workflows contract on the embedded host's engine (aws-local-stepfunctions over statemachines/). */
import { LocalWorkflows, type ExecutionRecord, type TaskHandler } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import type { WorkflowName } from '../../../functions/ports.js';
import { runWorkflowsContract, type ExecutionStatus } from '../../support/workflows-contract.js';

runWorkflowsContract('LocalWorkflows', async () => {
  // A provision or remediate task waits until its execution is ended (keyed by machineUid, the contract's name).
  const held = new Map<string, () => void>();
  const ended = new Set<ExecutionRecord>();
  const waiting: (() => void)[] = [];
  const finished = { done: true, next: 'Done', reason: 'contract', wakeAt: new Date(0).toISOString(), children: [] };
  const hold: TaskHandler = (event) =>
    new Promise((resolve) => {
      held.set(String(event.machineUid), () => resolve(finished));
    });
  const workflows = new LocalWorkflows({
    timeScale: 1000,
    handlers: { reconcile: async () => finished, provision: hold, remediate: hold, rollout: hold, teardown: hold, 'fleet-upgrade': hold },
    onExecutionEnded: (record) => {
      ended.add(record);
      for (const w of waiting.splice(0)) w();
    },
  });
  const records = (workflow: WorkflowName, name: string) => workflows.list(workflow).filter((e) => e.name === name);
  return {
    workflows,
    executions: async (workflow, name) => records(workflow, name).map((e) => e.status as ExecutionStatus),
    end: async (workflow, name) => {
      held.get(name)?.();
      // The engine runs the rest of the execution; it reports the end.
      while (records(workflow, name).some((e) => !ended.has(e))) await new Promise<void>((r) => waiting.push(r));
    },
    // The embedded host names its reconciles `reconcile-{namespace}-{cluster}-{n}`, which can pass 80 characters.
    invalidNames: 'accepted',
    repeatedExpressNames: 'starts-again',
    close: async () => {
      for (const release of held.values()) release();
      await workflows.idle();
    },
  };
});
