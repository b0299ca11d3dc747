/**
 * EventBridge Scheduler in the emulated account: moto stores schedules but never runs them. This runs every schedule
 * moto holds, in every group (the template's, which deploy.ts creates, and the one-time requeues the reconcile
 * function creates at run time, functions/adapters/scheduler/), as Scheduler would
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
 *
 * - `rate(n minute|minutes|hour|hours|day|days)` fires every n units, divided by timeScale, the first time one period
 *   after the schedule was created or changed (or after this started, if that is later);
 * - `at(yyyy-mm-ddThh:mm:ss)` fires once, at its time scaled towards when it was set: due at
 *   LastModificationDate + (at - LastModificationDate) / timeScale (an unchanged schedule's LastModificationDate is
 *   its CreationDate); then ActionAfterCompletion DELETE deletes it;
 * - `cron(...)` is not emulated: an error naming the schedule, and it never fires;
 * - State DISABLED never fires.
 *
 * The target is started with the schedule's execution role (Target.RoleArn, the template's role by
 * deployment.logicalIdOf): `authorize(role, 'scheduler:Invoke', [lambda:InvokeFunction | states:StartExecution])`.
 * A denial is not retried; an error of the call (startExecution throws, the runtime is unreachable) is retried under
 * the target's RetryPolicy; then the payload goes to the DeadLetterConfig queue, sent with the same role, with the
 * attributes Scheduler adds (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 * A Lambda target is invoked asynchronously, so its function errors are Lambda's to retry (common.ts invokeAsync).
 */
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { AccessDeniedError, type StartExecution } from '../account.js';
import { Queues, invokeAsync, motoClientConfig, sleep, stringAttribute, type EventSourceOptions } from './common.js';

export interface SchedulesOptions extends EventSourceOptions {
  startExecution: StartExecution;
  /** The groups to run (a test sharing moto with others runs its own). @default every group */
  groups?: string[];
}

export interface SchedulesStats {
  /** Targets started (invoked, or an execution started). */
  delivered: number;
  /** Fires that failed for good: denied, retries exhausted, a function error after Lambda's retries. */
  failures: number;
  /** Payloads sent to a dead-letter queue or an on-failure destination. */
  dlq: number;
}

export interface Schedules {
  /** How many times each schedule fired, by schedule name. */
  fired: Record<string, number>;
  stats: SchedulesStats;
  /** Schedules that cannot run (cron, an unknown role), denials, and failures of the poller. */
  errors: Error[];
  /** Every fire begun before the call settled (its retries, its dead-lettering, its deletion). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const UNITS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

type Expression = { kind: 'rate'; seconds: number } | { kind: 'at'; at: number } | { kind: 'cron' };

/** Scheduler's expressions (schedule-types.html); undefined for one Scheduler would refuse. */
export function parseScheduleExpression(expression: string): Expression | undefined {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) return Number(rate[1]) > 0 ? { kind: 'rate', seconds: Number(rate[1]) * UNITS[rate[2]!]! } : undefined;
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (at) return { kind: 'at', at: new Date(`${at[1]}Z`).getTime() };
  if (/^cron\(.+\)$/.test(expression)) return { kind: 'cron' };
  return undefined;
}

interface Tracked {
  /** The schedule's version: its expression and LastModificationDate. */
  version: string;
  nextDue: number;
  done: boolean;
}

export async function startSchedules(options: SchedulesOptions): Promise<Schedules> {
  const { deployment } = options;
  const timeScale = options.timeScale ?? 1;
  const pollMs = options.pollMs ?? 100;
  const scheduler = new SchedulerClient(motoClientConfig(options.endpoint));
  const queues = new Queues(options.endpoint);
  const fired: Record<string, number> = {};
  const stats: SchedulesStats = { delivered: 0, failures: 0, dlq: 0 };
  const errors: Error[] = [];
  const tracked = new Map<string, Tracked>();
  const reported = new Set<string>();
  const inflight = new Set<Promise<void>>();
  const started = Date.now();
  let stopped = false;

  const report = (key: string, error: Error) => {
    if (reported.has(key)) return;
    reported.add(key);
    errors.push(error);
  };

  async function schedules(): Promise<GetScheduleCommandOutput[]> {
    const groups: string[] = [];
    let token: string | undefined;
    do {
      const page = await scheduler.send(new ListScheduleGroupsCommand({ ...(token ? { NextToken: token } : {}) }));
      for (const g of page.ScheduleGroups ?? []) if (g.Name && (!options.groups || options.groups.includes(g.Name))) groups.push(g.Name);
      token = page.NextToken;
    } while (token);
    const out: GetScheduleCommandOutput[] = [];
    for (const group of groups) {
      let next: string | undefined;
      do {
        const page = await scheduler.send(new ListSchedulesCommand({ GroupName: group, ...(next ? { NextToken: next } : {}) }));
        for (const s of page.Schedules ?? []) {
          try {
            out.push(await scheduler.send(new GetScheduleCommand({ Name: s.Name!, GroupName: group })));
          } catch (err) {
            // Deleted between the list and the read.
            if ((err as Error).name !== 'ResourceNotFoundException') throw err;
          }
        }
        next = page.NextToken;
      } while (next);
    }
    return out;
  }

  function due(s: GetScheduleCommandOutput, now: number): boolean {
    const key = `${s.GroupName}/${s.Name}`;
    const expression = parseScheduleExpression(s.ScheduleExpression ?? '');
    if (!expression) {
      report(key, new ScheduleError(`schedule ${key}: ${JSON.stringify(s.ScheduleExpression)} is not an expression Scheduler takes`));
      return false;
    }
    if (expression.kind === 'cron') {
      report(key, new ScheduleError(`schedule ${key}: cron expressions are not emulated (${s.ScheduleExpression}); use rate() or at()`));
      return false;
    }
    const zone = s.ScheduleExpressionTimezone ?? 'UTC';
    if (!['UTC', 'Etc/UTC', 'GMT'].includes(zone)) {
      report(key, new ScheduleError(`schedule ${key}: only UTC schedules are emulated, not ${zone}`));
      return false;
    }
    const modified = (s.LastModificationDate ?? s.CreationDate ?? new Date(now)).getTime();
    const version = `${s.ScheduleExpression}@${modified}`;
    let t = tracked.get(key);
    if (!t || t.version !== version) {
      const nextDue =
        expression.kind === 'rate' ? Math.max(modified, started) + (expression.seconds * 1000) / timeScale : modified + (expression.at - modified) / timeScale;
      t = { version, nextDue, done: false };
      tracked.set(key, t);
    }
    if (t.done || (s.State ?? 'ENABLED') === 'DISABLED' || now < t.nextDue) return false;
    if (expression.kind === 'rate') {
      const period = (expression.seconds * 1000) / timeScale;
      t.nextDue = Math.max(t.nextDue + period, now);
    } else t.done = true;
    return true;
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const now = Date.now();
        for (const s of await schedules()) {
          if (stopped || !due(s, now)) continue;
          fired[s.Name!] = (fired[s.Name!] ?? 0) + 1;
          const run = fire(s)
            .catch((err: unknown) => {
              errors.push(err as Error);
            })
            .then(async () => {
              if (s.ActionAfterCompletion === 'DELETE' && parseScheduleExpression(s.ScheduleExpression ?? '')?.kind === 'at')
                await scheduler.send(new DeleteScheduleCommand({ Name: s.Name!, GroupName: s.GroupName })).catch((err: unknown) => {
                  if ((err as Error).name !== 'ResourceNotFoundException') errors.push(err as Error);
                });
            });
          inflight.add(run);
          void run.finally(() => inflight.delete(run));
        }
      } catch (err) {
        if (!stopped) errors.push(err as Error);
      }
      await sleep(pollMs);
    }
  })();

  async function fire(s: GetScheduleCommandOutput): Promise<void> {
    const target = s.Target!;
    const key = `${s.GroupName}/${s.Name}`;
    const role = deployment.logicalIdOf(target.RoleArn ?? '');
    if (!role) {
      stats.failures++;
      throw new ScheduleError(`schedule ${key}: its role ${target.RoleArn} is not a role of the template`);
    }
    const arn = target.Arn!;
    const lambda = arn.includes(':lambda:');
    if (!lambda && !/^arn:[^:]+:states:[^:]+:[^:]+:stateMachine:/.test(arn))
      throw new ScheduleError(`schedule ${key}: the emulated account runs Lambda and Step Functions targets only, not ${arn}`);
    const maxAttempts = target.RetryPolicy?.MaximumRetryAttempts ?? 185;
    const maxAgeSeconds = target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86400;
    const input = target.Input ?? '{}';
    const begun = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await options.authorize(role, 'scheduler:Invoke', [{ action: lambda ? 'lambda:InvokeFunction' : 'states:StartExecution', resource: arn, context: {} }]);
        if (lambda) {
          const functionId = deployment.logicalIdOf(arn.replace(/:\$LATEST$/, ''));
          if (!functionId) throw new ScheduleError(`schedule ${key}: ${arn} is not a function of the template`);
          const outcome = await invokeAsync(
            { deployment, invoke: options.invoke, authorize: options.authorize, queues, retryDelayMs: pollMs, timeScale, stopped: () => stopped },
            functionId,
            parseInput(input),
            errors,
          );
          if (outcome === 'succeeded') stats.delivered++;
          else {
            stats.failures++;
            if (outcome === 'dead-lettered') stats.dlq++;
          }
        } else {
          await options.startExecution(arn, input);
          stats.delivered++;
        }
        return;
      } catch (err) {
        const denied = err instanceof AccessDeniedError || err instanceof ScheduleError;
        const age = ((Date.now() - begun) * timeScale) / 1000;
        if (!denied && !stopped && attempt < maxAttempts && age < maxAgeSeconds) {
          await sleep(pollMs);
          continue;
        }
        stats.failures++;
        errors.push(err as Error);
        const condition = denied ? undefined : attempt >= maxAttempts ? 'MaximumRetryAttemptsExceeded' : 'MaximumEventAgeExceeded';
        await deadLetter(s, role, input, err as Error, attempt, condition);
        return;
      }
    }
  }

  async function deadLetter(
    s: GetScheduleCommandOutput,
    role: string,
    input: string,
    error: Error,
    attempts: number,
    condition: string | undefined,
  ): Promise<void> {
    const queue = s.Target?.DeadLetterConfig?.Arn;
    if (!queue) return;
    try {
      await options.authorize(role, 'sqs:SendMessage', [{ action: 'sqs:SendMessage', resource: queue, context: {} }]);
    } catch (err) {
      if (err instanceof AccessDeniedError) {
        errors.push(err);
        return;
      }
      throw err;
    }
    await queues.send(queue, input, {
      ERROR_CODE: stringAttribute(error instanceof AccessDeniedError ? 'AccessDeniedException' : error.name),
      ERROR_MESSAGE: stringAttribute(error.message.slice(0, 1000) || error.name),
      ...(condition ? { EXHAUSTED_RETRY_CONDITION: stringAttribute(condition) } : {}),
      RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(attempts) },
      SCHEDULE_ARN: stringAttribute(s.Arn!),
      TARGET_ARN: stringAttribute(s.Target!.Arn!),
      GROUP: stringAttribute(s.GroupName ?? 'default'),
    });
    stats.dlq++;
  }

  return {
    fired,
    stats,
    errors,
    async settled() {
      await Promise.all([...inflight]);
    },
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...inflight]);
      scheduler.destroy();
      queues.stop();
    },
  };
}

/** Scheduler hands a Lambda target its Input as the payload: JSON when it is JSON. */
function parseInput(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
