import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The API server port kubeadm binds and clusterless defaults controlPlaneEndpoint.port to. */
export const DEFAULT_API_SERVER_PORT = 6443;

/** kubeadm's etcd client port: the functions in the network read the control planes' etcd members there. */
export const ETCD_CLIENT_PORT = 2379;

/** The functions that talk to workload clusters (nodes, drains, join tokens); they run in workloadNetwork. */
export const WORKLOAD_FUNCTIONS = ['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep'] as const;

/** Whether the function of that name talks to workload clusters. */
export const talksToWorkloads = (name: string): boolean => (WORKLOAD_FUNCTIONS as readonly string[]).includes(name);

export interface WorkloadNetworkProps {
  /** The VPC whose private subnets reach the workload clusters' API load balancers. */
  readonly vpcId: string;
  /** Private subnets of that VPC; they reach AWS APIs through a NAT gateway or VPC endpoints. */
  readonly subnets: readonly { readonly id: string; readonly availabilityZone: string }[];
  /**
   * The functions' security groups.
   * @default - one made here, egress TCP 443 (AWS APIs), `apiServerPort` and 2379 (etcd) only, no ingress
   */
  readonly securityGroupIds?: readonly string[];
  /** With the security group made here: the port of the workload API servers. @default 6443 */
  readonly apiServerPort?: number;
}

/**
 * Where the functions that talk to workload clusters run: in the user's VPC, so that they reach control planes
 * behind an internal load balancer (Cluster.spec.provider.aws.controlPlaneLoadBalancer.scheme defaults to
 * internal). Everything is imported by id, nothing looked up: `cdk synth` still needs no credentials.
 */
export class WorkloadNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly subnetSelection: ec2.SubnetSelection;
  public readonly securityGroups: ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: WorkloadNetworkProps) {
    super(scope, id);
    if (props.subnets.length === 0)
      throw new Error('workloadNetwork.subnets: give at least one private subnet (two or more, in different zones, for availability)');
    const zones = [...new Set(props.subnets.map((s) => s.availabilityZone))];
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: zones });
    const subnets = props.subnets.map((s, i) => ec2.Subnet.fromSubnetAttributes(this, `Subnet${i}`, { subnetId: s.id, availabilityZone: s.availabilityZone }));
    for (const subnet of subnets)
      Annotations.of(subnet).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'the functions only attach to the subnet: no route of it is read or added',
      );
    this.subnetSelection = { subnets };
    if (props.securityGroupIds?.length) {
      this.securityGroups = props.securityGroupIds.map((sg, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg, { mutable: false }));
    } else {
      const port = props.apiServerPort ?? DEFAULT_API_SERVER_PORT;
      const sg = new ec2.SecurityGroup(this, 'Functions', {
        vpc: this.vpc,
        description: 'clusterless functions: AWS APIs and workload API servers, no ingress',
        allowAllOutbound: false,
      });
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (NAT gateway or VPC endpoints)');
      if (port !== 443) sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'workload API servers');
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(ETCD_CLIENT_PORT), "workload control planes' etcd members");
      this.securityGroups = [sg];
    }
  }

  /**
   * What a function in the network is told: it reaches the control planes' etcd members directly (their private
   * addresses on 2379), so the tasks read etcd (functions/adapters/etcd). Outside the network they infer the members.
   */
  readonly environment: Record<string, string> = { ETCD_CLIENT_PORT: String(ETCD_CLIENT_PORT) };

  /**
   * What Lambda needs of a function's own role to attach it to the VPC: the actions of AWS's
   * AWSLambdaVPCAccessExecutionRole, on * as there, as an inline statement (the roles here carry no managed
   * policy). Note: not narrowed to these subnets: Lambda checks the role when the function is created or
   * updated, and a role narrower than its check fails the deployment; this was not tried on AWS from here.
   */
  grantNetworkInterfaces(role: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resourceArns: ['*'],
    });
  }
}
