/**
 * The five state machines as CloudFormation will create them: the files of statemachines/ with every
 * ${Placeholder} substituted (simulated here as CloudFormation does it), each reference resolved to the
 * right function or state machine, and the roles, logs and tracing around them.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowName } from '../../functions/ports.js';
import { LEASE_SECONDS } from '../../functions/workflows/reconcile-cluster.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { HANDLERS } from '../../infra/control-plane-stack.js';
import { STATE_MACHINES, STATE_MACHINE_PLACEHOLDERS, TASK_FUNCTIONS, placeholdersOf, readDefinitionText } from '../../statemachines/loader.js';
import { actionsOf, controlPlaneTemplate, logicalId, resourcesOf, statementsOfRole } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

const NAMES = STATE_MACHINES.map((s) => s.name);
const machine = (name: WorkflowName) =>
  resourcesOf(template, 'AWS::StepFunctions::StateMachine')[logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[name])]!.Properties;

/** A substitution value as a readable reference: `function:<logical id>`, `state-machine:<name>`. */
function reference(value: unknown): string {
  const v = value as { 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  if (v['Fn::GetAtt']?.[1] === 'Arn') return `function:${v['Fn::GetAtt'][0]}`;
  const parts = v['Fn::Join']?.[1];
  if (
    parts &&
    JSON.stringify(parts.slice(0, 6)) ===
      JSON.stringify(['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }])
  ) {
    const tail = parts[6];
    if (parts.length === 7 && typeof tail === 'string' && tail.startsWith(':stateMachine:')) return `state-machine:${tail.slice(':stateMachine:'.length)}`;
  }
  return `unresolved:${JSON.stringify(value)}`;
}

/** What CloudFormation does with DefinitionString and DefinitionSubstitutions. */
function substituted(name: WorkflowName): string {
  const p = machine(name);
  const subs = p['DefinitionSubstitutions'] as Record<string, unknown>;
  return (p['DefinitionString'] as string).replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, key: string) => (key in subs ? reference(subs[key]) : m));
}

type State = {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
  Iterator?: { States: Record<string, State> };
  ItemProcessor?: { States: Record<string, State>; ProcessorConfig?: { Mode?: string } };
};

function allStates(states: Record<string, State>): State[] {
  return Object.values(states).flatMap((s) => [s, ...allStates(s.Iterator?.States ?? s.ItemProcessor?.States ?? {})]);
}

const taskResources = (name: WorkflowName) =>
  allStates((JSON.parse(substituted(name)) as { States: Record<string, State> }).States)
    .filter((s) => s.Type === 'Task' && s.Resource !== 'arn:aws:states:::states:startExecution')
    .map((s) => s.Resource);
/** What a definition starts: the machines its startExecution tasks name, and itself for a Distributed Map's items. */
const startedMachines = (name: WorkflowName) => {
  const states = allStates((JSON.parse(substituted(name)) as { States: Record<string, State> }).States);
  return [
    ...states
      .filter((s) => s.Resource === 'arn:aws:states:::states:startExecution')
      .map((s) => s.Parameters?.['StateMachineArn'] ?? s.Parameters?.['StateMachineArn.$']),
    ...(states.some((s) => s.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') ? ['$$.StateMachine.Id'] : []),
  ];
};

describe.each(NAMES)('%s', (name) => {
  const info = STATE_MACHINES.find((s) => s.name === name)!;

  it(`is ${info.type} as statemachines/loader.ts says`, () => {
    expect(machine(name)['StateMachineType']).toBe(info.type);
  });

  it('is the file of statemachines/, untouched, with a substitution for each of its placeholders', () => {
    const text = readDefinitionText(name);
    expect(machine(name)['DefinitionString']).toBe(text);
    expect(Object.keys(machine(name)['DefinitionSubstitutions'] as object).sort()).toEqual(placeholdersOf(text));
  });

  it('leaves no ${ placeholder once substituted, and parses', () => {
    const text = substituted(name);
    expect(text).not.toContain('${');
    expect(text).not.toContain('unresolved:');
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('calls its own task function, by its ARN', () => {
    const entry = Object.entries(TASK_FUNCTIONS).find(([p]) => readDefinitionText(name).includes(`\${${p}}`))!;
    const expected = `function:${logicalId(app.controlPlane, app.controlPlane.functions[entry[1]].function)}`;
    const resources = taskResources(name);
    expect(resources.length).toBeGreaterThan(0);
    expect(new Set(resources)).toEqual(new Set([expected]));
  });

  it('starts each child state machine by the ARN of that machine', () => {
    const names = app.controlPlane.workflows.stateMachineNames;
    for (const [placeholder, child] of Object.entries(STATE_MACHINE_PLACEHOLDERS)) {
      const state = allStates((JSON.parse(readDefinitionText(name)) as { States: Record<string, State> }).States).find(
        (s) => s.Parameters?.['StateMachineArn'] === `\${${placeholder}}`,
      );
      if (!state) continue;
      expect((machine(name)['DefinitionSubstitutions'] as Record<string, unknown>)[placeholder], placeholder).toSatisfy(
        (v: unknown) => reference(v) === `state-machine:${names[child]}`,
      );
      expect(machine(child)['StateMachineName']).toBe(names[child]);
    }
  });

  it('logs every event to its own encrypted log group, without execution data', () => {
    const logging = machine(name)['LoggingConfiguration'] as {
      Level: string;
      IncludeExecutionData: boolean;
      Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
    };
    expect(logging).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    const group = resourcesOf(template, 'AWS::Logs::LogGroup')[logging.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]]!.Properties;
    expect(group['LogGroupName']).toBe(`/aws/vendedlogs/states/${app.controlPlane.workflows.stateMachineNames[name]}`);
    expect(group['KmsKeyId']).toEqual({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.logs.key), 'Arn'] });
  });

  it('is traced with X-Ray', () => {
    expect(machine(name)['TracingConfiguration']).toEqual({ Enabled: true });
  });

  it('has a role that may invoke its task function only', () => {
    const role = logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[name].role);
    const invoke = statementsOfRole(template, role).filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Resource).toSatisfy((r: unknown) => new Set(taskResources(name)).has(reference(r)));
  });

  it('has a role that may start exactly the machines its definition starts (itself for ContinueAsNew)', () => {
    const role = logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[name].role);
    const granted = statementsOfRole(template, role)
      .filter((s) => actionsOf(s).includes('states:StartExecution'))
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(reference));
    const names = app.controlPlane.workflows.stateMachineNames;
    const started = startedMachines(name).map((arn) => (arn === '$$.StateMachine.Id' ? `state-machine:${names[name]}` : String(arn)));
    expect(new Set(granted)).toEqual(new Set(started));
  });
});

describe('the state machine names', () => {
  it('are the stack name and the file name, so the ARNs are known before the machines exist', () => {
    expect(NAMES.map((n) => machine(n)['StateMachineName'])).toEqual(NAMES.map((n) => `${app.controlPlane.stackName}-${n}`));
  });
});

describe('the cluster lease', () => {
  it("outlasts, by a minute, every task that takes it: each Task state's TimeoutSeconds and each Lambda's timeout", () => {
    // The tasks that reconcile a cluster (reconcileCluster takes the lease): reconcile-cluster's, and the steps.
    const leased = ['ReconcileTaskFunctionArn', 'RolloutTaskFunctionArn', 'RemediateTaskFunctionArn', 'TeardownTaskFunctionArn'] as const;
    const stateTimeouts = NAMES.flatMap((name) =>
      allStates((JSON.parse(readDefinitionText(name)) as { States: Record<string, State> }).States)
        .filter((s) => s.Type === 'Task' && leased.some((p) => s.Resource === `\${${p}}`))
        .map((s) => s.TimeoutSeconds),
    );
    const lambdaTimeouts = leased.map((p) => HANDLERS[TASK_FUNCTIONS[p]].timeout.toSeconds());
    // Every such state has a timeout (an unbounded one could outlive any lease), and the longest is 240 s.
    expect(stateTimeouts.length).toBeGreaterThan(0);
    expect(stateTimeouts.every((t) => typeof t === 'number')).toBe(true);
    const longest = Math.max(...(stateTimeouts as number[]), ...lambdaTimeouts);
    expect(longest).toBe(240);
    expect(LEASE_SECONDS).toBeGreaterThanOrEqual(longest + 60);
  });
});
