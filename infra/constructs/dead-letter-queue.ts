import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What ends up here, for the alarm's description. */
  readonly purpose: string;
}

/**
 * Where an event goes when every retry failed, so that nothing is dropped silently: SQS-managed encryption
 * (no key policy to give each AWS service that writes here), TLS only, and an alarm as soon as one message
 * waits. ControlPlaneStack sends the alarm to its alarm topic.
 */
export class DeadLetterQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS keeps a message.
      retentionPeriod: Duration.days(14),
    });
    this.alarm = this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }).createAlarm(this, 'NotEmpty', {
      alarmDescription: `clusterless: ${props.purpose} failed after every retry and wait in ${id}`,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
