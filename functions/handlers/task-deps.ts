/**
 * The workflow tasks' dependencies on AWS, built once per Lambda container from the environment the stack
 * sets: TABLE_NAME for the store, the region's EC2 for machines.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { Ec2MachineProvider, createEc2Client } from '../adapters/ec2/index.js';
import { NodeReaderUnavailableError, noWorkloadsDrainer, systemClock, type NodeReader } from '../ports.js';
import { scaledTimer, type WorkflowDeps } from '../workflows/index.js';

export const logger = new Logger({ serviceName: 'clusterless-tasks' });

/**
 * Until the workload clusters' kubeconfigs exist (kubeadm bootstrap, issue 8), nodes cannot be read on AWS:
 * the planners then treat node facts as unknown rather than absent, and nothing is concluded from them.
 */
const unreadableNodes: NodeReader = {
  listNodes: async () => {
    throw new NodeReaderUnavailableError('workload cluster credentials are not available yet');
  },
};

export function taskDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the task needs the name of the clusterless table');
  const clock = systemClock;
  const container = randomUUID();
  let invocation = 0;
  return {
    store: new DynamoDbStore({ client: createDynamoDbClient(), tableName, clock }),
    provider: new Ec2MachineProvider({ client: createEc2Client(), clock }),
    nodes: unreadableNodes,
    drainer: noWorkloadsDrainer,
    clock,
    timer: scaledTimer(1),
    holder: () => `${container}/${++invocation}`,
    log: {
      info: (m, f) => logger.info(m, f ?? {}),
      warn: (m, f) => logger.warn(m, f ?? {}),
      error: (m, f) => logger.error(m, f ?? {}),
    },
  };
}

/** A Lambda handler for one task function: dependencies built on first use and kept for the container. */
export function taskHandler(run: (deps: WorkflowDeps, input: Record<string, unknown>) => Promise<unknown>, build: () => WorkflowDeps = taskDepsFromEnvironment) {
  let deps: WorkflowDeps | undefined;
  return async (event: Record<string, unknown>): Promise<unknown> => {
    deps ??= build();
    logger.appendKeys({ step: event['step'], cluster: `${String(event['namespace'])}/${String(event['clusterName'])}` });
    return run(deps, event);
  };
}
