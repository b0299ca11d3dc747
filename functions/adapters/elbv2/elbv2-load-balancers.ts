/**
 * ControlPlaneLoadBalancers over ELBv2: a network load balancer per cluster, a TCP target group of the API
 * server's port and a listener that forwards to it, all named from the cluster and tagged with it. Learnt from
 * cluster-api-provider-aws pkg/cloud/services/elb/loadbalancer.go (reconcileV2LB: describe by name, create what
 * is missing, one listener per port forwarding to its target group; deleteAPIServerELB: the load balancer, then
 * its target groups) and its default of an internal scheme.
 *
 * Note: the names are the only lookup (one DescribeLoadBalancers by name), so they must be fixed by the cluster:
 * `clusterless-` and 20 hex digits of a hash of `{namespace}/{cluster}` (ELBv2 allows 32 characters).
 */
import { createHash } from 'node:crypto';
import { DescribeSubnetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  InvalidSpecError,
  ThrottledError,
  type ControlPlaneLoadBalancerFact,
  type ControlPlaneLoadBalancers,
  type ControlPlaneLoadBalancerSpec,
} from '../../ports.js';
import { TagKeys, clusterTagValue } from '../ec2/tags.js';
import { errorCode } from '../ec2/errors.js';
import { elbv2Error } from './errors.js';

/** The name of a cluster's load balancer and of its target group. */
export function loadBalancerName(namespace: string, clusterName: string): string {
  return `clusterless-${createHash('sha256').update(clusterTagValue(namespace, clusterName)).digest('hex').slice(0, 20)}`;
}

const STATES = new Set<ControlPlaneLoadBalancerFact['state']>(['provisioning', 'active', 'active_impaired', 'failed']);

export class Elbv2ControlPlaneLoadBalancers implements ControlPlaneLoadBalancers {
  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    /** For the VPC of the cluster's subnets (a target group names its VPC). */
    private readonly ec2: EC2Client,
  ) {}

  async describe(namespace: string, clusterName: string): Promise<ControlPlaneLoadBalancerFact | undefined> {
    const name = loadBalancerName(namespace, clusterName);
    const lb = await this.loadBalancer(name);
    if (!lb) return undefined;
    const code = lb.State?.Code as ControlPlaneLoadBalancerFact['state'] | undefined;
    return { name, ...(lb.DNSName ? { dnsName: lb.DNSName } : {}), state: code && STATES.has(code) ? code : 'provisioning' };
  }

  async targetGroupArn(namespace: string, clusterName: string): Promise<string | undefined> {
    const name = loadBalancerName(namespace, clusterName);
    if (!(await this.loadBalancer(name))) return undefined;
    return (await this.targetGroup(name))?.TargetGroupArn;
  }

  async hasLeftovers(namespace: string, clusterName: string): Promise<boolean> {
    return (await this.targetGroup(loadBalancerName(namespace, clusterName))) !== undefined;
  }

  async ensure(spec: ControlPlaneLoadBalancerSpec): Promise<void> {
    const name = loadBalancerName(spec.namespace, spec.clusterName);
    const where = `the control-plane load balancer ${name} of ${spec.namespace}/${spec.clusterName}`;
    if (spec.subnetIds.length === 0) throw new InvalidSpecError(`${where}: the cluster names no subnets`);
    const Tags = [
      { Key: TagKeys.cluster, Value: clusterTagValue(spec.namespace, spec.clusterName) },
      { Key: TagKeys.name, Value: `${spec.namespace}/${spec.clusterName} API server` },
    ];
    try {
      let lb = await this.loadBalancer(name);
      if (!lb)
        // The same name and settings again return the same load balancer: a repeated create is no error.
        lb = (await this.elb.send(new CreateLoadBalancerCommand({ Name: name, Type: 'network', Scheme: spec.scheme, Subnets: spec.subnetIds, Tags }))).LoadBalancers?.[0];
      if (!lb?.LoadBalancerArn) throw new ThrottledError(`${where}: created, but not described yet`);
      let tg = await this.targetGroup(name);
      if (!tg) {
        const subnets = await this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [spec.subnetIds[0]!] }));
        const vpcId = subnets.Subnets?.[0]?.VpcId;
        if (!vpcId) throw new InvalidSpecError(`${where}: subnet ${spec.subnetIds[0]} has no VPC`);
        tg = (
          await this.elb.send(
            new CreateTargetGroupCommand({
              Name: name,
              Protocol: 'TCP',
              Port: spec.port,
              VpcId: vpcId,
              TargetType: 'instance',
              HealthCheckProtocol: 'TCP',
              HealthCheckIntervalSeconds: 10,
              HealthyThresholdCount: 3,
              UnhealthyThresholdCount: 3,
              Tags,
            }),
          )
        ).TargetGroups?.[0];
      }
      if (!tg?.TargetGroupArn) throw new ThrottledError(`${where}: target group created, but not described yet`);
      const listeners = (await this.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
      if (!listeners.some((l) => l.Port === spec.port))
        await this.elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: 'TCP',
            Port: spec.port,
            DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
            Tags,
          }),
        );
    } catch (e) {
      throw elbv2Error(e, where);
    }
  }

  async delete(namespace: string, clusterName: string): Promise<void> {
    const name = loadBalancerName(namespace, clusterName);
    const where = `the control-plane load balancer ${name} of ${namespace}/${clusterName}`;
    try {
      const lb = await this.loadBalancer(name);
      if (lb?.LoadBalancerArn) await this.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      const tg = await this.targetGroup(name);
      // A target group is in use until its load balancer's listeners are gone: ResourceInUse is retried.
      if (tg?.TargetGroupArn) await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    } catch (e) {
      throw elbv2Error(e, where);
    }
  }

  private async loadBalancer(name: string): Promise<LoadBalancer | undefined> {
    try {
      return (await this.elb.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.[0];
    } catch (e) {
      if (errorCode(e)?.startsWith('LoadBalancerNotFound')) return undefined;
      throw elbv2Error(e, `load balancer ${name}`);
    }
  }

  private async targetGroup(name: string): Promise<TargetGroup | undefined> {
    try {
      return (await this.elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
    } catch (e) {
      if (errorCode(e)?.startsWith('TargetGroupNotFound')) return undefined;
      throw elbv2Error(e, `target group ${name}`);
    }
  }
}
