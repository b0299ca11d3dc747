/**
 * The EC2 Query client's wire format, held to the SDK's: for each input the provider sends, our form body has the
 * same parameters as @aws-sdk/client-ec2's serializer makes (captured before it reaches any network), and our
 * reading of EC2's XML gives what the SDK's gives. Also where requests go (endpoint resolution).
 */
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  CreateTagsCommand,
  DescribeTagsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { HttpRequest } from '@smithy/protocol-http';
import { describe, expect, it } from 'vitest';
import { Ec2QueryClient, serializeRequest, type Ec2Operation, type Ec2Operations } from '../../../functions/adapters/aws/ec2-query/index.js';

class Captured extends Error {}

/** The form body the SDK would send for a command, captured once serialized. */
async function sdkBody(command: { input: unknown }): Promise<string> {
  const sdk = new EC2Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  let body = '';
  sdk.middlewareStack.add(
    () => async (args) => {
      body = String((args.request as HttpRequest).body);
      throw new Captured();
    },
    { step: 'build', priority: 'low' },
  );
  await expect(sdk.send(command as never)).rejects.toBeInstanceOf(Captured);
  sdk.destroy();
  return body;
}

const params = (body: string) => [...new URLSearchParams(body).entries()].sort(([a], [b]) => a.localeCompare(b));

const tags = [
  { Key: 'clusterless.dev/installation', Value: 'inst-1' },
  { Key: 'Name', Value: 'a b&c=d/é*(!)' },
];
const RUN = {
  MinCount: 1,
  MaxCount: 1,
  ClientToken: 'token-1',
  ImageId: 'ami-0123456789abcdef0',
  InstanceType: 't3.micro',
  SubnetId: 'subnet-1',
  SecurityGroupIds: ['sg-1', 'sg-2'],
  KeyName: 'key',
  IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/node' },
  BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
  MetadataOptions: { HttpTokens: 'required' as const, HttpEndpoint: 'enabled' as const, HttpPutResponseHopLimit: 1 },
  InstanceMarketOptions: {
    MarketType: 'spot' as const,
    SpotOptions: { SpotInstanceType: 'one-time' as const, InstanceInterruptionBehavior: 'terminate' as const, MaxPrice: '0.05' },
  },
  UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
  TagSpecifications: [
    { ResourceType: 'instance', Tags: tags },
    { ResourceType: 'volume', Tags: tags },
  ],
};
const FILTERS = [
  { Name: 'tag:clusterless.dev/cluster', Values: ['default/c1'] },
  { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
];

const CASES: { name: string; operation: Ec2Operation; input: Ec2Operations[Ec2Operation]['input']; command: { input: unknown } }[] = [
  {
    name: 'RunInstances as the provider sends it (tags, root volume, IMDSv2, profile, groups, spot)',
    operation: 'RunInstances',
    input: RUN,
    command: new RunInstancesCommand(RUN as RunInstancesCommandInput),
  },
  {
    name: 'RunInstances with an instance profile by name',
    operation: 'RunInstances',
    input: { MinCount: 1, MaxCount: 1, ClientToken: 't', ImageId: 'ami-1', IamInstanceProfile: { Name: 'node' } },
    command: new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ClientToken: 't', ImageId: 'ami-1', IamInstanceProfile: { Name: 'node' } }),
  },
  {
    name: 'DescribeInstances by filters, a page size and a token',
    operation: 'DescribeInstances',
    input: { Filters: FILTERS, MaxResults: 5, NextToken: 'abc==' },
    command: new DescribeInstancesCommand({ Filters: FILTERS, MaxResults: 5, NextToken: 'abc==' }),
  },
  {
    name: 'DescribeInstances by instance ids',
    operation: 'DescribeInstances',
    input: { InstanceIds: ['i-1', 'i-2'] },
    command: new DescribeInstancesCommand({ InstanceIds: ['i-1', 'i-2'] }),
  },
  {
    name: 'TerminateInstances',
    operation: 'TerminateInstances',
    input: { InstanceIds: ['i-1', 'i-2'] },
    command: new TerminateInstancesCommand({ InstanceIds: ['i-1', 'i-2'] }),
  },
  {
    name: 'DescribeImages by ids, owners and filters',
    operation: 'DescribeImages',
    input: { ImageIds: ['ami-1'], Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['amzn2-*'] }] },
    command: new DescribeImagesCommand({ ImageIds: ['ami-1'], Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['amzn2-*'] }] }),
  },
  {
    name: 'DescribeSubnets',
    operation: 'DescribeSubnets',
    input: { SubnetIds: ['subnet-1'] },
    command: new DescribeSubnetsCommand({ SubnetIds: ['subnet-1'] }),
  },
  {
    name: 'DescribeTags by resource and keys',
    operation: 'DescribeTags',
    input: {
      Filters: [
        { Name: 'resource-id', Values: ['i-1'] },
        { Name: 'key', Values: ['a', 'b'] },
      ],
    },
    command: new DescribeTagsCommand({
      Filters: [
        { Name: 'resource-id', Values: ['i-1'] },
        { Name: 'key', Values: ['a', 'b'] },
      ],
    }),
  },
  {
    name: 'CreateTags of instances and volumes (a move hands them over)',
    operation: 'CreateTags',
    input: { Resources: ['vol-1', 'i-1'], Tags: [{ Key: 'clusterless.dev/installation', Value: 'target' }] },
    command: new CreateTagsCommand({ Resources: ['vol-1', 'i-1'], Tags: [{ Key: 'clusterless.dev/installation', Value: 'target' }] }),
  },
  { name: 'an empty list (left out)', operation: 'DescribeInstances', input: { InstanceIds: [] }, command: new DescribeInstancesCommand({ InstanceIds: [] }) },
];

describe('the EC2 Query form body', () => {
  it.each(CASES)('of $name has the parameters the SDK sends', async ({ operation, input, command }) => {
    // Act
    const ours = serializeRequest(operation, input);
    // Assess
    expect(params(ours)).toEqual(params(await sdkBody(command)));
    expect(ours.startsWith(`Action=${operation}&Version=2016-11-15`)).toBe(true);
  });

  it('percent-encodes as SigV4 signs it (RFC 3986: space as %20, and !*() too)', () => {
    expect(serializeRequest('DescribeTags', { Filters: [{ Name: 'key', Values: ["a b!*()'"] }] })).toBe(
      'Action=DescribeTags&Version=2016-11-15&Filter.1.Name=key&Filter.1.Value.1=a%20b%21%2A%28%29%27',
    );
  });

  it('refuses a list it knows no query name for, rather than guess one', () => {
    expect(() => serializeRequest('DescribeInstances', { Unknowns: ['x'] } as never)).toThrow(/no query name known for the list Unknowns/);
  });
});

describe('where the client sends requests', () => {
  const base = { region: 'us-east-1' };
  it.each([
    {
      name: 'the configured endpoint, before the variables',
      config: { ...base, endpoint: 'http://127.0.0.1:1/' },
      env: { AWS_ENDPOINT_URL_EC2: 'http://x:2', AWS_ENDPOINT_URL: 'http://y:3' },
      url: 'http://127.0.0.1:1/',
    },
    {
      name: "EC2's own variable before the general one",
      config: base,
      env: { AWS_ENDPOINT_URL_EC2: 'http://x:2', AWS_ENDPOINT_URL: 'http://y:3' },
      url: 'http://x:2/',
    },
    { name: 'the general variable', config: base, env: { AWS_ENDPOINT_URL: 'http://y:3' }, url: 'http://y:3/' },
    {
      name: 'neither variable when told to ignore them',
      config: base,
      env: { AWS_ENDPOINT_URL: 'http://y:3', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      url: 'https://ec2.us-east-1.amazonaws.com/',
    },
    { name: "the region's endpoint", config: { region: 'eu-west-3' }, env: {}, url: 'https://ec2.eu-west-3.amazonaws.com/' },
    { name: "a China region's endpoint", config: { region: 'cn-north-1' }, env: {}, url: 'https://ec2.cn-north-1.amazonaws.com.cn/' },
    { name: 'the region of AWS_REGION', config: {}, env: { AWS_REGION: 'ap-south-1' }, url: 'https://ec2.ap-south-1.amazonaws.com/' },
  ])('is $name', async ({ config, env, url }) => {
    const client = new Ec2QueryClient(config, env);
    expect((await client.endpoint()).href).toBe(url);
  });

  it.each(['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'])('refuses %s=true (not supported) unless an endpoint is named', (name) => {
    expect(() => new Ec2QueryClient(base, { [name]: 'true' })).toThrow(new RegExp(`${name}=true is not supported`));
    expect(() => new Ec2QueryClient({ ...base, endpoint: 'https://ec2-fips.us-east-1.amazonaws.com' }, { [name]: 'true' })).not.toThrow();
  });

  it('refuses a region that is not a host label', async () => {
    await expect(new Ec2QueryClient({ region: 'us-east-1.evil.com/x' }, {}).endpoint()).rejects.toThrow(/is not a region/);
  });
});
