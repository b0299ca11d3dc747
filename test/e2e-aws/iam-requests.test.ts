/**
 * The authorizations the gateway asks of IAM for each call (e2e/aws/iam/requests.ts): the implicit ones AWS makes
 * (TagResource for CreateSecret with Tags, KMS through Secrets Manager, RunInstances's resources, CreateTags and
 * PassRole, AddTags on create, Scheduler's PassRole), the resource tags read from moto, and the calls off the wire.
 */
import { CreateTagsCommand, EC2Client, RunInstancesCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { ACCOUNT, type AuthorizationRequest, REGION } from '../../e2e/aws/account.js';
import {
  authorizationRequests,
  invokeFunctionRequests,
  InvalidCallError,
  motoLookup,
  parseCall,
  parseQueryBody,
  type ResourceLookup,
  type ServiceCall,
  streamReadRequests,
  UnknownOperationError,
} from '../../e2e/aws/iam/requests.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';

const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/node-role`;

/** What AWS would know, as a fixed world: one subnet, one group, one image, one profile, one existing secret. */
const world: ResourceLookup = {
  instance: async (id) => (id === 'i-0aaa' ? { tags: { 'clusterless.dev/installation': 'inst-1' }, availabilityZone: 'us-east-1a' } : undefined),
  volume: async (id) => (id === 'vol-0aaa' ? { tags: { 'clusterless.dev/installation': 'inst-1' } } : undefined),
  subnet: async (id) => (id === 'subnet-1' ? { tags: { team: 'a' }, vpcId: 'vpc-1', availabilityZone: 'us-east-1a' } : undefined),
  securityGroup: async (id) => (id === 'sg-1' || id === 'sg-default' ? { groupId: id, tags: {}, vpcId: 'vpc-1' } : undefined),
  defaultSecurityGroup: async () => 'sg-default',
  image: async (id) => (id === 'ami-1' ? { tags: {}, ownerId: '137112412989', public: true } : undefined),
  secret: async (id) =>
    id === 'clusterless/ns/c/machines/u1'
      ? {
          arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:clusterless/ns/c/machines/u1-AbCdEf`,
          tags: { 'clusterless.dev/instance-arn': 'arn:i' },
          kmsKeyId: KEY_ARN,
        }
      : undefined,
  elbTags: async () => ({ 'clusterless.dev/installation': 'inst-1' }),
  loadBalancerType: async () => 'network',
  tableKey: async (name) => (name === 'encrypted' ? KEY_ARN : undefined),
  instanceProfileRole: async (name) => (name === 'node-profile' ? ROLE_ARN : undefined),
  kmsKeyArn: async (id) => (id === KEY_ARN || id === '11111111-2222-3333-4444-555555555555' ? KEY_ARN : undefined),
};

const call = (signingName: string, operation: string, params: Record<string, unknown>): ServiceCall => ({ signingName, operation, params });
const actions = (requests: AuthorizationRequest[]) => requests.map((r) => r.action);
const find = (requests: AuthorizationRequest[], action: string, resourcePart = '') =>
  requests.find((r) => r.action === action && r.resource.includes(resourcePart));

describe('Secrets Manager', () => {
  it('CreateSecret with Tags and a customer key asks for TagResource and kms:GenerateDataKey through Secrets Manager', async () => {
    // Prepare
    const c = call('secretsmanager', 'CreateSecret', {
      Name: 'clusterless/ns/c/certificates',
      SecretBinary: 'AAAA',
      KmsKeyId: KEY_ARN,
      Tags: [{ Key: 'k', Value: 'v' }],
    });
    // Act
    const requests = await authorizationRequests(c, world);
    // Assess
    expect(actions(requests)).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'kms:GenerateDataKey']);
    expect(requests[0]!.resource).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:clusterless/ns/c/certificates-[0-9a-f]{6}$`));
    expect(requests[0]!.context).toMatchObject({ 'secretsmanager:KmsKeyArn': KEY_ARN, 'aws:RequestTag/k': 'v', 'aws:TagKeys': ['k'] });
    expect(requests[1]!.context).toMatchObject({ 'aws:RequestTag/k': 'v', 'aws:TagKeys': ['k'] });
    expect(requests[2]).toMatchObject({
      resource: KEY_ARN,
      context: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': requests[0]!.resource },
    });
  });

  it('CreateSecret without Tags or a key asks for CreateSecret only (the AWS managed key needs no grant)', async () => {
    const requests = await authorizationRequests(call('secretsmanager', 'CreateSecret', { Name: 'n', SecretString: 'x' }), world);
    expect(actions(requests)).toEqual(['secretsmanager:CreateSecret']);
  });

  it('GetSecretValue of an existing secret carries its tags and asks for kms:Decrypt of its key', async () => {
    const requests = await authorizationRequests(call('secretsmanager', 'GetSecretValue', { SecretId: 'clusterless/ns/c/machines/u1' }), world);
    expect(actions(requests)).toEqual(['secretsmanager:GetSecretValue', 'kms:Decrypt']);
    expect(requests[0]!.resource).toMatch(/machines\/u1-AbCdEf$/);
    expect(requests[0]!.context).toMatchObject({ 'aws:ResourceTag/clusterless.dev/instance-arn': 'arn:i' });
    expect(requests[1]!.context['kms:ViaService']).toBe(`secretsmanager.${REGION}.amazonaws.com`);
  });

  it('a secret that does not exist is authorized by its bare name', async () => {
    const requests = await authorizationRequests(call('secretsmanager', 'GetSecretValue', { SecretId: 'clusterless/ns/c/certificates' }), world);
    expect(requests).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:clusterless/ns/c/certificates`,
        context: expect.any(Object),
      },
    ]);
  });
});

describe('EC2', () => {
  const launch = {
    ImageId: 'ami-1',
    InstanceType: 't3.medium',
    SubnetId: 'subnet-1',
    SecurityGroupId: ['sg-1'],
    IamInstanceProfile: { Name: 'node-profile' },
    MetadataOptions: { HttpTokens: 'required' },
    TagSpecification: [
      { ResourceType: 'instance', Tag: [{ Key: 'clusterless.dev/installation', Value: 'inst-1' }] },
      { ResourceType: 'volume', Tag: [{ Key: 'clusterless.dev/installation', Value: 'inst-1' }] },
    ],
  };

  it('RunInstances authorizes each resource of the launch, CreateTags with ec2:CreateAction, and PassRole of the profile role to EC2', async () => {
    const requests = await authorizationRequests(call('ec2', 'RunInstances', launch), world);
    expect(requests.map((r) => `${r.action} ${r.resource}`)).toEqual([
      `ec2:RunInstances arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`,
      `ec2:RunInstances arn:aws:ec2:${REGION}:${ACCOUNT}:volume/*`,
      `ec2:RunInstances arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/*`,
      `ec2:RunInstances arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-1`,
      `ec2:RunInstances arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-1`,
      `ec2:RunInstances arn:aws:ec2:${REGION}::image/ami-1`,
      `ec2:CreateTags arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`,
      `ec2:CreateTags arn:aws:ec2:${REGION}:${ACCOUNT}:volume/*`,
      `iam:PassRole ${ROLE_ARN}`,
    ]);
    expect(find(requests, 'ec2:RunInstances', 'instance/')!.context).toMatchObject({
      'aws:RequestTag/clusterless.dev/installation': 'inst-1',
      'aws:TagKeys': ['clusterless.dev/installation'],
      'ec2:MetadataHttpTokens': 'required',
      'ec2:InstanceType': 't3.medium',
      'ec2:AvailabilityZone': 'us-east-1a',
    });
    expect(find(requests, 'ec2:RunInstances', 'subnet/')!.context).toMatchObject({ 'aws:ResourceTag/team': 'a', 'ec2:ResourceTag/team': 'a' });
    expect(find(requests, 'ec2:CreateTags', 'instance/')!.context).toMatchObject({ 'ec2:CreateAction': 'RunInstances' });
    expect(find(requests, 'iam:PassRole')!.context).toEqual({ 'iam:PassedToService': 'ec2.amazonaws.com' });
  });

  it('RunInstances without security groups authorizes the default group of the subnet VPC', async () => {
    const { SecurityGroupId: _, ...withoutGroups } = launch;
    const requests = await authorizationRequests(call('ec2', 'RunInstances', withoutGroups), world);
    expect(find(requests, 'ec2:RunInstances', 'security-group/')!.resource).toMatch(/security-group\/sg-default$/);
  });

  it('RunInstances with an instance profile that does not exist is an invalid call, not a launch without PassRole', async () => {
    await expect(authorizationRequests(call('ec2', 'RunInstances', { ...launch, IamInstanceProfile: { Name: 'nope' } }), world)).rejects.toThrow(
      InvalidCallError,
    );
  });

  it('TerminateInstances carries the instance tags as aws:ResourceTag and ec2:ResourceTag', async () => {
    const requests = await authorizationRequests(call('ec2', 'TerminateInstances', { InstanceId: ['i-0aaa'] }), world);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.context).toMatchObject({
      'aws:ResourceTag/clusterless.dev/installation': 'inst-1',
      'ec2:ResourceTag/clusterless.dev/installation': 'inst-1',
    });
  });

  it('CreateTags of existing instances and volumes carries each resource tags, the tags written, and no CreateAction', async () => {
    const requests = await authorizationRequests(
      call('ec2', 'CreateTags', { ResourceId: ['vol-0aaa', 'i-0aaa'], Tag: [{ Key: 'clusterless.dev/installation', Value: 'inst-2' }] }),
      world,
    );
    expect(requests.map((r) => `${r.action} ${r.resource}`)).toEqual([
      `ec2:CreateTags arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0aaa`,
      `ec2:CreateTags arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0aaa`,
    ]);
    for (const r of requests) {
      expect(r.context).toMatchObject({
        'aws:ResourceTag/clusterless.dev/installation': 'inst-1',
        'aws:RequestTag/clusterless.dev/installation': 'inst-2',
        'aws:TagKeys': ['clusterless.dev/installation'],
      });
      expect(r.context['ec2:CreateAction']).toBeUndefined();
    }
    await expect(authorizationRequests(call('ec2', 'CreateTags', { ResourceId: ['i-0bbb'], Tag: [{ Key: 'k', Value: 'v' }] }), world)).rejects.toThrow(
      InvalidCallError,
    );
  });

  it('Describe calls are authorized on * (no resource-level permissions)', async () => {
    const requests = await authorizationRequests(call('ec2', 'DescribeInstances', {}), world);
    expect(requests.map((r) => r.resource)).toEqual(['*']);
  });
});

describe('the other services', () => {
  it('CreateLoadBalancer and CreateTargetGroup with Tags ask for AddTags with elasticloadbalancing:CreateAction', async () => {
    const tags = [{ Key: 'clusterless.dev/installation', Value: 'inst-1' }];
    const lb = await authorizationRequests(call('elasticloadbalancing', 'CreateLoadBalancer', { Name: 'clusterless-x', Type: 'network', Tags: tags }), world);
    const tg = await authorizationRequests(call('elasticloadbalancing', 'CreateTargetGroup', { Name: 'clusterless-x', Tags: tags }), world);
    expect(actions(lb)).toEqual(['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:AddTags']);
    expect(lb[0]!.resource).toMatch(new RegExp(`^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/net/clusterless-x/[0-9a-f]{16}$`));
    expect(lb[1]!.context['elasticloadbalancing:CreateAction']).toBe('CreateLoadBalancer');
    expect(tg[1]!.context['elasticloadbalancing:CreateAction']).toBe('CreateTargetGroup');
    expect(tg[1]!.resource).toMatch(/:targetgroup\/clusterless-x\//);
  });

  it('a network load balancer that moto named loadbalancer/app/ is authorized by the ARN AWS gives it, loadbalancer/net/', async () => {
    const motoArn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/clusterless-x/0123456789abcdef`;
    const requests = await authorizationRequests(call('elasticloadbalancing', 'DeleteLoadBalancer', { LoadBalancerArn: motoArn }), world);
    expect(requests.map((r) => r.resource)).toEqual([motoArn.replace('/app/', '/net/')]);
    expect(requests[0]!.context).toEqual({
      'aws:ResourceTag/clusterless.dev/installation': 'inst-1',
      'elasticloadbalancing:ResourceTag/clusterless.dev/installation': 'inst-1',
    });
  });

  it('Scheduler CreateSchedule asks for iam:PassRole of the target role to Scheduler', async () => {
    const requests = await authorizationRequests(
      call('scheduler', 'CreateSchedule', { Name: 'requeue-1', GroupName: 'g', Target: { Arn: 'arn:sm', RoleArn: ROLE_ARN } }),
      world,
    );
    expect(requests).toEqual([
      { action: 'scheduler:CreateSchedule', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/g/requeue-1`, context: {} },
      { action: 'iam:PassRole', resource: ROLE_ARN, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
  });

  it('a DynamoDB Query of an index authorizes the index ARN', async () => {
    const requests = await authorizationRequests(call('dynamodb', 'Query', { TableName: 't', IndexName: 'kind' }), world);
    expect(requests.map((r) => r.resource)).toEqual([`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t/index/kind`]);
  });

  it('an item call on a table with a customer managed key asks for kms:Decrypt through DynamoDB', async () => {
    const requests = await authorizationRequests(call('dynamodb', 'PutItem', { TableName: 'encrypted' }), world);
    expect(actions(requests)).toEqual(['dynamodb:PutItem', 'kms:Decrypt']);
    expect(requests[1]).toMatchObject({
      resource: KEY_ARN,
      context: { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com`, 'kms:EncryptionContext:aws:dynamodb:tableName': 'encrypted' },
    });
  });

  it('an SSM public parameter has no account in its ARN', async () => {
    const requests = await authorizationRequests(call('ssm', 'GetParameter', { Name: '/aws/service/ami/x' }), world);
    expect(requests[0]!.resource).toBe(`arn:aws:ssm:${REGION}::parameter/aws/service/ami/x`);
  });

  it('an operation the gateway does not know is an error naming it', async () => {
    await expect(authorizationRequests(call('ec2', 'CreateVpc', {}), world)).rejects.toThrow(UnknownOperationError);
    await expect(authorizationRequests(call('ec2', 'CreateVpc', {}), world)).rejects.toThrow(/ec2:CreateVpc/);
  });
});

describe('what the emulated services ask on a principal behalf', () => {
  it('an event source mapping reading a stream asks for DescribeStream, GetShardIterator, GetRecords on it and ListStreams on *', async () => {
    const stream = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t/stream/2026-01-01T00:00:00.000`;
    expect((await streamReadRequests(stream)).map((r) => `${r.action} ${r.resource}`)).toEqual([
      `dynamodb:DescribeStream ${stream}`,
      `dynamodb:GetShardIterator ${stream}`,
      `dynamodb:GetRecords ${stream}`,
      'dynamodb:ListStreams *',
    ]);
  });
});

describe('what a state machine asks', () => {
  it('a Task invoking a function asks for lambda:InvokeFunction on it', async () => {
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:reconcile`;
    expect(await invokeFunctionRequests(fn)).toEqual([{ action: 'lambda:InvokeFunction', resource: fn, context: {} }]);
  });
});

describe('calls off the wire', () => {
  it('a query-protocol body becomes nested lists, without awsQuery member levels', () => {
    expect(
      parseQueryBody(
        'Action=RunInstances&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b&SecurityGroupId.1=sg-1',
      ),
    ).toEqual({
      Action: 'RunInstances',
      TagSpecification: [{ ResourceType: 'instance', Tag: [{ Key: 'a', Value: 'b' }] }],
      SecurityGroupId: ['sg-1'],
    });
    expect(parseQueryBody('Tags.member.1.Key=k&Tags.member.1.Value=v&Subnets.member.1=s')).toEqual({ Tags: [{ Key: 'k', Value: 'v' }], Subnets: ['s'] });
  });

  it('Scheduler REST calls are named from method and path', () => {
    const get = parseCall('scheduler', { method: 'GET', url: '/schedules/requeue-1?groupName=g', headers: {}, body: Buffer.alloc(0) });
    const put = parseCall('scheduler', { method: 'PUT', url: '/schedules/requeue-1', headers: {}, body: Buffer.from('{"GroupName":"g"}') });
    expect(get).toEqual({ signingName: 'scheduler', operation: 'GetSchedule', params: { Name: 'requeue-1', GroupName: 'g' } });
    expect(put.operation).toBe('UpdateSchedule');
  });

  it('JSON calls are named by X-Amz-Target', () => {
    const c = parseCall('dynamodb', {
      method: 'POST',
      url: '/',
      headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: Buffer.from('{"TableName":"t"}'),
    });
    expect(c).toEqual({ signingName: 'dynamodb', operation: 'PutItem', params: { TableName: 't' } });
  });
});

describe('motoLookup', () => {
  it('reads an instance tags from moto', async () => {
    // Prepare
    const endpoint = motoEndpoint();
    const ec2 = new EC2Client(emulatorClientConfig(endpoint));
    const imageId = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const id = (await ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    const value = uniqueName('lookup');
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'clusterless.dev/installation', Value: value }] }));
    // Act
    const lookup = motoLookup({ endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    // Assess
    expect((await lookup.instance(id))?.tags).toEqual({ 'clusterless.dev/installation': value });
    expect(await lookup.instance('i-0123456789abcdef0')).toBeUndefined();
  });
});
