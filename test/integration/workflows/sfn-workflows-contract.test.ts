/**
 * The Workflows contract on Step Functions (moto_server): SfnWorkflows against state machines made from
 * statemachines/. moto records executions without running them, so an execution runs until it is stopped.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
  type ExecutionListItem,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { localSubstitutions } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import { SfnWorkflows } from '../../../functions/adapters/stepfunctions/sfn-workflows.js';
import type { WorkflowName } from '../../../functions/ports.js';
import { STATE_MACHINES, loadDefinition } from '../../../statemachines/loader.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { runWorkflowsContract, type ExecutionStatus } from '../../support/workflows-contract.js';

let client: SFNClient;
let stateMachineArns: Record<WorkflowName, string>;

beforeAll(async () => {
  client = new SFNClient(emulatorClientConfig(motoEndpoint()));
  // One set of state machines for the file, named apart from other files' (moto_server is shared).
  const prefix = uniqueName('contract');
  const entries = await Promise.all(
    STATE_MACHINES.map(async (sm) => {
      const out = await client.send(
        new CreateStateMachineCommand({
          name: `${prefix}-${sm.name}`,
          type: sm.type,
          definition: JSON.stringify(loadDefinition(sm.name, localSubstitutions())),
          roleArn: 'arn:aws:iam::123456789012:role/clusterless-workflows',
        }),
      );
      return [sm.name, out.stateMachineArn!] as const;
    }),
  );
  stateMachineArns = Object.fromEntries(entries) as Record<WorkflowName, string>;
});

afterAll(() => client.destroy());

async function listed(workflow: WorkflowName, name: string): Promise<ExecutionListItem[]> {
  const out: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListExecutionsCommand({ stateMachineArn: stateMachineArns[workflow], ...(nextToken ? { nextToken } : {}) }));
    out.push(...(page.executions ?? []).filter((e) => e.name === name));
    nextToken = page.nextToken;
  } while (nextToken);
  return out.sort((a, b) => (a.startDate?.getTime() ?? 0) - (b.startDate?.getTime() ?? 0));
}

runWorkflowsContract('SfnWorkflows on moto_server', async () => ({
  workflows: new SfnWorkflows({ client, stateMachineArns }),
  executions: async (workflow, name) => (await listed(workflow, name)).map((e) => e.status as ExecutionStatus),
  end: async (workflow, name) => {
    for (const e of await listed(workflow, name)) {
      if (e.status !== 'RUNNING') continue;
      await client.send(new StopExecutionCommand({ executionArn: e.executionArn }));
      const { status } = await client.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      if (status === 'RUNNING') throw new Error(`${name} still runs after StopExecution`);
    }
  },
  // Step Functions refuses them (InvalidName, or a ValidationException for the length); moto does the same.
  invalidNames: 'refused',
  // moto checks an Express workflow's names as a Standard one's; Step Functions Express would start it again.
  repeatedExpressNames: 'refused',
  close: async () => {},
}));
