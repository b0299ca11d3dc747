/**
 * The one loop of the stepping workflows (rolling-upgrade, remediate, delete-cluster): step (one reconcile plus
 * the workflow's own question), start the children the step asked for, wait, step again, until the step says
 * done; a failing step waits with a growing backoff and steps again; after a bounded number of steps the loop
 * continues as a new execution. The workflows differ only in their task and the fields of their input.
 */
import { DEFAULT_POLL_SECONDS, type SteppingStep } from '../functions/workflows/stepping.js';
import { ValidationError } from '../functions/workflows/errors.js';
import { catchAll, placeholder, type Json, type State, type StateMachineDefinition, type WaitState } from './asl.js';
import type { TaskFunctionPlaceholder } from './loader.js';
import {
  catchExecutionAlreadyExists,
  errorName,
  refuseExecutionAlreadyExists,
  retryStartExecution,
  taskRetriers,
} from './retry-policies.js';
import { hasChildren, startChildren } from './start-children.js';

/**
 * Steps per execution before it continues as a new one. Standard executions hold at most 25,000 history events;
 * MAX_CHILD_STARTS_PER_STEP (functions/workflows/stepping.ts) is sized for this many steps.
 */
export const STEPS_PER_EXECUTION = 60;

/** The wait after each failing step in a row: 30 s doubling, at most 15 minutes. */
export const STEP_FAILURE_BACKOFF_SECONDS: readonly number[] = [30, 60, 120, 240, 480, 900];

/** The task's deadline per step; the cluster's lease outlasts it (LEASE_SECONDS). */
const STEP_TIMEOUT_SECONDS = 60;

type InputValue = string | number;

export interface SteppingWorkflowSpec<Fields extends Record<string, InputValue>> {
  /** What the workflow does, for the definition's Comment. */
  comment: string;
  task: TaskFunctionPlaceholder;
  step: SteppingStep;
  /** What the execution is about, besides its cluster (a MachineDeployment, a Machine): given in every start. */
  subject: readonly string[];
  /**
   * The further fields of the input, with the defaults an execution continued from an older definition gets
   * when its input lacks them (a missing path fails an execution beyond any Catch).
   */
  inputFields: Fields;
  /** Which of inputFields the give-up path (RecordFailure) needs besides the subject. */
  giveUpFields: readonly (keyof Fields & string)[];
}

const paths = (fields: readonly string[]): Record<string, string> => Object.fromEntries(fields.map((f) => [`${f}.$`, `$.${f}`]));

const backoffState = (seconds: number) => `Backoff${seconds}`;

export function steppingWorkflow<Fields extends Record<string, InputValue>>(spec: SteppingWorkflowSpec<Fields>): StateMachineDefinition {
  const task = placeholder(spec.task);
  const cluster = paths(['namespace', 'clusterName']);
  const subject = paths(spec.subject);
  const inputFields = paths(Object.keys(spec.inputFields));
  const ladder = STEP_FAILURE_BACKOFF_SECONDS;

  const backoffs: Record<string, WaitState> = Object.fromEntries(ladder.map((seconds) => [backoffState(seconds), { Type: 'Wait', Seconds: seconds, Next: 'Step' }]));
  const states: Record<string, State> = {
    Init: {
      Type: 'Pass',
      Comment:
        "The loop's counters, and the name of the continuation. The fields an execution continued from an older definition may lack get their defaults (in Defaults), since a missing path fails an execution beyond any Catch.",
      Parameters: {
        iteration: 0,
        failures: 0,
        lastError: null,
        'continueAs.$': "States.Format('{}-c{}', $.executionBase, States.MathAdd($.continuation, 1))",
        defaults: JSON.stringify(spec.inputFields),
      },
      ResultPath: '$.loop',
      Next: 'Defaults',
    },
    Defaults: {
      Type: 'Pass',
      Comment: 'The input over its defaults: what the input has wins.',
      Parameters: {
        'state.$': 'States.JsonMerge(States.StringToJson($.loop.defaults), $, false)',
      },
      OutputPath: '$.state',
      Next: 'Step',
    },
    Step: {
      Type: 'Task',
      Resource: task,
      Parameters: {
        step: spec.step,
        ...cluster,
        ...subject,
        'executionBase.$': '$.executionBase',
        'iteration.$': '$.loop.iteration',
        'continuation.$': '$.continuation',
        ...inputFields,
        'failures.$': '$.loop.failures',
        'lastError.$': '$.loop.lastError',
      },
      ResultPath: '$.step',
      TimeoutSeconds: STEP_TIMEOUT_SECONDS,
      // The step waits for the cluster's lease itself (it never throws LeaseHeldError).
      Retry: taskRetriers({ retryLeaseHeld: false }),
      Catch: [{ ErrorEquals: [errorName(ValidationError)], ResultPath: '$.error', Next: 'RecordFailure' }, catchAll('$.loop.lastError', 'StepFailed')],
      Next: 'HasChildren',
    },
    HasChildren: hasChildren('$.step.children', 'Decide'),
    StartChildren: startChildren({
      comment:
        'At most MAX_CHILD_STARTS_PER_STEP children (functions/workflows/stepping.ts). A start that fails past its retries fails only this state: the children are asked for again by the next step and by reconcile-cluster.',
      itemsPath: '$.step.children',
      next: 'Decide',
      onFailure: 'Decide',
    }),
    Decide: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.step.done', BooleanEquals: true, Next: 'Done' },
        { Variable: '$.loop.iteration', NumericGreaterThanEquals: STEPS_PER_EXECUTION, Next: 'ContinueAsNew' },
      ],
      Default: 'Wait',
    },
    Wait: {
      Type: 'Wait',
      TimestampPath: '$.step.wakeAt',
      Next: 'Count',
    },
    Count: {
      Type: 'Pass',
      Comment: 'A step that succeeded: the failures in a row start over.',
      Parameters: {
        'iteration.$': 'States.MathAdd($.loop.iteration, 1)',
        failures: 0,
        lastError: null,
        'continueAs.$': '$.loop.continueAs',
      },
      ResultPath: '$.loop',
      Next: 'Step',
    },
    StepFailed: {
      Type: 'Pass',
      Comment:
        'A step that failed past its retries: counted (the next step logs it) and stepped again after a backoff, with no task in between, since one would fail as the step did. Ending here would use up the execution\'s name.',
      Parameters: {
        'iteration.$': 'States.MathAdd($.loop.iteration, 1)',
        'failures.$': 'States.MathAdd($.loop.failures, 1)',
        'lastError.$': '$.loop.lastError',
        'continueAs.$': '$.loop.continueAs',
      },
      ResultPath: '$.loop',
      Next: 'Backoff',
    },
    Backoff: {
      Type: 'Choice',
      Comment: '30 s doubling with each failure in a row, at most 15 minutes; the bounded history still continues as new.',
      Choices: [
        { Variable: '$.loop.iteration', NumericGreaterThanEquals: STEPS_PER_EXECUTION, Next: 'ContinueAsNew' },
        // The longest wait first: the first rule that matches wins.
        ...ladder
          .map((seconds, i) => ({ Variable: '$.loop.failures', NumericGreaterThanEquals: i + 1, Next: backoffState(seconds) }))
          .slice(1)
          .reverse(),
      ],
      Default: backoffState(ladder[0]!),
    },
    ...backoffs,
    ContinueAsNew: {
      Type: 'Task',
      Comment:
        'Bounded history: the loop goes on in a new execution with a deterministic name, so a repeated continuation is a no-op. Should the start keep failing, this execution waits a poll interval, steps once more and tries again, rather than end with the work unfinished.',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': '$.loop.continueAs',
        Input: {
          ...cluster,
          ...subject,
          'executionBase.$': '$.executionBase',
          'continuation.$': 'States.MathAdd($.continuation, 1)',
          ...inputFields,
        } satisfies Record<string, Json>,
      },
      Retry: [refuseExecutionAlreadyExists, retryStartExecution],
      Catch: [catchExecutionAlreadyExists('Done'), catchAll(null, 'ContinueLater')],
      ResultPath: null,
      Next: 'Done',
    },
    ContinueLater: {
      Type: 'Wait',
      Comment: 'The poll interval (DEFAULT_POLL_SECONDS in functions/workflows/stepping.ts).',
      Seconds: DEFAULT_POLL_SECONDS,
      Next: 'Step',
    },
    RecordFailure: {
      Type: 'Task',
      Comment: 'The give-up path: the input is not what the task needs (a bug). Logged; reconcile-cluster and the sweep carry the work on.',
      Resource: task,
      Parameters: {
        step: 'recordFailure',
        'error.$': '$.error',
        ...cluster,
        ...subject,
        'executionBase.$': '$.executionBase',
        ...paths(spec.giveUpFields),
      },
      ResultPath: null,
      TimeoutSeconds: STEP_TIMEOUT_SECONDS,
      Retry: taskRetriers({ retryLeaseHeld: false, recordFailure: true }),
      Next: 'Failed',
    },
    Failed: {
      Type: 'Fail',
      Error: 'WorkflowFailed',
      Cause: 'See the object\'s conditions; the sweep starts the work again where it finds drift.',
    },
    Done: {
      Type: 'Succeed',
    },
  };
  return {
    Comment: `${spec.comment} Child workflows the step asks for (machines to provision, machines to remediate) are started by deterministic name, as reconcile-cluster does.`,
    StartAt: 'Init',
    States: states,
  };
}
