import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './handler-function.js';

/**
 * What a stepping task logs when a step failed after its retries and its workflow steps again after a backoff
 * (functions/workflows/stepping.ts recordStepFailure). Matched as a phrase, so a longer message that starts with it
 * still counts.
 */
export const STEP_FAILED_LOG_PHRASE = 'workflow step failed; stepping again';

/** The stepping tasks and the workflow each runs the steps of. */
export const STEPPING_TASKS = { rollout: 'rolling-upgrade', remediate: 'remediate', teardown: 'delete-cluster' } as const;
export type SteppingTask = keyof typeof STEPPING_TASKS;

export interface StepFailureAlarmsProps {
  /** The log group of each stepping task function. */
  readonly logGroups: Record<SteppingTask, logs.ILogGroup>;
  /** @default 3 */
  readonly threshold?: number;
  /** @default Duration.minutes(15) */
  readonly period?: Duration;
}

/**
 * Persistent step failures of the Standard workflows. A step that fails after its retries no longer fails its
 * execution (the workflow backs off and steps again, so that the same work can still be started under its name),
 * so the failed-executions alarms never see it: a metric filter per stepping task counts the log lines that say so,
 * and an alarm fires at `threshold` of them within `period` (one failure now and then is a retry doing its work).
 */
export class StepFailureAlarms extends Construct {
  public readonly alarms: Record<SteppingTask, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: StepFailureAlarmsProps) {
    super(scope, id);
    const threshold = props.threshold ?? 3;
    const period = props.period ?? Duration.minutes(15);
    const alarms: Partial<Record<SteppingTask, cloudwatch.Alarm>> = {};
    for (const [task, workflow] of Object.entries(STEPPING_TASKS) as [SteppingTask, string][]) {
      const filter = new logs.MetricFilter(this, `${task}-filter`, {
        logGroup: props.logGroups[task],
        filterPattern: logs.FilterPattern.literal(`"${STEP_FAILED_LOG_PHRASE}"`),
        metricNamespace: METRICS_NAMESPACE,
        metricName: `StepFailures-${workflow}`,
        metricValue: '1',
      });
      alarms[task] = filter.metric({ statistic: 'Sum', period }).createAlarm(this, `${task}-alarm`, {
        alarmDescription: `clusterless: steps of ${workflow} keep failing (at least ${threshold} in ${period.toHumanString()}); the ${task} task's log says why`,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.alarms = alarms as Record<SteppingTask, cloudwatch.Alarm>;
  }
}
