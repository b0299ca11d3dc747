/**
 * ControlPlaneStackProps.workloadNetwork (`-c workloadNetwork=JSON`): the functions that reach workload API
 * servers run in the given VPC, the others do not, with what Lambda needs to attach them and nothing more open.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HANDLERS, type HandlerName } from '../../infra/control-plane-stack.js';
import { WORKLOAD_FUNCTIONS, talksToWorkloads } from '../../infra/constructs/workload-network.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { actionsOf, logicalId, newApp, resourcesOf, statementsOfRole } from './support.js';

const NETWORK = {
  vpcId: 'vpc-0123456789abcdef0',
  subnets: [
    { id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' },
    { id: 'subnet-0123456789abcdef1', availabilityZone: 'us-east-1b' },
  ],
};
const ENI_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces'];

function synth(context: Record<string, unknown>): { app: ClusterlessApp; template: Template } {
  const app = newApp({ context });
  return { app, template: Template.fromStack(app.controlPlane) };
}

const fnOf = (app: ClusterlessApp, template: Template, name: HandlerName) =>
  resourcesOf(template, 'AWS::Lambda::Function')[logicalId(app.controlPlane, app.controlPlane.functions[name].function)]!.Properties;
const roleActions = (app: ClusterlessApp, template: Template, name: HandlerName) =>
  statementsOfRole(template, logicalId(app.controlPlane, app.controlPlane.functions[name].role)).flatMap(actionsOf);
const names = Object.keys(HANDLERS) as HandlerName[];

describe('with a workload network (context given as JSON, as on the command line)', () => {
  const { app, template } = synth({ workloadNetwork: JSON.stringify(NETWORK) });
  const sg = Object.entries(resourcesOf(template, 'AWS::EC2::SecurityGroup'));

  it('puts the tasks and the sweep in its subnets, with the security group made for them', () => {
    expect(sg).toHaveLength(1);
    for (const name of WORKLOAD_FUNCTIONS)
      expect(fnOf(app, template, name)['VpcConfig'], name).toEqual({
        SubnetIds: NETWORK.subnets.map((s) => s.id),
        SecurityGroupIds: [{ 'Fn::GetAtt': [sg[0]![0], 'GroupId'] }],
      });
  });

  it('leaves the API (its kubeconfig, cluster transfer and token authorizer functions), the stream, instance events, the fleet resource and the fleet upgrade task out of the VPC', () => {
    const others = names.filter((n) => !talksToWorkloads(n));
    expect(others.sort()).toEqual([
      'cluster-transfer',
      'fleet-resource',
      'fleet-upgrade',
      'http',
      'instance-events',
      'kubeconfig',
      'stream',
      'token-authorizer',
    ]);
    for (const name of others) {
      expect(fnOf(app, template, name)['VpcConfig'], name).toBeUndefined();
      expect(roleActions(app, template, name), name).not.toContain('ec2:CreateNetworkInterface');
    }
  });

  it('lets the functions in the VPC manage their network interfaces, with no managed policy', () => {
    for (const name of WORKLOAD_FUNCTIONS) {
      expect(roleActions(app, template, name), name).toEqual(expect.arrayContaining(ENI_ACTIONS));
      const role = resourcesOf(template, 'AWS::IAM::Role')[logicalId(app.controlPlane, app.controlPlane.functions[name].role)]!.Properties;
      expect(role['ManagedPolicyArns'], name).toBeUndefined();
    }
  });

  it('opens no ingress, and egress only to AWS APIs (443), API servers (6443) and etcd members (2379)', () => {
    const props = sg[0]![1].Properties;
    expect(props['VpcId']).toBe(NETWORK.vpcId);
    expect(props['SecurityGroupIngress']).toBeUndefined();
    expect(
      (props['SecurityGroupEgress'] as { IpProtocol: string; FromPort: number; ToPort: number; CidrIp: string }[]).map((e) => [
        e.IpProtocol,
        e.FromPort,
        e.ToPort,
        e.CidrIp,
      ]),
    ).toEqual([
      ['tcp', 443, 443, '0.0.0.0/0'],
      ['tcp', 6443, 6443, '0.0.0.0/0'],
      ['tcp', 2379, 2379, '0.0.0.0/0'],
    ]);
  });

  it('tells the functions in the VPC, and only those, to read etcd at its client port', () => {
    for (const name of names)
      expect((fnOf(app, template, name)['Environment'] as { Variables: Record<string, unknown> }).Variables['ETCD_CLIENT_PORT'], name).toBe(
        talksToWorkloads(name) ? '2379' : undefined,
      );
  });

  it('passes cdk-nag with every finding acknowledged', () => {
    expect(() => app.app.synth()).not.toThrow();
    expect(new AwsSolutionsChecks().validateScope(app.app).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('workload network options', () => {
  it('uses the security groups given instead of making one', () => {
    const { app, template } = synth({ workloadNetwork: { ...NETWORK, securityGroupIds: ['sg-0123456789abcdef0'] } });
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroup')).toEqual({});
    expect(fnOf(app, template, 'sweep')['VpcConfig']).toMatchObject({ SecurityGroupIds: ['sg-0123456789abcdef0'] });
  });

  it('opens the API server port given', () => {
    const { template } = synth({ workloadNetwork: { ...NETWORK, apiServerPort: 443 } });
    const [props] = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroup')).map((r) => r.Properties);
    expect((props!['SecurityGroupEgress'] as { FromPort: number }[]).map((e) => e.FromPort)).toEqual([443, 2379]);
  });

  it('refuses a network without subnets', () => {
    expect(() => synth({ workloadNetwork: { vpcId: NETWORK.vpcId, subnets: [] } })).toThrow(/at least one private subnet/);
  });

  it('is off by default: no function in a VPC, no network-interface permission', () => {
    const { app, template } = synth({});
    for (const name of names) {
      expect(fnOf(app, template, name)['VpcConfig'], name).toBeUndefined();
      expect(roleActions(app, template, name), name).not.toContain('ec2:CreateNetworkInterface');
    }
  });
});
