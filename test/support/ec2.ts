/**
 * EC2 on moto_server for tests: a network of its own (VPC, a subnet in each of three zones, a security group),
 * an AMI moto knows, and fault injection into the adapters' EC2 client (functions/adapters/aws/ec2-query) through
 * its middleware hooks. What only inspects or prepares moto uses the SDK's EC2Client (motoSdkEc2Client).
 */
import { randomUUID } from 'node:crypto';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { createEc2Client } from '../../functions/adapters/aws/clients.js';
import type { Ec2QueryClient } from '../../functions/adapters/aws/ec2-query/index.js';
import { emulatorClientConfig, uniqueName } from './aws.js';

export const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
export const INSTANCE_TYPES = ['t3.micro', 't3.small'];

export interface MotoNetwork {
  vpcId: string;
  subnets: { id: string; availabilityZone: string }[];
  securityGroupId: string;
  ami: string;
  rootDeviceName: string;
}

/** A client the way the host builds one (createEc2Client: our EC2 Query client, one retry), pointed at moto. */
export function motoEc2Client(endpoint: string, maxAttempts?: number): Ec2QueryClient {
  return createEc2Client({ ...emulatorClientConfig(endpoint), ...(maxAttempts !== undefined ? { maxAttempts } : {}) });
}

/** The SDK's client on moto, for what the adapters' client does not do (making networks, reading volumes...). */
export function motoSdkEc2Client(endpoint: string): EC2Client {
  return new EC2Client(emulatorClientConfig(endpoint));
}

/**
 * A VPC of its own with a subnet per zone and a security group, and an Amazon Linux 2 AMI from moto's catalogue,
 * through the SDK's client (given, or made on the adapters' client's endpoint).
 */
export async function createMotoNetwork(client: Ec2QueryClient | EC2Client): Promise<MotoNetwork> {
  const sdk = client instanceof EC2Client ? client : motoSdkEc2Client((await client.endpoint()).href);
  try {
    const vpc = await sdk.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const subnets = [];
    for (const [i, availabilityZone] of ZONES.entries()) {
      const s = await sdk.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: availabilityZone }));
      subnets.push({ id: s.Subnet!.SubnetId!, availabilityZone });
    }
    const sg = await sdk.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: uniqueName('sg'), Description: 'clusterless provider tests' }));
    const images = await sdk.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['amzn2-ami-hvm-*x86_64*'] }] }));
    const image = images.Images?.find((i) => i.ImageId && i.RootDeviceName && /^ami-[0-9a-f]{8,17}$/.test(i.ImageId));
    if (!image) throw new Error('moto lists no Amazon Linux 2 AMI');
    return { vpcId, subnets, securityGroupId: sg.GroupId!, ami: image.ImageId!, rootDeviceName: image.RootDeviceName! };
  } finally {
    if (sdk !== client) sdk.destroy();
  }
}

export interface Ec2Call {
  command: string;
  input: Record<string, any>;
}

export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

interface ErrorRule {
  kind: 'error';
  command: string;
  code: string;
  status: number;
  times: number;
  when: (input: Record<string, any>) => boolean;
}

interface CrashRule {
  kind: 'crash';
  command: string;
  times: number;
}

/** Instance ids DescribeInstances leaves out of its answers while `when` holds for the request (eventual consistency). */
interface HideRule {
  ids: Set<string>;
  when: (input: Record<string, any>) => boolean;
}

/**
 * Faults in front of moto, inside the adapters' EC2 client (its `use` hooks). Commands are named as the SDK named
 * them (`RunInstancesCommand`), inputs are the callers':
 * - `failWith` answers matching requests with an EC2 error response (XML, as EC2 sends it) below the client's
 *   retries, so the client parses and retries it exactly as it would a real one;
 * - `crashAfter` lets a call reach moto and complete, then throws to the caller: a process that died after
 *   the response arrived and before it recorded anything;
 * - `hide` takes instances out of DescribeInstances answers, as EC2 does for a while after a launch.
 * Every call (as the caller made it) is recorded in `calls`, every HTTP attempt in `attempts`.
 */
export class Ec2Faults {
  readonly calls: Ec2Call[] = [];
  readonly attempts: Ec2Call[] = [];
  private rules: (ErrorRule | CrashRule)[] = [];
  private hidden: HideRule[] = [];
  private readonly removeHooks: () => void;

  constructor(client: Ec2QueryClient) {
    this.removeHooks = client.use({
      call: async (operation, input, next) => {
        const command = `${operation}Command`;
        this.calls.push({ command, input: structuredClone(input as Record<string, any>) });
        const output = await next(input);
        const crash = this.take('crash', command, input as Record<string, any>);
        if (crash) throw new InjectedCrash(`injected crash after ${command} returned`);
        if (command === 'DescribeInstancesCommand')
          this.hideIn(output as { Reservations?: { Instances?: { InstanceId?: string }[] }[] }, input as Record<string, any>);
        return output;
      },
      // Below the retries: the client reads the answer as a real HTTP error response.
      attempt: async (operation, input, next) => {
        const command = `${operation}Command`;
        this.attempts.push({ command, input: input as Record<string, any> });
        const rule = this.take('error', command, input as Record<string, any>) as ErrorRule | undefined;
        if (!rule) return next();
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${rule.code}</Code><Message>injected ${rule.code}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
        return { statusCode: rule.status, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body };
      },
    });
  }

  failWith(command: string, code: string, options: { times?: number; status?: number; when?: (input: Record<string, any>) => boolean } = {}): void {
    this.rules.push({
      kind: 'error',
      command,
      code,
      status: options.status ?? (code === 'RequestLimitExceeded' ? 503 : 400),
      times: options.times ?? 1,
      when: options.when ?? (() => true),
    });
  }

  crashAfter(command: string, times = 1): void {
    this.rules.push({ kind: 'crash', command, times });
  }

  /** DescribeInstances answers leave these instances out while `when` holds for the request (default: always). */
  hide(instanceIds: string[], when: (input: Record<string, any>) => boolean = () => true): () => void {
    const rule = { ids: new Set(instanceIds), when };
    this.hidden.push(rule);
    return () => {
      this.hidden = this.hidden.filter((r) => r !== rule);
    };
  }

  /** The calls of one command, as the caller made them. */
  callsOf(command: string): Record<string, any>[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.input);
  }

  remove(): void {
    this.removeHooks();
  }

  private hideIn(output: { Reservations?: { Instances?: { InstanceId?: string }[] }[] }, input: Record<string, any>): void {
    const rules = this.hidden.filter((r) => r.when(input));
    if (rules.length === 0) return;
    for (const r of output.Reservations ?? []) r.Instances = (r.Instances ?? []).filter((i) => !rules.some((x) => x.ids.has(i.InstanceId ?? '')));
    output.Reservations = (output.Reservations ?? []).filter((r) => (r.Instances ?? []).length > 0);
  }

  private take(kind: 'error' | 'crash', command: string, input: Record<string, any>): ErrorRule | CrashRule | undefined {
    const rule = this.rules.find((r) => r.kind === kind && r.command === command && r.times > 0 && (r.kind === 'crash' || r.when(input)));
    if (rule) rule.times--;
    return rule;
  }
}

/**
 * An IAM instance profile on moto, for launches that name one (moto refuses unknown profiles). The Query API by
 * hand, since the project has no IAM client: moto reads the service from the credential scope and checks no
 * signature. Returns the profile's ARN.
 */
export async function createMotoInstanceProfile(endpoint: string, name: string): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Action: 'CreateInstanceProfile', InstanceProfileName: name, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!res.ok || !arn) throw new Error(`moto did not create instance profile ${name}: ${res.status} ${text}`);
  return arn;
}
