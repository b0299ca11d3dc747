import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * The one SNS topic every alarm of the control plane sends to: subscribe your paging to it (an email, a chat
 * webhook, an incident tool). Encrypted with a key of its own (rotated) that CloudWatch may use for this account's
 * alarms only, which AWS's own SNS key does not allow; TLS only; and only this account's alarms may publish.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'clusterless: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { partition, region, account } = Stack.of(this);
    // Only for this account's alarms: without the source conditions, any account's alarm could have CloudWatch use
    // the key (the confused deputy).
    const ofThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
    };
    // CloudWatch encrypts what it publishes to an encrypted topic with the topic's key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: ofThisAccountsAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'clusterless alarms', masterKey: this.key, enforceSSL: true });
    // A topic policy replaces SNS's default one: CloudWatch is let in again, for this account's alarms only.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: ofThisAccountsAlarms,
      }),
    );
    this.action = new actions.SnsAction(this.topic);
  }

  /** Sends the alarm to the topic when it fires. */
  notify(...alarms: cloudwatch.IAlarm[]): void {
    for (const alarm of alarms) (alarm as cloudwatch.Alarm).addAlarmAction(this.action);
  }
}
