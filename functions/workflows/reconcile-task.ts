/** The reconcile-cluster state machine's task: one reconcile, a small payload back (large data stays in the store). */
import type { WorkflowDeps } from './deps.js';
import { ValidationError, requireString } from './errors.js';
import { reconcileCluster } from './reconcile-cluster.js';

export async function reconcileTask(deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> {
  if (input.step === 'recordFailure') {
    deps.log.error('reconcile failed', { namespace: input.namespace, clusterName: input.clusterName, error: input.error });
    return {};
  }
  if (input.step !== 'reconcile') throw new ValidationError(`unknown step ${String(input.step)}`);
  const outcome = await reconcileCluster(deps, { namespace: requireString(input, 'namespace'), clusterName: requireString(input, 'clusterName') });
  return {
    exists: outcome.exists,
    passes: outcome.passes,
    writes: outcome.writes,
    conflicts: outcome.conflicts,
    children: outcome.children,
    ...(outcome.requeueAfterSeconds !== undefined ? { requeueAfterSeconds: outcome.requeueAfterSeconds } : {}),
    notes: outcome.notes.slice(0, 20),
    errors: outcome.errors.slice(0, 20),
  };
}
