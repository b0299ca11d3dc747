/**
 * The control-plane load balancer clusterless makes for an aws cluster that names no target group
 * (core/cluster/infrastructure.ts: managesLoadBalancer): what the reconcile observes of it, the effects of the
 * planner's ProvisionInfrastructure and DeleteInfrastructure, and the target group control-plane instances go
 * in. Every step but targetGroupArnOf is a no-op for clusters that bring their own target group, or on a host
 * without the port.
 */
import type { Cluster } from '../api/cluster.js';
import { managesLoadBalancer } from '../core/cluster/index.js';
import type { LoadBalancerFact } from '../core/observed.js';
import { API_SERVER_BIND_PORT } from '../bootstrap/kubeadm-config.js';
import { InvalidSpecError } from '../ports.js';
import type { WorkflowDeps } from './deps.js';

const managed = (deps: WorkflowDeps, cluster: Cluster | undefined): cluster is Cluster => deps.managedLoadBalancers !== undefined && cluster !== undefined && managesLoadBalancer(cluster);

/**
 * What the planner sees of the cluster's load balancer. Note: while the cluster is deleted, a target group left
 * without its load balancer (a teardown that stopped between the two deletes) still shows, so that the deletion
 * step asks for DeleteInfrastructure again instead of finishing with the target group left behind.
 */
export async function observeLoadBalancer(deps: WorkflowDeps, cluster: Cluster | undefined): Promise<LoadBalancerFact | undefined> {
  if (!managed(deps, cluster)) return undefined;
  const { namespace, name } = cluster.metadata;
  const fact = await deps.managedLoadBalancers!.describe(namespace, name);
  if (fact) return fact;
  if (cluster.metadata.deletionTimestamp && (await deps.managedLoadBalancers!.hasLeftovers(namespace, name))) return { name: `${name} target group`, state: 'active' };
  return undefined;
}

/** ProvisionInfrastructure: the load balancer, its target group and listener, in the cluster's subnets. */
export async function provisionLoadBalancer(deps: WorkflowDeps, cluster: Cluster | undefined): Promise<void> {
  if (!managed(deps, cluster)) return;
  const aws = cluster.spec.provider.aws!;
  await deps.managedLoadBalancers!.ensure({
    namespace: cluster.metadata.namespace,
    clusterName: cluster.metadata.name,
    scheme: aws.controlPlaneLoadBalancer?.scheme ?? 'internal',
    subnetIds: aws.subnets.map((s) => s.id),
    port: API_SERVER_BIND_PORT,
  });
}

/** The load balancer part of DeleteInfrastructure. */
export async function deleteLoadBalancer(deps: WorkflowDeps, cluster: Cluster | undefined): Promise<void> {
  if (!managed(deps, cluster)) return;
  await deps.managedLoadBalancers!.delete(cluster.metadata.namespace, cluster.metadata.name);
}

/** The managed target group's ARN, looked up once per Cluster object read (one reconcile pass deregisters many). */
const lookedUp = new WeakMap<Cluster, Promise<string | undefined>>();

/**
 * The target group control-plane instances go in: the one clusterless made, or the one the cluster names once its
 * tags say it is this installation's group of this cluster. The spec's writer may name any ARN, and the IAM policy
 * only requires some cluster's tag (infra/constructs/ec2-permissions.ts): without the check, a cluster could
 * register its instances behind another cluster's endpoint. A host that cannot read the tags refuses too.
 */
export async function targetGroupArnOf(deps: WorkflowDeps, cluster: Cluster | undefined): Promise<string | undefined> {
  const given = cluster?.spec.provider.aws?.controlPlaneLoadBalancer?.targetGroupArn;
  if (given) {
    const { namespace, name } = cluster!.metadata;
    if (!deps.managedLoadBalancers) throw new InvalidSpecError(`target group ${given} of ${namespace}/${name}: this host cannot read its tags to check that it is the cluster's`);
    await deps.managedLoadBalancers.checkTargetGroup(given, namespace, name);
    return given;
  }
  if (!managed(deps, cluster)) return undefined;
  let arn = lookedUp.get(cluster);
  if (!arn) lookedUp.set(cluster, (arn = deps.managedLoadBalancers!.targetGroupArn(cluster.metadata.namespace, cluster.metadata.name)));
  return arn;
}
