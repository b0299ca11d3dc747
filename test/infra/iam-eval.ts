/**
 * Evaluates the synthesized IAM policies as AWS would, conditions included, with @cloud-copilot/iam-simulate:
 * the template's intrinsic functions are resolved for one concrete deployment (account, region, stack id), so
 * that a test asks "may this role do this to that resource, with these tags?" rather than reading JSON.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, type Resources } from './support.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';
/** The installation id the stack derives from this stack id (its UUID part). */
export const STACK_UUID = '0f1e2d3c-4b5a-4697-8877-665544332211';
export const STACK_ID = `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/Clusterless/${STACK_UUID}`;

type Json = unknown;

/** What a Ref or Fn::GetAtt of a resource of this template stands for in the concrete deployment. */
function refOf(resources: Resources, id: string): string {
  const r = resources[id];
  if (!r) throw new Error(`Ref to ${id}: no such resource`);
  if (r.Type === 'AWS::ApiGateway::Stage') return String(r.Properties['StageName']);
  if (r.Type === 'AWS::ApiGateway::RestApi') return `api${id.toLowerCase().slice(0, 6)}`;
  return id;
}

function getAtt(resources: Resources, id: string, attr: string): string {
  const r = resources[id];
  if (!r) throw new Error(`GetAtt of ${id}: no such resource`);
  if (attr !== 'Arn') return `${id}.${attr}`;
  const arn = (service: string, resource: string, region = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (r.Type) {
    case 'AWS::KMS::Key':
      return arn('kms', `key/${id}`);
    case 'AWS::IAM::Role':
      return arn('iam', `role/${id}`, '');
    case 'AWS::IAM::InstanceProfile':
      return arn('iam', `instance-profile/${id}`, '');
    case 'AWS::DynamoDB::Table':
      return arn('dynamodb', `table/${id}`);
    case 'AWS::Lambda::Function':
      return arn('lambda', `function:${id}`);
    case 'AWS::SNS::Topic':
      return arn('sns', id);
    default:
      return arn('unknown', id);
  }
}

/** Resolves the intrinsic functions CDK writes into policies (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split). */
export function resolve(value: Json, resources: Resources): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, Json>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = o[k];
    switch (k) {
      case 'Ref': {
        const pseudo: Record<string, string> = {
          'AWS::Partition': PARTITION,
          'AWS::Region': REGION,
          'AWS::AccountId': ACCOUNT,
          'AWS::StackId': STACK_ID,
          'AWS::URLSuffix': 'amazonaws.com',
          'AWS::StackName': 'Clusterless',
        };
        return pseudo[arg as string] ?? refOf(resources, arg as string);
      }
      case 'Fn::GetAtt': {
        const [id, attr] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
        return getAtt(resources, id, attr);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, Json[]];
        return (resolve(parts, resources) as string[]).join(sep);
      }
      case 'Fn::Split': {
        const [sep, s] = arg as [string, Json];
        return (resolve(s, resources) as string).split(sep);
      }
      case 'Fn::Select': {
        const [i, list] = arg as [Json, Json];
        return (resolve(list, resources) as Json[])[Number(resolve(i, resources))];
      }
    }
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, resources)]));
}

export interface PolicyDocument {
  Version: string;
  Statement: Record<string, Json>[];
}

/** The identity policy of a role (every AWS::IAM::Policy attached to it, and its inline policies), resolved. */
export function identityPolicyOf(template: Template, roleLogicalId: string): PolicyDocument {
  const resources = template.toJSON()['Resources'] as Resources;
  const attached = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties['Roles']).includes(`"${roleLogicalId}"`))
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Record<string, Json>[] }).Statement);
  const inline = ((resources[roleLogicalId]?.Properties['Policies'] ?? []) as { PolicyDocument: { Statement: Record<string, Json>[] } }[]).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
  return { Version: '2012-10-17', Statement: resolve([...attached, ...inline], resources) as Record<string, Json>[] };
}

export interface Request {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** AWS's decision for one request by a principal of this account holding the policy (no resource policy). */
export async function decide(policy: PolicyDocument, request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'identity', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: request.action,
        principal: `arn:${PARTITION}:iam::${ACCOUNT}:role/principal`,
        resource: { accountId: ACCOUNT, resource: request.resource },
        contextVariables: request.context ?? {},
      },
    } as unknown as Parameters<typeof runSimulation>[0],
    {},
  );
  if (result.resultType === 'error') throw new Error(`the simulation refused the request: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

export const arns = {
  instance: (id = 'i-0123456789abcdef0') => `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/${id}`,
  volume: (id = 'vol-0123456789abcdef0') => `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:volume/${id}`,
  subnet: (id = 'subnet-0123456789abcdef0') => `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:subnet/${id}`,
  securityGroup: (id = 'sg-0123456789abcdef0') => `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:security-group/${id}`,
  secret: (name: string) => `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
  loadBalancer: (name: string) => `arn:${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/net/${name}/0123456789abcdef`,
  targetGroup: (name: string) => `arn:${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`,
  role: (name: string) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`,
};
