/**
 * The StartChildren fragment every state machine that starts children shares: an inline Map over the children a
 * task asked for ({workflow, name, input}), each started by its deterministic name. One Start state per state
 * machine of STATE_MACHINE_PLACEHOLDERS, so a new child workflow is started everywhere at once.
 */
import { catchAll, placeholder, type ChoiceState, type MapState, type State, type TaskState } from './asl.js';
import { STATE_MACHINE_PLACEHOLDERS, type StateMachinePlaceholder } from './loader.js';
import { catchExecutionAlreadyExists, refuseExecutionAlreadyExists, retryStartExecution } from './retry-policies.js';

/** How many children one StartChildren Map starts at once. */
export const CHILD_START_CONCURRENCY = 10;

const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** `provision-machine` → `ProvisionMachine`. */
const pascalCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, _dash, c: string) => c.toUpperCase());

/** Starts the child named in the Map's item ($.name, $.input), or succeeds when it was started already. */
function startChild(stateMachine: StateMachinePlaceholder): TaskState {
  return {
    Type: 'Task',
    Resource: START_EXECUTION,
    Parameters: {
      StateMachineArn: placeholder(stateMachine),
      'Name.$': '$.name',
      'Input.$': '$.input',
    },
    Retry: [refuseExecutionAlreadyExists, retryStartExecution],
    Catch: [catchExecutionAlreadyExists('AlreadyStarted')],
    ResultPath: null,
    End: true,
  };
}

export interface StartChildrenOptions {
  /** Where the task put its children. */
  itemsPath: string;
  /** Where the execution goes once they are started. */
  next: string;
  comment?: string;
  /**
   * Where a start that failed past its retries leads, instead of failing the execution.
   * @default - the execution fails (reconcile-cluster's: the sweep starts a reconcile again)
   */
  onFailure?: string;
}

export function startChildren(options: StartChildrenOptions): MapState {
  const children = Object.entries(STATE_MACHINE_PLACEHOLDERS) as [StateMachinePlaceholder, string][];
  const route: ChoiceState = {
    Type: 'Choice',
    Choices: children.map(([, workflow]) => ({ Variable: '$.workflow', StringEquals: workflow, Next: `Start${pascalCase(workflow)}` })),
    Default: 'UnknownWorkflow',
  };
  const states: Record<string, State> = { Route: route };
  for (const [stateMachine, workflow] of children) states[`Start${pascalCase(workflow)}`] = startChild(stateMachine);
  states['AlreadyStarted'] = { Type: 'Succeed' };
  states['UnknownWorkflow'] = {
    Type: 'Fail',
    Error: 'UnknownWorkflow',
    Cause: 'The reconcile task asked for a workflow this state machine does not start.',
  };
  return {
    Type: 'Map',
    ...(options.comment !== undefined ? { Comment: options.comment } : {}),
    ItemsPath: options.itemsPath,
    MaxConcurrency: CHILD_START_CONCURRENCY,
    ResultPath: null,
    Next: options.next,
    ...(options.onFailure !== undefined ? { Catch: [catchAll(null, options.onFailure)] } : {}),
    Iterator: { StartAt: 'Route', States: states },
  };
}

/** Goes to StartChildren when the task asked for any child, else to `otherwise`. */
export function hasChildren(childrenPath: string, otherwise: string): ChoiceState {
  return {
    Type: 'Choice',
    Choices: [{ Variable: `${childrenPath}[0]`, IsPresent: true, Next: 'StartChildren' }],
    Default: otherwise,
  };
}
