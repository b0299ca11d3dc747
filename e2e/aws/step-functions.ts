/**
 * Step Functions in the emulated account: the template's five state machines, each definition its DefinitionString
 * with its DefinitionSubstitutions resolved (as CloudFormation substitutes them), run by the local ASL engine
 * (aws-local-stepfunctions, through LocalWorkflows). A Lambda task invokes the function its Resource ARN names, and a
 * states:startExecution task starts the state machine its StateMachineArn names, each after the state machine's role
 * is authorized for it (lambda:InvokeFunction, states:StartExecution). The functions reach it through the IAM gateway
 * with the Step Functions API (StartExecution, DescribeExecution), served here.
 */
import { STATE_MACHINES, substitute } from '../../statemachines/loader.js';
import { ExecutionAlreadyExistsError, LocalWorkflows, type ExecutionRecord } from '../../functions/adapters/stepfunctions/local-workflows.js';
import type { WorkflowName } from '../../functions/ports.js';
import type { Authorize, Invoke, Json, StartExecution } from './account.js';
import type { Deployment } from './template.js';

export interface EmulatedStepFunctionsOptions {
  deployment: Deployment;
  invoke: Invoke;
  authorize: Authorize;
  /** Every Wait state lasts this long (the account is time-scaled). */
  waitMs: number;
  /** Divides every Retry interval. */
  timeScale: number;
}

interface Machine {
  logicalId: string;
  workflow: WorkflowName;
  arn: string;
  roleLogicalId: string;
  definition: Record<string, unknown>;
}

/** A function error as the engine sees it: its errorType is the error name Retry and Catch match. */
class LambdaTaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export class EmulatedStepFunctions {
  readonly engine: LocalWorkflows;
  private readonly machines = new Map<WorkflowName, Machine>();

  constructor(options: EmulatedStepFunctionsOptions) {
    const { deployment } = options;
    for (const id of deployment.ofType('AWS::StepFunctions::StateMachine')) {
      const props = deployment.resource(id).Properties!;
      const name = String(props['StateMachineName']);
      const sm = STATE_MACHINES.find((s) => name.endsWith(`-${s.name}`));
      if (!sm) throw new Error(`${id}: ${name} is none of the control plane's state machines`);
      if (String(props['StateMachineType'] ?? 'STANDARD') !== sm.type)
        throw new Error(`${id}: ${name} is ${String(props['StateMachineType'])}, not ${sm.type}`);
      const text = String(deployment.resolve(props['DefinitionString'] as Json));
      const substitutions = deployment.resolve((props['DefinitionSubstitutions'] ?? {}) as Json) as Record<string, string>;
      const role = (props['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      this.machines.set(sm.name, {
        logicalId: id,
        workflow: sm.name,
        arn: deployment.physicalOf(id).ref,
        roleLogicalId: role,
        definition: JSON.parse(substitute(text, substitutions)) as Record<string, unknown>,
      });
    }
    for (const sm of STATE_MACHINES) if (!this.machines.has(sm.name)) throw new Error(`the template has no ${sm.name} state machine`);
    const machine = (workflow: WorkflowName) => this.machines.get(workflow)!;
    this.engine = new LocalWorkflows({
      source: {
        stateMachineArn: (workflow) => machine(workflow).arn,
        definition: (workflow) => machine(workflow).definition,
        task: (workflow, resource) => {
          const functionId = deployment.logicalIdOf(resource);
          if (!functionId || deployment.resource(functionId).Type !== 'AWS::Lambda::Function') return undefined;
          return async (input) => {
            await options.authorize(machine(workflow).roleLogicalId, 'states:InvokeLambdaTask', [{ action: 'lambda:InvokeFunction', resource, context: {} }]);
            const result = await options.invoke(functionId, input);
            if (!result.ok) throw new LambdaTaskError(result.errorType, result.errorMessage);
            return result.payload;
          };
        },
        beforeStart: (parent, targetArn) =>
          options.authorize(machine(parent).roleLogicalId, 'states:StartExecution (task)', [
            { action: 'states:StartExecution', resource: targetArn, context: {} },
          ]),
      },
      waitMs: options.waitMs,
      timeScale: options.timeScale,
    });
  }

  arnOf(workflow: WorkflowName): string {
    return this.machines.get(workflow)!.arn;
  }

  private workflowOf(arn: string): WorkflowName | undefined {
    for (const m of this.machines.values()) if (m.arn === arn) return m.workflow;
    return undefined;
  }

  /** StartExecution as the API answers it; ExecutionAlreadyExists and StateMachineDoesNotExist as its errors. */
  startExecution: StartExecution = async (stateMachineArn, input, name) => {
    const workflow = this.workflowOf(stateMachineArn);
    if (!workflow) throw Object.assign(new Error(`State Machine Does Not Exist: '${stateMachineArn}'`), { name: 'StateMachineDoesNotExist' });
    const executionName = name ?? crypto.randomUUID();
    const { started } = await this.engine.start(workflow, executionName, JSON.parse(input || '{}') as Record<string, unknown>);
    if (!started) throw Object.assign(new ExecutionAlreadyExistsError(`Execution Already Exists: '${executionName}'`), { name: 'ExecutionAlreadyExists' });
    return { executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}` };
  };

  /** The gateway's handler of the `states` service (JSON 1.0, X-Amz-Target AWSStepFunctions.{Operation}). */
  serve = async (operation: string, body: string): Promise<{ status: number; body: string }> => {
    const params = JSON.parse(body || '{}') as Record<string, string>;
    const error = (status: number, type: string, message: string) => ({ status, body: JSON.stringify({ __type: type, message }) });
    try {
      switch (operation) {
        case 'StartExecution': {
          const out = await this.startExecution(params['stateMachineArn']!, params['input'] ?? '{}', params['name']);
          return { status: 200, body: JSON.stringify({ executionArn: out.executionArn, startDate: Date.now() / 1000 }) };
        }
        case 'DescribeExecution': {
          const arn = params['executionArn'] ?? '';
          const record = this.engine.list().find((r) => `${this.arnOf(r.workflow).replace(':stateMachine:', ':execution:')}:${r.name}` === arn);
          if (!record) return error(400, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
          return { status: 200, body: JSON.stringify(describe(record, arn, this.arnOf(record.workflow))) };
        }
        default:
          return error(400, 'UnknownOperationException', `the emulated Step Functions does not serve ${operation}`);
      }
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ExecutionAlreadyExists' || e.name === 'StateMachineDoesNotExist') return error(400, e.name, e.message);
      throw err;
    }
  };

  /** Executions so far, newest last. */
  executions(workflow?: WorkflowName): ExecutionRecord[] {
    return this.engine.list(workflow);
  }

  idle(): Promise<void> {
    return this.engine.idle();
  }

  stop(): Promise<void> {
    return this.engine.stop();
  }
}

function describe(record: ExecutionRecord, executionArn: string, stateMachineArn: string): Record<string, unknown> {
  return {
    executionArn,
    stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startedAt.getTime() / 1000,
    ...(record.stoppedAt ? { stopDate: record.stoppedAt.getTime() / 1000 } : {}),
    input: JSON.stringify(record.input ?? {}),
    ...(record.output !== undefined ? { output: JSON.stringify(record.output) } : {}),
    ...(record.error ? { error: record.error.name, cause: record.error.message } : {}),
  };
}
