/**
 * The EC2 Query client (functions/adapters/aws/ec2-query) against moto_server: every operation round-trips, and what
 * it reads equals what the SDK's EC2Client reads of the same state (on the members our types have). Errors keep
 * EC2's code as `name`, the HTTP status and the request id; throttling, 5xx and dropped connections are retried on
 * an endpoint of our own on 127.0.0.1, and a client error is not.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2QueryClient, Ec2ServiceError, paginateDescribeInstances } from '../../../functions/adapters/aws/ec2-query/index.js';
import { errorCode, toProviderError } from '../../../functions/adapters/aws/errors.js';
import { InstanceNotFoundError, InvalidSpecError } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { createMotoInstanceProfile, createMotoNetwork, motoEc2Client, motoSdkEc2Client, type MotoNetwork } from '../../support/ec2.js';
import { freePort } from '../../support/free-port.js';

let client: Ec2QueryClient;
let sdk: EC2Client;
let net: MotoNetwork;

beforeAll(async () => {
  client = motoEc2Client(motoEndpoint());
  sdk = motoSdkEc2Client(motoEndpoint());
  net = await createMotoNetwork(sdk);
});

afterAll(() => {
  client.destroy();
  sdk.destroy();
});

/** The members of `value` our types name (`like`), recursively: the SDK's outputs carry many more. */
function shaped(value: unknown, like: unknown): unknown {
  if (Array.isArray(like)) return (value as unknown[]).map((v, i) => shaped(v, like[i] ?? like[0]));
  if (like instanceof Date || typeof like !== 'object' || like === null) return value;
  return Object.fromEntries(Object.keys(like).map((k) => [k, shaped((value as Record<string, unknown>)[k], (like as Record<string, unknown>)[k])]));
}

describe('EC2 Query client on moto_server', () => {
  it('launches as the provider does (tags, encrypted root volume, IMDSv2, instance profile, security group, subnet, token, spot) and reads back what the SDK reads', async () => {
    // Prepare
    const profileArn = await createMotoInstanceProfile(motoEndpoint(), uniqueName('profile'));
    const marker = uniqueName('run');
    const tags = [
      { Key: 'clusterless.dev/marker', Value: marker },
      { Key: 'Name', Value: 'a name with spaces & symbols=/+' },
    ];
    // Act
    const run = await client.runInstances({
      MinCount: 1,
      MaxCount: 1,
      ClientToken: uniqueName('token'),
      ImageId: net.ami,
      InstanceType: 't3.micro',
      SubnetId: net.subnets[1]!.id,
      SecurityGroupIds: [net.securityGroupId],
      IamInstanceProfile: { Arn: profileArn },
      BlockDeviceMappings: [{ DeviceName: net.rootDeviceName, Ebs: { VolumeSize: 12, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '0.5' } },
      UserData: Buffer.from('#cloud-config\n').toString('base64'),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    });
    // Assess: moto got every parameter, as the SDK sees the instance and its volume.
    const launched = run.Instances![0]!;
    expect(run.OwnerId).toMatch(/^\d{12}$/);
    expect(launched.InstanceId).toMatch(/^i-[0-9a-f]+$/);
    expect(launched.LaunchTime).toBeInstanceOf(Date);
    const seen = (await sdk.send(new DescribeInstancesCommand({ InstanceIds: [launched.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    expect(seen.Tags).toEqual(expect.arrayContaining(tags));
    expect(seen.SubnetId).toBe(net.subnets[1]!.id);
    expect(seen.SecurityGroups?.map((g) => g.GroupId)).toEqual([net.securityGroupId]);
    expect(seen.IamInstanceProfile?.Arn).toBe(profileArn);
    expect(seen.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
    expect(seen.InstanceLifecycle).toBe('spot');
    const volumes = await sdk.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [launched.InstanceId!] }] }));
    expect(volumes.Volumes).toHaveLength(1);
    expect(volumes.Volumes![0]).toMatchObject({ Size: 12, VolumeType: 'gp3', Encrypted: true });
    expect(volumes.Volumes![0]!.Tags).toEqual(expect.arrayContaining(tags));
    // ...and what our client reads of it is what the SDK reads.
    const ours = await client.describeInstances({ InstanceIds: [launched.InstanceId!] });
    const instance = ours.Reservations![0]!.Instances![0]!;
    expect(instance).toEqual(shaped(seen, instance));
    expect(instance).toMatchObject({
      InstanceId: launched.InstanceId,
      State: { Name: expect.any(String) },
      Placement: { AvailabilityZone: net.subnets[1]!.availabilityZone },
    });
    // RunInstances answers with the instance as launched (pending); the rest reads as the SDK reads it later.
    const { State: launchState, ...launchedRest } = launched;
    expect(launchState).toEqual({ Code: 0, Name: 'pending' });
    expect({ ...launchedRest, State: seen.State }).toEqual(shaped(seen, launched));
  });

  it('describes by filter, page after page, until no NextToken is left', async () => {
    // Prepare: 7 instances (7 reservations: moto pages by reservation) under one tag, read 5 at a time.
    const marker = uniqueName('page');
    const launched: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = await client.runInstances({
        MinCount: 1,
        MaxCount: 1,
        ImageId: net.ami,
        InstanceType: 't3.micro',
        SubnetId: net.subnets[0]!.id,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'clusterless.dev/marker', Value: marker }] }],
      });
      launched.push(run.Instances![0]!.InstanceId!);
    }
    const filters = [
      { Name: 'tag:clusterless.dev/marker', Values: [marker] },
      { Name: 'instance-state-name', Values: ['pending', 'running'] },
    ];
    // Act
    const pages = [];
    for await (const page of paginateDescribeInstances(client, { Filters: filters }, 5)) pages.push(page);
    // Assess
    expect(pages).toHaveLength(2);
    expect(pages[0]!.NextToken).toBeTruthy();
    expect(pages[1]!.NextToken).toBeUndefined();
    const ids = pages.flatMap((p) => p.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId)));
    expect(ids.sort()).toEqual(launched.sort());
  });

  it('terminates, and the instance reads as going or gone', async () => {
    const [instance] = (await client.runInstances({ MinCount: 1, MaxCount: 1, ImageId: net.ami, InstanceType: 't3.micro', SubnetId: net.subnets[0]!.id }))
      .Instances!;
    const out = await client.terminateInstances({ InstanceIds: [instance!.InstanceId!] });
    expect(out.TerminatingInstances).toEqual([
      {
        InstanceId: instance!.InstanceId,
        CurrentState: { Code: expect.any(Number), Name: expect.stringMatching(/^(shutting-down|terminated)$/) },
        PreviousState: expect.any(Object),
      },
    ]);
    const after = await client.describeInstances({ InstanceIds: [instance!.InstanceId!] });
    expect(['shutting-down', 'terminated']).toContain(after.Reservations![0]!.Instances![0]!.State!.Name);
  });

  it('reads images, subnets and tags as the SDK reads them', async () => {
    const images = await client.describeImages({ ImageIds: [net.ami] });
    expect(images.Images).toHaveLength(1);
    expect(images.Images![0]!.RootDeviceName).toBe(net.rootDeviceName);
    expect(images).toEqual(shaped(await sdk.send(new DescribeImagesCommand({ ImageIds: [net.ami] })), images));

    const subnets = await client.describeSubnets({ SubnetIds: [net.subnets[2]!.id] });
    expect(subnets.Subnets![0]).toMatchObject({ SubnetId: net.subnets[2]!.id, VpcId: net.vpcId, AvailabilityZone: net.subnets[2]!.availabilityZone });
    expect(subnets).toEqual(shaped(await sdk.send(new DescribeSubnetsCommand({ SubnetIds: [net.subnets[2]!.id] })), subnets));

    const marker = uniqueName('tags');
    const [instance] = (
      await client.runInstances({
        MinCount: 1,
        MaxCount: 1,
        ImageId: net.ami,
        InstanceType: 't3.micro',
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'clusterless.dev/marker', Value: marker },
              { Key: 'other', Value: 'x' },
            ],
          },
        ],
      })
    ).Instances!;
    const filters = [
      { Name: 'resource-id', Values: [instance!.InstanceId!] },
      { Name: 'key', Values: ['clusterless.dev/marker'] },
    ];
    const tags = await client.describeTags({ Filters: filters });
    expect(tags.Tags).toEqual([{ ResourceId: instance!.InstanceId, ResourceType: 'instance', Key: 'clusterless.dev/marker', Value: marker }]);
    expect(tags).toEqual(shaped(await sdk.send(new DescribeTagsCommand({ Filters: filters })), tags));
  });

  // Note: moto answers an instance id of any form with NotFound; InvalidInstanceID.Malformed is checked on an
  // endpoint of our own below, and a malformed AMI id stands for it here.
  it.each([
    {
      name: 'an unknown instance id',
      id: 'i-0123456789abcdef0',
      code: 'InvalidInstanceID.NotFound',
      call: (id: string) => client.describeInstances({ InstanceIds: [id] }),
    },
    { name: 'a malformed AMI id', id: 'not-an-image', code: 'InvalidAMIID.Malformed', call: (id: string) => client.describeImages({ ImageIds: [id] }) },
  ])("answers $name with an error named by EC2's code, its status and request id", async ({ id, code, call }) => {
    const error = await call(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Ec2ServiceError);
    expect(error).toMatchObject({ name: code, Code: code, $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect((error as Ec2ServiceError).message).toContain(id);
    expect((error as Ec2ServiceError).$metadata.requestId).toBeTruthy();
    expect(errorCode(error)).toBe(code);
    if (code === 'InvalidInstanceID.NotFound') expect(toProviderError(error)).toBeInstanceOf(InstanceNotFoundError);
  });
});

describe('EC2 Query client retries', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
    server = undefined;
  });

  const TAGS_OK = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-ok</requestId><tagSet><item><resourceId>i-1</resourceId><resourceType>instance</resourceType><key>k</key><value>v</value></item></tagSet></DescribeTagsResponse>`;
  const errorXml = (code: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>said ${code}</Message></Error></Errors><RequestID>r-err</RequestID></Response>`;

  type Answer = { status: number; body: string } | 'drop';
  /** An endpoint on 127.0.0.1 that gives these answers in order (the last one again), recording each request. */
  async function endpoint(answers: Answer[]) {
    const requests: { headers: IncomingMessage['headers']; body: string }[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ headers: req.headers, body });
        const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
        if (answer === 'drop') return req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8' }).end(answer.body);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${port}`, requests };
  }

  const query = (url: string, maxAttempts: number) => new Ec2QueryClient({ ...emulatorClientConfig(url), maxAttempts });

  it.each([
    { name: '503 (with no EC2 body)', first: { status: 503, body: 'Service Unavailable' } as Answer },
    { name: '500 InternalError', first: { status: 500, body: errorXml('InternalError') } as Answer },
    { name: 'RequestLimitExceeded', first: { status: 503, body: errorXml('RequestLimitExceeded') } as Answer },
    { name: 'a dropped connection', first: 'drop' as Answer },
  ])('retries $name and answers with the second attempt', async ({ first }) => {
    // Prepare
    const { url, requests } = await endpoint([first, { status: 200, body: TAGS_OK }]);
    const c = query(url, 2);
    // Act
    const out = await c.describeTags({ Filters: [{ Name: 'resource-id', Values: ['i-1'] }] });
    c.destroy();
    // Assess
    expect(out.Tags).toEqual([{ ResourceId: 'i-1', ResourceType: 'instance', Key: 'k', Value: 'v' }]);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.body).toBe(requests[0]!.body);
  });

  it('gives up after maxAttempts, with the last status and the attempts made', async () => {
    const { url, requests } = await endpoint([{ status: 503, body: errorXml('Unavailable') }]);
    const c = query(url, 2);
    const error = await c.describeTags({}).catch((e: unknown) => e);
    c.destroy();
    expect(requests).toHaveLength(2);
    expect(error).toMatchObject({ name: 'Unavailable', $fault: 'server', $metadata: { httpStatusCode: 503, requestId: 'r-err', attempts: 2 } });
  });

  it('reads an error as EC2 writes it (InvalidInstanceID.Malformed), for errors.ts to map', async () => {
    const { url } = await endpoint([{ status: 400, body: errorXml('InvalidInstanceID.Malformed') }]);
    const c = query(url, 2);
    const error = await c.describeInstances({ InstanceIds: ['x'] }).catch((e: unknown) => e);
    c.destroy();
    expect(error).toMatchObject({
      name: 'InvalidInstanceID.Malformed',
      message: 'said InvalidInstanceID.Malformed',
      $metadata: { httpStatusCode: 400, requestId: 'r-err' },
    });
    expect(errorCode(error)).toBe('InvalidInstanceID.Malformed');
    expect(toProviderError(error)).toBeInstanceOf(InvalidSpecError);
  });

  it('does not retry a client error', async () => {
    const { url, requests } = await endpoint([
      { status: 400, body: errorXml('InvalidParameterValue') },
      { status: 200, body: TAGS_OK },
    ]);
    const c = query(url, 3);
    await expect(c.describeTags({})).rejects.toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    c.destroy();
    expect(requests).toHaveLength(1);
  });

  it('signs each request with SigV4 for ec2 in its region, as a form of Action and Version', async () => {
    const { url, requests } = await endpoint([{ status: 200, body: TAGS_OK }]);
    const c = query(url, 1);
    await c.describeTags({});
    c.destroy();
    expect(requests[0]!.body).toBe('Action=DescribeTags&Version=2016-11-15');
    expect(requests[0]!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(requests[0]!.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/ec2\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(requests[0]!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});
