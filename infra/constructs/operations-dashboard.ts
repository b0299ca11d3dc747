import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OperationsDashboardProps {
  /** The workflows, by name: executions started and failed (failed, timed out or aborted) per workflow. */
  readonly stateMachines: Record<string, sfn.IStateMachine>;
  /** The task and handler functions, by name: their errors and throttles. */
  readonly functions: Record<string, lambda.IFunction>;
  /** The dead-letter queues, by what they hold: messages waiting in each. */
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  /** The API's doors, by name: latency (p50, p99) and 4xx and 5xx answers. */
  readonly apis: Record<string, apigateway.RestApi>;
  /** The object table: its read and write throttle events. */
  readonly table: dynamodb.ITable;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** @default - a name CloudFormation makes */
  readonly dashboardName?: string;
}

/**
 * The control plane at a glance in CloudWatch, for whoever runs the installation (the web dashboard shows the
 * fleet; this shows the machinery): executions started and failed per workflow, task errors, throttles (Lambda,
 * Step Functions, DynamoDB), dead-letter queue depth, and the API's latency and 4xx/5xx, from the metrics AWS
 * publishes anyway (no custom metric, no cost beyond the dashboard's own).
 */
export class OperationsDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const sum = { statistic: 'Sum', period };
    const each = <T>(record: Record<string, T>, metric: (item: T, name: string) => cloudwatch.IMetric[]) =>
      Object.entries(record)
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([name, item]) => metric(item, name));
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6, period, legendPosition: cloudwatch.LegendPosition.RIGHT });

    const started = each(props.stateMachines, (sm, name) => [sm.metricStarted({ ...sum, label: name })]);
    // Ids of a graph's metrics must be unique in the widget: one set per workflow.
    let n = 0;
    const failed = each(props.stateMachines, (sm, name) => [
      new cloudwatch.MathExpression({
        expression: `f${++n} + t${n} + a${n}`,
        usingMetrics: { [`f${n}`]: sm.metricFailed(sum), [`t${n}`]: sm.metricTimedOut(sum), [`a${n}`]: sm.metricAborted(sum) },
        label: name,
        period,
      }),
    ]);
    const errors = each(props.functions, (fn, name) => [fn.metricErrors({ ...sum, label: name })]);
    const throttles = [
      ...each(props.functions, (fn, name) => [fn.metricThrottles({ ...sum, label: `lambda ${name}` })]),
      ...each(props.stateMachines, (sm, name) => [sm.metricThrottled({ ...sum, label: `states ${name}` })]),
      props.table.metric('ReadThrottleEvents', { ...sum, label: 'dynamodb reads' }),
      props.table.metric('WriteThrottleEvents', { ...sum, label: 'dynamodb writes' }),
    ];
    const dlq = each(props.deadLetterQueues, (q, name) => [q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: name })]);
    const latency = each(props.apis, (api, name) => [
      api.metricLatency({ statistic: 'p50', period, label: `${name} p50` }),
      api.metricLatency({ statistic: 'p99', period, label: `${name} p99` }),
    ]);
    const answers = each(props.apis, (api, name) => [
      api.metricClientError({ ...sum, label: `${name} 4xx` }),
      api.metricServerError({ ...sum, label: `${name} 5xx` }),
    ]);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(3),
      widgets: [
        [graph('Executions started per workflow', started), graph('Executions failed, timed out or aborted per workflow', failed)],
        [graph('Task errors (Lambda)', errors), graph('Throttles', throttles)],
        [graph('Dead-letter queue depth', dlq), graph('API latency (ms)', latency)],
        [graph('API 4xx and 5xx answers', answers, 24)],
      ],
    });
  }
}
