/** The Workflows port on AWS: StartExecution against the deployed state machines. */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowName, Workflows } from '../../ports.js';

export interface SfnWorkflowsOptions {
  client: SFNClient;
  /** The ARN of each deployed state machine (from the environment the stack sets). */
  stateMachineArns: Partial<Record<WorkflowName, string>>;
}

export class SfnWorkflows implements Workflows {
  constructor(private readonly options: SfnWorkflowsOptions) {}

  async start(workflow: WorkflowName, executionName: string, input: Record<string, unknown>): Promise<{ started: boolean }> {
    const arn = this.options.stateMachineArns[workflow];
    if (!arn) throw new Error(`no state machine ARN configured for ${workflow}`);
    try {
      await this.options.client.send(new StartExecutionCommand({ stateMachineArn: arn, name: executionName, input: JSON.stringify(input) }));
      return { started: true };
    } catch (err) {
      // A repeated start of a deterministic name is the no-op the design relies on.
      if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') return { started: false };
      throw err;
    }
  }
}

/** Reads the state machine ARNs from environment variables such as PROVISION_MACHINE_STATE_MACHINE_ARN. */
export function stateMachineArnsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Record<WorkflowName, string>> {
  const names: WorkflowName[] = ['reconcile-cluster', 'provision-machine', 'rolling-upgrade', 'remediate', 'delete-cluster', 'fleet-upgrade'];
  const out: Partial<Record<WorkflowName, string>> = {};
  for (const n of names) {
    const v = env[`${n.toUpperCase().replaceAll('-', '_')}_STATE_MACHINE_ARN`];
    if (v) out[n] = v;
  }
  return out;
}

/** The workflows the stream, sweep and instance-events functions start: reconcile-cluster must be named. */
export function reconcileWorkflowsFromEnv(env: NodeJS.ProcessEnv = process.env): SfnWorkflows {
  const stateMachineArns = stateMachineArnsFromEnv(env);
  if (!stateMachineArns['reconcile-cluster']) throw new Error('RECONCILE_CLUSTER_STATE_MACHINE_ARN is not set');
  return new SfnWorkflows({ client: new SFNClient({}), stateMachineArns });
}
