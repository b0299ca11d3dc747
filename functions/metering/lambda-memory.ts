/**
 * Memory of each Lambda function, in MB, as infra/control-plane-stack.ts (HANDLERS) configures it; all are
 * arm64. Kept here as data so that the meter does not load the CDK; test/unit/metering checks that the two
 * agree.
 */
export const LAMBDA_MEMORY_MB = {
  http: 512,
  kubeconfig: 512,
  'cluster-transfer': 512,
  'token-authorizer': 256,
  reconcile: 512,
  provision: 512,
  rollout: 512,
  remediate: 512,
  teardown: 512,
  'fleet-upgrade': 512,
  stream: 256,
  sweep: 512,
  'instance-events': 256,
  'fleet-resource': 512,
} as const satisfies Record<string, number>;

export type LambdaFunctionName = keyof typeof LAMBDA_MEMORY_MB;
