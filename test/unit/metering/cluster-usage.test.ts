import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider } from '../../../functions/adapters/sim/index.js';
import { handleCostRequest } from '../../../functions/metering/cost-route.js';
import {
  clusterCosts,
  meteredInvocation,
  priceUsage,
  stepTransitions,
  usageCounters,
  usagePeriod,
  type UsageCounters,
} from '../../../functions/metering/cluster-usage.js';
import { usageItemBytes, writeUnits } from '../../../functions/metering/dynamodb-units.js';
import { US_EAST_1_PRICES } from '../../../functions/metering/prices.js';
import { StoreUnavailableError, type Store } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';
import { cluster, machine } from '../../support/store-contract.js';

function setup() {
  const clock = new FakeClock(new Date('2026-12-07T10:00:00Z'));
  const store = new MemoryStore({ clock });
  const provider = new SimMachineProvider(new SimCloud({ clock }));
  // A monotonic clock the test moves: 250 ms per invocation.
  let ms = 0;
  const options = { now: () => clock.now(), elapsed: () => (ms += 125) };
  return { clock, store, provider, options };
}

const usageOf = async (store: Store, namespace: string, clusterName: string): Promise<UsageCounters | undefined> => {
  const record = (await store.listUsage('2026-12', namespace)).find((r) => r.clusterName === clusterName);
  return record && usageCounters(record);
};

describe('stepTransitions: the Standard transitions a step brings about, from the definitions', () => {
  it.each([
    { name: 'provision launch: Launch, Wait', task: 'provision', input: { step: 'launch' }, output: {}, transitions: 2 },
    { name: 'provision check: Check, NextStep, Wait or Done', task: 'provision', input: { step: 'check' }, output: {}, transitions: 3 },
    { name: 'provision recordFailure: RecordFailure, Failed', task: 'provision', input: { step: 'recordFailure' }, output: {}, transitions: 2 },
    { name: 'a later rollout step without children', task: 'rollout', input: { step: 'rolloutStep', iteration: 3 }, output: { children: [] }, transitions: 5 },
    {
      name: "an execution's first step also enters Init and Defaults",
      task: 'teardown',
      input: { step: 'teardownStep', iteration: 0 },
      output: {},
      transitions: 7,
    },
    {
      name: 'a step with two children: the Map state and Route and Start of each',
      task: 'remediate',
      input: { step: 'remediateStep', iteration: 1 },
      output: { children: [{}, {}] },
      transitions: 10,
    },
    { name: 'reconcile is Express: none billed', task: 'reconcile', input: { step: 'reconcile' }, output: { children: [{}] }, transitions: 0 },
  ])('$name', ({ task, input, output, transitions }) => {
    expect(stepTransitions(task, input, output)).toBe(transitions);
  });
});

describe('meteredInvocation: each task invocation adds what it cost to its cluster', () => {
  it("adds a Lambda request, its duration, the store's and provider's requests and the usage write to the invocation's cluster only", async () => {
    // Prepare
    const { store, provider, options } = setup();
    await store.create(cluster('c1', 'team-a'));
    await store.create(machine('m1', 'c1', 'team-a'));

    // Act: a provision check that reads its cluster and describes its instances.
    await meteredInvocation(
      { store, provider },
      'provision',
      { step: 'check', namespace: 'team-a', clusterName: 'c1' },
      async (deps) => {
        await deps.store.listCluster('team-a', 'c1');
        await deps.provider.describe('team-a', 'c1');
        return {};
      },
      options,
    );

    // Assess
    const usage = (await usageOf(store, 'team-a', 'c1'))!;
    expect(usage.lambdaRequests).toBe(1);
    expect(usage.lambdaGbSeconds).toBeCloseTo(0.125 * 0.5, 9); // 125 ms at 512 MB
    expect(usage.standardTransitions).toBe(3);
    expect(usage.expressRequests).toBe(0);
    expect(usage.ec2Calls).toBe(1);
    expect(usage.readUnits).toBeGreaterThan(0);
    // Nothing was written but the usage record itself, whose write is counted in it.
    expect(usage.writeUnits).toBe(writeUnits(usageItemBytes('team-a', 'c1', Object.keys(usage))));
    expect(await store.listUsage('2026-12')).toHaveLength(1);
  });

  it('counts a reconcile as one Express request billed by its duration in 100 ms steps at 64 MB', async () => {
    const { store, provider, options } = setup();
    await meteredInvocation(
      { store, provider },
      'reconcile',
      { step: 'reconcile', namespace: 'default', clusterName: 'c1' },
      async () => ({ children: [] }),
      options,
    );
    const usage = (await usageOf(store, 'default', 'c1'))!;
    expect(usage.expressRequests).toBe(1);
    expect(usage.expressGbSeconds).toBeCloseTo(0.2 * (64 / 1024), 12);
    expect(usage.standardTransitions).toBe(0);
  });

  it('counts an invocation that threw, and throws its error', async () => {
    const { store, provider, options } = setup();
    const boom = new Error('boom');
    await expect(
      meteredInvocation(
        { store, provider },
        'rollout',
        { step: 'rolloutStep', namespace: 'default', clusterName: 'c1', iteration: 2 },
        async () => Promise.reject(boom),
        options,
      ),
    ).rejects.toBe(boom);
    expect((await usageOf(store, 'default', 'c1'))!.lambdaRequests).toBe(1);
  });

  it('adds concurrent invocations of two clusters each to its own record', async () => {
    const { store, provider, options } = setup();
    await Promise.all(
      [...Array(6)].map((_, i) =>
        meteredInvocation(
          { store, provider },
          'provision',
          { step: 'launch', namespace: 'default', clusterName: i % 3 ? 'a' : 'b' },
          async () => ({}),
          options,
        ),
      ),
    );
    expect((await usageOf(store, 'default', 'a'))!.lambdaRequests).toBe(4);
    expect((await usageOf(store, 'default', 'b'))!.lambdaRequests).toBe(2);
  });

  it('counts nothing for a step that names no cluster (a fleet-upgrade step)', async () => {
    const { store, provider, options } = setup();
    expect(
      await meteredInvocation({ store, provider }, 'fleet-upgrade', { step: 'nextWave', namespace: 'default', name: 'f' }, async () => 'ran', options),
    ).toBe('ran');
    expect(await store.listUsage('2026-12')).toEqual([]);
  });

  it("keeps the task's result when the usage write fails, and reports the failure", async () => {
    const { provider, options } = setup();
    const failing = new (class extends MemoryStore {
      override addUsage(): Promise<void> {
        return Promise.reject(new StoreUnavailableError('throttled'));
      }
    })();
    const errors: unknown[] = [];
    const result = await meteredInvocation(
      { store: failing, provider },
      'provision',
      { step: 'launch', namespace: 'default', clusterName: 'c1' },
      async () => 'launched',
      { ...options, onUsageError: (e) => errors.push(e) },
    );
    expect(result).toBe('launched');
    expect(errors).toEqual([expect.any(StoreUnavailableError)]);
    expect(await failing.listUsage('2026-12')).toEqual([]);
  });
});

describe('pricing and the cost routes', () => {
  it('prices usage at the price table, and scales a row to 30 days from its first count', () => {
    const usage = { ...usageCounters({ counters: {} }), standardTransitions: 1000, lambdaRequests: 1_000_000, writeUnits: 1_000_000 };
    const cost = priceUsage(usage);
    const p = US_EAST_1_PRICES;
    expect(cost.stepFunctionsCost).toBeCloseTo(1000 * p.stepFunctions.standardPerTransition, 12);
    expect(cost.lambdaCost).toBeCloseTo(1_000_000 * p.lambda.perRequest, 12);
    expect(cost.dynamoDbCost).toBeCloseTo(1_000_000 * p.dynamodb.perWriteRequestUnit, 12);
    const [row] = clusterCosts(
      [{ namespace: 'default', clusterName: 'c1', period: '2026-12', since: '2026-12-01T00:00:00.000Z', counters: usage }],
      new Date('2026-12-04T00:00:00.000Z'),
    );
    expect(row!.perMonth).toBeCloseTo(cost.totalCost * 10, 9); // 3 days of 30
  });

  it("answers a namespace's route with that namespace's clusters only, the installation's with all", async () => {
    const { store, clock } = setup();
    await store.addUsage('team-a', 'c1', '2026-12', { lambdaRequests: 2 });
    await store.addUsage('team-b', 'c2', '2026-12', { lambdaRequests: 3 });
    const get = async (path: string, query: Record<string, string> = {}) => {
      const r = await handleCostRequest({ method: 'GET', path, query, headers: {} }, { store, now: () => clock.now() });
      return { status: r.status, body: JSON.parse(r.body) };
    };

    const a = await get('/clusterless/v1/namespaces/team-a/cost');
    expect(a.status).toBe(200);
    expect(a.body.clusters.map((c: { clusterName: string }) => c.clusterName)).toEqual(['c1']);
    expect(a.body.lambdaInvocations).toBe(2);
    expect(a.body.period).toBe(usagePeriod(clock.now()));

    const all = await get('/clusterless/v1/cost');
    expect(all.body.clusters.map((c: { namespace: string }) => c.namespace)).toEqual(['team-a', 'team-b']);
    expect(all.body.lambdaInvocations).toBe(5);

    expect((await get('/clusterless/v1/cost', { period: '2026-11' })).body.clusters).toEqual([]);
    expect((await get('/clusterless/v1/cost', { period: '2026-1' })).status).toBe(400);
    expect((await get('/clusterless/v1/namespaces/Team_A/cost')).status).toBe(400);
    const post = await handleCostRequest({ method: 'POST', path: '/clusterless/v1/cost', query: {}, headers: {} }, { store, now: () => clock.now() });
    expect(post.status).toBe(405);
  });
});
