/**
 * ManagedLoadBalancers and TargetGroupRegistrations over a SimCloud: the simulated counterpart of adapters/elbv2,
 * for sim clusters that ask for a control-plane load balancer (spec.provider.sim.controlPlaneLoadBalancer). One
 * load balancer per cluster, a target group of the API server's port and a listener that forwards to it, named
 * from a hash of the installation and the cluster, tagged with both, and kept in the SimCloud (so in its file on
 * the embedded host). As the ELBv2 adapter does, what is found by name is this installation's only with its tag,
 * and a teardown deletes the load balancer, then its target group, so it can stop between the two.
 *
 * Where the simulation differs from ELBv2: a load balancer is active as soon as it is made, and it needs no
 * subnets (the simulator has no network), so a cluster without any gets one.
 */
import { createHash } from 'node:crypto';
import {
  InvalidSpecError,
  type ManagedLoadBalancerFact,
  type ManagedLoadBalancers,
  type ManagedLoadBalancerSpec,
  type TargetGroupRegistrations,
  type TargetGroupTarget,
} from '../../ports.js';
import { TagKeys, clusterTagValue } from '../aws/tags.js';
import type { SimCloud } from './sim-cloud.js';

const hash = (installationId: string | undefined, namespace: string, clusterName: string): string =>
  createHash('sha256')
    .update(`${installationId ?? ''}\n${clusterTagValue(namespace, clusterName)}`)
    .digest('hex');

/** The name of a cluster's simulated load balancer and of its target group, in one installation. */
export function simLoadBalancerName(namespace: string, clusterName: string, installationId?: string): string {
  return `clusterless-${hash(installationId, namespace, clusterName).slice(0, 20)}`;
}

/**
 * The DNS name of a cluster's simulated load balancer: `{cluster}-{hash}.elb.sim.local`, the cluster's name cut so
 * that the first label stays within DNS's 63 characters.
 */
export function simLoadBalancerDnsName(namespace: string, clusterName: string, installationId?: string): string {
  return `${clusterName.slice(0, 46)}-${hash(installationId, namespace, clusterName).slice(0, 16)}.elb.sim.local`;
}

export interface SimLoadBalancersOptions {
  /**
   * The installation these load balancers are made for (tagged on all made, required of all found), as the
   * SimMachineProvider's. @default - the default installation (no installation tag)
   */
  installationId?: string;
}

export class SimManagedLoadBalancers implements ManagedLoadBalancers {
  readonly installationId: string | undefined;

  constructor(
    readonly cloud: SimCloud,
    options: SimLoadBalancersOptions = {},
  ) {
    this.installationId = options.installationId;
  }

  async describe(namespace: string, clusterName: string): Promise<ManagedLoadBalancerFact | undefined> {
    const lb = this.cloud.loadBalancer(this.nameOf(namespace, clusterName));
    if (!lb || !this.owns(lb.tags)) return undefined;
    return { name: lb.name, dnsName: lb.dnsName, state: 'active' };
  }

  async targetGroupArn(namespace: string, clusterName: string): Promise<string | undefined> {
    const name = this.nameOf(namespace, clusterName);
    const lb = this.cloud.loadBalancer(name);
    if (!lb || !this.owns(lb.tags)) return undefined;
    const tg = this.cloud.targetGroupNamed(name);
    return tg && this.owns(tg.tags) ? tg.arn : undefined;
  }

  async hasLeftovers(namespace: string, clusterName: string): Promise<boolean> {
    const tg = this.cloud.targetGroupNamed(this.nameOf(namespace, clusterName));
    return tg !== undefined && this.owns(tg.tags);
  }

  async ensure(spec: ManagedLoadBalancerSpec): Promise<void> {
    const name = this.nameOf(spec.namespace, spec.clusterName);
    const where = `the control-plane load balancer ${name} of ${spec.namespace}/${spec.clusterName}`;
    const notOwned = (what: string) =>
      new InvalidSpecError(`${where}: a ${what} of that name exists without this installation's tag; it is not adopted (delete or rename it)`);
    const tags: Record<string, string> = {
      ...(this.installationId !== undefined ? { [TagKeys.installation]: this.installationId } : {}),
      [TagKeys.cluster]: clusterTagValue(spec.namespace, spec.clusterName),
      [TagKeys.name]: `${spec.namespace}/${spec.clusterName} API server`,
    };
    const found = this.cloud.loadBalancer(name);
    if (found && !this.owns(found.tags)) throw notOwned('load balancer');
    const lb = found ?? this.cloud.createLoadBalancer(name, simLoadBalancerDnsName(spec.namespace, spec.clusterName, this.installationId), tags);
    const foundGroup = this.cloud.targetGroupNamed(name);
    if (foundGroup && !this.owns(foundGroup.tags)) throw notOwned('target group');
    const tg = foundGroup ?? this.cloud.createTargetGroup(name, spec.port, tags);
    if (lb.listener?.port !== spec.port || lb.listener.targetGroupArn !== tg.arn) this.cloud.setListener(name, { port: spec.port, targetGroupArn: tg.arn });
  }

  /** Deletes what is this installation's; one of that name that is not is left alone (it was never ours). */
  async delete(namespace: string, clusterName: string): Promise<void> {
    const name = this.nameOf(namespace, clusterName);
    const lb = this.cloud.loadBalancer(name);
    if (lb && this.owns(lb.tags)) this.cloud.deleteLoadBalancer(name);
    const tg = this.cloud.targetGroupNamed(name);
    if (tg && this.owns(tg.tags)) this.cloud.deleteTargetGroup(tg.arn);
  }

  async checkTargetGroup(targetGroupArn: string, namespace: string, clusterName: string): Promise<void> {
    const cluster = clusterTagValue(namespace, clusterName);
    const where = `target group ${targetGroupArn} (named by ${cluster})`;
    const tg = this.cloud.targetGroup(targetGroupArn);
    if (!tg) throw new InvalidSpecError(`${where}: it does not exist`);
    const wanted: [string, string | undefined][] = [
      [TagKeys.installation, this.installationId],
      [TagKeys.cluster, cluster],
    ];
    const lacking = wanted.filter(([k, v]) => tg.tags[k] !== v).map(([k, v]) => `${k}=${v ?? '(none)'}`);
    if (lacking.length > 0)
      throw new InvalidSpecError(
        `${where}: it lacks the tag${lacking.length > 1 ? 's' : ''} ${lacking.join(' and ')}; no instance is registered into, or deregistered from, a target group not tagged as this cluster's`,
      );
  }

  private nameOf(namespace: string, clusterName: string): string {
    return simLoadBalancerName(namespace, clusterName, this.installationId);
  }

  /** Whether the resource carries this installation's tag (the default installation's carry none). */
  private owns(tags: Record<string, string>): boolean {
    return tags[TagKeys.installation] === this.installationId;
  }
}

/** TargetGroupRegistrations over a SimCloud: targets by instance id and port, in a group found by its ARN. */
export class SimTargetGroupRegistrations implements TargetGroupRegistrations {
  constructor(readonly cloud: SimCloud) {}

  async register(targetGroupArn: string, target: TargetGroupTarget): Promise<void> {
    this.cloud.registerTarget(targetGroupArn, target);
  }

  async deregister(targetGroupArn: string, target: TargetGroupTarget): Promise<void> {
    this.cloud.deregisterTarget(targetGroupArn, target);
  }
}
