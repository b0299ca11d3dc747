/**
 * fleet-upgrade (Standard): one execution per FleetUpgrade (named after its uid), started when it is created.
 * NextWave freezes the plan and picks the wave; a Map runs the wave's clusters, at most maxInFlight at once, each
 * setting its cluster's topology and then waiting and checking until the cluster is done, failed, skipped or timed
 * out; AfterWave applies the halt rules and starts the bake, which NextWave waits out. Every wait is a Wait state (no task holds a Lambda while
 * waiting), its time computed by the Timer port. Every task re-reads the FleetUpgrade, so pause and abort are
 * seen before each wave and each cluster's start, and a retried task picks up from the status.
 *
 * The Map is a Distributed Map: on Step Functions each cluster's loop is a child execution with its own history,
 * so a wave of many slow clusters cannot exhaust the parent's 25,000 events; the local engine runs the same
 * ItemProcessor inline (it ignores ProcessorConfig), so both hosts run one definition.
 */
import { ValidationError } from '../functions/workflows/errors.js';
import { catchAll, placeholder, type ChoiceState, type State, type StateMachineDefinition, type TaskState } from './asl.js';
import { catchExecutionAlreadyExists, errorName, refuseExecutionAlreadyExists, retryStartExecution, taskRetriers } from './retry-policies.js';
import { FLEET_EXECUTION_PREFIX } from '../functions/workflows/fleet-upgrade-start.js';
import type { FleetUpgradeStep } from '../functions/workflows/fleet-upgrade.js';

const TASK = placeholder('FleetUpgradeTaskFunctionArn');

/** The wait after a task that failed past its retries, before the same decision is taken again. */
export const FLEET_STEP_FAILURE_WAIT_SECONDS = 60;

const FLEET = { 'namespace.$': '$.namespace', 'name.$': '$.name', 'uid.$': '$.uid' } as const;
const CLUSTER = { ...FLEET, 'wave.$': '$.wave', 'cluster.$': '$.cluster' } as const;

function step(name: FleetUpgradeStep, parameters: TaskState['Parameters'], resultPath: string, next: string, onFailure: string, onBug = 'Failed'): TaskState {
  return {
    Type: 'Task',
    Resource: TASK,
    Parameters: { step: name, ...parameters },
    ResultPath: resultPath,
    TimeoutSeconds: 60,
    Retry: taskRetriers({ retryLeaseHeld: false }),
    Catch: [{ ErrorEquals: [errorName(ValidationError)], ResultPath: '$.error', Next: onBug }, catchAll('$.error', onFailure)],
    Next: next,
  };
}

const goTo = (variable: string, routes: Record<string, string>, otherwise: string): ChoiceState => ({
  Type: 'Choice',
  Choices: Object.entries(routes).map(([value, next]) => ({ Variable: variable, StringEquals: value, Next: next })),
  Default: otherwise,
});

const clusterStates: Record<string, State> = {
  // A task that fails past its retries ends the cluster's loop with its status entry as it was: AfterWave runs the
  // wave again, which resumes it. (A loop of its own would grow the item's history without bound.)
  StartCluster: step('startCluster', CLUSTER, '$.turn', 'ClusterNext', 'ClusterDone', 'ClusterFailed'),
  ClusterNext: goTo('$.turn.next', { Wait: 'WaitForCluster' }, 'ClusterDone'),
  WaitForCluster: { Type: 'Wait', TimestampPath: '$.turn.wakeAt', Next: 'CheckCluster' },
  CheckCluster: step('checkCluster', CLUSTER, '$.turn', 'ClusterNext', 'ClusterDone', 'ClusterFailed'),
  ClusterDone: { Type: 'Succeed' },
  ClusterFailed: { Type: 'Fail', Error: 'FleetUpgradeFailed', Cause: 'A task got an input it cannot use (a bug); see the logs.' },
};

/** Waits between waves (pause, bake, a wave run again) per execution before it continues as a new one. */
export const FLEET_WAITS_PER_EXECUTION = 500;

export const fleetUpgrade: StateMachineDefinition = {
  Comment:
    "Upgrades the clusters a FleetUpgrade selects, wave by wave: a canary, then batches, at most maxInFlight clusters at once, each by setting its Cluster's spec.topology and waiting until TopologyReconciled says it finished; halts on failed clusters beyond the budget, bakes between waves, holds while paused, stops on abort. A long pause or bake continues as a new execution (fleet-{uid}-c{n}) to keep the history bounded.",
  StartAt: 'Init',
  States: {
    Init: {
      Type: 'Pass',
      Comment: 'The count of waits, and the defaults of the input: the first execution has no continuation number.',
      Parameters: { waits: 0, defaults: JSON.stringify({ continuation: 0 }) },
      ResultPath: '$.loop',
      Next: 'Defaults',
    },
    Defaults: {
      Type: 'Pass',
      Parameters: { 'state.$': 'States.JsonMerge(States.StringToJson($.loop.defaults), $, false)' },
      OutputPath: '$.state',
      Next: 'NextWave',
    },
    NextWave: step('nextWave', FLEET, '$.plan', 'WhatNext', 'StepFailed'),
    WhatNext: goTo('$.plan.next', { RunWave: 'RunWave', Paused: 'Paused' }, 'Done'),
    Paused: {
      Type: 'Wait',
      Comment: 'No new wave while spec.paused, or while the bake after the last wave lasts: a poll interval at a time, so a pause or an abort is seen at once.',
      TimestampPath: '$.plan.wakeAt',
      Next: 'CountWait',
    },
    RunWave: {
      Type: 'Map',
      Comment: "The wave's clusters not yet finished, at most maxInFlight at once (read when the wave starts).",
      ItemsPath: '$.plan.clusters',
      ItemSelector: { ...FLEET, 'wave.$': '$.plan.wave', 'cluster.$': '$$.Map.Item.Value' },
      MaxConcurrencyPath: '$.plan.maxInFlight',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'StartCluster', States: clusterStates },
      ResultPath: null,
      // A cluster whose loop failed is run again by AfterWave's retry of the wave.
      Catch: [catchAll(null, 'AfterWave')],
      Next: 'AfterWave',
    },
    AfterWave: step('afterWave', { ...FLEET, 'wave.$': '$.plan.wave' }, '$.after', 'AfterWhat', 'StepFailed'),
    AfterWhat: goTo('$.after.next', { Retry: 'RetryWave', NextWave: 'NextWave' }, 'Done'),
    RetryWave: {
      Type: 'Wait',
      Comment: 'A wave with clusters not finished (a loop that failed): run again.',
      TimestampPath: '$.after.wakeAt',
      Next: 'CountWait',
    },
    StepFailed: {
      Type: 'Wait',
      Comment: 'A task that failed past its retries: the decision is taken again from the status, which it left as it was.',
      Seconds: FLEET_STEP_FAILURE_WAIT_SECONDS,
      Next: 'CountWait',
    },
    CountWait: {
      Type: 'Pass',
      Parameters: { 'waits.$': 'States.MathAdd($.loop.waits, 1)', 'defaults.$': '$.loop.defaults' },
      ResultPath: '$.loop',
      Next: 'Bounded',
    },
    Bounded: {
      Type: 'Choice',
      Choices: [{ Variable: '$.loop.waits', NumericGreaterThanEquals: FLEET_WAITS_PER_EXECUTION, Next: 'ContinueAsNew' }],
      Default: 'NextWave',
    },
    ContinueAsNew: {
      Type: 'Task',
      Comment:
        'Bounded history: the upgrade goes on in a new execution, named after this one (a repeated start is a no-op); everything it needs is in the status. Should the start keep failing, this execution waits and goes on.',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': `States.Format('${FLEET_EXECUTION_PREFIX}{}-c{}', $.uid, States.MathAdd($.continuation, 1))`,
        Input: { ...FLEET, 'continuation.$': 'States.MathAdd($.continuation, 1)' },
      },
      Retry: [refuseExecutionAlreadyExists, retryStartExecution],
      Catch: [catchExecutionAlreadyExists('Done'), catchAll(null, 'ContinueLater')],
      ResultPath: null,
      Next: 'Done',
    },
    ContinueLater: {
      Type: 'Wait',
      Seconds: FLEET_STEP_FAILURE_WAIT_SECONDS,
      Next: 'NextWave',
    },
    Failed: { Type: 'Fail', Error: 'FleetUpgradeFailed', Cause: 'A task got an input it cannot use (a bug); see the logs.' },
    Done: { Type: 'Succeed' },
  },
};
