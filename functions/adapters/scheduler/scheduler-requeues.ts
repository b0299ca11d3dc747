/**
 * ReconcileRequeues on AWS: one EventBridge Scheduler one-time schedule per cluster that starts reconcile-cluster
 * (StartExecution, through the Step Functions target and a role Scheduler assumes) when the requeue is due, and
 * deletes itself after it ran (ActionAfterCompletion DELETE).
 *
 * The schedule's name is a hash of the installation, namespace and cluster: one per cluster, so a second ask finds
 * the first. The earliest ask wins (core/trigger/requeue.ts replacesRequeue): a create that finds the schedule
 * reads it and updates it only when the new time is earlier, or the old one has passed.
 *
 * Note: Scheduler has no conditional update. Two reconciles of one cluster that both read a later schedule and
 * update it can leave the later of their two times (the last write wins); the cost is a reconcile later than
 * asked, never none, and the sweep stays behind it. Reconciles of one cluster hold its lease, so such a race
 * needs a reconcile and a recordFailure, or two reconciles back to back, within one request's time.
 */
import { createHash } from 'node:crypto';
import {
  ActionAfterCompletion,
  ConflictException,
  CreateScheduleCommand,
  FlexibleTimeWindowMode,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type SchedulerClientConfig,
} from '@aws-sdk/client-scheduler';
import { needsScheduledRequeue, replacesRequeue } from '../../core/trigger/requeue.js';
import type { Clock, ReconcileRequeues } from '../../ports.js';

/** Scheduler's limit on a schedule's name. */
export const SCHEDULE_NAME_MAX = 64;

export interface SchedulerRequeuesOptions {
  client: SchedulerClient;
  installationId: string;
  /** The schedule group every requeue schedule goes into (the reconcile function may write only there). */
  groupName: string;
  /** The reconcile-cluster state machine the schedules start. */
  stateMachineArn: string;
  /** The role Scheduler assumes to start it (states:StartExecution on that state machine only). */
  roleArn: string;
  clock: Clock;
  /**
   * Seconds between sweeps: a requeue due sooner is left to the sweep (needsScheduledRequeue).
   * @default 60
   */
  sweepIntervalSeconds?: number;
}

const isError = (err: unknown, type: abstract new (...args: never[]) => Error, name: string) =>
  err instanceof type || (err as Error | undefined)?.name === name;

/** `requeue-` and 40 hex digits of SHA-256 over the installation, namespace and cluster: 48 characters. */
export function requeueScheduleName(installationId: string, namespace: string, clusterName: string): string {
  return `requeue-${createHash('sha256').update(`${installationId}\0${namespace}\0${clusterName}`).digest('hex').slice(0, 40)}`;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the second (never earlier than asked). */
export function atExpression(at: Date): string {
  const rounded = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return `at(${rounded.toISOString().slice(0, 19)})`;
}

/** The time of an `at(...)` expression (UTC); undefined for anything else. */
export function timeOfAtExpression(expression: string | undefined): Date | undefined {
  const m = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression ?? '');
  return m ? new Date(`${m[1]}Z`) : undefined;
}

/** A create, get and update race with other writers of the same schedule: this many rounds at most. */
const MAX_ROUNDS = 3;

export class SchedulerRequeues implements ReconcileRequeues {
  constructor(private readonly options: SchedulerRequeuesOptions) {}

  async requeue(namespace: string, clusterName: string, afterSeconds: number): Promise<void> {
    if (!needsScheduledRequeue(afterSeconds, this.options.sweepIntervalSeconds ?? 60)) return;
    const now = this.options.clock.now();
    const at = new Date(now.getTime() + afterSeconds * 1000);
    const name = requeueScheduleName(this.options.installationId, namespace, clusterName);
    const definition = this.definition(name, namespace, clusterName, at);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      try {
        await this.options.client.send(new CreateScheduleCommand(definition));
        return;
      } catch (err) {
        if (!isError(err, ConflictException, 'ConflictException')) throw err;
      }
      let existing: Date | undefined;
      try {
        const current = await this.options.client.send(new GetScheduleCommand({ Name: name, GroupName: this.options.groupName }));
        existing = timeOfAtExpression(current.ScheduleExpression);
      } catch (err) {
        // Deleted after it ran, between our create and this read: create again.
        if (isError(err, ResourceNotFoundException, 'ResourceNotFoundException')) continue;
        throw err;
      }
      if (!replacesRequeue(existing, at, now)) return;
      try {
        await this.options.client.send(new UpdateScheduleCommand(definition));
        return;
      } catch (err) {
        // Gone since we read it (it ran and deleted itself), or changed under us: start over.
        if (isError(err, ResourceNotFoundException, 'ResourceNotFoundException') || isError(err, ConflictException, 'ConflictException')) continue;
        throw err;
      }
    }
    throw new Error(`the requeue schedule ${name} of ${namespace}/${clusterName} kept changing under ${MAX_ROUNDS} attempts`);
  }

  private definition(name: string, namespace: string, clusterName: string, at: Date) {
    return {
      Name: name,
      GroupName: this.options.groupName,
      ScheduleExpression: atExpression(at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: FlexibleTimeWindowMode.OFF },
      ActionAfterCompletion: ActionAfterCompletion.DELETE,
      Description: `clusterless: requeue of ${namespace}/${clusterName}`.slice(0, 512),
      Target: {
        Arn: this.options.stateMachineArn,
        RoleArn: this.options.roleArn,
        // The reconcile-cluster definition reads namespace, clusterName and trigger.
        Input: JSON.stringify({ namespace, clusterName, trigger: 'requeue' }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      },
    };
  }
}

/** A Scheduler client with the provider clients' retry setting (one SDK retry: the sweep is behind a lost requeue). */
export function createSchedulerClient(config: SchedulerClientConfig = {}): SchedulerClient {
  return new SchedulerClient({ maxAttempts: 2, ...config });
}

/**
 * The requeues of the reconcile function, from REQUEUE_SCHEDULE_GROUP, REQUEUE_SCHEDULER_ROLE_ARN,
 * RECONCILE_CLUSTER_STATE_MACHINE_ARN, INSTALLATION_ID and SWEEP_INTERVAL_SECONDS; undefined when the stack set
 * no schedule group (then only changes and the sweep reconcile again).
 */
export function schedulerRequeuesFromEnvironment(env: NodeJS.ProcessEnv, clock: Clock): SchedulerRequeues | undefined {
  const groupName = env['REQUEUE_SCHEDULE_GROUP'];
  if (!groupName) return undefined;
  const need = (key: string) => {
    const v = env[key];
    if (!v) throw new Error(`${key} is not set: requeues need it with REQUEUE_SCHEDULE_GROUP`);
    return v;
  };
  const interval = Number(env['SWEEP_INTERVAL_SECONDS'] ?? '60');
  return new SchedulerRequeues({
    client: createSchedulerClient(),
    installationId: need('INSTALLATION_ID'),
    groupName,
    stateMachineArn: need('RECONCILE_CLUSTER_STATE_MACHINE_ARN'),
    roleArn: need('REQUEUE_SCHEDULER_ROLE_ARN'),
    clock,
    sweepIntervalSeconds: Number.isFinite(interval) && interval > 0 ? interval : 60,
  });
}
