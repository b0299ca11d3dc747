/**
 * The IAM gateway of the emulated account (e2e/aws/gateway.ts) in front of the run's moto_server: the real SDK
 * signed with a principal's credentials, its calls authorized against policies (hand-written, or the synthesized
 * template's own roles), then forwarded to moto or refused as the service refuses them.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateScheduleGroupCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { ACCOUNT, AccessDeniedError, type Json, type NamedPolicy, PARTITION, type Principal, REGION } from '../../e2e/aws/account.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { AwsGateway } from '../../e2e/aws/gateway.js';
import { motoIamQuery } from '../../e2e/aws/iam/requests.js';
import { denyMessage, unusedPermissions } from '../../e2e/aws/iam/report.js';
import { Deployment, type Physical } from '../../e2e/aws/template.js';
import { createEc2Client, createSecretsManagerClient } from '../../functions/adapters/aws/clients.js';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { createTable, TABLE_KEYS } from '../../functions/adapters/dynamodb/table.js';
import { Ec2MachineProvider } from '../../functions/adapters/ec2/ec2-machine-provider.js';
import { SchedulerRequeues } from '../../functions/adapters/scheduler/scheduler-requeues.js';
import { SecretsManagerSecretStore } from '../../functions/adapters/secrets/secrets-manager-store.js';
import { secretNames } from '../../functions/bootstrap/names.js';
import { ec2Spec } from '../integration/providers/ec2-fixtures.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const arn = (service: string, resource: string, region: string = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;

/** What deploy.ts would make of a resource, for the resources these tests do not make in moto: names and ARNs only. */
function stubPhysical(d: Deployment, id: string, type: string): Physical {
  // A name the template gives is the resource's name (CDK writes some, e.g. the schedule group's); else one CloudFormation would generate.
  const props = d.resource(id).Properties ?? {};
  const given = ['Name', 'TableName', 'RoleName', 'StateMachineName', 'QueueName', 'FunctionName'].map((k) => props[k]).find((v) => typeof v === 'string');
  const name = (given as string | undefined) ?? d.generatedName(id);
  const byType: Record<string, () => Physical> = {
    'AWS::IAM::Role': () => ({ ref: name, attributes: { Arn: arn('iam', `role/${name}`, '') } }),
    'AWS::IAM::InstanceProfile': () => ({ ref: name, attributes: { Arn: arn('iam', `instance-profile/${name}`, '') } }),
    'AWS::KMS::Key': () => {
      const keyId = randomUUID();
      return { ref: keyId, attributes: { Arn: arn('kms', `key/${keyId}`) } };
    },
    'AWS::DynamoDB::Table': () => ({
      ref: name,
      attributes: { Arn: arn('dynamodb', `table/${name}`), StreamArn: arn('dynamodb', `table/${name}/stream/2026-01-01T00:00:00.000`) },
    }),
    'AWS::Lambda::Function': () => ({ ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } }),
    'AWS::StepFunctions::StateMachine': () => ({ ref: arn('states', `stateMachine:${name}`), attributes: { Name: name } }),
    'AWS::SQS::Queue': () => ({ ref: `http://127.0.0.1/${ACCOUNT}/${name}`, attributes: { Arn: arn('sqs', name), QueueName: name } }),
    'AWS::Logs::LogGroup': () => ({ ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } }),
    'AWS::ApiGateway::Stage': () => ({ ref: 'prod', attributes: {} }),
  };
  return byType[type]?.() ?? { ref: name, attributes: { Arn: arn(type.split('::')[1]!.toLowerCase(), name) } };
}

interface Fixture {
  deployment: Deployment;
  gateway: AwsGateway;
  endpoint: string;
  dir: string;
  secretsKeyArn: string;
}

let f: Fixture;

/** A principal of the template: its role's identity policies as the deployment resolves them. */
function templatePrincipal(roleLogicalId: string, policies?: (p: NamedPolicy[]) => NamedPolicy[]): Principal {
  const all = f.deployment.identityPolicies(roleLogicalId);
  return {
    name: roleLogicalId,
    arn: f.deployment.physicalOf(roleLogicalId).attributes['Arn']!,
    policies: policies ? policies(all) : all,
    credentials: { accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`, secretAccessKey: 'secret' },
  };
}

function handMadePrincipal(name: string, statements: Json[]): Principal {
  return {
    name,
    arn: arn('iam', `role/${name}`, ''),
    policies: [{ name: `${name}Policy`, policy: { Version: '2012-10-17', Statement: statements as never } }],
    credentials: { accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`, secretAccessKey: 'secret' },
  };
}

function as<T>(Client: new (config: object) => T, principal: Principal, extra: object = {}): T {
  return new Client({ region: REGION, endpoint: f.gateway.endpoint, credentials: principal.credentials, maxAttempts: 1, ...extra });
}

const roleOf = (prefix: string) => f.deployment.ofType('AWS::IAM::Role').find((id) => id.startsWith(prefix))!;
const withoutAction = (action: string) => (policies: NamedPolicy[]) =>
  policies.map((p) => ({
    ...p,
    policy: { ...p.policy, Statement: p.policy.Statement.filter((s) => !(Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action)) },
  }));

beforeAll(async () => {
  const endpoint = motoEndpoint();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-iam-'));
  const assembly = synthesize(dir, { bundle: false });
  // A stack of its own: its installation id (the stack UUID) and generated names are this file's alone in the shared moto.
  const deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory, randomUUID());
  const kms = new KMSClient(emulatorClientConfig(endpoint));
  const secretsKeyId = deployment.ofType('AWS::KMS::Key').find((id) => id.startsWith('SecretsKey'))!;
  const key = (await kms.send(new CreateKeyCommand({ Description: 'the bootstrap secrets key' }))).KeyMetadata!;
  for (const id of Object.keys(deployment.resources)) {
    if (id === secretsKeyId) deployment.setPhysical(id, { ref: key.KeyId!, attributes: { Arn: key.Arn! } });
    else deployment.setPhysical(id, stubPhysical(deployment, id, deployment.resource(id).Type));
  }
  const gateway = await AwsGateway.start({ backend: endpoint, deployment, admin: ADMIN });
  f = { deployment, gateway, endpoint, dir, secretsKeyArn: key.Arn! };
}, 120_000);

afterAll(async () => {
  await f?.gateway.stop();
  if (f) rmSync(f.dir, { recursive: true, force: true });
});

describe('the gateway in front of moto, with hand-written policies', () => {
  it('a principal allowed PutItem puts an item that lands in moto; its DeleteTable is refused and recorded with the policy names', async () => {
    // Prepare
    const table = uniqueName('gateway-table');
    const admin = new DynamoDBClient(emulatorClientConfig(f.endpoint));
    await admin.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const writer = handMadePrincipal(uniqueName('writer'), [{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arn('dynamodb', `table/${table}`) }]);
    f.gateway.register(writer);
    const client = as(DynamoDBClient, writer);
    // Act
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, v: { S: 'through the gateway' } } }));
    const refused = await client.send(new DeleteTableCommand({ TableName: table })).catch((e: Error) => e);
    // Assess
    const stored = await admin.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }));
    expect(stored.Item?.['v']?.S).toBe('through the gateway');
    expect((refused as Error).name).toBe('AccessDeniedException');
    expect((refused as Error).message).toContain(`add dynamodb:DeleteTable on ${arn('dynamodb', `table/${table}`)} to ${writer.name}Policy`);
    expect(f.gateway.denies().filter((r) => r.principal === writer.name)).toEqual([
      {
        principal: writer.name,
        operation: 'dynamodb:DeleteTable',
        request: { action: 'dynamodb:DeleteTable', resource: arn('dynamodb', `table/${table}`), context: {} },
        decision: 'ImplicitlyDenied',
        evaluated: [`${writer.name}Policy`],
      },
    ]);
    expect((await admin.send(new DescribeTableCommand({ TableName: table }))).Table?.TableName).toBe(table);
  });

  it('a table encrypted with a customer managed key needs kms:Decrypt through DynamoDB as well', async () => {
    // Prepare
    const table = uniqueName('encrypted-table');
    const key = (await new KMSClient(emulatorClientConfig(f.endpoint)).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await new DynamoDBClient(emulatorClientConfig(f.endpoint)).send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: key },
      }),
    );
    const put = { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arn('dynamodb', `table/${table}`) };
    const decrypt = {
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: key,
      Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` } },
    };
    const without = handMadePrincipal(uniqueName('no-key'), [put]);
    const withKey = handMadePrincipal(uniqueName('with-key'), [put, decrypt]);
    f.gateway.register(without);
    f.gateway.register(withKey);
    const item = { TableName: table, Item: { pk: { S: 'a' } } };
    // Act
    const refused = await as(DynamoDBClient, without)
      .send(new PutItemCommand(item))
      .catch((e: Error) => e);
    await as(DynamoDBClient, withKey).send(new PutItemCommand(item));
    // Assess
    expect((refused as Error).name).toBe('AccessDeniedException');
    expect(
      f.gateway
        .denies()
        .filter((r) => r.principal === without.name)
        .map((r) => `${r.request.action} ${r.request.resource}`),
    ).toEqual([`kms:Decrypt ${key}`]);
  });

  it('a request signed with an access key no principal holds is refused as an unrecognized client', async () => {
    const stranger = new DynamoDBClient({
      region: REGION,
      endpoint: f.gateway.endpoint,
      credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const error = await stranger.send(new DescribeTableCommand({ TableName: 'any' })).catch((e: Error) => e);
    expect((error as Error).name).toBe('UnrecognizedClientException');
  });

  it('an operation the gateway does not know is refused and named in problems, never forwarded', async () => {
    const p = handMadePrincipal(uniqueName('vpc-maker'), [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }]);
    f.gateway.register(p);
    const cidr = '10.99.0.0/16';
    const error = await as(EC2Client, p)
      .send(new CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'by', Value: p.name }] }] }))
      .catch((e: Error) => e);
    expect((error as Error).name).toBe('InvalidAction');
    expect(f.gateway.problems.some((m) => m.includes(p.name) && m.includes('ec2:CreateVpc'))).toBe(true);
    const vpcs = await new EC2Client(emulatorClientConfig(f.endpoint)).send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:by', Values: [p.name] }] }));
    expect(vpcs.Vpcs).toEqual([]);
  });

  it('unusedPermissions lists a granted action no call used, a wildcard expanded against the actions seen, and not what Lambda uses the role for', async () => {
    // Prepare
    const table = uniqueName('unused-table');
    const admin = new DynamoDBClient(emulatorClientConfig(f.endpoint));
    await admin.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const p = handMadePrincipal(uniqueName('writer'), [
      { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Describe*'], Resource: '*' },
      // Lambda writes the logs with the role, outside the function's calls: never listed.
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
    ]);
    const q = handMadePrincipal(uniqueName('describer'), [{ Effect: 'Allow', Action: 'dynamodb:DescribeTable', Resource: '*' }]);
    f.gateway.register(p);
    f.gateway.register(q);
    // Act
    await as(DynamoDBClient, p).send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' } } }));
    await as(DynamoDBClient, q).send(new DescribeTableCommand({ TableName: table }));
    // Assess: p's Describe* stands for DescribeTable, which q's call made an action seen.
    expect(unusedPermissions([p, q], f.gateway.records)).toEqual([`${p.name}: dynamodb:DescribeTable`, `${p.name}: dynamodb:GetItem`]);
  });
});

describe('Secrets Manager through the gateway, with the template provision role and bootstrap key', () => {
  const create = (principal: Principal, name: string) =>
    as(SecretsManagerClient, principal).send(
      new CreateSecretCommand({
        Name: name,
        SecretBinary: new TextEncoder().encode('bootstrap data'),
        KmsKeyId: f.secretsKeyArn,
        Tags: [{ Key: TagKeys.installation, Value: f.deployment.installationId }],
      }),
    );
  const exists = (name: string) =>
    new SecretsManagerClient(emulatorClientConfig(f.endpoint))
      .send(new DescribeSecretCommand({ SecretId: name }))
      .then(() => true)
      .catch(() => false);

  it('CreateSecret with Tags and the key is refused for a policy without secretsmanager:TagResource', async () => {
    // Prepare
    const role = roleOf('provisionhandlerRole');
    const principal = templatePrincipal(role, withoutAction('secretsmanager:TagResource'));
    f.gateway.register(principal);
    // The template's secrets are under clusterless/{installation id}/ (functions/bootstrap/names.ts).
    const name = `clusterless/${f.deployment.installationId}/${uniqueName('ns')}/c/machines/u1`;
    // Act
    const error = await create(principal, name).catch((e: Error) => e);
    // Assess
    expect((error as Error).name).toBe('AccessDeniedException');
    expect(
      f.gateway
        .denies()
        .filter((r) => r.principal === role && r.request.resource.includes(name))
        .map((r) => r.request.action),
    ).toEqual(['secretsmanager:TagResource']);
    expect(await exists(name)).toBe(false);
  });

  it('CreateSecret with Tags and the key is allowed with the template policy, through the key policy and kms:ViaService', async () => {
    // Prepare
    const role = roleOf('provisionhandlerRole');
    const principal = templatePrincipal(role);
    f.gateway.register(principal);
    // The template's secrets are under clusterless/{installation id}/ (functions/bootstrap/names.ts).
    const name = `clusterless/${f.deployment.installationId}/${uniqueName('ns')}/c/machines/u1`;
    const from = f.gateway.records.length;
    // Act
    await create(principal, name);
    // Assess
    expect(await exists(name)).toBe(true);
    const records = f.gateway.records.slice(from);
    expect(records.map((r) => [r.operation, r.request.action, r.decision])).toEqual([
      ['secretsmanager:CreateSecret', 'secretsmanager:CreateSecret', 'Allowed'],
      ['secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'Allowed'],
      ['secretsmanager:CreateSecret', 'kms:GenerateDataKey', 'Allowed'],
    ]);
  });

  it('the key policy refuses the bootstrap key for a secret outside the installation prefix, whatever the identity policy allows', async () => {
    // Prepare
    const principal = handMadePrincipal(uniqueName('broad'), [{ Effect: 'Allow', Action: ['secretsmanager:*', 'kms:*'], Resource: '*' }]);
    f.gateway.register(principal);
    const name = uniqueName('elsewhere/secret');
    // Act
    const error = await create(principal, name).catch((e: Error) => e);
    // Assess
    expect((error as Error).name).toBe('AccessDeniedException');
    expect(f.gateway.denies().filter((r) => r.principal === principal.name)).toEqual([
      expect.objectContaining({
        operation: 'secretsmanager:CreateSecret',
        request: expect.objectContaining({ action: 'kms:GenerateDataKey', resource: f.secretsKeyArn }),
        decision: 'ExplicitlyDenied',
        evaluated: [`${principal.name}Policy`, 'key policy'],
      }),
    ]);
    expect(await exists(name)).toBe(false);
  });
});

describe('the Secrets Manager store through the gateway, with the template roles and bootstrap key', () => {
  it('the provision role makes, reads, rewrites, binds and deletes secrets; the reconcile role reads and deletes the certificates; no deny', async () => {
    // Prepare
    const provision = templatePrincipal(roleOf('provisionhandlerRole'));
    const reconcile = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(provision);
    f.gateway.register(reconcile);
    const storeAs = (p: Principal) =>
      new SecretsManagerSecretStore({
        client: createSecretsManagerClient({ region: REGION, endpoint: f.gateway.endpoint, credentials: p.credentials }),
        kmsKeyId: f.secretsKeyArn,
        installationId: f.deployment.installationId,
      });
    // The stack's prefix (SECRETS_NAME_PREFIX): clusterless/{installation id}/.
    const names = secretNames(`clusterless/${f.deployment.installationId}/`);
    const cluster = uniqueName('c');
    const certificates = names.certificates('ns', cluster);
    const machine = names.machine('ns', cluster, randomUUID());
    const bytes = (t: string) => new TextEncoder().encode(t);
    const from = f.gateway.records.length;
    // Act
    const before = await storeAs(provision).get(certificates);
    await storeAs(provision).put(certificates, bytes('ca'));
    const read = await storeAs(provision).get(certificates);
    await storeAs(provision).put(machine, bytes('join v1'), { [TagKeys.cluster]: `ns/${cluster}` });
    await storeAs(provision).put(machine, bytes('join v2'));
    await storeAs(provision).tag(machine, { [TagKeys.instanceArn]: arn('ec2', 'instance/i-0123456789abcdef0') });
    await storeAs(provision).delete(machine);
    const readByReconcile = await storeAs(reconcile).get(certificates);
    await storeAs(reconcile).delete(certificates);
    // Assess
    expect(before).toBeUndefined();
    expect(new TextDecoder().decode(read)).toBe('ca');
    expect(new TextDecoder().decode(readByReconcile)).toBe('ca');
    const records = f.gateway.records.slice(from);
    expect(records.filter((r) => r.decision !== 'Allowed').map(denyMessage)).toEqual([]);
    expect(new Set(records.map((r) => r.request.action))).toEqual(
      new Set([
        'secretsmanager:GetSecretValue',
        'secretsmanager:CreateSecret',
        'secretsmanager:TagResource',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DeleteSecret',
        'kms:GenerateDataKey',
        'kms:Decrypt',
      ]),
    );
  });
});

describe('EC2 through the gateway, with the template roles', () => {
  let ec2Admin: EC2Client;
  let subnetId: string;
  let groupId: string;
  let imageId: string;
  const installationTags = () => [
    { Key: TagKeys.installation, Value: f.deployment.installationId },
    { Key: TagKeys.cluster, Value: 'ns/c' },
    { Key: TagKeys.machineUid, Value: 'uid-1' },
  ];

  beforeAll(async () => {
    ec2Admin = new EC2Client(emulatorClientConfig(f.endpoint));
    const tagged = (type: 'vpc' | 'subnet' | 'security-group') => [
      { ResourceType: type, Tags: [{ Key: TagKeys.installation, Value: f.deployment.installationId }] },
    ];
    const vpc = (await ec2Admin.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16', TagSpecifications: tagged('vpc') }))).Vpc!.VpcId!;
    subnetId = (
      await ec2Admin.send(
        new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.42.1.0/24', AvailabilityZone: `${REGION}a`, TagSpecifications: tagged('subnet') }),
      )
    ).Subnet!.SubnetId!;
    groupId = (
      await ec2Admin.send(
        new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: uniqueName('sg'), Description: 'nodes', TagSpecifications: tagged('security-group') }),
      )
    ).GroupId!;
    imageId = (await ec2Admin.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    // The control-plane node role and its instance profile, in moto's IAM under the names the deployment gave them.
    const roleId = f.deployment.ofType('AWS::IAM::Role').find((id) => id.startsWith('NodeRolesControlPlaneRole'))!;
    const profileId = f.deployment.ofType('AWS::IAM::InstanceProfile').find((id) => id.startsWith('NodeRolesControlPlaneInstanceProfile'))!;
    const roleName = f.deployment.physicalOf(roleId).ref;
    const profileName = f.deployment.physicalOf(profileId).ref;
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const calls: Record<string, string>[] = [
      { Action: 'CreateRole', RoleName: roleName, AssumeRolePolicyDocument: trust },
      { Action: 'CreateInstanceProfile', InstanceProfileName: profileName },
      { Action: 'AddRoleToInstanceProfile', InstanceProfileName: profileName, RoleName: roleName },
    ];
    for (const params of calls) {
      const { status, text } = await motoIamQuery(f.endpoint, ADMIN, params);
      if (status >= 300) throw new Error(`moto iam ${params.Action}: ${text}`);
    }
  });

  const launchInput = (profileName: string) => ({
    ImageId: imageId,
    InstanceType: 't3.medium' as const,
    MinCount: 1,
    MaxCount: 1,
    SubnetId: subnetId,
    SecurityGroupIds: [groupId],
    IamInstanceProfile: { Name: profileName },
    MetadataOptions: { HttpTokens: 'required' as const, HttpEndpoint: 'enabled' as const },
    TagSpecifications: [
      { ResourceType: 'instance' as const, Tags: installationTags() },
      { ResourceType: 'volume' as const, Tags: installationTags() },
    ],
  });

  it('RunInstances as the provision role asks for iam:PassRole of the node role to EC2 and ec2:CreateTags on create, and launches', async () => {
    // Prepare
    const role = roleOf('provisionhandlerRole');
    const principal = templatePrincipal(role);
    f.gateway.register(principal);
    const profileId = f.deployment.ofType('AWS::IAM::InstanceProfile').find((id) => id.startsWith('NodeRolesControlPlaneInstanceProfile'))!;
    const nodeRoleArn = f.deployment.physicalOf(f.deployment.ofType('AWS::IAM::Role').find((id) => id.startsWith('NodeRolesControlPlaneRole'))!).attributes[
      'Arn'
    ];
    const from = f.gateway.records.length;
    // Act
    const out = await as(EC2Client, principal).send(new RunInstancesCommand(launchInput(f.deployment.physicalOf(profileId).ref)));
    // Assess
    expect(out.Instances?.[0]?.InstanceId).toMatch(/^i-/);
    const records = f.gateway.records.slice(from);
    expect(records.every((r) => r.decision === 'Allowed')).toBe(true);
    expect(records.find((r) => r.request.action === 'iam:PassRole')?.request).toEqual({
      action: 'iam:PassRole',
      resource: nodeRoleArn,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    });
    expect(
      records.filter((r) => r.request.action === 'ec2:CreateTags').map((r) => [r.request.resource.split(':').pop(), r.request.context['ec2:CreateAction']]),
    ).toEqual([
      ['instance/*', 'RunInstances'],
      ['volume/*', 'RunInstances'],
    ]);
  });

  it('RunInstances without IMDSv2 required is refused by the same policy', async () => {
    const principal = templatePrincipal(roleOf('provisionhandlerRole'));
    f.gateway.register(principal);
    const profileId = f.deployment.ofType('AWS::IAM::InstanceProfile').find((id) => id.startsWith('NodeRolesControlPlaneInstanceProfile'))!;
    const input = { ...launchInput(f.deployment.physicalOf(profileId).ref), MetadataOptions: { HttpTokens: 'optional' as const } };
    const error = await as(EC2Client, principal)
      .send(new RunInstancesCommand(input))
      .catch((e: Error) => e);
    expect((error as Error).name).toBe('UnauthorizedOperation');
  });

  it('the EC2 machine provider launches and finds a machine as the provision role and deletes it as the reconcile role, without a deny', async () => {
    // Prepare
    const provision = templatePrincipal(roleOf('provisionhandlerRole'));
    const reconcile = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(provision);
    f.gateway.register(reconcile);
    const profileId = f.deployment.ofType('AWS::IAM::InstanceProfile').find((id) => id.startsWith('NodeRolesControlPlaneInstanceProfile'))!;
    const image = (await ec2Admin.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0]!;
    const net = {
      vpcId: '',
      subnets: [{ id: subnetId, availabilityZone: `${REGION}a` }],
      securityGroupId: groupId,
      ami: imageId,
      rootDeviceName: image.RootDeviceName!,
    };
    const providerAs = (p: Principal) =>
      new Ec2MachineProvider({
        client: createEc2Client({ region: REGION, endpoint: f.gateway.endpoint, credentials: p.credentials }),
        installationId: f.deployment.installationId,
        nodeInstanceProfiles: { worker: f.deployment.physicalOf(profileId).ref },
      });
    const spec = ec2Spec(net, { namespace: 'ns', clusterName: uniqueName('c') });
    const from = f.gateway.records.length;
    // Act
    const fact = await providerAs(provision).create(spec);
    const found = await providerAs(provision).describe(spec.namespace, spec.clusterName);
    await providerAs(reconcile).delete({ namespace: spec.namespace, clusterName: spec.clusterName, machineUid: spec.machineUid, instanceId: fact.instanceId });
    // Assess
    expect(found.map((i) => i.instanceId)).toEqual([fact.instanceId]);
    const ours = f.gateway.records.slice(from);
    expect(ours.filter((r) => r.decision !== 'Allowed')).toEqual([]);
    expect(new Set(ours.map((r) => `${r.principal === provision.name ? 'provision' : 'reconcile'} ${r.operation}`))).toEqual(
      new Set([
        'provision ec2:DescribeInstances',
        'provision ec2:DescribeImages',
        'provision ec2:RunInstances',
        'reconcile ec2:DescribeInstances',
        'reconcile ec2:TerminateInstances',
      ]),
    );
  });

  it('TerminateInstances of an instance without the installation tag is refused by the reconcile policy; one with it is terminated', async () => {
    // Prepare
    const principal = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(principal);
    const launch = async (tags: { Key: string; Value: string }[]) =>
      (
        await ec2Admin.send(
          new RunInstancesCommand({
            ImageId: imageId,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
          }),
        )
      ).Instances![0]!.InstanceId!;
    const foreign = await launch([{ Key: TagKeys.cluster, Value: 'ns/c' }]);
    const ours = await launch(installationTags());
    const client = as(EC2Client, principal);
    // Act
    const refused = await client.send(new TerminateInstancesCommand({ InstanceIds: [foreign] })).catch((e: Error) => e);
    await client.send(new TerminateInstancesCommand({ InstanceIds: [ours] }));
    // Assess
    expect((refused as Error).name).toBe('UnauthorizedOperation');
    const state = async (id: string) =>
      (await ec2Admin.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
    expect(await state(foreign)).toBe('running');
    expect(await state(ours)).toMatch(/shutting-down|terminated/);
    const deny = f.gateway.denies().find((r) => r.principal === principal.name && r.request.resource.endsWith(foreign))!;
    expect(deny.evaluated).toEqual(principal.policies.map((p) => p.name));
    expect(denyMessage(deny)).toContain(`add ec2:TerminateInstances on ${arn('ec2', `instance/${foreign}`)} to ${principal.policies[0]!.name}`);
  });

  it('an injected throttle answers RequestLimitExceeded, which the SDK retries; more than its attempts reach the caller', async () => {
    // Prepare
    const principal = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(principal);
    const client = as(EC2Client, principal, { maxAttempts: 2 });
    const from = f.gateway.records.length;
    const calls = () => f.gateway.records.slice(from).filter((r) => r.operation === 'ec2:DescribeInstances').length;
    // Act
    f.gateway.injectFaults({ operation: 'ec2:DescribeInstances', count: 1, principal: principal.name });
    await client.send(new DescribeInstancesCommand({ InstanceIds: [] }));
    const afterOne = calls();
    f.gateway.injectFaults({ operation: 'ec2:DescribeInstances', count: 2, principal: principal.name });
    const error = await client.send(new DescribeInstancesCommand({})).catch((e: Error) => e);
    // Assess
    expect(afterOne).toBe(1);
    expect((error as Error).name).toBe('RequestLimitExceeded');
    expect(calls()).toBe(1);
  });
});

describe('the other services the functions call, with the template roles', () => {
  it('the reconcile role requeues with the Scheduler adapter: CreateSchedule, and iam:PassRole of the scheduler role to Scheduler', async () => {
    // Prepare
    const principal = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(principal);
    const groupName = f.deployment.physicalOf(f.deployment.ofType('AWS::Scheduler::ScheduleGroup')[0]!).ref;
    const schedulerRole = f.deployment.physicalOf(roleOf('RequeuesSchedulerRole')).attributes['Arn']!;
    const admin = new SchedulerClient(emulatorClientConfig(f.endpoint));
    await admin.send(new CreateScheduleGroupCommand({ Name: groupName })).catch((e: Error) => {
      if (e.name !== 'ConflictException') throw e;
    });
    const requeues = new SchedulerRequeues({
      client: as(SchedulerClient, principal),
      installationId: f.deployment.installationId,
      groupName,
      stateMachineArn: arn('states', 'stateMachine:reconcile-cluster'),
      roleArn: schedulerRole,
      clock: { now: () => new Date() },
    });
    const from = f.gateway.records.length;
    // Act
    await requeues.requeue('ns', uniqueName('c'), 600);
    // Assess
    const records = f.gateway.records.slice(from).filter((r) => r.operation === 'scheduler:CreateSchedule');
    expect(
      records.map((r) => [
        r.request.action,
        r.request.resource.startsWith(arn('scheduler', `schedule/${groupName}/requeue-`)) || r.request.resource,
        r.decision,
      ]),
    ).toEqual([
      ['scheduler:CreateSchedule', true, 'Allowed'],
      ['iam:PassRole', schedulerRole, 'Allowed'],
    ]);
    expect(records[1]!.request.context).toEqual({ 'iam:PassedToService': 'scheduler.amazonaws.com' });
    const listed = await admin.send(new ListSchedulesCommand({ GroupName: groupName }));
    expect(listed.Schedules?.length).toBeGreaterThan(0);
  });

  it('the reconcile role makes a control-plane load balancer, target group and listener with tags (Create* and AddTags on create) and deletes it', async () => {
    // Prepare
    const principal = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(principal);
    const ec2 = new EC2Client(emulatorClientConfig(f.endpoint));
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.43.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.43.1.0/24', AvailabilityZone: `${REGION}a` }))).Subnet!.SubnetId!;
    const name = `clusterless-${randomUUID().slice(0, 8)}`;
    const Tags = [
      { Key: TagKeys.installation, Value: f.deployment.installationId },
      { Key: TagKeys.cluster, Value: 'ns/c' },
    ];
    const elb = as(ElasticLoadBalancingV2Client, principal);
    const from = f.gateway.records.length;
    // Act
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: name, Type: 'network', Subnets: [subnet], Tags }))).LoadBalancers![0]!;
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'TCP', Port: 6443, VpcId: vpc, TargetType: 'instance', Tags })))
      .TargetGroups![0]!;
    const untagged = await elb.send(new CreateTargetGroupCommand({ Name: `${name}-x`, Protocol: 'TCP', Port: 6443, VpcId: vpc })).catch((e: Error) => e);
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: 'TCP',
        Port: 6443,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
        Tags,
      }),
    );
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    // Assess
    expect(lb.LoadBalancerArn).toContain(`/${name}/`);
    const actions = f.gateway.records
      .slice(from)
      .filter((r) => r.operation.startsWith('elasticloadbalancing:Create') || r.operation === 'elasticloadbalancing:DeleteLoadBalancer')
      .map((r) => `${r.request.action} ${r.request.context['elasticloadbalancing:CreateAction'] ?? '-'} ${r.decision}`);
    expect(actions).toEqual([
      'elasticloadbalancing:CreateLoadBalancer - Allowed',
      'elasticloadbalancing:AddTags CreateLoadBalancer Allowed',
      'elasticloadbalancing:CreateTargetGroup - Allowed',
      'elasticloadbalancing:AddTags CreateTargetGroup Allowed',
      'elasticloadbalancing:CreateTargetGroup - ImplicitlyDenied',
      'elasticloadbalancing:CreateListener - Allowed',
      'elasticloadbalancing:AddTags CreateListener Allowed',
      'elasticloadbalancing:DeleteLoadBalancer - Allowed',
    ]);
    expect((untagged as Error).name).toBe('AccessDenied');
  });

  it('the reconcile role queries the kind index, which is authorized by the index ARN', async () => {
    // Prepare
    const principal = templatePrincipal(roleOf('reconcilehandlerRole'));
    f.gateway.register(principal);
    const tableName = f.deployment.physicalOf(f.deployment.ofType('AWS::DynamoDB::Table')[0]!).ref;
    await createTable(new DynamoDBClient(emulatorClientConfig(f.endpoint)), tableName);
    const { kindIndex } = TABLE_KEYS;
    const from = f.gateway.records.length;
    // Act
    await as(DynamoDBClient, principal).send(
      new QueryCommand({
        TableName: tableName,
        IndexName: kindIndex.indexName,
        KeyConditionExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': kindIndex.partitionKey },
        ExpressionAttributeValues: { ':k': { S: 'Cluster' } },
      }),
    );
    // Assess
    const record = f.gateway.records.slice(from).find((r) => r.operation === 'dynamodb:Query')!;
    expect(record.request.resource).toBe(`${arn('dynamodb', `table/${tableName}`)}/index/${kindIndex.indexName}`);
    expect(record.decision).toBe('Allowed');
  });
});

describe('the gateway for the emulated services', () => {
  it('forwards Step Functions calls to the service it is given, and calls afterCall hooks with the answer status', async () => {
    // Prepare
    const machine = arn('states', `stateMachine:${uniqueName('sm')}`);
    const starter = handMadePrincipal(uniqueName('starter'), [{ Effect: 'Allow', Action: 'states:StartExecution', Resource: machine }]);
    const seen: string[] = [];
    const gateway = await AwsGateway.start({
      backend: f.endpoint,
      deployment: f.deployment,
      admin: ADMIN,
      services: {
        states: async (request) => {
          const input = JSON.parse(request.body.toString()) as { stateMachineArn: string; name: string };
          return {
            status: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: JSON.stringify({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: 1 }),
          };
        },
      },
    });
    try {
      gateway.register(starter);
      gateway.afterCall((principal, operation, status) => void seen.push(`${principal} ${operation} ${status}`));
      const sfn = new SFNClient({ region: REGION, endpoint: gateway.endpoint, credentials: starter.credentials, maxAttempts: 1 });
      // Act
      const out = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'run-1', input: '{}' }));
      // Assess
      expect(out.executionArn).toBe(`${machine.replace(':stateMachine:', ':execution:')}:run-1`);
      expect(seen).toEqual([`${starter.name} states:StartExecution 200`]);
    } finally {
      await gateway.stop();
    }
  });

  it('a throwing afterCall hook leaves the call done in moto and answers the caller with an internal error', async () => {
    // Prepare
    const table = uniqueName('crash-table');
    const admin = new DynamoDBClient(emulatorClientConfig(f.endpoint));
    await admin.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const writer = handMadePrincipal(uniqueName('crasher'), [{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arn('dynamodb', `table/${table}`) }]);
    const gateway = await AwsGateway.start({ backend: f.endpoint, deployment: f.deployment, admin: ADMIN });
    try {
      gateway.register(writer);
      gateway.afterCall((principal, operation) => {
        if (principal === writer.name && operation === 'dynamodb:PutItem') throw new Error('the function crashed here');
      });
      const client = new DynamoDBClient({ region: REGION, endpoint: gateway.endpoint, credentials: writer.credentials, maxAttempts: 1 });
      // Act
      const error = await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' } } })).catch((e: Error) => e);
      // Assess
      expect((error as Error).name).toBe('InternalFailure');
      expect((await admin.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }))).Item).toBeDefined();
      expect(gateway.problems).toEqual([]);
    } finally {
      await gateway.stop();
    }
  });

  it('authorize records what an event source does with a role, and throws AccessDeniedError on a deny', async () => {
    const reader = handMadePrincipal(uniqueName('stream-reader'), [{ Effect: 'Allow', Action: 'dynamodb:GetRecords', Resource: '*' }]);
    f.gateway.register(reader);
    const stream = arn('dynamodb', 'table/t/stream/2026-01-01T00:00:00.000');
    await f.gateway.authorize(reader.name, 'lambda:EventSourceMapping', [{ action: 'dynamodb:GetRecords', resource: stream, context: {} }]);
    await expect(
      f.gateway.authorize(reader.name, 'lambda:EventSourceMapping', [{ action: 'dynamodb:DescribeStream', resource: stream, context: {} }]),
    ).rejects.toThrow(AccessDeniedError);
    expect(f.gateway.records.filter((r) => r.principal === reader.name).map((r) => `${r.request.action} ${r.decision}`)).toEqual([
      'dynamodb:GetRecords Allowed',
      'dynamodb:DescribeStream ImplicitlyDenied',
    ]);
  });
});
