/**
 * The prices the cost meter applies: on-demand list prices of US East (N. Virginia), as data, with the date
 * they were read and where from. Free tiers are not applied (they are per account, not per fleet), nor are
 * savings plans or volume tiers past the first (the first tiers cover billions of GB-seconds).
 *
 * Prices as published on these pages, read on 2026-11-27:
 * - Step Functions: https://aws.amazon.com/step-functions/pricing/
 *   Standard: $0.025 per 1,000 state transitions (each retry is one more transition).
 *   Express: $1.00 per 1M requests; duration $0.00001667 per GB-second (first 1,000 GB-hours), rounded up to
 *   100 ms per execution, memory billed in 64 MB chunks.
 * - Lambda: https://aws.amazon.com/lambda/pricing/
 *   Arm: $0.0000133334 per GB-second (first 7.5 billion GB-s a month), $0.20 per 1M requests, 1 ms billing.
 * - DynamoDB on-demand (Standard table class, prices since 2024-11-01):
 *   https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   $0.625 per million write request units (1 KB), $0.125 per million read request units (4 KB strongly
 *   consistent, or two eventually consistent reads).
 * - EventBridge Scheduler: https://aws.amazon.com/eventbridge/pricing/
 *   $1.00 per million scheduled invocations (after 14 million free a month, not applied here).
 * - EC2: API requests carry no charge (https://aws.amazon.com/ec2/pricing/); the instances themselves are the
 *   user's workload cost and are not metered.
 */

export interface PriceTable {
  region: string;
  currency: 'USD';
  /** When the prices were read from the sources. */
  date: string;
  sources: readonly string[];
  stepFunctions: {
    standardPerTransition: number;
    expressPerRequest: number;
    expressPerGbSecond: number;
    /** Express memory is billed in chunks of this size. */
    expressMemoryChunkMb: number;
    /** Express duration is rounded up to a multiple of this. */
    expressBillingIncrementMs: number;
  };
  lambda: {
    arm64PerGbSecond: number;
    perRequest: number;
    billingIncrementMs: number;
  };
  dynamodb: {
    perWriteRequestUnit: number;
    perReadRequestUnit: number;
  };
  scheduler: { perInvocation: number };
  ec2: { perApiCall: number };
}

export const US_EAST_1_PRICES: PriceTable = {
  region: 'us-east-1',
  currency: 'USD',
  date: '2026-11-27',
  sources: [
    'https://aws.amazon.com/step-functions/pricing/',
    'https://aws.amazon.com/lambda/pricing/',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://aws.amazon.com/eventbridge/pricing/',
    'https://aws.amazon.com/ec2/pricing/',
  ],
  stepFunctions: {
    standardPerTransition: 0.025 / 1000,
    expressPerRequest: 1.0 / 1_000_000,
    expressPerGbSecond: 0.00001667,
    expressMemoryChunkMb: 64,
    expressBillingIncrementMs: 100,
  },
  lambda: {
    arm64PerGbSecond: 0.0000133334,
    perRequest: 0.2 / 1_000_000,
    billingIncrementMs: 1,
  },
  dynamodb: {
    perWriteRequestUnit: 0.625 / 1_000_000,
    perReadRequestUnit: 0.125 / 1_000_000,
  },
  scheduler: { perInvocation: 1.0 / 1_000_000 },
  ec2: { perApiCall: 0 },
};
