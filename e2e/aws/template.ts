/**
 * The control plane template as one deployment of it sees it: every resource with the physical id and attributes
 * deploy.ts gave it, and the intrinsic functions CloudFormation resolves (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
 * Fn::Split, Fn::Sub and the pseudo parameters) resolved to those.
 */
import { createHash } from 'node:crypto';
import { ACCOUNT, PARTITION, REGION, type Json, type NamedPolicy, type PolicyDocument, type PolicyStatement } from './account.js';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
  Metadata?: Record<string, Json>;
}

export interface TemplateJson {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: Json }>;
}

/** What a resource resolves to: its Ref and its attributes (Arn, StreamArn, ...). */
export interface Physical {
  ref: string;
  attributes: Record<string, string>;
}

export class UnresolvedError extends Error {
  override name = 'UnresolvedError';
}

export class Deployment {
  readonly stackId: string;
  readonly installationId: string;
  private readonly physical = new Map<string, Physical>();

  constructor(
    readonly stackName: string,
    readonly template: TemplateJson,
    /** The directory of the cloud assembly (bundles are read from its assets). */
    readonly assemblyDir: string,
    stackUuid = '0f1e2d3c-4b5a-4697-8877-665544332211',
  ) {
    this.stackId = `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/${stackUuid}`;
    this.installationId = stackUuid;
  }

  get resources(): Record<string, TemplateResource> {
    return this.template.Resources;
  }

  resource(logicalId: string): TemplateResource {
    const r = this.template.Resources[logicalId];
    if (!r) throw new UnresolvedError(`no resource ${logicalId} in the template`);
    return r;
  }

  /** Logical ids of the resources of one type. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  /** Records what deploy.ts made of a resource. */
  setPhysical(logicalId: string, physical: Physical): void {
    this.physical.set(logicalId, physical);
  }

  physicalOf(logicalId: string): Physical {
    const p = this.physical.get(logicalId);
    if (!p) throw new UnresolvedError(`${logicalId} (${this.template.Resources[logicalId]?.Type ?? 'unknown'}) has not been deployed`);
    return p;
  }

  hasPhysical(logicalId: string): boolean {
    return this.physical.has(logicalId);
  }

  /** The logical id of the resource whose Ref or Arn is this value (reverse lookup: an ARN a function was given). */
  logicalIdOf(value: string): string | undefined {
    for (const [id, p] of this.physical) if (p.ref === value || Object.values(p.attributes).includes(value)) return id;
    return undefined;
  }

  /**
   * A name CloudFormation would generate for a resource without one: `{stack}-{logicalId}-{suffix}`, cut to `max`
   * characters. Deterministic per deployment.
   */
  generatedName(logicalId: string, max = 64): string {
    const suffix = createHash('sha256').update(`${this.stackId}/${logicalId}`).digest('hex').slice(0, 12).toUpperCase();
    const head = `${this.stackName}-${logicalId}`.slice(0, Math.max(1, max - suffix.length - 1));
    return `${head}-${suffix}`;
  }

  private pseudo(name: string): string | undefined {
    const values: Record<string, string> = {
      'AWS::Partition': PARTITION,
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::StackId': this.stackId,
      'AWS::StackName': this.stackName,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': '',
    };
    return values[name];
  }

  /** Resolves every intrinsic function in a value; a Ref or GetAtt of something not deployed throws. */
  resolve(value: Json | undefined): Json {
    if (value === undefined) return null;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const k = keys[0]!;
      const arg = value[k] as Json;
      switch (k) {
        case 'Ref': {
          const name = String(arg);
          return this.pseudo(name) ?? this.physicalOf(name).ref;
        }
        case 'Fn::GetAtt': {
          const [id, attr] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
          const v = this.physicalOf(id).attributes[attr];
          if (v === undefined) throw new UnresolvedError(`Fn::GetAtt ${id}.${attr}: deploy.ts gave ${id} no ${attr}`);
          return v;
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(sep);
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, Json];
          return String(this.resolve(s)).split(sep);
        }
        case 'Fn::Select': {
          const [i, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(i))] ?? null;
        }
        case 'Fn::Sub': {
          const [text, vars] = (typeof arg === 'string' ? [arg, {}] : arg) as [string, Record<string, Json>];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            if (name.includes('.')) return String(this.resolve({ 'Fn::GetAtt': name.split('.') as Json }));
            return String(this.resolve({ Ref: name }));
          });
        }
        case 'Fn::If':
        case 'Fn::ImportValue':
        case 'Fn::FindInMap':
          throw new UnresolvedError(`${k} is not used by the control plane template; the emulated account does not resolve it`);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, this.resolve(v)]));
  }

  /** A role's identity policies (its attached AWS::IAM::Policy resources and inline policies), resolved and named. */
  identityPolicies(roleLogicalId: string): NamedPolicy[] {
    const out: NamedPolicy[] = [];
    for (const id of this.ofType('AWS::IAM::Policy')) {
      const p = this.resource(id).Properties!;
      const roles = (p['Roles'] ?? []) as Json[];
      if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
      out.push({ name: id, policy: this.resolve(p['PolicyDocument']) as unknown as PolicyDocument });
    }
    const role = this.resource(roleLogicalId).Properties ?? {};
    for (const inline of (role['Policies'] ?? []) as { PolicyName: string; PolicyDocument: Json }[])
      out.push({ name: `${roleLogicalId}/inline/${inline.PolicyName}`, policy: this.resolve(inline.PolicyDocument) as unknown as PolicyDocument });
    // AWS managed policies are not in the template: they are named, and grant nothing here (only API Gateway's
    // CloudWatch role has one, and no function assumes it).
    for (const arn of (role['ManagedPolicyArns'] ?? []) as Json[])
      out.push({ name: `managed:${String(this.resolve(arn))}`, policy: { Version: '2012-10-17', Statement: [] } });
    return out;
  }

  /** Statements of every resource policy (AWS::KMS::Key KeyPolicy, AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy...) of a resource. */
  keyPolicy(keyLogicalId: string): PolicyDocument {
    return this.resolve(this.resource(keyLogicalId).Properties!['KeyPolicy']) as unknown as PolicyDocument;
  }

  /** The execution role (logical id) of a Lambda function of the template. */
  roleOfFunction(functionLogicalId: string): string {
    const role = this.resource(functionLogicalId).Properties!['Role'] as { 'Fn::GetAtt': [string, string] };
    return role['Fn::GetAtt'][0];
  }
}

export type { PolicyStatement };
