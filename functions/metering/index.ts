/** The cost meter: what the control plane would cost on AWS, counted per operation and priced. */
export {
  CostMeter,
  type CostItem,
  type CostMeterOptions,
  type CostReport,
  type DynamoDbAction,
  type DynamoDbTarget,
  type Ec2Action,
  type StateMachineType,
  type WorkflowEvent,
} from './meter.js';
export { MeteredStore } from './metered-store.js';
export { MeteredProvider } from './metered-provider.js';
export { US_EAST_1_PRICES, type PriceTable } from './prices.js';
export { LAMBDA_MEMORY_MB, type LambdaFunctionName } from './lambda-memory.js';
export { claimItemBytes, leaseItemBytes, objectItemBytes, objectPartitionKey, queryCost, readUnits, usageItemBytes, writeUnits } from './dynamodb-units.js';
export {
  USAGE_COUNTERS,
  clusterCosts,
  clusterOfInput,
  invocationUsage,
  meteredInvocation,
  periodStart,
  priceUsage,
  stepTransitions,
  usageCostReport,
  usageCounters,
  usagePeriod,
  type ClusterCost,
  type MeteredDeps,
  type MeteredInvocationOptions,
  type UsageCost,
  type UsageCounterName,
  type UsageCounters,
} from './cluster-usage.js';
export { COST_PATH, handleCostRequest, isCostPath, namespaceCostPath, type CostResponse, type CostRouteDeps } from './cost-route.js';
