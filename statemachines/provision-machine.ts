/**
 * provision-machine (Standard): launches one Machine's instance and waits for its node. The task answers with
 * `next`, the state to go to; every step re-reads the Machine, so a repeated or resumed execution resumes.
 */
import { catchAll, placeholder, type ChoiceState, type StateMachineDefinition, type TaskState } from './asl.js';
import {
  refusePermanent,
  retryInstanceNotFound,
  retryInsufficientCapacity,
  retryTaskFailed,
  retryTransient,
  taskRetriers,
} from './retry-policies.js';

const TASK = placeholder('ProvisionTaskFunctionArn');

type ProvisionNext = 'Launch' | 'WaitForInstance' | 'WaitForNode';

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
    Parameters: { step, ...MACHINE, ...(options.polls ? { 'polls.$': '$.intent.polls' } : {}) },
    ResultPath: options.resultPath,
    TimeoutSeconds: 60,
    // Note: the provision task takes no lease, so its LeaseHeldError retrier never matches; it is kept as the
    // hand-written definition had it.
    Retry: options.retry ?? taskRetriers({ retryLeaseHeld: true }),
    Catch: [catchAll('$.error', 'RecordFailure')],
    Next: options.next,
  };
}

/** Goes where the task's `next` says, in the order given; anything else is Done. */
function goTo(...nexts: ProvisionNext[]): ChoiceState {
  return {
    Type: 'Choice',
    Choices: nexts.map((next) => ({ Variable: '$.intent.next', StringEquals: next, Next: next })),
    Default: 'Done',
  };
}

export const provisionMachine: StateMachineDefinition = {
  Comment:
    'Launches the instance of one Machine and waits until its node is Ready. Every step re-reads the Machine from the store and records intent before acting, so a crashed, retried or repeated execution resumes and never launches a second instance.',
  StartAt: 'RecordIntent',
  States: {
    RecordIntent: provisionStep('recordIntent', { resultPath: '$.intent', next: 'NextStep' }),
    NextStep: goTo('Launch', 'WaitForInstance', 'WaitForNode'),
    Launch: provisionStep('launch', {
      resultPath: '$.launch',
      next: 'WaitForInstance',
      retry: [refusePermanent, retryTransient(8), retryInsufficientCapacity, retryInstanceNotFound, retryTaskFailed],
    }),
    WaitForInstance: {
      Type: 'Wait',
      TimestampPath: '$.intent.wakeAt',
      Next: 'CheckInstance',
    },
    CheckInstance: provisionStep('checkInstance', { polls: true, resultPath: '$.intent', next: 'InstanceRunning' }),
    InstanceRunning: goTo('WaitForInstance', 'WaitForNode', 'Launch'),
    WaitForNode: {
      Type: 'Wait',
      TimestampPath: '$.intent.wakeAt',
      Next: 'CheckNode',
    },
    CheckNode: provisionStep('checkNode', { polls: true, resultPath: '$.intent', next: 'NodeReady' }),
    NodeReady: goTo('WaitForNode', 'WaitForInstance'),
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
