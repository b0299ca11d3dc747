/**
 * The steps of the stepping workflows (rolling-upgrade, remediate, delete-cluster). Each step is one full
 * reconcile of the cluster (the same planners and the same lease as reconcile-cluster), followed by the
 * question only this workflow asks: is its own goal reached? They differ in what they wait for, never in what
 * they decide, so a rollout driven by events and one driven by this loop make the same moves.
 */
import type { Cluster } from '../api/cluster.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import type { Machine } from '../api/machine.js';
import { remediationMarkedAt } from '../core/healthcheck/planner.js';
import { ConflictError, NotFoundError } from '../ports.js';
import { revisionAnnotation, type ChildStart } from './apply-plan.js';
import type { WorkflowDeps } from './deps.js';
import { LeaseHeldError, ValidationError, optionalNumber, requireString } from './errors.js';
import { reconcileCluster, type ReconcileOutcome } from './reconcile-cluster.js';

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
/** How long a step that failed (its retries spent) waits before the workflow steps again. */
export const STEP_FAILURE_BACKOFF_SECONDS = 30;

/** `requeue`: the plan's own requeue (the poll interval caps it); `waitSeconds`: exactly this wait. */
function stepResult(deps: WorkflowDeps, input: Record<string, unknown>, done: boolean, reason: string, children: ChildStart[], requeue?: number, waitSeconds?: number): StepResult {
  const base = requireString(input, 'executionBase');
  const continuation = optionalNumber(input, 'continuation', 0);
  const wait = waitSeconds ?? Math.min(requeue ?? Infinity, deps.pollSeconds ?? DEFAULT_POLL_SECONDS);
  return { done, reason, wakeAt: deps.timer.wakeAt(wait), continueAs: `${base}-c${continuation + 1}`.slice(0, 80), children: done ? [] : children };
}

/**
 * The step's reconcile, or undefined when another reconcile of the cluster holds its lease. That reconcile runs
 * the same planners on the same state, so this step has nothing to add: it waits a little and looks again,
 * which is neither a failure of the workflow nor worth a retry of the task.
 */
async function reconcileUnlessHeld(deps: WorkflowDeps, namespace: string, clusterName: string): Promise<ReconcileOutcome | undefined> {
  try {
    return await reconcileCluster(deps, { namespace, clusterName });
  } catch (err) {
    if (err instanceof LeaseHeldError) return undefined;
    throw err;
  }
}

/** Waits between 1 second and the poll interval (jittered, so that steps that met on a lease part again). */
function leaseHeld(deps: WorkflowDeps, input: Record<string, unknown>): StepResult {
  const poll = deps.pollSeconds ?? DEFAULT_POLL_SECONDS;
  return stepResult(deps, input, false, 'waiting: another reconcile of the cluster holds its lease', [], undefined, 1 + Math.random() * Math.max(0, poll - 1));
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
  const generation = typeof input.generation === 'number' ? input.generation : undefined;
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName);
  if (!outcome) return leaseHeld(deps, input);
  const md = await deps.store.get<MachineDeployment>('MachineDeployment', namespace, name);
  if (!md || md.metadata.deletionTimestamp) return stepResult(deps, input, true, 'the MachineDeployment is gone or being deleted', []);
  // The resume is a spec change: a new generation, so a new execution name (executionNames.rollout).
  if (md.spec.paused) return stepResult(deps, input, true, 'the rollout is paused; resuming starts it again', []);
  if (revision !== undefined && revisionAnnotation(md) !== revision)
    return stepResult(deps, input, true, `superseded by revision ${revisionAnnotation(md)}`, []);
  // The execution of the new generation (started with this step's children) carries on: one rollout, one driver.
  if (generation !== undefined && (md.metadata.generation ?? 1) !== generation)
    return { ...stepResult(deps, input, true, `superseded by generation ${md.metadata.generation ?? 1}`, []), children: outcome.children };
  if (rolloutComplete(md)) return stepResult(deps, input, true, `rollout of revision ${revisionAnnotation(md)} complete`, []);
  return stepResult(deps, input, false, 'rolling out', outcome.children, outcome.requeueAfterSeconds);
}

export async function remediateStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const machineName = requireString(input, 'machineName');
  const machineUid = requireString(input, 'machineUid');
  // The remediation episode this execution is for (empty from a start that did not know it: any episode).
  const markedAt = typeof input.markedAt === 'string' && input.markedAt !== '' ? input.markedAt : undefined;
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName);
  if (!outcome) return leaseHeld(deps, input);
  const machine = await deps.store.get<Machine>('Machine', namespace, machineName);
  if (!machine || machine.metadata.uid !== machineUid) return stepResult(deps, input, true, 'the machine is gone; its owner replaces it', []);
  if (machine.metadata.deletionTimestamp) return stepResult(deps, input, false, 'waiting for the machine to be deleted', outcome.children, outcome.requeueAfterSeconds);
  const episode = remediationMarkedAt(machine);
  if (episode === undefined) return stepResult(deps, input, true, 'the machine is healthy again: no longer marked for remediation', []);
  if (markedAt !== undefined && episode !== markedAt)
    return { ...stepResult(deps, input, true, `superseded: the machine was marked again at ${episode}, a remediation of its own`, []), children: outcome.children };
  const asked = outcome.actions.some((a) => a.type === 'RemediateMachine' && a.machine.name === machineName);
  if (!asked) {
    // Note: ending here would leave the episode's name used, and Step Functions would refuse it for 90 days:
    // once remediation is allowed again (short-circuit over, etcd safe, cluster unpaused, nodes readable), the
    // start would be refused and the machine never replaced. So the execution waits for as long as the episode
    // lasts: its health check still targets the machine and the mark is still there.
    if (!(await stillTargeted(deps, namespace, typeof input.healthCheckName === 'string' ? input.healthCheckName : '', machineName)))
      return stepResult(deps, input, true, 'no health check targets the machine any more', []);
    return stepResult(deps, input, false, 'marked for remediation, which is not allowed now: waiting', outcome.children.filter((c) => c.workflow !== 'remediate'), outcome.requeueAfterSeconds);
  }
  // The planners re-checked every limit on this very read (short-circuit, maxInFlight, etcd quorum): delete it.
  try {
    await deps.store.delete('Machine', namespace, machineName, { uid: machineUid });
    deps.log.info('remediating machine: deleted', { namespace, clusterName, machineName });
  } catch (err) {
    if (!(err instanceof NotFoundError || err instanceof ConflictError)) throw err;
  }
  return stepResult(deps, input, false, 'machine deleted; waiting for its replacement', outcome.children.filter((c) => c.workflow !== 'remediate'), outcome.requeueAfterSeconds);
}

/** The health check that marked the machine still exists, is not being deleted, and targets it. */
async function stillTargeted(deps: WorkflowDeps, namespace: string, healthCheckName: string, machineName: string): Promise<boolean> {
  if (!healthCheckName) return false;
  const mhc = await deps.store.get<MachineHealthCheck>('MachineHealthCheck', namespace, healthCheckName);
  return mhc !== undefined && !mhc.metadata.deletionTimestamp && (mhc.status?.targets ?? []).includes(machineName);
}

export async function teardownStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const before = await deps.store.get<Cluster>('Cluster', namespace, clusterName);
  if (!before) return stepResult(deps, input, true, 'the cluster is gone', []);
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName);
  if (!outcome) return leaseHeld(deps, input);
  const after = await deps.store.get<Cluster>('Cluster', namespace, clusterName);
  if (!after) return stepResult(deps, input, true, 'the cluster is gone, nothing left behind', []);
  return stepResult(deps, input, false, 'tearing down', outcome.children.filter((c) => c.workflow !== 'delete-cluster'), outcome.requeueAfterSeconds);
}

/**
 * recordFailure of the stepping workflows: the workflow gives up (its input is not what the task needs, a bug).
 * The failure is logged; the sweep starts the work again.
 */
export async function recordSteppingFailure(deps: WorkflowDeps, input: Record<string, unknown>): Promise<Record<string, never>> {
  deps.log.error('workflow step failed', { input: { ...input, error: undefined }, error: input.error });
  return {};
}

/**
 * recordStepFailure: a step failed after its retries (the store or a provider out for a while, a task that
 * crashed again and again). The workflow does not end: an ended execution keeps its name, and the next start of
 * the same work would be refused. It logs the failure and steps again after a backoff, within the bounded loop.
 */
export async function recordStepFailure(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  deps.log.warn('workflow step failed; stepping again after a backoff', { input: { ...input, error: undefined }, error: input.error });
  const error = (input.error as { Error?: unknown } | undefined)?.Error;
  return stepResult(deps, input, false, `the step failed (${typeof error === 'string' ? error : 'error'}); stepping again`, [], undefined, STEP_FAILURE_BACKOFF_SECONDS);
}

export function steppingTask(step: 'rolloutStep' | 'remediateStep' | 'teardownStep') {
  const run = { rolloutStep, remediateStep, teardownStep }[step];
  return async (deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> => {
    if (input.step === 'recordFailure') return recordSteppingFailure(deps, input);
    if (input.step === 'recordStepFailure') return recordStepFailure(deps, input);
    if (input.step !== step) throw new ValidationError(`unknown step ${String(input.step)}`);
    return run(deps, input);
  };
}
