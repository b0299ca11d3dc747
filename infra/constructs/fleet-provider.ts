import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { LogEncryption } from './log-encryption.js';

export interface FleetProviderProps {
  /** functions/handlers/fleet-resource.ts, with access to the table. */
  readonly handler: lambda.IFunction;
  readonly logs: LogEncryption;
}

/**
 * The CloudFormation custom resource provider of ClusterFleet (the Provider framework: it answers
 * CloudFormation, the handler only applies). Its framework function gets a role of its own that can write
 * its log group and invoke the handler, and nothing else.
 */
export class FleetProvider extends Construct {
  public readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: FleetProviderProps) {
    super(scope, id);
    const logGroup = props.logs.newLogGroup(this, 'FrameworkLogs');
    const role = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'clusterless: the fleet custom resource provider framework',
    });
    logGroup.grantWrite(role);
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.handler,
      frameworkOnEventRole: role,
      logGroup,
    });
  }

  /** What a CustomResource names as its serviceToken. */
  get serviceToken(): string {
    return this.provider.serviceToken;
  }
}
