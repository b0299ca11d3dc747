import { describe, expect, it } from 'vitest';
import { CostMeter, US_EAST_1_PRICES, type CostReport } from '../../../functions/metering/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const item = (r: CostReport, operation: string, resource: string) => r.items.find((i) => i.operation === operation && i.resource === resource);

function meter(clock = new FakeClock('2026-03-01T00:00:00Z')): CostMeter {
  return new CostMeter({ now: () => clock.now() });
}

describe('CostMeter: Step Functions', () => {
  it('counts a Standard transition per state entered and per retry, by workflow and state type, at $0.025 per 1,000', () => {
    // Prepare: one provision-machine execution as the engine reports it, with one retried Launch
    const m = meter();
    const events = [
      { type: 'ExecutionStarted' },
      ...['Task', 'Choice', 'Task', 'Wait', 'Task', 'Choice', 'Wait', 'Task', 'Choice', 'Succeed'].map((type, i) => ({
        type: 'StateEntered',
        state: { name: `s${i}`, type },
      })),
      { type: 'StateRetried', state: { name: 'Launch', type: 'Task' } },
      { type: 'StateExited', state: { name: 'Launch', type: 'Task' } },
      { type: 'ExecutionSucceeded' },
    ];

    // Act
    for (const e of events) m.onWorkflowEvent('provision-machine', e);
    const r = m.report();

    // Assess: 4 Task + 1 retry = 5, 3 Choice, 2 Wait, 1 Succeed = 11 transitions = $0.000275
    expect(m.transitionsByState()).toEqual({ 'provision-machine': { Task: 5, Choice: 3, Wait: 2, Succeed: 1 } });
    expect(r.standardTransitions).toBe(11);
    expect(item(r, 'StateTransition', 'provision-machine/Task')).toMatchObject({ requests: 5, quantity: 5, unit: 'transitions', cost: 0.000125 });
    expect(r.stepFunctionsCost).toBeCloseTo(0.000275, 12);
    expect(r.executions).toBe(1);
  });

  it('bills Express executions by request and by duration rounded up to 100 ms at 64 MB, not by transition', () => {
    const m = meter();
    for (const ms of [20, 150, 100]) {
      m.onWorkflowEvent('reconcile-cluster', { type: 'ExecutionStarted' });
      m.onWorkflowEvent('reconcile-cluster', { type: 'StateEntered', state: { name: 'Reconcile', type: 'Task' } });
      m.recordExecutionEnded('reconcile-cluster', ms);
    }
    const r = m.report();

    // 100 + 200 + 100 ms = 0.4 s x 0.0625 GB = 0.025 GB-s; x $0.00001667 = $4.1675e-7; 3 requests = $3e-6
    expect(item(r, 'ExpressDuration', 'reconcile-cluster')).toMatchObject({ requests: 3, quantity: 0.025, unit: 'GB-s' });
    expect(item(r, 'ExpressDuration', 'reconcile-cluster')!.cost).toBeCloseTo(4.1675e-7, 12);
    expect(item(r, 'ExpressRequest', 'reconcile-cluster')).toMatchObject({ requests: 3, cost: 0.000003 });
    expect(item(r, 'StateTransition (Express, not billed)', 'reconcile-cluster/Task')).toMatchObject({ requests: 3, cost: 0 });
    expect(r.expressTransitions).toBe(3);
    expect(r.standardTransitions).toBe(0);
    expect(r.stepFunctionsCost).toBeCloseTo(0.000003 + 4.1675e-7, 12);
  });

  it('ignores the end of a Standard execution (its cost is its transitions)', () => {
    const m = meter();
    m.recordExecutionEnded('rolling-upgrade', 60_000);
    expect(m.report().items).toEqual([]);
  });
});

describe('CostMeter: Lambda, DynamoDB, EC2, Scheduler', () => {
  it('bills Lambda per request and per GB-second at the function memory, each invocation rounded up to 1 ms', () => {
    const m = meter();
    for (const ms of [0.4, 10.2, 100]) m.recordLambda('provision', ms);
    m.recordLambda('stream', 1000);
    const r = m.report();

    // provision: 1 + 11 + 100 = 112 ms x 0.5 GB = 0.056 GB-s; stream: 1 s x 0.25 GB = 0.25 GB-s
    expect(item(r, 'Duration', 'provision (512 MB arm64)')).toMatchObject({ requests: 3, quantity: 0.056, unit: 'GB-s' });
    expect(item(r, 'Duration', 'provision (512 MB arm64)')!.cost).toBeCloseTo(0.056 * 0.0000133334, 12);
    expect(item(r, 'Invoke', 'provision')).toMatchObject({ requests: 3, cost: 6e-7 });
    expect(item(r, 'Duration', 'stream (256 MB arm64)')!.quantity).toBe(0.25);
    expect(r.lambdaInvocations).toBe(4);
    expect(r.lambdaGbSeconds).toBeCloseTo(0.306, 9);
    expect(r.lambdaCost).toBeCloseTo(4 * 2e-7 + 0.306 * 0.0000133334, 12);
  });

  it('prices DynamoDB request units at $0.625 per million writes and $0.125 per million reads', () => {
    const m = meter();
    m.recordDynamoDb('PutItem', 'object', { writeUnits: 3 });
    m.recordDynamoDb('PutItem', 'object', { writeUnits: 1 });
    m.recordDynamoDb('Query', 'kind-index', { readUnits: 2.5 }, 3);
    const r = m.report();

    expect(item(r, 'PutItem', 'object')).toMatchObject({ service: 'dynamodb', requests: 2, quantity: 4, unit: 'WRU', cost: 0.0000025 });
    expect(item(r, 'Query', 'kind-index')).toMatchObject({ requests: 3, quantity: 2.5, unit: 'RRU', cost: 3.125e-7 });
    expect([r.readRequestUnits, r.writeRequestUnits]).toEqual([2.5, 4]);
    expect(r.dynamoDbCost).toBeCloseTo(0.0000025 + 3.125e-7, 12);
    expect(m.dynamoDb('PutItem')).toEqual({ requests: 2, readUnits: 0, writeUnits: 4 });
  });

  it('counts EC2 calls by action at no charge, and Scheduler invocations at $1 per million', () => {
    const m = meter();
    m.recordEc2('RunInstances');
    m.recordEc2('DescribeInstances', 3);
    m.recordSchedulerInvocation(1440);
    const r = m.report();

    expect(item(r, 'DescribeInstances', 'instances')).toMatchObject({ service: 'ec2', requests: 3, cost: 0 });
    expect(r.ec2ApiCalls).toBe(4);
    expect(item(r, 'Invoke', 'sweep')).toMatchObject({ service: 'scheduler', requests: 1440, cost: 0.00144 });
    expect(r.totalCost).toBe(0.00144);
  });
});

describe('CostMeter: the report', () => {
  it('is the sum of its items, dated, sourced, over the period since the last reset', () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const m = meter(clock);
    m.onWorkflowEvent('provision-machine', { type: 'StateEntered', state: { name: 'RecordIntent', type: 'Task' } });
    m.recordLambda('provision', 5);
    m.recordDynamoDb('GetItem', 'object', { readUnits: 1 });
    clock.advance(60);
    const r = m.report();

    expect(r).toMatchObject({
      currency: 'USD',
      region: 'us-east-1',
      priceDate: US_EAST_1_PRICES.date,
      since: '2026-03-01T00:00:00.000Z',
      until: '2026-03-01T00:01:00.000Z',
      freeTier: 'not applied',
    });
    expect(r.priceSources).toContain('https://aws.amazon.com/step-functions/pricing/');
    expect(r.totalCost).toBeCloseTo(
      r.items.reduce((s, i) => s + i.cost, 0),
      9,
    );
    expect(r.totalCost).toBeCloseTo(r.stepFunctionsCost + r.lambdaCost + r.dynamoDbCost + r.schedulerCost, 12);
  });

  it('starts again from nothing after reset', () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const m = meter(clock);
    m.recordLambda('reconcile', 10);
    m.recordEc2('RunInstances');
    clock.advance(30);
    m.reset();

    const r = m.report();
    expect(r.items).toEqual([]);
    expect(r.totalCost).toBe(0);
    expect(r.since).toBe('2026-03-01T00:00:30.000Z');
  });

  it('takes the state machine types from the shared loader: reconcile-cluster Express, the others Standard', () => {
    const m = meter();
    expect(['reconcile-cluster', 'provision-machine', 'rolling-upgrade', 'remediate', 'delete-cluster'].map((w) => m.typeOf(w))).toEqual([
      'EXPRESS',
      'STANDARD',
      'STANDARD',
      'STANDARD',
      'STANDARD',
    ]);
  });
});
