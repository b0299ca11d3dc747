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
import { getCondition, removeCondition } from '../core/conditions.js';
import { remediationMarkedAt } from '../core/healthcheck/planner.js';
import { API_VERSION } from '../api/common.js';
import { EventReason, regardingOf } from '../api/event.js';
import { machineDeploymentRolloutComplete } from '../core/machinedeployment/rollout-math.js';
import { ConflictError, NotFoundError, type WorkflowName } from '../ports.js';
import { revisionAnnotation, type ChildStart } from './apply-plan.js';
import type { WorkflowDeps } from './deps.js';
import { LeaseHeldError, ValidationError, optionalNumber, requireString } from './errors.js';
import { reconcileCluster, type ReconcileOutcome } from './reconcile-cluster.js';

export interface StepResult {
  done: boolean;
  /** Why the workflow ends (or what it waits for), for the execution history. */
  reason: string;
  wakeAt: string;
  /** The child executions to start now: at most MAX_CHILD_STARTS_PER_STEP. */
  children: ChildStart[];
}

/** The poll interval when the host sets none; the ASL's ContinueLater waits as long (statemachines/*.asl.json). */
export const DEFAULT_POLL_SECONDS = 5;

/**
 * The most child executions one step starts. Each start is an iteration of the inline Map StartChildren, about
 * 11 history events, and an execution may hold 25,000: 61 steps of 20 stay under 15,000 events, where a
 * 1,000-replica rollout asking 250 provisions per step would end its execution within 9 steps. The rest are
 * asked for again by the next steps (the window moves on each step) and started meanwhile by reconcile-cluster.
 */
export const MAX_CHILD_STARTS_PER_STEP = 20;

/**
 * This step's share of the children the reconcile asked for: stepping workflows and remediations first (each
 * is asked once per episode or generation), then provisions (asked on every reconcile while the machine is
 * Pending or Provisioning) from a window that moves on by the room left each iteration, so that every one is
 * started within ceil(provisions / room) steps. Whatever does not fit is started by reconcile-cluster too.
 */
export function childStartsForStep(children: readonly ChildStart[], iteration: number): ChildStart[] {
  if (children.length <= MAX_CHILD_STARTS_PER_STEP) return [...children];
  const first = children.filter((c) => c.workflow !== 'provision-machine');
  const provisions = children.filter((c) => c.workflow === 'provision-machine');
  const room = Math.max(0, MAX_CHILD_STARTS_PER_STEP - first.length);
  const offset = provisions.length > 0 ? (Math.max(0, Math.floor(iteration)) * room) % provisions.length : 0;
  const rotated = [...provisions.slice(offset), ...provisions.slice(0, offset)];
  return [...first, ...rotated].slice(0, MAX_CHILD_STARTS_PER_STEP);
}

/**
 * `requeue`: the plan's own requeue (the poll interval caps it); `waitSeconds`: exactly this wait. The children
 * of a done step are started too when `startEvenIfDone` (a superseded execution hands its work on).
 */
function stepResult(
  deps: WorkflowDeps,
  input: Record<string, unknown>,
  done: boolean,
  reason: string,
  children: ChildStart[],
  options: { requeue?: number | undefined; waitSeconds?: number; startEvenIfDone?: boolean } = {},
): StepResult {
  const iteration = optionalNumber(input, 'iteration', 0);
  const wait = options.waitSeconds ?? Math.min(options.requeue ?? Infinity, pollSeconds(deps));
  return { done, reason, wakeAt: deps.timer.wakeAt(wait), children: done && !options.startEvenIfDone ? [] : childStartsForStep(children, iteration) };
}

const pollSeconds = (deps: WorkflowDeps) => deps.pollSeconds ?? DEFAULT_POLL_SECONDS;

/**
 * The step's reconcile, or undefined when another reconcile of the cluster holds its lease. That reconcile runs
 * the same planners on the same state, so this step has nothing to add: it waits a little and looks again,
 * which is neither a failure of the workflow nor worth a retry of the task.
 */
async function reconcileUnlessHeld(deps: WorkflowDeps, namespace: string, clusterName: string, workflow: WorkflowName): Promise<ReconcileOutcome | undefined> {
  try {
    return await reconcileCluster(deps, { namespace, clusterName, workflow });
  } catch (err) {
    if (err instanceof LeaseHeldError) return undefined;
    throw err;
  }
}

/**
 * Waits between one and two poll intervals: never less than a normal poll (steps that meet on the lease would
 * spin), jittered so that they part again.
 */
function leaseHeld(deps: WorkflowDeps, input: Record<string, unknown>): StepResult {
  return stepResult(deps, input, false, 'waiting: another reconcile of the cluster holds its lease', [], {
    waitSeconds: pollSeconds(deps) * (1 + Math.random()),
  });
}

export async function rolloutStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const name = requireString(input, 'deploymentName');
  // Empty (the Init state's default for a continuation of an older definition): any revision.
  const revision = typeof input.revision === 'string' && input.revision !== '' ? input.revision : undefined;
  // 0 (the Init state's default): a start whose name did not carry the generation, superseded by any generation.
  const generation = typeof input.generation === 'number' ? input.generation : undefined;
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName, 'rolling-upgrade');
  if (!outcome) return leaseHeld(deps, input);
  const md = await deps.store.get<MachineDeployment>('MachineDeployment', namespace, name);
  if (!md || md.metadata.deletionTimestamp) return stepResult(deps, input, true, 'the MachineDeployment is gone or being deleted', []);
  // The resume is a spec change: a new generation, so a new execution name (executionNames.rollout).
  if (md.spec.paused) return stepResult(deps, input, true, 'the rollout is paused; resuming starts it again', []);
  if (revision !== undefined && revisionAnnotation(md) !== revision)
    return stepResult(deps, input, true, `superseded by revision ${revisionAnnotation(md)}`, []);
  // The execution of the new generation (started with this step's children) carries on: one rollout, one driver.
  if (generation !== undefined && (md.metadata.generation ?? 1) !== generation)
    return stepResult(deps, input, true, `superseded by generation ${md.metadata.generation ?? 1}`, outcome.children, { startEvenIfDone: true });
  if (machineDeploymentRolloutComplete(md)) {
    const note = `Rollout of revision ${revisionAnnotation(md)} complete`;
    await deps.events.record({
      regarding: regardingOf(md),
      type: 'Normal',
      reason: EventReason.RolloutComplete,
      action: 'Rollout',
      note,
      workflow: 'rolling-upgrade',
    });
    return stepResult(deps, input, true, `rollout of revision ${revisionAnnotation(md)} complete`, []);
  }
  return stepResult(deps, input, false, 'rolling out', outcome.children, { requeue: outcome.requeueAfterSeconds });
}

/**
 * A mark is cleared only this long after it was made: the health check marks the machine again with the time of
 * that reconcile, in whole seconds, and the new episode must not get the old one's time, and so its name.
 */
export const MARK_CLEAR_MARGIN_SECONDS = 2;

export async function remediateStep(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult> {
  const namespace = requireString(input, 'namespace');
  const clusterName = requireString(input, 'clusterName');
  const machineName = requireString(input, 'machineName');
  const machineUid = requireString(input, 'machineUid');
  // The remediation episode this execution is for and is named after (empty from a start that did not know it,
  // whose name does not carry one: any episode).
  const markedAt = typeof input.markedAt === 'string' && input.markedAt !== '' ? input.markedAt : undefined;
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName, 'remediate');
  if (!outcome) return leaseHeld(deps, input);
  const machine = await deps.store.get<Machine>('Machine', namespace, machineName);
  if (!machine || machine.metadata.uid !== machineUid) {
    await deps.events.record({
      regarding: { kind: 'Machine', namespace, name: machineName, uid: machineUid, apiVersion: API_VERSION },
      type: 'Normal',
      reason: EventReason.Remediated,
      action: 'Remediate',
      note: `Machine ${namespace}/${machineName} was deleted; its owner replaces it`,
      workflow: 'remediate',
    });
    return stepResult(deps, input, true, 'the machine is gone; its owner replaces it', []);
  }
  if (machine.metadata.deletionTimestamp)
    return stepResult(deps, input, false, 'waiting for the machine to be deleted', outcome.children, { requeue: outcome.requeueAfterSeconds });
  const episode = remediationMarkedAt(machine);
  if (episode === undefined) return stepResult(deps, input, true, 'the machine is healthy again: no longer marked for remediation', []);
  if (markedAt !== undefined && episode !== markedAt)
    return stepResult(deps, input, true, `superseded: the machine was marked again at ${episode}, a remediation of its own`, outcome.children, {
      startEvenIfDone: true,
    });
  const asked = outcome.actions.some((a) => a.type === 'RemediateMachine' && a.machine.name === machineName);
  if (!asked) {
    // Note: the remediation is not asked for now (the cluster or the health check paused, the health check
    // short-circuited, gone or no longer targeting the machine, the nodes unreadable, the control plane waiting
    // for etcd). Waiting for it costs a step every poll for as long as that lasts, and ending with the mark left
    // would use up the episode's name: once allowed again the start would be refused, and the machine, counted in
    // maxInFlight, would block every remediation of its health check. So the mark this execution is named after
    // goes and the execution ends; the health check marks the machine again once remediation is allowed, a new
    // episode with a new name. Cluster API's health check marks no machine while short-circuited either
    // (kubernetes-sigs/cluster-api internal/controllers/machinehealthcheck/machinehealthcheck_controller.go).
    const reason = (await stillTargeted(deps, namespace, typeof input.healthCheckName === 'string' ? input.healthCheckName : '', machineName))
      ? 'remediation is not allowed now'
      : 'no health check targets the machine any more';
    const others = outcome.children.filter((c) => c.workflow !== 'remediate');
    if (markedAt === undefined)
      return stepResult(deps, input, true, `${reason}; the execution ends (its name carries no episode)`, others, { startEvenIfDone: true });
    if (deps.clock.now().getTime() < Date.parse(markedAt) + MARK_CLEAR_MARGIN_SECONDS * 1000)
      return stepResult(deps, input, false, `${reason}; the mark is cleared once ${MARK_CLEAR_MARGIN_SECONDS}s old`, others, {
        waitSeconds: MARK_CLEAR_MARGIN_SECONDS,
      });
    await clearRemediationMark(deps, namespace, machineName, machineUid, markedAt);
    return stepResult(
      deps,
      input,
      true,
      `${reason}: the mark of ${markedAt} is cleared; the health check marks the machine again once remediation is allowed`,
      others,
      { startEvenIfDone: true },
    );
  }
  // The planners re-checked every limit on this very read (short-circuit, maxInFlight, etcd quorum): delete it.
  try {
    await deps.store.delete('Machine', namespace, machineName, { uid: machineUid });
    deps.log.info('remediating machine: deleted', { namespace, clusterName, machineName });
    const by = typeof input.healthCheckName === 'string' && input.healthCheckName !== '' ? ` by MachineHealthCheck ${input.healthCheckName}` : '';
    const note = `Deleting Machine ${namespace}/${machineName}, marked unhealthy${by}${markedAt ? ` at ${markedAt}` : ''}, to replace it`;
    await deps.events.record({
      regarding: regardingOf(machine),
      type: 'Normal',
      reason: EventReason.Remediating,
      action: 'Remediate',
      note,
      workflow: 'remediate',
    });
  } catch (err) {
    if (!(err instanceof NotFoundError || err instanceof ConflictError)) throw err;
  }
  return stepResult(
    deps,
    input,
    false,
    'machine deleted; waiting for its replacement',
    outcome.children.filter((c) => c.workflow !== 'remediate'),
    { requeue: outcome.requeueAfterSeconds },
  );
}

/**
 * Removes the machine's OwnerRemediated condition on a fresh read, only while it is still the episode of
 * `markedAt` (a later episode, or a machine healthy again, is left alone), by a write conditional on the
 * resourceVersion read; retried on a lost race.
 */
export async function clearRemediationMark(deps: WorkflowDeps, namespace: string, machineName: string, machineUid: string, markedAt: string): Promise<boolean> {
  let lost: ConflictError | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await deps.store.get<Machine>('Machine', namespace, machineName);
    if (!current || current.metadata.uid !== machineUid) return false;
    const mark = getCondition(current.status?.conditions, 'OwnerRemediated');
    if (mark?.status !== 'False' || mark.lastTransitionTime !== markedAt) return false;
    try {
      await deps.store.updateStatus({ ...current, status: { ...current.status, conditions: removeCondition(current.status?.conditions, 'OwnerRemediated') } });
      deps.log.info('remediation not asked for now: its mark cleared', { namespace, machineName, markedAt });
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      if (!(err instanceof ConflictError)) throw err;
      lost = err;
    }
  }
  // The state machine retries the step on ConflictError.
  throw lost!;
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
  const outcome = await reconcileUnlessHeld(deps, namespace, clusterName, 'delete-cluster');
  if (!outcome) return leaseHeld(deps, input);
  const after = await deps.store.get<Cluster>('Cluster', namespace, clusterName);
  if (!after) return stepResult(deps, input, true, 'the cluster is gone, nothing left behind', []);
  return stepResult(
    deps,
    input,
    false,
    'tearing down',
    outcome.children.filter((c) => c.workflow !== 'delete-cluster'),
    { requeue: outcome.requeueAfterSeconds },
  );
}

/** The log line of every step that failed past its retries; an alarm watches for it (infra). */
export const STEP_FAILED_MESSAGE = 'workflow step failed; stepping again';

/**
 * A step that failed past its retries is not recorded by a task of its own (it would fail as the step did): the
 * state machine waits (30 s doubling to 15 minutes) and steps again, handing the next step how many steps failed
 * in a row and the last error. That step logs it before anything else, so every failure is logged once, even
 * one the task never saw (a timeout, a crashed runtime), as long as the task can start at all.
 */
function logPreviousStepFailure(deps: WorkflowDeps, input: Record<string, unknown>): void {
  const failures = typeof input.failures === 'number' ? input.failures : 0;
  if (failures <= 0) return;
  const { namespace, clusterName, executionBase, continuation, iteration } = input;
  deps.log.warn(STEP_FAILED_MESSAGE, { namespace, clusterName, executionBase, continuation, iteration, failuresInARow: failures, error: input.lastError });
}

/**
 * The give-up path (RecordFailure, then the execution fails): the input is not what the task needs, a bug. It
 * is logged; reconcile-cluster and the sweep carry the work on. A remediation clears the mark it was named
 * after, when its input says which, so that the next episode gets a name of its own.
 */
export async function recordGiveUp(deps: WorkflowDeps, input: Record<string, unknown>, step: SteppingStep): Promise<Record<string, never>> {
  deps.log.error('stepping workflow gave up', { input: { ...input, error: undefined }, error: input.error });
  const { namespace, machineName, machineUid, markedAt } = input;
  await recordGiveUpEvent(deps, input, step);
  if (step === 'remediateStep' && [namespace, machineName, machineUid, markedAt].every((v) => typeof v === 'string' && v !== ''))
    await clearRemediationMark(deps, namespace as string, machineName as string, machineUid as string, markedAt as string);
  return {};
}

/** A Warning on the object the workflow was for (its MachineDeployment, Machine or Cluster), when the input names it. */
async function recordGiveUpEvent(deps: WorkflowDeps, input: Record<string, unknown>, step: SteppingStep): Promise<void> {
  const [kind, nameField, workflow] = (
    {
      rolloutStep: ['MachineDeployment', 'deploymentName', 'rolling-upgrade'],
      remediateStep: ['Machine', 'machineName', 'remediate'],
      teardownStep: ['Cluster', 'clusterName', 'delete-cluster'],
    } as const
  )[step];
  const { namespace } = input;
  const name = input[nameField];
  if (typeof namespace !== 'string' || namespace === '' || typeof name !== 'string' || name === '') return;
  const error = typeof input.error === 'object' && input.error !== null ? JSON.stringify(input.error) : String(input.error ?? 'unknown error');
  await deps.events.record({
    regarding: { kind, namespace, name, apiVersion: API_VERSION },
    type: 'Warning',
    reason: EventReason.WorkflowFailed,
    action: 'GiveUp',
    note: `The ${workflow} workflow gave up: ${error}`,
    workflow,
  });
}

/**
 * recordStepFailure, called only by executions of older definitions still running (the current ones wait in the
 * state machine instead): logs the failure and steps again after a poll-sized backoff.
 */
async function legacyRecordStepFailure(deps: WorkflowDeps, input: Record<string, unknown>): Promise<StepResult & { continueAs: string }> {
  deps.log.warn(STEP_FAILED_MESSAGE, { input: { ...input, error: undefined }, error: input.error });
  const base = requireString(input, 'executionBase');
  const continuation = optionalNumber(input, 'continuation', 0);
  return {
    ...stepResult(deps, input, false, 'the step failed; stepping again', [], { waitSeconds: 30 }),
    continueAs: `${base}-c${continuation + 1}`.slice(0, 80),
  };
}

export type SteppingStep = 'rolloutStep' | 'remediateStep' | 'teardownStep';

export function steppingTask(step: SteppingStep) {
  const run = { rolloutStep, remediateStep, teardownStep }[step];
  return async (deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> => {
    if (input.step === 'recordFailure') return recordGiveUp(deps, input, step);
    if (input.step === 'recordStepFailure') return legacyRecordStepFailure(deps, input);
    if (input.step !== step) throw new ValidationError(`unknown step ${String(input.step)}`);
    logPreviousStepFailure(deps, input);
    return run(deps, input);
  };
}
