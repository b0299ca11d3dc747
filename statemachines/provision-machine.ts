/**
 * provision-machine (Standard): launches one Machine's instance and waits for its node. The task answers with
 * `next`, where to go; every step re-reads the Machine, so a repeated or resumed execution resumes.
 *
 * Five Standard transitions for a machine whose instance and node come up at once (Launch, Wait, Check, NextStep,
 * Done), three per poll after that. The Launch task records the intent (the ClientToken) in the store before it
 * asks for the instance, and the Check task looks for the node in the same call that sees the instance running:
 * each half is idempotent and re-run whole on a retry, so merging them loses no crash safety.
 */
import { catchAll, placeholder, type ChoiceState, type StateMachineDefinition, type TaskState } from './asl.js';
import { refusePermanent, retryInstanceNotFound, retryInsufficientCapacity, retryTaskFailed, retryTransient, taskRetriers } from './retry-policies.js';

const TASK = placeholder('ProvisionTaskFunctionArn');

/** The input every step of the task gets: which Machine (its uid: a replaced Machine of the same name is not it). */
const MACHINE = {
  'namespace.$': '$.namespace',
  'clusterName.$': '$.clusterName',
  'machineName.$': '$.machineName',
  'machineUid.$': '$.machineUid',
} as const;

function provisionStep(step: string, options: { polls?: boolean; resultPath: string; next: string; retry?: TaskState['Retry'] }): TaskState {
  return {
    Type: 'Task',
    Resource: TASK,
    // A polling step gets its count and what the execution waits for (the instance or its node).
    Parameters: { step, ...MACHINE, ...(options.polls ? { 'polls.$': '$.intent.polls', 'waitingFor.$': '$.intent.next' } : {}) },
    ResultPath: options.resultPath,
    TimeoutSeconds: 60,
    // Note: the provision task takes no lease, so its LeaseHeldError retrier never matches; it is kept as the
    // hand-written definition had it.
    Retry: options.retry ?? taskRetriers({ retryLeaseHeld: true }),
    Catch: [catchAll('$.error', 'RecordFailure')],
    Next: options.next,
  };
}

/** The launch's retriers: a launch is idempotent (ClientToken), so capacity and eventual consistency are retried. */
const LAUNCH_RETRY: TaskState['Retry'] = [refusePermanent, retryTransient(8), retryInsufficientCapacity, retryInstanceNotFound, retryTaskFailed];

/** Waits again (the instance or the node), launches again (an instance that never showed up), or is Done. */
const nextStep: ChoiceState = {
  Type: 'Choice',
  Choices: [
    { Variable: '$.intent.next', StringEquals: 'WaitForInstance', Next: 'Wait' },
    { Variable: '$.intent.next', StringEquals: 'WaitForNode', Next: 'Wait' },
    { Variable: '$.intent.next', StringEquals: 'Launch', Next: 'Relaunch' },
  ],
  Default: 'Done',
};

export const provisionMachine: StateMachineDefinition = {
  Comment:
    'Launches the instance of one Machine and waits until its node is Ready. Every step re-reads the Machine from the store and records intent before acting, so a crashed, retried or repeated execution resumes and never launches a second instance. The instance and then its node are polled by one Wait, Check, NextStep loop.',
  StartAt: 'Launch',
  States: {
    // Records the ClientToken, then launches unless an instance is recorded already (a resumed execution).
    Launch: provisionStep('recordIntentAndLaunch', { resultPath: '$.intent', next: 'Wait', retry: LAUNCH_RETRY }),
    Wait: {
      Type: 'Wait',
      TimestampPath: '$.intent.wakeAt',
      Next: 'Check',
    },
    // The instance until it runs, then (in the same call, and in every later one) its node.
    Check: provisionStep('check', { polls: true, resultPath: '$.intent', next: 'NextStep' }),
    NextStep: nextStep,
    // An instance that never showed up: the same launch again (its attempt was counted by Check).
    Relaunch: provisionStep('launch', { resultPath: '$.launch', next: 'Wait', retry: LAUNCH_RETRY }),
    RecordFailure: {
      Type: 'Task',
      Resource: TASK,
      Parameters: {
        step: 'recordFailure',
        'error.$': '$.error',
        ...MACHINE,
      },
      ResultPath: null,
      TimeoutSeconds: 60,
      Retry: taskRetriers({ retryLeaseHeld: true, recordFailure: true }),
      Next: 'Failed',
    },
    Failed: {
      Type: 'Fail',
      Error: 'ProvisioningFailed',
      Cause: 'The machine could not be provisioned; see its conditions.',
    },
    Done: {
      Type: 'Succeed',
    },
  },
};
