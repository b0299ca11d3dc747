import { type CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { NagMessageLevel, NagPack, NagRuleCompliance, rules, type NagPackProps, type NagRuleResult } from 'cdk-nag';

type Statement = { Effect?: string; Action?: string | string[]; Resource?: unknown; Condition?: Record<string, Record<string, unknown>> };

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Policy documents of an IAM resource (a policy, a managed policy, or a role's inline policies), resolved. */
function policyDocuments(node: CfnResource): { Statement?: Statement[] }[] {
  const stack = Stack.of(node);
  if (node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy) return [stack.resolve(node.policyDocument)];
  if (node instanceof iam.CfnRole)
    return asList(stack.resolve(node.policies)).map((p) => (p as { policyDocument: { Statement?: Statement[] } }).policyDocument);
  return [];
}

const RUN_INSTANCES = new Set(['ec2:RunInstances', 'ec2:*', '*']);

/**
 * A principal that may launch instances must be made to launch them with IMDSv2 only: every Allow of
 * ec2:RunInstances on instances carries `ec2:MetadataHttpTokens = required`. The instance-level rules
 * (EC2IMDSv2Enabled) see instances a stack declares; this one sees the control plane's launches.
 */
export function runInstancesRequireImdsV2(node: CfnResource): NagRuleResult {
  const docs = policyDocuments(node);
  if (docs.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
  let launches = false;
  for (const doc of docs)
    for (const s of asList(doc?.Statement) as Statement[]) {
      if (s.Effect !== 'Allow' || !asList(s.Action).some((a) => RUN_INSTANCES.has(String(a)))) continue;
      const onInstances = asList(s.Resource).some((r) => r === '*' || JSON.stringify(r).includes(':instance/'));
      if (!onInstances) continue;
      launches = true;
      if (s.Condition?.['StringEquals']?.['ec2:MetadataHttpTokens'] !== 'required') return NagRuleCompliance.NON_COMPLIANT;
    }
  return launches ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NOT_APPLICABLE;
}
Object.defineProperty(runInstancesRequireImdsV2, 'name', { value: 'RunInstancesRequiresIMDSv2' });

/**
 * The IMDSv2 and KMS rules clusterless adds to AwsSolutions (cdk-nag 3 has them in its NIST 800-53 packs,
 * whose other rules, such as Lambda in a VPC, do not fit a serverless control plane): instances and launch
 * templates require IMDSv2, so do the control plane's own launches, KMS keys rotate, and log groups are
 * encrypted with KMS.
 */
export class ClusterlessChecks extends NagPack {
  public readonly name = 'Clusterless';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'Clusterless';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      info: 'The EC2 instance or launch template does not require IMDSv2.',
      explanation: 'Instance metadata tokens (IMDSv2) keep the instance role credentials from SSRF and from pods on the pod network.',
      level: NagMessageLevel.ERROR,
      rule: rules.ec2.EC2IMDSv2Enabled,
      node,
    });
    this.applyRule({
      info: 'The IAM policy allows ec2:RunInstances on instances without the condition ec2:MetadataHttpTokens = required.',
      explanation: 'Machines launched by clusterless must require IMDSv2; the condition makes IAM refuse any other launch.',
      level: NagMessageLevel.ERROR,
      rule: runInstancesRequireImdsV2,
      node,
    });
    this.applyRule({
      info: 'The KMS symmetric key does not have automatic key rotation enabled.',
      explanation: 'Yearly rotation limits what one key version protects.',
      level: NagMessageLevel.ERROR,
      rule: rules.kms.KMSBackingKeyRotationEnabled,
      node,
    });
    this.applyRule({
      info: 'The CloudWatch log group is not encrypted with a KMS key.',
      explanation: 'Control plane logs carry object names and error messages; they are kept under a customer-managed key.',
      level: NagMessageLevel.ERROR,
      rule: rules.cloudwatch.CloudWatchLogGroupEncrypted,
      node,
    });
  }
}
