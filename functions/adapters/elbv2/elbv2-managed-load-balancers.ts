/**
 * ManagedLoadBalancers over ELBv2: a network load balancer per cluster, a TCP target group of the API
 * server's port and a listener that forwards to it, all named from the cluster and tagged with it. Learnt from
 * cluster-api-provider-aws pkg/cloud/services/elb/loadbalancer.go (reconcileV2LB: describe by name, create what
 * is missing, one listener per port forwarding to its target group; deleteAPIServerELB: the load balancer, then
 * its target groups) and its default of an internal scheme.
 *
 * Note: the names are the only lookup (one DescribeLoadBalancers by name), so they must be fixed by the cluster
 * and the installation: `clusterless-` and 20 hex digits of a hash of the installation id and `{namespace}/{cluster}`
 * (ELBv2 allows 32 characters), so that two installations' clusters of the same namespace and name never share
 * one. A name is not proof of ownership (anyone may create a load balancer of that name): what is found by name is
 * this installation's only when it carries the installation tag too; anything else is never adopted, registered
 * into or deleted (as CAPA's deleteAPIServerELB skips a load balancer whose tags do not say it is managed).
 *
 * A target group the cluster names itself (controlPlaneLoadBalancer.targetGroupArn) is any ARN its writer chose:
 * checkTargetGroup lets instances be registered into it, or deregistered from it, only once its tags say it is this
 * installation's group of that very cluster, so that a cluster cannot put its instances behind another's endpoint.
 */
import { createHash } from 'node:crypto';
import type { Ec2QueryClient } from '../aws/ec2-query/index.js';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer,
  type Tag,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvalidSpecError, ThrottledError, type ManagedLoadBalancerFact, type ManagedLoadBalancers, type ManagedLoadBalancerSpec } from '../../ports.js';
import { checkInstallationId } from '../../installation.js';
import { errorCode } from '../aws/errors.js';
import { TagKeys, clusterTagValue } from '../aws/tags.js';
import { elbv2Error } from './errors.js';

/** The name of a cluster's load balancer and of its target group, in one installation. */
export function loadBalancerName(namespace: string, clusterName: string, installationId: string): string {
  const key = `${installationId}\n${clusterTagValue(namespace, clusterName)}`;
  return `clusterless-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

const STATES = new Set<ManagedLoadBalancerFact['state']>(['provisioning', 'active', 'active_impaired', 'failed']);

export interface Elbv2ManagedLoadBalancersOptions {
  elb: ElasticLoadBalancingV2Client;
  /** For the VPC of the cluster's subnets (a target group names its VPC). */
  ec2: Ec2QueryClient;
  /** The installation (functions/installation.ts): in the names' hash, tagged on all made, required of all found. */
  installationId: string;
}

export class Elbv2ManagedLoadBalancers implements ManagedLoadBalancers {
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly ec2: Ec2QueryClient;
  readonly installationId: string;
  /** ARNs already seen with this installation's tag (an ARN is never reused, and its tags are ours to keep). */
  private readonly owned = new Set<string>();
  /** `{arn}\n{namespace}/{cluster}` of named target groups already seen tagged as that cluster's, in this installation. */
  private readonly clusterGroups = new Set<string>();

  constructor(options: Elbv2ManagedLoadBalancersOptions) {
    this.elb = options.elb;
    this.ec2 = options.ec2;
    this.installationId = checkInstallationId(options.installationId);
  }

  async describe(namespace: string, clusterName: string): Promise<ManagedLoadBalancerFact | undefined> {
    const name = this.nameOf(namespace, clusterName);
    const lb = await this.loadBalancer(name);
    if (!lb || !(await this.isOwned(lb.LoadBalancerArn))) return undefined;
    const code = lb.State?.Code as ManagedLoadBalancerFact['state'] | undefined;
    return { name, ...(lb.DNSName ? { dnsName: lb.DNSName } : {}), state: code && STATES.has(code) ? code : 'provisioning' };
  }

  async targetGroupArn(namespace: string, clusterName: string): Promise<string | undefined> {
    const name = this.nameOf(namespace, clusterName);
    const lb = await this.loadBalancer(name);
    if (!lb || !(await this.isOwned(lb.LoadBalancerArn))) return undefined;
    const tg = await this.targetGroup(name);
    return tg && (await this.isOwned(tg.TargetGroupArn)) ? tg.TargetGroupArn : undefined;
  }

  async hasLeftovers(namespace: string, clusterName: string): Promise<boolean> {
    const tg = await this.targetGroup(this.nameOf(namespace, clusterName));
    return tg !== undefined && (await this.isOwned(tg.TargetGroupArn));
  }

  async ensure(spec: ManagedLoadBalancerSpec): Promise<void> {
    const name = this.nameOf(spec.namespace, spec.clusterName);
    const where = `the control-plane load balancer ${name} of ${spec.namespace}/${spec.clusterName}`;
    if (spec.subnetIds.length === 0) throw new InvalidSpecError(`${where}: the cluster names no subnets`);
    const Tags = [
      { Key: TagKeys.installation, Value: this.installationId },
      { Key: TagKeys.cluster, Value: clusterTagValue(spec.namespace, spec.clusterName) },
      { Key: TagKeys.name, Value: `${spec.namespace}/${spec.clusterName} API server` },
    ];
    const notOwned = (what: string) =>
      new InvalidSpecError(`${where}: a ${what} of that name exists without this installation's tag; it is not adopted (delete or rename it)`);
    try {
      let lb = await this.loadBalancer(name);
      if (lb && !(await this.isOwned(lb.LoadBalancerArn))) throw notOwned('load balancer');
      if (!lb)
        // The same name and settings again return the same load balancer: a repeated create is no error.
        lb = (await this.elb.send(new CreateLoadBalancerCommand({ Name: name, Type: 'network', Scheme: spec.scheme, Subnets: spec.subnetIds, Tags })))
          .LoadBalancers?.[0];
      if (!lb?.LoadBalancerArn) throw new ThrottledError(`${where}: created, but not described yet`);
      let tg = await this.targetGroup(name);
      if (tg && !(await this.isOwned(tg.TargetGroupArn))) throw notOwned('target group');
      if (!tg) {
        const subnets = await this.ec2.describeSubnets({ SubnetIds: [spec.subnetIds[0]!] });
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

  /** Deletes what is this installation's; one of that name that is not is left alone (it was never ours). */
  async delete(namespace: string, clusterName: string): Promise<void> {
    const name = this.nameOf(namespace, clusterName);
    const where = `the control-plane load balancer ${name} of ${namespace}/${clusterName}`;
    try {
      const lb = await this.loadBalancer(name);
      if (lb?.LoadBalancerArn && (await this.isOwned(lb.LoadBalancerArn)))
        await this.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      const tg = await this.targetGroup(name);
      // A target group is in use until its load balancer's listeners are gone: ResourceInUse is retried.
      if (tg?.TargetGroupArn && (await this.isOwned(tg.TargetGroupArn)))
        await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    } catch (e) {
      throw elbv2Error(e, where);
    }
  }

  async checkTargetGroup(targetGroupArn: string, namespace: string, clusterName: string): Promise<void> {
    const cluster = clusterTagValue(namespace, clusterName);
    const key = `${targetGroupArn}\n${cluster}`;
    if (this.clusterGroups.has(key)) return;
    const where = `target group ${targetGroupArn} (spec.provider.aws.controlPlaneLoadBalancer.targetGroupArn of ${cluster})`;
    const tags = await this.tagsOf(targetGroupArn);
    if (tags === undefined) throw new InvalidSpecError(`${where}: it does not exist`);
    const wanted: [string, string][] = [
      [TagKeys.installation, this.installationId],
      [TagKeys.cluster, cluster],
    ];
    const lacking = wanted.filter(([k, v]) => !tags.some((t) => t.Key === k && t.Value === v)).map(([k, v]) => `${k}=${v}`);
    if (lacking.length > 0)
      throw new InvalidSpecError(
        `${where}: it lacks the tag${lacking.length > 1 ? 's' : ''} ${lacking.join(' and ')}; no instance is registered into, or deregistered from, a target group not tagged as this cluster's`,
      );
    this.clusterGroups.add(key);
  }

  private nameOf(namespace: string, clusterName: string): string {
    return loadBalancerName(namespace, clusterName, this.installationId);
  }

  /** Whether the load balancer or target group carries this installation's tag (one DescribeTags, then kept). */
  private async isOwned(arn: string | undefined): Promise<boolean> {
    if (!arn) return false;
    if (this.owned.has(arn)) return true;
    const ours = (await this.tagsOf(arn))?.some((t) => t.Key === TagKeys.installation && t.Value === this.installationId) ?? false;
    if (ours) this.owned.add(arn);
    return ours;
  }

  /** The resource's tags; undefined when it does not exist (or is gone between a lookup and now). */
  private async tagsOf(arn: string): Promise<Tag[] | undefined> {
    try {
      const described = (await this.elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }))).TagDescriptions?.find((d) => d.ResourceArn === arn);
      return described ? (described.Tags ?? []) : undefined;
    } catch (e) {
      if (/NotFound/.test(errorCode(e) ?? '')) return undefined;
      throw elbv2Error(e, `tags of ${arn}`);
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
