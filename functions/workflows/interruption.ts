/**
 * One path for every interruption notice, whoever delivers it (EC2 through EventBridge to the instance-events
 * function, the simulated cloud and the process provider on the embedded host): the notice is recorded on the
 * Machine (core/machine/interruption.ts: InterruptionNotice), and the cluster is reconciled, which replaces and
 * deletes the machine. A duplicate notice writes nothing; the reconcile is started all the same (cheap, and a
 * reconcile lost earlier is retried that way).
 *
 * Only the Machine the instance's own tags name is touched, and only when its uid is the one the tags carry: a
 * Machine deleted and made again under the same name is another machine.
 */
import type { Machine } from '../api/machine.js';
import { InterruptionReason, withInterruptionNotice } from '../core/machine/interruption.js';
import { ConflictError, type Store, type Workflows } from '../ports.js';

/** The reasons a notice is recorded with (for the handlers, which take core's types only). */
export { InterruptionReason };

export interface InterruptedInstance {
  namespace: string;
  clusterName: string;
  machineName: string;
  machineUid: string;
}

export interface InterruptionNoticeDeps {
  store: Store;
  workflows: Workflows;
}

export type NoticeOutcome = 'recorded' | 'unchanged' | 'no-machine';

/** Conflicting writers (the reconcile itself writes the Machine's status) are retried this often. */
const CONFLICT_ATTEMPTS = 5;

/** Records the notice sent at `at` on the machine, then starts a reconcile of its cluster under `executionName`. */
export async function recordInterruptionNotice(
  deps: InterruptionNoticeDeps,
  target: InterruptedInstance,
  reason: InterruptionReason,
  at: Date,
  executionName: string,
): Promise<NoticeOutcome> {
  let outcome: NoticeOutcome = 'no-machine';
  for (let attempt = 1; ; attempt++) {
    const machine = await deps.store.get<Machine>('Machine', target.namespace, target.machineName);
    if (!machine || machine.metadata.uid !== target.machineUid || machine.spec.clusterName !== target.clusterName) break;
    const conditions = withInterruptionNotice(machine, reason, at);
    if (!conditions) {
      outcome = 'unchanged';
      break;
    }
    try {
      await deps.store.updateStatus<Machine>({ ...machine, status: { ...machine.status, conditions } });
      outcome = 'recorded';
      break;
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= CONFLICT_ATTEMPTS) throw e;
    }
  }
  if (outcome !== 'no-machine')
    await deps.workflows.start('reconcile-cluster', executionName, { namespace: target.namespace, clusterName: target.clusterName, trigger: 'instance-event' });
  return outcome;
}
