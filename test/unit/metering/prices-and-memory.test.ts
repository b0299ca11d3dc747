import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../../infra/control-plane-stack.js';
import { LAMBDA_MEMORY_MB, US_EAST_1_PRICES } from '../../../functions/metering/index.js';

describe('the data the meter prices with', () => {
  it('uses the memory each Lambda function is configured with in infra/', () => {
    expect(LAMBDA_MEMORY_MB).toEqual(Object.fromEntries(Object.entries(HANDLERS).map(([name, h]) => [name, h.memorySize])));
  });

  it('is a dated us-east-1 price table that names its sources', () => {
    expect(US_EAST_1_PRICES.region).toBe('us-east-1');
    expect(US_EAST_1_PRICES.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const page of ['step-functions', 'lambda', 'dynamodb', 'eventbridge'])
      expect(US_EAST_1_PRICES.sources.some((s) => s.startsWith(`https://aws.amazon.com/${page}/pricing`))).toBe(true);
  });
});
