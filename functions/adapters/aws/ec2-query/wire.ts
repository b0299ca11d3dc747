/**
 * The EC2 Query protocol on the wire: a request is a form (`Action`, `Version` and the input flattened into dotted
 * names), a response an XML document. Rules from the AWS EC2 API reference ("Query requests", "Query parameters":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html) and the SDK's EC2 Query serializer
 * (aws-sdk-js-v3 packages/core/src/submodules/protocols/query/AwsEc2QueryProtocol.ts), written anew:
 * - a structure's members are `Parent.Member`; a list is always flattened, `Name.1`, `Name.2`..., under the
 *   list's EC2 query name (singular: `InstanceIds` -> `InstanceId.1`, `Filters` -> `Filter.1.Value.1`); an empty
 *   list and an undefined member are left out;
 * - booleans are `true`/`false`, numbers as written;
 * - names and values are percent-encoded as RFC 3986 unreserved characters (the SDK's extendedEncodeURIComponent).
 */
import { parseXML } from '@aws-sdk/xml-builder';
import type {
  DescribeImagesOutput,
  DescribeInstancesOutput,
  DescribeSubnetsOutput,
  DescribeTagsOutput,
  CreateTagsOutput,
  Ec2Operation,
  Ec2Operations,
  Image,
  Instance,
  InstanceStateChange,
  Reservation,
  RunInstancesOutput,
  Subnet,
  Tag,
  TagDescription,
  TerminateInstancesOutput,
} from './types.js';

/** The EC2 API version every request names. */
export const EC2_API_VERSION = '2016-11-15';

/**
 * The EC2 query name of each list member the inputs have (the SDK's `ec2QueryName`/`xmlName` traits). A list not
 * named here is refused rather than sent under a guessed name.
 */
const LIST_NAMES: Record<string, string> = {
  BlockDeviceMappings: 'BlockDeviceMapping',
  Filters: 'Filter',
  ImageIds: 'ImageId',
  InstanceIds: 'InstanceId',
  Owners: 'Owner',
  Resources: 'ResourceId',
  SecurityGroupIds: 'SecurityGroupId',
  SubnetIds: 'SubnetId',
  TagSpecifications: 'TagSpecification',
  Tags: 'Tag',
  Values: 'Value',
};

/** `Action=...&Version=...&...`: the form body of one request. */
export function serializeRequest<Op extends Ec2Operation>(operation: Op, input: Ec2Operations[Op]['input']): string {
  const pairs: [string, string][] = [
    ['Action', operation],
    ['Version', EC2_API_VERSION],
  ];
  flatten('', input, pairs);
  return pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

function flatten(prefix: string, value: unknown, out: [string, string][]): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push([prefix, String(value)]);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`EC2 query: cannot serialize ${prefix || 'the input'} (${typeof value})`);
  // A structure's members continue its name with a dot (the input itself has no name).
  const base = prefix ? `${prefix}.` : '';
  for (const [member, v] of Object.entries(value)) {
    if (!Array.isArray(v)) {
      flatten(`${base}${member}`, v, out);
      continue;
    }
    const name = LIST_NAMES[member];
    if (!name) throw new TypeError(`EC2 query: no query name known for the list ${member}`);
    for (const [i, item] of v.entries()) flatten(`${base}${name}.${i + 1}`, item, out);
  }
}

/** encodeURIComponent, plus the four characters it leaves that RFC 3986 reserves (SigV4 signs the body as sent). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// --- responses ----------------------------------------------------------------------------------------------

type Node = Record<string, unknown>;

/** What an EC2 error response says: `<Response><Errors><Error><Code>..</Code><Message>..</Message>` and its RequestID. */
export interface Ec2ErrorBody {
  code: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
}

export function parseErrorBody(xml: string): Ec2ErrorBody {
  let doc: Node;
  try {
    doc = parseXML(xml) as Node;
  } catch {
    return { code: undefined, message: undefined, requestId: undefined };
  }
  const response = obj(doc['Response']);
  const error = obj(first(obj(response['Errors'])['Error']));
  return { code: str(error['Code']), message: str(error['Message']), requestId: str(response['RequestID']) ?? str(response['RequestId']) };
}

/** The operation's output and the response's request id. */
export function parseResponse<Op extends Ec2Operation>(operation: Op, xml: string): { output: Ec2Operations[Op]['output']; requestId: string | undefined } {
  const doc = parseXML(xml) as Node;
  const root = obj(doc[`${operation}Response`]);
  if (!(`${operation}Response` in doc)) throw new Error(`EC2 ${operation}: the response is no ${operation}Response: ${xml.slice(0, 200)}`);
  const output = READERS[operation](root) as Ec2Operations[Op]['output'];
  return { output, requestId: str(root['requestId']) };
}

const READERS: { [Op in Ec2Operation]: (root: Node) => Ec2Operations[Op]['output'] } = {
  RunInstances: (root): RunInstancesOutput => reservation(root),
  DescribeInstances: (root): DescribeInstancesOutput =>
    clean({ Reservations: items(root['reservationSet']).map(reservation), NextToken: nonEmpty(root['nextToken']) }),
  TerminateInstances: (root): TerminateInstancesOutput => ({ TerminatingInstances: items(root['instancesSet']).map(stateChange) }),
  DescribeImages: (root): DescribeImagesOutput => ({ Images: items(root['imagesSet']).map(image) }),
  DescribeSubnets: (root): DescribeSubnetsOutput => ({ Subnets: items(root['subnetSet']).map(subnet) }),
  DescribeTags: (root): DescribeTagsOutput => clean({ Tags: items(root['tagSet']).map(tagDescription), NextToken: nonEmpty(root['nextToken']) }),
  CreateTags: (): CreateTagsOutput => ({}),
};

function reservation(n: Node): Reservation {
  return clean({ ReservationId: str(n['reservationId']), OwnerId: str(n['ownerId']), Instances: items(n['instancesSet']).map(instance) });
}

function instance(n: Node): Instance {
  const placement = obj(n['placement']);
  const profile = obj(n['iamInstanceProfile']);
  return clean({
    InstanceId: str(n['instanceId']),
    ImageId: str(n['imageId']),
    InstanceType: str(n['instanceType']),
    State: 'instanceState' in n ? state(obj(n['instanceState'])) : undefined,
    LaunchTime: date(n['launchTime']),
    Placement: 'placement' in n ? clean({ AvailabilityZone: str(placement['availabilityZone']) }) : undefined,
    SubnetId: str(n['subnetId']),
    VpcId: str(n['vpcId']),
    PrivateIpAddress: str(n['privateIpAddress']),
    PublicIpAddress: str(n['ipAddress']),
    PrivateDnsName: str(n['privateDnsName']),
    PublicDnsName: str(n['dnsName']),
    KeyName: str(n['keyName']),
    IamInstanceProfile: 'iamInstanceProfile' in n ? clean({ Arn: str(profile['arn']), Id: str(profile['id']) }) : undefined,
    Tags: 'tagSet' in n ? items(n['tagSet']).map(tag) : undefined,
  });
}

function state(n: Node): { Code?: number; Name?: string } {
  return clean({ Code: num(n['code']), Name: str(n['name']) });
}

function stateChange(n: Node): InstanceStateChange {
  return clean({
    InstanceId: str(n['instanceId']),
    CurrentState: 'currentState' in n ? state(obj(n['currentState'])) : undefined,
    PreviousState: 'previousState' in n ? state(obj(n['previousState'])) : undefined,
  });
}

function image(n: Node): Image {
  return clean({
    ImageId: str(n['imageId']),
    Name: str(n['name']),
    OwnerId: str(n['imageOwnerId']),
    State: str(n['imageState']),
    Architecture: str(n['architecture']),
    RootDeviceName: str(n['rootDeviceName']),
    RootDeviceType: str(n['rootDeviceType']),
    CreationDate: str(n['creationDate']),
  });
}

function subnet(n: Node): Subnet {
  return clean({
    SubnetId: str(n['subnetId']),
    VpcId: str(n['vpcId']),
    AvailabilityZone: str(n['availabilityZone']),
    CidrBlock: str(n['cidrBlock']),
    Tags: 'tagSet' in n ? items(n['tagSet']).map(tag) : undefined,
  });
}

function tag(n: Node): Tag {
  return clean({ Key: str(n['key']), Value: str(n['value']) });
}

function tagDescription(n: Node): TagDescription {
  return clean({ ResourceId: str(n['resourceId']), ResourceType: str(n['resourceType']), Key: str(n['key']), Value: str(n['value']) });
}

/** The `<item>` children of a list element (none, one or many). */
function items(n: unknown): Node[] {
  const item = obj(n)['item'];
  if (item === undefined) return [];
  return (Array.isArray(item) ? item : [item]).map(obj);
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** An element with children; an empty element (`<x/>`, parsed as '') has none. */
function obj(v: unknown): Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : {};
}

/** Text content; an element with attributes keeps its text under `#text`. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const text = obj(v)['#text'];
  return typeof text === 'string' ? text : undefined;
}

function nonEmpty(v: unknown): string | undefined {
  const s = str(v);
  return s ? s : undefined;
}

function num(v: unknown): number | undefined {
  const s = str(v);
  return s === undefined || s.trim() === '' ? undefined : Number(s);
}

function date(v: unknown): Date | undefined {
  const s = str(v);
  return s ? new Date(s) : undefined;
}

/** Drops undefined members, so that an output carries only what the response had (as the SDK's do). */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
