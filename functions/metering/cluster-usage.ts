/**
 * Cost per cluster: each task invocation counts what it cost, where the work happens, and adds it to its cluster's
 * usage record of the month in one atomic store write (Store.addUsage). Both hosts run the same code around every
 * task (functions/handlers/task-deps.ts taskHandler on AWS, local/runtime.ts on the embedded host), so both report
 * the same split, read back by GET /clusterless/v1/cost (cost-route.ts).
 *
 * What one invocation counts:
 * - Lambda: one request, its wall time rounded up to 1 ms at its function's memory (LAMBDA_MEMORY_MB);
 * - DynamoDB and EC2: the requests its store and provider calls make, modelled by MeteredStore and MeteredProvider
 *   over a meter of its own, plus the usage write itself (one UpdateItem, counted before it is sent);
 * - Step Functions Standard: the transitions the step brings about, from the definitions (stepTransitions);
 * - Step Functions Express: the reconcile task is one Express execution: one request and its duration (the task's,
 *   rounded up to 100 ms, at 64 MB).
 * Not attributed to a cluster: API requests, the sweep, the stream and instance-event functions, Scheduler
 * invocations, fleet-upgrade steps (a FleetUpgrade spans clusters), and reads of other objects made through
 * dependencies built once per container (the event recorder's store, the bootstrap's secrets).
 */
import type { MachineProvider, Store, UsageRecord } from '../ports.js';
import { usageItemBytes, writeUnits } from './dynamodb-units.js';
import { LAMBDA_MEMORY_MB } from './lambda-memory.js';
import { CostMeter, type CostItem, type CostReport } from './meter.js';
import { MeteredProvider } from './metered-provider.js';
import { MeteredStore } from './metered-store.js';
import { US_EAST_1_PRICES, type PriceTable } from './prices.js';

/** The counters of a usage record, each a sum over the period's task invocations. */
export const USAGE_COUNTERS = [
  'lambdaRequests',
  'lambdaGbSeconds',
  'standardTransitions',
  'expressRequests',
  'expressGbSeconds',
  'readUnits',
  'writeUnits',
  'ec2Calls',
] as const;
export type UsageCounterName = (typeof USAGE_COUNTERS)[number];
export type UsageCounters = Record<UsageCounterName, number>;

const zero = (): UsageCounters => Object.fromEntries(USAGE_COUNTERS.map((c) => [c, 0])) as UsageCounters;

/** The usage period of an instant: its UTC month, `YYYY-MM`. */
export const usagePeriod = (at: Date): string => at.toISOString().slice(0, 7);

/** The first instant of a period. */
export const periodStart = (period: string): Date => new Date(`${period}-01T00:00:00.000Z`);

/** The Express execution's memory, billed in 64 MB chunks (meter.ts). */
const EXPRESS_GB = 64 / 1024;

const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/**
 * Standard transitions one invocation of a task's step brings about, read off the definitions (statemachines/):
 * - provision-machine: Launch or Relaunch, then Wait (2); Check, NextStep, then Wait or Done (3); RecordFailure, Failed (2).
 * - the stepping workflows (rolling-upgrade, remediate, delete-cluster): Step, HasChildren, Decide, then Wait and
 *   Count or Done (5; an execution's first step also enters Init and Defaults), and with children the Map state and
 *   two per child (Route, Start); RecordFailure, Failed (2).
 * - reconcile-cluster is Express (no billed transitions) and fleet-upgrade spans clusters: 0.
 * An upper bound where the path forks (a last step's Done is one state where Wait and Count are two).
 */
export function stepTransitions(task: string, input: Record<string, unknown>, output: unknown): number {
  const step = input['step'];
  if (step === 'recordFailure') return task === 'reconcile' || task === 'fleet-upgrade' ? 0 : 2;
  if (task === 'provision') return step === 'check' || step === 'checkInstance' || step === 'checkNode' ? 3 : 2;
  if (task === 'rollout' || task === 'remediate' || task === 'teardown') {
    const children = count((output as { children?: unknown } | undefined)?.children);
    return 5 + (input['iteration'] === 0 ? 2 : 0) + (children > 0 ? 1 + 2 * children : 0);
  }
  return 0;
}

/** One invocation's counters: its own meter (store and provider calls), its duration, and the definitions. */
export function invocationUsage(task: string, input: Record<string, unknown>, output: unknown, durationMs: number, meter: CostMeter): UsageCounters {
  const usage = zero();
  const memoryMb = (LAMBDA_MEMORY_MB as Record<string, number>)[task] ?? 512;
  usage.lambdaRequests = 1;
  usage.lambdaGbSeconds = (Math.max(1, Math.ceil(durationMs)) / 1000) * (memoryMb / 1024);
  usage.standardTransitions = stepTransitions(task, input, output);
  if (task === 'reconcile' && input['step'] !== 'recordFailure') {
    usage.expressRequests = 1;
    usage.expressGbSeconds = ((Math.max(1, Math.ceil(durationMs / 100)) * 100) / 1000) * EXPRESS_GB;
  }
  const dynamo = meter.dynamoDb();
  usage.readUnits = dynamo.readUnits;
  usage.writeUnits = dynamo.writeUnits;
  usage.ec2Calls = meter.ec2Calls();
  return usage;
}

/** The dependencies a task's work goes through: metered per invocation. */
export interface MeteredDeps {
  store: Store;
  provider: MachineProvider;
}

export interface MeteredInvocationOptions {
  /** The host's clock (the period of the record). */
  now: () => Date;
  /** Milliseconds on a monotonic clock. @default performance.now */
  elapsed?: () => number;
  /** Told when the usage could not be written; the task's own result stands. */
  onUsageError?: (err: unknown) => void;
}

/** The cluster a task input names, when it names one (fleet-upgrade steps do not). */
export function clusterOfInput(input: Record<string, unknown>): { namespace: string; clusterName: string } | undefined {
  const { namespace, clusterName } = input;
  return typeof namespace === 'string' && namespace !== '' && typeof clusterName === 'string' && clusterName !== '' ? { namespace, clusterName } : undefined;
}

/**
 * Runs one task invocation over metered dependencies and adds what it cost to its cluster's usage record (one
 * write, whether the task succeeded or threw; a Lambda is billed either way). A usage write that fails is reported
 * and dropped: retrying the task for it would repeat the task's work and count it twice.
 */
export async function meteredInvocation<D extends MeteredDeps, R>(
  deps: D,
  task: string,
  input: Record<string, unknown>,
  run: (deps: D) => Promise<R>,
  options: MeteredInvocationOptions,
): Promise<R> {
  const cluster = clusterOfInput(input);
  if (!cluster) return run(deps);
  const meter = new CostMeter({ now: options.now });
  const elapsed = options.elapsed ?? (() => performance.now());
  const started = elapsed();
  let output: unknown;
  try {
    output = await run({ ...deps, store: new MeteredStore(deps.store, meter), provider: new MeteredProvider(deps.provider, meter) });
    return output as R;
  } finally {
    const usage = invocationUsage(task, input, output, elapsed() - started, meter);
    usage.writeUnits += writeUnits(usageItemBytes(cluster.namespace, cluster.clusterName, USAGE_COUNTERS));
    const counters = Object.fromEntries(Object.entries(usage).filter(([, v]) => v > 0));
    await deps.store
      .addUsage(cluster.namespace, cluster.clusterName, usagePeriod(options.now()), counters)
      .catch((err: unknown) => options.onUsageError?.(err));
  }
}

// --- reading -----------------------------------------------------------------------------------------------

/** A usage record's counters, every one present (0 where none was added). */
export function usageCounters(record: Pick<UsageRecord, 'counters'>): UsageCounters {
  const usage = zero();
  for (const c of USAGE_COUNTERS) {
    const v = record.counters[c];
    if (typeof v === 'number' && Number.isFinite(v)) usage[c] = v;
  }
  return usage;
}

/** What some usage costs, by service. */
export interface UsageCost {
  stepFunctionsCost: number;
  lambdaCost: number;
  dynamoDbCost: number;
  ec2Cost: number;
  totalCost: number;
}

const round12 = (x: number) => Math.round(x * 1e12) / 1e12;

/** One priced line of some usage: a row of the cost report before rounding. */
type UsageLine = Omit<CostItem, 'cost'> & { cost: number };

/** Every priced line of some usage: the one place its prices are applied (priceUsage sums them, the report lists them). */
function usageLines(u: UsageCounters, p: PriceTable): UsageLine[] {
  const line = (service: CostItem['service'], operation: string, resource: string, requests: number, quantity: number, unit: string, cost: number) => ({
    service,
    operation,
    resource,
    requests,
    quantity,
    unit,
    cost,
  });
  return [
    line(
      'states',
      'StateTransition',
      'standard workflows',
      u.standardTransitions,
      u.standardTransitions,
      'transitions',
      u.standardTransitions * p.stepFunctions.standardPerTransition,
    ),
    line(
      'states',
      'ExpressRequest',
      'reconcile-cluster',
      u.expressRequests,
      u.expressRequests,
      'requests',
      u.expressRequests * p.stepFunctions.expressPerRequest,
    ),
    line(
      'states',
      'ExpressDuration',
      'reconcile-cluster',
      u.expressRequests,
      u.expressGbSeconds,
      'GB-s',
      u.expressGbSeconds * p.stepFunctions.expressPerGbSecond,
    ),
    line('lambda', 'Invoke', 'task functions', u.lambdaRequests, u.lambdaRequests, 'requests', u.lambdaRequests * p.lambda.perRequest),
    line('lambda', 'Duration', 'task functions (arm64)', u.lambdaRequests, u.lambdaGbSeconds, 'GB-s', u.lambdaGbSeconds * p.lambda.arm64PerGbSecond),
    line('dynamodb', 'Read', 'table', 0, u.readUnits, 'RRU', u.readUnits * p.dynamodb.perReadRequestUnit),
    line('dynamodb', 'Write', 'table', 0, u.writeUnits, 'WRU', u.writeUnits * p.dynamodb.perWriteRequestUnit),
    line('ec2', 'ApiCall', 'instances', u.ec2Calls, u.ec2Calls, 'calls', u.ec2Calls * p.ec2.perApiCall),
  ];
}

export function priceUsage(u: UsageCounters, p: PriceTable = US_EAST_1_PRICES): UsageCost {
  const lines = usageLines(u, p);
  const of = (service: CostItem['service']) => lines.reduce((sum, l) => (l.service === service ? sum + l.cost : sum), 0);
  const stepFunctionsCost = of('states');
  const lambdaCost = of('lambda');
  const dynamoDbCost = of('dynamodb');
  const ec2Cost = of('ec2');
  return {
    stepFunctionsCost: round12(stepFunctionsCost),
    lambdaCost: round12(lambdaCost),
    dynamoDbCost: round12(dynamoDbCost),
    ec2Cost: round12(ec2Cost),
    totalCost: round12(stepFunctionsCost + lambdaCost + dynamoDbCost + ec2Cost),
  };
}

/** One row of the cost route: a cluster's usage this period, priced, and at this rate over a 30-day month. */
export interface ClusterCost extends UsageCost {
  namespace: string;
  clusterName: string;
  /** When its first invocation of the period was counted. */
  since: string;
  usage: UsageCounters;
  /** totalCost over the time since `since` (at least an hour), scaled to 30 days. */
  perMonth: number;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

export function clusterCosts(records: readonly UsageRecord[], now: Date, prices: PriceTable = US_EAST_1_PRICES): ClusterCost[] {
  return records.map((r) => {
    const usage = usageCounters(r);
    const cost = priceUsage(usage, prices);
    const since = Date.parse(r.since) || periodStart(r.period).getTime();
    const span = Math.max(HOUR_MS, now.getTime() - since);
    return {
      namespace: r.namespace,
      clusterName: r.clusterName,
      since: new Date(since).toISOString(),
      usage,
      ...cost,
      perMonth: round12((cost.totalCost * MONTH_MS) / span),
    };
  });
}

/**
 * A cost report of usage records alone (the AWS host, which has no meter of everything): the rows' sums, as items
 * of the meter's report, since the period's start.
 */
export function usageCostReport(records: readonly UsageRecord[], period: string, now: Date, prices: PriceTable = US_EAST_1_PRICES): CostReport {
  const u = zero();
  for (const r of records) {
    const c = usageCounters(r);
    for (const k of USAGE_COUNTERS) u[k] += c[k];
  }
  const cost = priceUsage(u, prices);
  const p = prices;
  const items: CostItem[] = usageLines(u, p).map((l) => ({ ...l, quantity: Math.round(l.quantity * 1e9) / 1e9, cost: round12(l.cost) }));
  return {
    currency: p.currency,
    items,
    region: p.region,
    priceDate: p.date,
    since: periodStart(period).toISOString(),
    until: now.toISOString(),
    executions: u.expressRequests,
    standardTransitions: u.standardTransitions,
    expressTransitions: 0,
    expressRequests: u.expressRequests,
    lambdaInvocations: u.lambdaRequests,
    lambdaGbSeconds: Math.round(u.lambdaGbSeconds * 1e9) / 1e9,
    readRequestUnits: Math.round(u.readUnits * 10) / 10,
    writeRequestUnits: u.writeUnits,
    ec2ApiCalls: u.ec2Calls,
    schedulerInvocations: 0,
    stepFunctionsCost: cost.stepFunctionsCost,
    lambdaCost: cost.lambdaCost,
    dynamoDbCost: cost.dynamoDbCost,
    schedulerCost: 0,
    totalCost: cost.totalCost,
    freeTier: 'not applied',
    priceSources: p.sources,
  };
}
