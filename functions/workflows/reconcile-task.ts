/** The reconcile-cluster state machine's task: one reconcile, a small payload back (large data stays in the store). */
import { requeueAfter } from '../core/trigger/requeue.js';
import type { WorkflowDeps } from './deps.js';
import { ValidationError, requireString } from './errors.js';
import { reconcileCluster } from './reconcile-cluster.js';

/**
 * Asks the host to reconcile the cluster again. A requeue that cannot be asked for is logged, never thrown: the
 * reconcile's work is done and retrying it would not help, and the sweep remains behind it.
 */
async function requeue(deps: WorkflowDeps, namespace: string, clusterName: string, afterSeconds: number | undefined): Promise<void> {
  if (afterSeconds === undefined) return;
  try {
    await deps.requeues.requeue(namespace, clusterName, afterSeconds);
  } catch (err) {
    deps.log.warn('could not requeue the reconcile; the sweep will look again', { namespace, clusterName, afterSeconds, error: (err as Error).message });
  }
}

export async function reconcileTask(deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> {
  if (input.step === 'recordFailure') {
    deps.log.error('reconcile failed', { namespace: input.namespace, clusterName: input.clusterName, error: input.error });
    if (typeof input.namespace === 'string' && typeof input.clusterName === 'string')
      await requeue(deps, input.namespace, input.clusterName, requeueAfter({ kind: 'Failed' }));
    return {};
  }
  if (input.step !== 'reconcile') throw new ValidationError(`unknown step ${String(input.step)}`);
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const outcome = await reconcileCluster(deps, { namespace, clusterName });
  // A cluster that is gone needs nothing more (its instances were deleted in this reconcile).
  if (outcome.exists) await requeue(deps, namespace, clusterName, outcome.requeueAfterSeconds);
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
