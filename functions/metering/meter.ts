/**
 * The cost meter: counters of what the control plane would be billed for on AWS, per operation, and a priced
 * report of them. Pure: it never reads a clock or does I/O of its own; the host feeds it (local/runtime.ts:
 * the workflow engine's events, the task middleware's durations, the metered store and provider).
 *
 * How each service is counted (see prices.ts for the prices):
 * - Step Functions Standard: one transition per state entered, plus one per retry (AWS bills retries as
 *   transitions); states inside Map iterations count, as they do on AWS.
 * - Step Functions Express: one request per execution started, and its duration rounded up to 100 ms, at one
 *   64 MB memory chunk (our definitions are a few KB and the payloads small). Transitions are counted too, as
 *   work, but cost nothing.
 * - Lambda: one request per task invocation and its duration rounded up to 1 ms, at the function's memory.
 * - DynamoDB: request units per request (metered-store.ts models the requests the DynamoDB store makes).
 * - EC2 API calls by action, and EventBridge Scheduler invocations.
 */
import { STATE_MACHINES } from '../../statemachines/loader.js';
import type { WorkflowName } from '../ports.js';
import { LAMBDA_MEMORY_MB } from './lambda-memory.js';
import { US_EAST_1_PRICES, type PriceTable } from './prices.js';

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type DynamoDbAction = 'GetItem' | 'PutItem' | 'DeleteItem' | 'UpdateItem' | 'Query';
/** What a DynamoDB request touched: an object, a name claim, a lease, a cluster's partition, the kind index or usage records. */
export type DynamoDbTarget = 'object' | 'claim' | 'lease' | 'partition' | 'kind-index' | 'usage';
export type Ec2Action = 'RunInstances' | 'DescribeInstances' | 'TerminateInstances' | 'DescribeImages' | 'DescribeTags';

/** The part of an engine event the meter reads (aws-local-stepfunctions' event log entries). */
export interface WorkflowEvent {
  type: string;
  state?: { name: string; type?: string };
}

/** One row of a cost report. */
export interface CostItem {
  service: 'states' | 'lambda' | 'dynamodb' | 'ec2' | 'scheduler';
  operation: string;
  resource: string;
  /** Calls, invocations, executions or transitions. */
  requests: number;
  /** What is billed, in `unit`. */
  quantity: number;
  unit: string;
  cost: number;
}

export interface CostReport {
  currency: 'USD';
  items: CostItem[];
  region: string;
  priceDate: string;
  since: string;
  until: string;
  executions: number;
  standardTransitions: number;
  expressTransitions: number;
  expressRequests: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  readRequestUnits: number;
  writeRequestUnits: number;
  ec2ApiCalls: number;
  schedulerInvocations: number;
  stepFunctionsCost: number;
  lambdaCost: number;
  dynamoDbCost: number;
  schedulerCost: number;
  totalCost: number;
  freeTier: string;
  priceSources: readonly string[];
}

interface LambdaCounter {
  invocations: number;
  billedMs: number;
}

interface DynamoDbCounter {
  requests: number;
  readUnits: number;
  writeUnits: number;
}

export interface CostMeterOptions {
  /** @default US_EAST_1_PRICES */
  prices?: PriceTable;
  /** The host's clock, for the report's since/until. @default - the system clock */
  now?: () => Date;
  /** @default - the types statemachines/loader.ts declares */
  workflowTypes?: Partial<Record<WorkflowName, StateMachineType>>;
  /** @default LAMBDA_MEMORY_MB */
  lambdaMemoryMb?: Record<string, number>;
  /** Memory an Express execution is billed at, before rounding up to the 64 MB chunk. @default 64 */
  expressMemoryMb?: number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export class CostMeter {
  readonly prices: PriceTable;
  private readonly now: () => Date;
  private readonly types: Record<string, StateMachineType>;
  private readonly lambdaMemoryMb: Record<string, number>;
  private readonly expressMemoryMb: number;

  private since!: Date;
  /** workflow -> state type -> transitions */
  private transitions!: Map<string, Map<string, number>>;
  private retries!: Map<string, number>;
  private executions!: Map<string, number>;
  private expressBilledMs!: Map<string, number>;
  private expressEnded!: Map<string, number>;
  private lambda!: Map<string, LambdaCounter>;
  private dynamodb!: Map<string, DynamoDbCounter>;
  private ec2!: Map<string, number>;
  private scheduler!: number;

  constructor(options: CostMeterOptions = {}) {
    this.prices = options.prices ?? US_EAST_1_PRICES;
    this.now = options.now ?? (() => new Date());
    this.types = { ...Object.fromEntries(STATE_MACHINES.map((s) => [s.name, s.type])), ...options.workflowTypes };
    this.lambdaMemoryMb = { ...LAMBDA_MEMORY_MB, ...options.lambdaMemoryMb };
    this.expressMemoryMb = options.expressMemoryMb ?? 64;
    this.reset();
  }

  /** Forgets every count: the next report starts now. */
  reset(): void {
    this.since = this.now();
    this.transitions = new Map();
    this.retries = new Map();
    this.executions = new Map();
    this.expressBilledMs = new Map();
    this.expressEnded = new Map();
    this.lambda = new Map();
    this.dynamodb = new Map();
    this.ec2 = new Map();
    this.scheduler = 0;
  }

  typeOf(workflow: string): StateMachineType {
    return this.types[workflow] ?? 'STANDARD';
  }

  // --- recording -------------------------------------------------------------------------------------------

  /** An event of the workflow engine: executions started, states entered and retried. */
  onWorkflowEvent(workflow: WorkflowName, event: WorkflowEvent): void {
    if (event.type === 'ExecutionStarted') this.recordExecutionStarted(workflow);
    else if (event.type === 'StateEntered') this.recordTransition(workflow, event.state?.type ?? 'Unknown');
    else if (event.type === 'StateRetried') {
      this.recordTransition(workflow, event.state?.type ?? 'Unknown');
      bump(this.retries, workflow, 1);
    }
  }

  recordExecutionStarted(workflow: string): void {
    bump(this.executions, workflow, 1);
  }

  recordTransition(workflow: string, stateType: string, count = 1): void {
    let byType = this.transitions.get(workflow);
    if (!byType) {
      byType = new Map();
      this.transitions.set(workflow, byType);
    }
    bump(byType, stateType, count);
  }

  /** An execution ended after `durationMs`: Express executions are billed for it. */
  recordExecutionEnded(workflow: string, durationMs: number): void {
    if (this.typeOf(workflow) !== 'EXPRESS') return;
    const step = this.prices.stepFunctions.expressBillingIncrementMs;
    bump(this.expressBilledMs, workflow, Math.max(1, Math.ceil(durationMs / step)) * step);
    bump(this.expressEnded, workflow, 1);
  }

  /** One invocation of a Lambda function that ran for `durationMs`. */
  recordLambda(fn: string, durationMs: number): void {
    const step = this.prices.lambda.billingIncrementMs;
    const c = this.lambda.get(fn) ?? { invocations: 0, billedMs: 0 };
    c.invocations++;
    c.billedMs += Math.max(1, Math.ceil(durationMs / step)) * step;
    this.lambda.set(fn, c);
  }

  recordDynamoDb(action: DynamoDbAction, target: DynamoDbTarget, units: { readUnits?: number; writeUnits?: number }, requests = 1): void {
    const key = `${action} ${target}`;
    const c = this.dynamodb.get(key) ?? { requests: 0, readUnits: 0, writeUnits: 0 };
    c.requests += requests;
    c.readUnits += units.readUnits ?? 0;
    c.writeUnits += units.writeUnits ?? 0;
    this.dynamodb.set(key, c);
  }

  recordEc2(action: Ec2Action, calls = 1): void {
    bump(this.ec2, action, calls);
  }

  recordSchedulerInvocation(count = 1): void {
    this.scheduler += count;
  }

  // --- reading ---------------------------------------------------------------------------------------------

  /** Transitions of one workflow (every state type), or of all. */
  transitionCount(workflow?: string, type?: StateMachineType): number {
    let n = 0;
    for (const [wf, byType] of this.transitions)
      if ((workflow === undefined || wf === workflow) && (type === undefined || this.typeOf(wf) === type)) for (const c of byType.values()) n += c;
    return n;
  }

  /** Transitions by workflow and state type. */
  transitionsByState(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.transitions].map(([wf, byType]) => [wf, Object.fromEntries(byType)]));
  }

  executionCount(workflow?: string): number {
    return workflow === undefined ? sum(this.executions.values()) : (this.executions.get(workflow) ?? 0);
  }

  lambdaInvocations(fn?: string): number {
    return fn === undefined ? sum([...this.lambda.values()].map((c) => c.invocations)) : (this.lambda.get(fn)?.invocations ?? 0);
  }

  /** Requests and units of one DynamoDB action on one target (or on all targets). */
  dynamoDb(action?: DynamoDbAction, target?: DynamoDbTarget): DynamoDbCounter {
    const out = { requests: 0, readUnits: 0, writeUnits: 0 };
    for (const [key, c] of this.dynamodb) {
      const [a, t] = key.split(' ');
      if ((action === undefined || a === action) && (target === undefined || t === target)) {
        out.requests += c.requests;
        out.readUnits += c.readUnits;
        out.writeUnits += c.writeUnits;
      }
    }
    return out;
  }

  ec2Calls(action?: Ec2Action): number {
    return action === undefined ? sum(this.ec2.values()) : (this.ec2.get(action) ?? 0);
  }

  /** Every count, priced. */
  report(): CostReport {
    const p = this.prices;
    const items: CostItem[] = [];
    let stepFunctionsCost = 0;
    let lambdaCost = 0;
    let dynamoDbCost = 0;
    let expressTransitions = 0;
    let standardTransitions = 0;

    for (const [workflow, byType] of [...this.transitions].sort(byKey)) {
      const express = this.typeOf(workflow) === 'EXPRESS';
      for (const [stateType, n] of [...byType].sort(byKey)) {
        const cost = express ? 0 : n * p.stepFunctions.standardPerTransition;
        if (express) expressTransitions += n;
        else standardTransitions += n;
        stepFunctionsCost += cost;
        items.push({
          service: 'states',
          operation: express ? 'StateTransition (Express, not billed)' : 'StateTransition',
          resource: `${workflow}/${stateType}`,
          requests: n,
          quantity: n,
          unit: 'transitions',
          cost,
        });
      }
    }
    let expressRequests = 0;
    const expressGb = (Math.ceil(this.expressMemoryMb / p.stepFunctions.expressMemoryChunkMb) * p.stepFunctions.expressMemoryChunkMb) / 1024;
    for (const [workflow, n] of [...this.executions].sort(byKey)) {
      if (this.typeOf(workflow) !== 'EXPRESS') continue;
      expressRequests += n;
      const requestCost = n * p.stepFunctions.expressPerRequest;
      const gbSeconds = ((this.expressBilledMs.get(workflow) ?? 0) / 1000) * expressGb;
      const durationCost = gbSeconds * p.stepFunctions.expressPerGbSecond;
      stepFunctionsCost += requestCost + durationCost;
      items.push({ service: 'states', operation: 'ExpressRequest', resource: workflow, requests: n, quantity: n, unit: 'requests', cost: requestCost });
      items.push({
        service: 'states',
        operation: 'ExpressDuration',
        resource: workflow,
        requests: this.expressEnded.get(workflow) ?? 0,
        quantity: gbSeconds,
        unit: 'GB-s',
        cost: durationCost,
      });
    }

    let lambdaGbSeconds = 0;
    for (const [fn, c] of [...this.lambda].sort(byKey)) {
      const mb = this.lambdaMemoryMb[fn] ?? 512;
      const gbSeconds = (c.billedMs / 1000) * (mb / 1024);
      const requestCost = c.invocations * p.lambda.perRequest;
      const durationCost = gbSeconds * p.lambda.arm64PerGbSecond;
      lambdaGbSeconds += gbSeconds;
      lambdaCost += requestCost + durationCost;
      items.push({
        service: 'lambda',
        operation: 'Invoke',
        resource: fn,
        requests: c.invocations,
        quantity: c.invocations,
        unit: 'requests',
        cost: requestCost,
      });
      items.push({
        service: 'lambda',
        operation: 'Duration',
        resource: `${fn} (${mb} MB arm64)`,
        requests: c.invocations,
        quantity: gbSeconds,
        unit: 'GB-s',
        cost: durationCost,
      });
    }

    let readRequestUnits = 0;
    let writeRequestUnits = 0;
    for (const [key, c] of [...this.dynamodb].sort(byKey)) {
      const [action, target] = key.split(' ') as [string, string];
      const cost = c.readUnits * p.dynamodb.perReadRequestUnit + c.writeUnits * p.dynamodb.perWriteRequestUnit;
      readRequestUnits += c.readUnits;
      writeRequestUnits += c.writeUnits;
      dynamoDbCost += cost;
      const reads = c.readUnits > 0 || action === 'GetItem' || action === 'Query';
      items.push({
        service: 'dynamodb',
        operation: action,
        resource: target,
        requests: c.requests,
        quantity: reads ? c.readUnits : c.writeUnits,
        unit: reads ? 'RRU' : 'WRU',
        cost,
      });
    }

    for (const [action, n] of [...this.ec2].sort(byKey))
      items.push({ service: 'ec2', operation: action, resource: 'instances', requests: n, quantity: n, unit: 'calls', cost: n * p.ec2.perApiCall });

    const schedulerCost = this.scheduler * p.scheduler.perInvocation;
    if (this.scheduler > 0)
      items.push({
        service: 'scheduler',
        operation: 'Invoke',
        resource: 'sweep',
        requests: this.scheduler,
        quantity: this.scheduler,
        unit: 'invocations',
        cost: schedulerCost,
      });

    const ec2Cost = this.ec2Calls() * p.ec2.perApiCall;
    const totalCost = stepFunctionsCost + lambdaCost + dynamoDbCost + schedulerCost + ec2Cost;
    return {
      currency: p.currency,
      items: items.map((i) => ({ ...i, quantity: round(i.quantity, 9), cost: round(i.cost, 12) })),
      region: p.region,
      priceDate: p.date,
      since: this.since.toISOString(),
      until: this.now().toISOString(),
      executions: this.executionCount(),
      standardTransitions,
      expressTransitions,
      expressRequests,
      lambdaInvocations: this.lambdaInvocations(),
      lambdaGbSeconds: round(lambdaGbSeconds, 9),
      readRequestUnits: round(readRequestUnits, 1),
      writeRequestUnits,
      ec2ApiCalls: this.ec2Calls(),
      schedulerInvocations: this.scheduler,
      stepFunctionsCost: round(stepFunctionsCost, 12),
      lambdaCost: round(lambdaCost, 12),
      dynamoDbCost: round(dynamoDbCost, 12),
      schedulerCost: round(schedulerCost, 12),
      totalCost: round(totalCost, 12),
      freeTier: 'not applied',
      priceSources: p.sources,
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

function byKey<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
