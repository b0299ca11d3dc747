/**
 * The label sync step of a reconcile: core decides which Nodes need which labels (core/machine/node-labels.ts), the
 * NodeLabeler writes them. Every reconcile of the cluster runs it, so a Machine's label edit (its own write triggers
 * a reconcile) reaches the Node as Cluster API's machine controller carries it on every Machine reconcile.
 */
import type { Machine } from '../api/machine.js';
import { planNodeLabelSync } from '../core/machine/node-labels.js';
import type { Observed } from '../core/observed.js';
import type { WorkflowDeps } from './deps.js';

/** Patches the Nodes that need it; returns one error line per Node that could not be patched (the others still are). */
export async function syncNodeLabels(
  deps: Pick<WorkflowDeps, 'nodeLabels' | 'log'>,
  namespace: string,
  clusterName: string,
  machines: readonly Machine[],
  observed: Observed,
): Promise<string[]> {
  const errors: string[] = [];
  for (const sync of planNodeLabelSync(machines, observed)) {
    try {
      await deps.nodeLabels.patchLabels(namespace, clusterName, sync.nodeName, sync.patch);
    } catch (err) {
      const message = `labels of node ${sync.nodeName} (machine ${sync.machineName}): ${(err as Error).message}`;
      deps.log.warn('node labels could not be synced', { namespace, clusterName, node: sync.nodeName, error: (err as Error).message });
      errors.push(message);
    }
  }
  return errors;
}
