/**
 * The local workflow engine of the embedded host: runs the very statemachines/*.asl.json files that infra/
 * deploys, with aws-local-stepfunctions, binding every Lambda task to its handler in process and every
 * states:startExecution task to a local child execution (DESIGN sections 5 and 8).
 */
import { StateMachine } from 'aws-local-stepfunctions';
import {
  STATE_MACHINES,
  STATE_MACHINE_PLACEHOLDERS,
  TASK_FUNCTIONS,
  loadDefinition,
  stateMachineInfo,
  type Substitutions,
  type TaskFunctionName,
} from '../../../statemachines/loader.js';
import { systemClock, type Clock, type WorkflowName, type Workflows } from '../../ports.js';

/** One entry of an execution's event log (aws-local-stepfunctions does not export the type). */
export type EventLog = { type: string; timestamp?: number; state?: { name: string; type?: string } } & Record<string, unknown>;

/** A task handler as Lambda runs it: JSON in, JSON out, errors by `name`. */
export type TaskHandler = (event: Record<string, unknown>) => Promise<unknown>;

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const START_EXECUTION = 'arn:aws:states:::states:startExecution';

export const localFunctionArn = (task: TaskFunctionName) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:clusterless-${task}`;
export const localStateMachineArn = (name: WorkflowName) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:clusterless-${name}`;

/** The substitutions the embedded host uses: ARN-shaped names that never leave the process. */
export function localSubstitutions(): Substitutions {
  const subs: Record<string, string> = {};
  for (const [placeholder, task] of Object.entries(TASK_FUNCTIONS)) subs[placeholder] = localFunctionArn(task);
  for (const [placeholder, sm] of Object.entries(STATE_MACHINE_PLACEHOLDERS)) subs[placeholder] = localStateMachineArn(sm);
  return subs as Substitutions;
}

/** The embedded host's state machines: the statemachines/ files, every Lambda task bound to its handler in process. */
function localSource(handlers: Record<TaskFunctionName, TaskHandler> | undefined): StateMachineSource {
  if (!handlers) throw new Error('LocalWorkflows needs the task handlers, or a source of state machines');
  const subs = localSubstitutions();
  const functionByArn = new Map<string, TaskFunctionName>(Object.values(TASK_FUNCTIONS).map((task) => [localFunctionArn(task), task]));
  return {
    stateMachineArn: localStateMachineArn,
    definition: (workflow) => loadDefinition(workflow, subs),
    task: (_workflow, resource) => {
      const task = functionByArn.get(resource);
      return task ? handlers[task] : undefined;
    },
  };
}

/** Step Functions' error for a second start of an execution name; the ASL catches it by this name. */
export class ExecutionAlreadyExistsError extends Error {
  override name = 'StepFunctions.ExecutionAlreadyExistsException';
}

export interface ExecutionRecord {
  workflow: WorkflowName;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startedAt: Date;
  stoppedAt?: Date;
  input?: Record<string, unknown>;
  error?: { name: string; message: string };
  output?: unknown;
}

/**
 * Where the engine's state machines come from: by default the statemachines/ files with ARN-shaped local names; the
 * emulated AWS account (e2e/aws) gives the definitions of a synthesized template instead, with its own ARNs.
 */
export interface StateMachineSource {
  /** The ARN a workflow is started by (what a states:startExecution task names). */
  stateMachineArn(workflow: WorkflowName): string;
  /** The definition, placeholders substituted. */
  definition(workflow: WorkflowName): Record<string, unknown>;
  /** The handler of a Task state's Lambda Resource (undefined: not a function this engine can run). */
  task(workflow: WorkflowName, resource: string): TaskHandler | undefined;
  /** Called before a states:startExecution task of `parent` starts `targetArn` (the state machine role's permission). */
  beforeStart?(parent: WorkflowName, targetArn: string): Promise<void>;
}

/**
 * How long the engine keeps the records of finished executions. Step Functions keeps a closed execution's history,
 * and refuses its name, for 90 days; a host in one process must bound its memory, so a finished record is kept for
 * `maxAgeMs` and among the newest `maxFinished`, whichever drops it first. A running execution's record is never
 * dropped, nor a finished one while an execution of its chain (its continuations, `{name}-c{n}`) runs: a
 * reconcile's repeated start of the chain's first name must stay refused while the work goes on under the next.
 * Once dropped, a name starts a new execution, as it does on AWS after 90 days.
 */
export interface ExecutionRetention {
  /** How long a finished record is kept after its chain ended (wall time, the engine's clock). @default 1 hour */
  readonly maxAgeMs?: number;
  /** The most finished records kept; the one whose chain ended first goes first. @default 10,000 */
  readonly maxFinished?: number;
}

export const DEFAULT_EXECUTION_RETENTION: Required<ExecutionRetention> = { maxAgeMs: 3_600_000, maxFinished: 10_000 };

/** The executions a name belongs with: itself and its continuations (statemachines/stepping-workflow.ts, fleet-upgrade.ts). */
const chainOf = (workflow: WorkflowName, name: string) => `${workflow}/${name.replace(/-c[0-9]+$/, '')}`;

export interface LocalWorkflowsOptions {
  /** The Lambda handler of each task function (the embedded host; ignored when `source` is given). */
  handlers?: Record<TaskFunctionName, TaskHandler>;
  /** The state machines and their tasks. @default the statemachines/ files, tasks bound to `handlers` */
  source?: StateMachineSource;
  /** Every Wait state lasts this many milliseconds, whatever its Seconds or TimestampPath (a time-scaled account). */
  waitMs?: number;
  /**
   * Divides every Retry interval and every Wait of fixed Seconds (Wait states on a TimestampPath sleep until
   * timestamps the tasks compute with the same scale).
   */
  timeScale?: number;
  /** Every state transition and execution event, for the cost meter and tests. */
  onEvent?: (workflow: WorkflowName, event: EventLog) => void;
  /** Called when an execution ends in failure (the sweep will start the work again). */
  onExecutionFailed?: (record: ExecutionRecord) => void;
  /** Called when any execution ends, whatever its status. */
  onExecutionEnded?: (record: ExecutionRecord) => void;
  /** How long finished executions' records are kept. @default DEFAULT_EXECUTION_RETENTION */
  retention?: ExecutionRetention;
  /** Execution start and stop times, and the age of finished records. @default systemClock */
  clock?: Clock;
}

type StateDef = Record<string, unknown> & { Type?: string; Resource?: string; Seconds?: number; Retry?: { IntervalSeconds?: number }[] };

/** Every state of a definition, nested Map and Parallel states included. */
function allStates(def: { States?: Record<string, StateDef> }): [string, StateDef][] {
  const out: [string, StateDef][] = [];
  for (const [name, state] of Object.entries(def.States ?? {})) {
    out.push([name, state]);
    const nested = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, StateDef> } | undefined;
    if (nested) out.push(...allStates(nested));
    for (const branch of (state.Branches as { States?: Record<string, StateDef> }[] | undefined) ?? []) out.push(...allStates(branch));
  }
  return out;
}

export class LocalWorkflows implements Workflows {
  private readonly machines = new Map<WorkflowName, StateMachine>();
  private readonly taskOverrides = new Map<WorkflowName, Record<string, (input: unknown) => Promise<unknown>>>();
  private readonly retryOverrides = new Map<WorkflowName, Record<string, number[]>>();
  private readonly waitOverrides = new Map<WorkflowName, Record<string, number>>();
  private readonly executions = new Map<string, ExecutionRecord>();
  /** Finished records that may be dropped, by key, with when their chain ended (in that order). */
  private readonly droppable = new Map<string, number>();
  /** Finished records whose chain still runs, by chain. */
  private readonly held = new Map<string, string[]>();
  /** How many executions of each chain run. */
  private readonly runningChains = new Map<string, number>();
  private readonly retention: Required<ExecutionRetention>;
  private readonly clock: Clock;
  private readonly running = new Map<string, { promise: Promise<void>; abort: () => void }>();
  private readonly arnToWorkflow = new Map<string, WorkflowName>();
  private stopped = false;
  private readonly source: StateMachineSource;

  constructor(private readonly options: LocalWorkflowsOptions) {
    const source = options.source ?? localSource(options.handlers);
    this.source = source;
    this.retention = { ...DEFAULT_EXECUTION_RETENTION, ...options.retention };
    this.clock = options.clock ?? systemClock;
    const timeScale = options.timeScale ?? 1;
    for (const sm of STATE_MACHINES) {
      this.arnToWorkflow.set(source.stateMachineArn(sm.name), sm.name);
      const definition = source.definition(sm.name) as { States?: Record<string, StateDef> };
      const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
      const retries: Record<string, number[]> = {};
      const waits: Record<string, number> = {};
      for (const [stateName, state] of allStates(definition)) {
        if (state.Type === 'Task') {
          const handler = source.task(sm.name, state.Resource ?? '');
          if (handler) {
            overrides[stateName] = (input) => handler(input as Record<string, unknown>) as Promise<unknown>;
          } else if (state.Resource === START_EXECUTION) {
            overrides[stateName] = (input) => this.startFromTask(sm.name, input as Record<string, unknown>);
          } else {
            throw new Error(`${sm.file}: state ${stateName} calls ${state.Resource}, which the local engine cannot run`);
          }
        }
        if (timeScale !== 1 && state.Retry) retries[stateName] = state.Retry.map((r) => Math.max(1, Math.round(((r.IntervalSeconds ?? 1) * 1000) / timeScale)));
        if (state.Type === 'Wait' && options.waitMs !== undefined) waits[stateName] = options.waitMs;
        else if (timeScale !== 1 && state.Type === 'Wait' && typeof state.Seconds === 'number')
          waits[stateName] = Math.max(1, Math.round((state.Seconds * 1000) / timeScale));
      }
      this.machines.set(sm.name, new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } }));
      this.taskOverrides.set(sm.name, overrides);
      this.retryOverrides.set(sm.name, retries);
      this.waitOverrides.set(sm.name, waits);
    }
  }

  async start(workflow: WorkflowName, executionName: string, input: Record<string, unknown>): Promise<{ started: boolean }> {
    const key = `${workflow}/${executionName}`;
    // Standard workflows refuse a name used before; Express ones do not check, and nor do we for them.
    if (this.stopped) return { started: false };
    // A name is refused for as long as its record is kept, and no longer.
    this.prune(this.clock.now().getTime());
    const previous = stateMachineInfo(workflow).type === 'STANDARD' ? this.executions.get(key) : undefined;
    if (previous) {
      // Step Functions (Standard): the same name and input as a running execution is accepted and answered as
      // the original start was; a closed execution or another input is ExecutionAlreadyExists.
      const same = previous.status === 'RUNNING' && JSON.stringify(previous.input) === JSON.stringify(input);
      return { started: same };
    }
    const machine = this.machines.get(workflow);
    if (!machine) throw new Error(`unknown workflow ${workflow}`);
    const record: ExecutionRecord = { workflow, name: executionName, status: 'RUNNING', startedAt: this.clock.now(), input };
    // A name dropped and used again (an Express one, or a Standard one past its retention): the new record replaces it.
    this.droppable.delete(key);
    this.executions.set(key, record);
    const chain = chainOf(workflow, executionName);
    this.runningChains.set(chain, (this.runningChains.get(chain) ?? 0) + 1);
    const stateMachineArn = this.source.stateMachineArn(workflow);
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.taskOverrides.get(workflow) as never,
        retryIntervalOverrides: this.retryOverrides.get(workflow),
        waitTimeOverrides: this.waitOverrides.get(workflow),
      },
      context: {
        Execution: {
          Id: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`,
          Name: executionName,
          Input: input,
          StartTime: record.startedAt.toISOString(),
        },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1) },
      } as never,
    });
    const onEvent = this.options.onEvent;
    if (onEvent)
      void (async () => {
        try {
          for await (const event of execution.eventLogs) onEvent(workflow, event as unknown as EventLog);
        } catch {
          // The event stream ends with the execution; errors are reported through the result.
        }
      })();
    const runKey = `${key}#${record.startedAt.getTime()}#${Math.random()}`;
    const promise = execution.result
      .then(
        (output: unknown) => {
          record.status = 'SUCCEEDED';
          record.output = output;
        },
        (err: unknown) => {
          const e = err as Error;
          record.status = e?.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
          record.error = { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
          if (record.status === 'FAILED') this.options.onExecutionFailed?.(record);
        },
      )
      .finally(() => {
        record.stoppedAt = this.clock.now();
        this.running.delete(runKey);
        this.retire(key, chain, record);
        this.options.onExecutionEnded?.(record);
      });
    this.running.set(runKey, { promise, abort: execution.abort });
    return { started: true };
  }

  /** The states:startExecution integration, as a Task state of a parent execution calls it. */
  private async startFromTask(parent: WorkflowName, input: Record<string, unknown>): Promise<unknown> {
    const arn = String(input.StateMachineArn);
    const workflow = this.arnToWorkflow.get(arn);
    if (!workflow) throw Object.assign(new Error(`state machine ${arn} does not exist`), { name: 'StepFunctions.StateMachineDoesNotExistException' });
    await this.source.beforeStart?.(parent, arn);
    const name = String(input.Name);
    const raw = input.Input;
    const childInput = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {})) as Record<string, unknown>;
    const { started } = await this.start(workflow, name, childInput);
    if (!started) throw new ExecutionAlreadyExistsError(`Execution Already Exists: '${name}'`);
    return { ExecutionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`, StartDate: new Date().toISOString() };
  }

  /**
   * A finished execution's record becomes droppable once no execution of its chain runs (with those of the chain
   * held back until then); then the records past the retention go.
   */
  private retire(key: string, chain: string, record: ExecutionRecord): void {
    const left = (this.runningChains.get(chain) ?? 1) - 1;
    if (left > 0) this.runningChains.set(chain, left);
    else this.runningChains.delete(chain);
    // A record already replaced by a later execution of the same name is that one's to retire.
    const own = this.executions.get(key) === record;
    if (left > 0) {
      if (own) {
        const held = this.held.get(chain) ?? [];
        held.push(key);
        this.held.set(chain, held);
      }
      return;
    }
    const now = this.clock.now().getTime();
    for (const k of [...(this.held.get(chain) ?? []), ...(own ? [key] : [])]) {
      if (this.executions.get(k)?.status === 'RUNNING') continue;
      this.droppable.delete(k);
      this.droppable.set(k, now);
    }
    this.held.delete(chain);
    this.prune(now);
  }

  /** Drops the droppable records past the retention, the one whose chain ended first first. */
  private prune(now: number): void {
    for (const [k, endedAt] of this.droppable) {
      if (this.droppable.size <= this.retention.maxFinished && now - endedAt < this.retention.maxAgeMs) break;
      this.droppable.delete(k);
      this.executions.delete(k);
    }
  }

  /** The executions of this process whose records are kept (running, and finished ones within the retention), oldest first. */
  list(workflow?: WorkflowName): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => !workflow || e.workflow === workflow);
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Resolves when no execution is running (children started meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()].map((r) => r.promise));
  }

  /** Aborts every running execution, as a host that stops (or crashes) would lose them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.running.values()) r.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.promise));
  }
}
