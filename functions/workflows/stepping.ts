/**
 * The steps of the stepping workflows (rolling-upgrade, remediate, delete-cluster). Each step is one full
 * reconcile of the cluster (the same planners and the same lease as reconcile-cluster), followed by the
 * question only this workflow asks: is its own goal reached? They differ in what they wait for, never in what
 * they decide, so a rollout driven by events and one driven by this loop make the same moves.
 */
import type { Cluster } from '../api/cluster.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { Machine } from '../api/machine.js';
import { ConflictError, NotFoundError } from '../ports.js';
import { revisionAnnotation, type ChildStart } from './apply-plan.js';
import type { WorkflowDeps } from './deps.js';
import { ValidationError, optionalNumber, requireString } from './errors.js';
import { reconcileCluster } from './reconcile-cluster.js';

export interface StepResult {
  done: boolean;
  /** Why the workflow ends (or what it waits for), for the execution history. */
  reason: string;
  wakeAt: string;
  /** The execution that carries on after the bounded number of steps. */
  continueAs: string;
  children: ChildStart[];
}

const DEFAULT_POLL_SECONDS = 5;

function stepResult(deps: WorkflowDeps, input: Record<string, unknown>, done: boolean, reason: string, children: ChildStart[], requeue?: number): StepResult {
  const base = requireString(input, 'executionBase');
  const continuation = optionalNumber(input, 'continuation', 0);
  const wait = Math.min(requeue ?? Infinity, deps.pollSeconds ?? DEFAULT_POLL_SECONDS);
  return { done, reason, wakeAt: deps.timer.wakeAt(wait), continueAs: `${base}-c${continuation + 1}`.slice(0, 80), children: done ? [] : children };
}

/** A MachineDeployment's rollout is complete when every replica runs the current template and is available. */
export function rolloutComplete(md: MachineDeployment): boolean {
  const s = md.status;
  const want = md.spec.replicas;
  return (
    s !== undefined &&
    (s.observedGeneration ?? 0) >= (md.metadata.generation ?? 0) &&
    s.updatedReplicas === want &&
    s.replicas === want &&
    s.availableReplicas === want
  );
}

export async function rolloutStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const name = requireString(input, 'deploymentName');
  const revision = typeof input.revision === 'string' ? input.revision : undefined;
  const outcome = await reconcileCluster(deps, { namespace, clusterName });
  const md = await deps.store.get<MachineDeployment>('MachineDeployment', namespace, name);
  if (!md || md.metadata.deletionTimestamp) return stepResult(deps, input, true, 'the MachineDeployment is gone or being deleted', []);
  if (md.spec.paused) return stepResult(deps, input, true, 'the rollout is paused; resuming starts it again', []);
  if (revision !== undefined && revisionAnnotation(md) !== revision)
    return stepResult(deps, input, true, `superseded by revision ${revisionAnnotation(md)}`, []);
  if (rolloutComplete(md)) return stepResult(deps, input, true, `rollout of revision ${revisionAnnotation(md)} complete`, []);
  return stepResult(deps, input, false, 'rolling out', outcome.children, outcome.requeueAfterSeconds);
}

export async function remediateStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const machineName = requireString(input, 'machineName');
  const machineUid = requireString(input, 'machineUid');
  const outcome = await reconcileCluster(deps, { namespace, clusterName });
  const machine = await deps.store.get<Machine>('Machine', namespace, machineName);
  if (!machine || machine.metadata.uid !== machineUid) return stepResult(deps, input, true, 'the machine is gone; its owner replaces it', []);
  if (machine.metadata.deletionTimestamp) return stepResult(deps, input, false, 'waiting for the machine to be deleted', outcome.children, outcome.requeueAfterSeconds);
  const asked = outcome.actions.some((a) => a.type === 'RemediateMachine' && a.machine.name === machineName);
  if (!asked) return stepResult(deps, input, true, 'the machine no longer needs remediation (healthy again, or remediation not allowed now)', []);
  // The planners re-checked every limit on this very read (short-circuit, maxInFlight, etcd quorum): delete it.
  try {
    await deps.store.delete('Machine', namespace, machineName, { uid: machineUid });
    deps.log.info('remediating machine: deleted', { namespace, clusterName, machineName });
  } catch (err) {
    if (!(err instanceof NotFoundError || err instanceof ConflictError)) throw err;
  }
  return stepResult(deps, input, false, 'machine deleted; waiting for its replacement', outcome.children.filter((c) => c.workflow !== 'remediate'), outcome.requeueAfterSeconds);
}

export async function teardownStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const before = await deps.store.get<Cluster>('Cluster', namespace, clusterName);
  if (!before) return stepResult(deps, input, true, 'the cluster is gone', []);
  const outcome = await reconcileCluster(deps, { namespace, clusterName });
  const after = await deps.store.get<Cluster>('Cluster', namespace, clusterName);
  if (!after) return stepResult(deps, input, true, 'the cluster is gone, nothing left behind', []);
  return stepResult(deps, input, false, 'tearing down', outcome.children.filter((c) => c.workflow !== 'delete-cluster'), outcome.requeueAfterSeconds);
}

/** recordFailure of the stepping workflows: the failure is logged; the sweep starts the work again. */
export async function recordSteppingFailure(deps: WorkflowDeps, input: Record<string, unknown>): Promise<Record<string, never>> {
  deps.log.error('workflow step failed', { input: { ...input, error: undefined }, error: input.error });
  return {};
}

export function steppingTask(step: 'rolloutStep' | 'remediateStep' | 'teardownStep') {
  const run = { rolloutStep, remediateStep, teardownStep }[step];
  return async (deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> => {
    if (input.step === 'recordFailure') return recordSteppingFailure(deps, input);
    if (input.step !== step) throw new ValidationError(`unknown step ${String(input.step)}`);
    return run(deps, input);
  };
}
