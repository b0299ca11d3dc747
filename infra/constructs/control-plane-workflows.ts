import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../../functions/ports.js';
import {
  STATE_MACHINES,
  STATE_MACHINE_PLACEHOLDERS,
  TASK_FUNCTIONS,
  placeholdersOf,
  readDefinitionText,
  type StateMachinePlaceholder,
  type TaskFunctionName,
  type TaskFunctionPlaceholder,
} from '../../statemachines/loader.js';
import type { LogEncryption } from './log-encryption.js';

export interface ControlPlaneWorkflowsProps {
  /** The Lambda function of each task (statemachines/loader.ts TASK_FUNCTIONS). */
  readonly taskFunctions: Record<TaskFunctionName, lambda.IFunction>;
  readonly logs: LogEncryption;
  /**
   * Prefix of the state machine names (unique per account and region, at most 80 characters in all).
   * @default - the stack name and a dash
   */
  readonly namePrefix?: string;
  /**
   * What the executions log. Execution data (inputs and outputs) is never logged.
   * @default sfn.LogLevel.ALL
   */
  readonly logLevel?: sfn.LogLevel;
}

/** The ContinueAsNew states start their own state machine by the context object's ARN. */
const STARTS_ITSELF = '$$.StateMachine.Id';
/** A Map whose ItemProcessor runs in DISTRIBUTED mode (statemachines/asl.ts DistributedMapState). */
const DISTRIBUTED_MAP = '"Mode": "DISTRIBUTED"';
const NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The five state machines of statemachines/, their files read by the shared loader and given to Step
 * Functions as they are, with CloudFormation substituting the ${Placeholders} (definitionSubstitutions):
 * task functions by their ARN, child state machines by the ARN formed from their known name. Children are
 * named rather than referenced because the machines start each other in a cycle (rolling-upgrade and
 * remediate start one another, delete-cluster and the ContinueAsNew states start themselves), which
 * references would make a circular dependency. Each machine has a role of its own that may invoke only its
 * task function and start only the machines its definition starts, a log group and X-Ray tracing.
 */
export class ControlPlaneWorkflows extends Construct {
  public readonly stateMachines: Record<WorkflowName, sfn.StateMachine>;
  public readonly stateMachineNames: Record<WorkflowName, string>;
  /**
   * An alarm per Standard state machine, at the first execution that failed, timed out or was aborted in five
   * minutes. reconcile-cluster (Express) has none: every trigger runs it again, and a failing task shows in its
   * function's errors.
   */
  public readonly failedExecutionsAlarms: Partial<Record<WorkflowName, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ControlPlaneWorkflowsProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? `${Stack.of(this).stackName}-`;
    this.stateMachineNames = Object.fromEntries(STATE_MACHINES.map((s) => [s.name, `${prefix}${s.name}`])) as Record<WorkflowName, string>;
    for (const name of Object.values(this.stateMachineNames))
      if (!NAME.test(name)) throw new Error(`state machine name "${name}" must be 1-80 letters, digits, '-' or '_': choose a shorter namePrefix`);

    const machines: Partial<Record<WorkflowName, sfn.StateMachine>> = {};
    for (const info of STATE_MACHINES) {
      const text = readDefinitionText(info.name);
      const used = placeholdersOf(text);
      const substitutions: Record<string, string> = {};
      const tasks: lambda.IFunction[] = [];
      const children = new Set<WorkflowName>();
      for (const p of used) {
        if (p in TASK_FUNCTIONS) {
          const fn = props.taskFunctions[TASK_FUNCTIONS[p as TaskFunctionPlaceholder]];
          substitutions[p] = fn.functionArn;
          tasks.push(fn);
        } else if (p in STATE_MACHINE_PLACEHOLDERS) {
          const child = STATE_MACHINE_PLACEHOLDERS[p as StateMachinePlaceholder];
          substitutions[p] = this.stateMachineArn(child);
          children.add(child);
        } else throw new Error(`${info.file}: no value for the placeholder \${${p}}`);
      }
      if (text.includes(STARTS_ITSELF)) children.add(info.name);

      const role = new iam.Role(this, `${info.name}-role`, {
        assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
        description: `clusterless: the ${info.name} state machine`,
      });
      if (tasks.length) role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: tasks.map((f) => f.functionArn) }));
      if (children.size)
        role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [...children].sort().map((c) => this.stateMachineArn(c)) }));
      // A Distributed Map runs its items as child executions of the same state machine, which it starts, watches and stops.
      if (text.includes(DISTRIBUTED_MAP)) {
        role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn(info.name)] }));
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: ['states:DescribeExecution', 'states:StopExecution'],
            resources: [`arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${this.stateMachineNames[info.name]}/*`],
          }),
        );
      }

      machines[info.name] = new sfn.StateMachine(this, info.name, {
        stateMachineName: this.stateMachineNames[info.name],
        stateMachineType: info.type === 'EXPRESS' ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(text),
        definitionSubstitutions: substitutions,
        role,
        tracingEnabled: true,
        logs: {
          destination: props.logs.newLogGroup(this, `${info.name}-logs`, `/aws/vendedlogs/states/${this.stateMachineNames[info.name]}`),
          level: props.logLevel ?? sfn.LogLevel.ALL,
          includeExecutionData: false,
        },
      });
    }
    this.stateMachines = machines as Record<WorkflowName, sfn.StateMachine>;

    this.failedExecutionsAlarms = {};
    for (const info of STATE_MACHINES.filter((s) => s.type !== 'EXPRESS')) {
      const machine = this.stateMachines[info.name];
      const period = { period: Duration.minutes(5), statistic: 'Sum' };
      this.failedExecutionsAlarms[info.name] = new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: { failed: machine.metricFailed(period), timedOut: machine.metricTimedOut(period), aborted: machine.metricAborted(period) },
        period: Duration.minutes(5),
        label: `${info.name} executions failed, timed out or aborted`,
      }).createAlarm(this, `${info.name}-failed-executions`, {
        alarmDescription: `clusterless: an execution of ${this.stateMachineNames[info.name]} failed, timed out or was aborted`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** A state machine's ARN from its name: known before it exists, so it can be used inside the cycle. */
  stateMachineArn(name: WorkflowName): string {
    return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:${this.stateMachineNames[name]}`;
  }

  /** StartExecution of reconcile-cluster: what every trigger needs. */
  grantStartReconcile(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachines['reconcile-cluster'].grantStartExecution(grantee);
  }

  /** StartExecution of fleet-upgrade: the stream starts one per FleetUpgrade created. */
  grantStartFleetUpgrade(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachines['fleet-upgrade'].grantStartExecution(grantee);
  }

  /** FLEET_UPGRADE_STATE_MACHINE_ARN, for the stream function. */
  get fleetUpgradeEnvironment(): Record<string, string> {
    return { FLEET_UPGRADE_STATE_MACHINE_ARN: this.stateMachines['fleet-upgrade'].stateMachineArn };
  }

  /** The *_STATE_MACHINE_ARN variables (functions/adapters/stepfunctions stateMachineArnsFromEnv) of reconcile-cluster. */
  get reconcileEnvironment(): Record<string, string> {
    return { RECONCILE_CLUSTER_STATE_MACHINE_ARN: this.stateMachines['reconcile-cluster'].stateMachineArn };
  }
}
