/**
 * Deploys the control plane template into the emulated account, as CloudFormation would create it: the resources
 * moto can hold are created on moto_server (KMS keys, the table with its stream and index, the dead-letter queues, the
 * schedule group and the sweep's schedule, the roles and instance profiles), and every resource gets the physical id
 * and attributes its Refs and GetAtts resolve to. Roles become principals with emulated credentials of their own.
 * Also made: what a user brings before `cdk deploy` (a VPC with one subnet per zone and a security group, tagged with
 * the installation id as infra/constructs/ec2-permissions.ts requires).
 */
import { createHash } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateScheduleCommand, CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { ACCOUNT, PARTITION, REGION, type Json, type Principal } from './account.js';
import type { Deployment } from './template.js';

/** Credentials of the account's administrator: the scenario's own reads of moto, never given to a function. */
export const ADMIN_CREDENTIALS = { accessKeyId: 'AKIAE2EADMINISTRATOR', secretAccessKey: 'e2e-administrator-secret' };

export interface UserNetwork {
  vpcId: string;
  subnets: { id: string; availabilityZone: string }[];
  securityGroupId: string;
}

export interface DeployedAccount {
  deployment: Deployment;
  /** Every role of the template as a principal, by logical id. */
  principals: Map<string, Principal>;
  network: UserNetwork;
  /** An AMI moto knows (what a MachineClass names). */
  imageId: string;
  /** A public SSM parameter holding an AMI moto knows (what a MachineClass names by imageSsmParameter), if any. */
  imageSsmParameter?: string;
}

const arn = (service: string, resource: string, region: string = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;

export function clientConfig(endpoint: string) {
  return { endpoint, region: REGION, credentials: ADMIN_CREDENTIALS, maxAttempts: 3 };
}

export async function deploy(deployment: Deployment, motoEndpoint: string): Promise<DeployedAccount> {
  const config = clientConfig(motoEndpoint);
  const iam = new IAMClient(config);
  const kms = new KMSClient(config);
  const dynamodb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  const scheduler = new SchedulerClient(config);
  const ec2 = new EC2Client(config);
  const set = (id: string, ref: string, attributes: Record<string, string> = {}) => deployment.setPhysical(id, { ref, attributes });
  const props = (id: string) => deployment.resource(id).Properties ?? {};

  // Roles first: policies, key policies and functions name them.
  const principals = new Map<string, Principal>();
  for (const id of deployment.ofType('AWS::IAM::Role')) {
    const name = String(props(id)['RoleName'] ?? deployment.generatedName(id, 64));
    const roleArn = `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
    set(id, name, { Arn: roleArn, RoleId: `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}` });
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(props(id)['AssumeRolePolicyDocument'] ?? {}) }));
  }
  for (const id of deployment.ofType('AWS::KMS::Key')) {
    const key = await kms.send(new CreateKeyCommand({ Description: String(props(id)['Description'] ?? id) }));
    set(id, key.KeyMetadata!.KeyId!, { Arn: key.KeyMetadata!.Arn!, KeyId: key.KeyMetadata!.KeyId! });
  }
  for (const id of deployment.ofType('AWS::Logs::LogGroup')) {
    const name = String(props(id)['LogGroupName'] ?? `/aws/e2e/${deployment.generatedName(id, 200)}`);
    set(id, name, { Arn: arn('logs', `log-group:${name}:*`) });
  }
  for (const id of deployment.ofType('AWS::SQS::Queue')) {
    const name = deployment.generatedName(id, 80);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl!, AttributeNames: ['QueueArn'] }));
    set(id, created.QueueUrl!, { Arn: attrs.Attributes!['QueueArn']!, QueueName: name, QueueUrl: created.QueueUrl! });
  }
  for (const id of deployment.ofType('AWS::SNS::Topic')) {
    const name = deployment.generatedName(id, 256);
    set(id, arn('sns', name), { TopicArn: arn('sns', name), TopicName: name });
  }
  for (const id of deployment.ofType('AWS::DynamoDB::Table')) await createTable(deployment, id, dynamodb);
  for (const id of deployment.ofType('AWS::Lambda::Function')) {
    const name = String(props(id)['FunctionName'] ?? deployment.generatedName(id, 64));
    set(id, name, { Arn: arn('lambda', `function:${name}`) });
  }
  for (const id of deployment.ofType('AWS::StepFunctions::StateMachine')) {
    const name = String(props(id)['StateMachineName'] ?? deployment.generatedName(id, 80));
    set(id, arn('states', `stateMachine:${name}`), { Arn: arn('states', `stateMachine:${name}`), Name: name });
  }
  for (const id of deployment.ofType('AWS::IAM::InstanceProfile')) {
    const name = String(props(id)['InstanceProfileName'] ?? deployment.generatedName(id, 128));
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
    for (const role of (props(id)['Roles'] ?? []) as Json[])
      await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: String(deployment.resolve(role)) }));
    set(id, name, { Arn: `arn:${PARTITION}:iam::${ACCOUNT}:instance-profile/${name}` });
  }
  for (const id of deployment.ofType('AWS::Scheduler::ScheduleGroup')) {
    const name = String(props(id)['Name'] ?? deployment.generatedName(id, 64));
    await scheduler.send(new CreateScheduleGroupCommand({ Name: name }));
    set(id, name, { Arn: arn('scheduler', `schedule-group/${name}`) });
  }
  for (const id of deployment.ofType('AWS::ApiGateway::RestApi')) {
    const apiId = createHash('sha256').update(`${deployment.stackId}/${id}`).digest('hex').slice(0, 10);
    set(id, apiId, { RootResourceId: `${apiId.slice(0, 6)}root`, RestApiId: apiId });
  }
  for (const id of deployment.ofType('AWS::ApiGateway::Stage')) set(id, String(props(id)['StageName']));
  for (const id of deployment.ofType('AWS::Events::Rule')) {
    const name = String(props(id)['Name'] ?? deployment.generatedName(id, 64));
    set(id, name, { Arn: arn('events', `rule/${name}`) });
  }
  // Everything else: a name of its own (nothing of the control plane reads their attributes but their Arn).
  for (const id of Object.keys(deployment.resources)) {
    if (deployment.hasPhysical(id)) continue;
    const name = deployment.generatedName(id, 64);
    set(id, name, { Arn: arn('cloudformation', `resource/${name}`) });
  }
  for (const id of deployment.ofType('AWS::Scheduler::Schedule')) {
    const p = deployment.resolve(props(id) as Json) as Record<string, Json>;
    const name = String(p['Name'] ?? deployment.generatedName(id, 64));
    const group = String(p['GroupName'] ?? 'default');
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: group,
        ScheduleExpression: String(p['ScheduleExpression']),
        ...(p['ScheduleExpressionTimezone'] ? { ScheduleExpressionTimezone: String(p['ScheduleExpressionTimezone']) } : {}),
        FlexibleTimeWindow: p['FlexibleTimeWindow'] as never,
        State: (p['State'] as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
        Target: p['Target'] as never,
      }),
    );
    set(id, name, { Arn: arn('scheduler', `schedule/${group}/${name}`) });
  }

  // Each role's credentials come from STS, as Lambda (and a user of the API) assumes the role: temporary keys with a
  // session token, by which the IAM gateway knows the principal.
  const sts = new STSClient(config);
  for (const [id, physical] of [...deployment.ofType('AWS::IAM::Role')].map((id) => [id, deployment.physicalOf(id)] as const)) {
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: physical.attributes['Arn']!, RoleSessionName: id.slice(0, 64) }));
    const c = assumed.Credentials!;
    principals.set(id, {
      name: id,
      arn: physical.attributes['Arn']!,
      policies: deployment.identityPolicies(id),
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
  }

  const network = await userNetwork(ec2, deployment.installationId);
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = images.Images?.find((i) => i.RootDeviceType === 'ebs' && i.Architecture === 'x86_64')?.ImageId ?? images.Images?.[0]?.ImageId;
  if (!imageId) throw new Error('moto knows no AMI');
  // moto publishes Amazon Linux's public parameters; one that names an image its EC2 knows stands for Canonical's.
  const known = new Set((images.Images ?? []).map((i) => i.ImageId));
  const parameters = await new SSMClient(config).send(new GetParametersByPathCommand({ Path: '/aws/service/ami-amazon-linux-latest' }));
  const imageSsmParameter = parameters.Parameters?.find((p) => known.has(p.Value) && p.Name?.includes('x86_64'))?.Name;
  return { deployment, principals, network, imageId, ...(imageSsmParameter ? { imageSsmParameter } : {}) };
}

async function createTable(deployment: Deployment, id: string, dynamodb: DynamoDBClient): Promise<void> {
  const p = deployment.resolve(deployment.resource(id).Properties as Json) as Record<string, Json>;
  const name = String(p['TableName'] ?? deployment.generatedName(id, 255));
  const stream = p['StreamSpecification'] as { StreamViewType: string } | undefined;
  const input = {
    TableName: name,
    AttributeDefinitions: p['AttributeDefinitions'],
    KeySchema: p['KeySchema'],
    BillingMode: p['BillingMode'] ?? 'PAY_PER_REQUEST',
    ...(p['GlobalSecondaryIndexes'] ? { GlobalSecondaryIndexes: p['GlobalSecondaryIndexes'] } : {}),
    ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } } : {}),
  } as unknown as CreateTableCommandInput;
  const out = await dynamodb.send(new CreateTableCommand(input));
  deployment.setPhysical(id, {
    ref: name,
    attributes: { Arn: out.TableDescription!.TableArn!, ...(out.TableDescription?.LatestStreamArn ? { StreamArn: out.TableDescription.LatestStreamArn } : {}) },
  });
}

/** The network a user makes before deploying: subnets and a security group tagged with the installation id. */
async function userNetwork(ec2: EC2Client, installationId: string): Promise<UserNetwork> {
  const tags = (type: 'vpc' | 'subnet' | 'security-group') => [{ ResourceType: type, Tags: [{ Key: TagKeys.installation, Value: installationId }] }];
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', TagSpecifications: tags('vpc') }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnets: UserNetwork['subnets'] = [];
  for (const [i, zone] of ['a', 'b', 'c'].entries()) {
    const availabilityZone = `${REGION}${zone}`;
    const s = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i * 16}.0/20`, AvailabilityZone: availabilityZone, TagSpecifications: tags('subnet') }),
    );
    subnets.push({ id: s.Subnet!.SubnetId!, availabilityZone });
  }
  const sg = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `clusterless-${installationId.slice(0, 8)}`,
      Description: 'clusterless machines',
      VpcId: vpcId,
      TagSpecifications: tags('security-group'),
    }),
  );
  return { vpcId, subnets, securityGroupId: sg.GroupId! };
}
