/**
 * The cluster's own infrastructure, Cluster API's InfrastructureCluster: with the simulator, or on AWS with
 * user-made networking and load balancer, there is nothing to make and it is ready at once; when the provider
 * settings ask for a control-plane load balancer and name no target group (on AWS: a controlPlaneLoadBalancer
 * and no targetGroupArn), clusterless makes the load balancer and the cluster is ready
 * when it is active (core/reconcilers/cluster/cluster_controller_phases.go, reconcileInfrastructure).
 */
import type { Cluster } from '../../api/cluster.js';
import { controlPlaneLoadBalancerOf } from '../../api/providers/index.js';
import type { Observed } from '../observed.js';

/** Whether clusterless makes (and so must delete) a load balancer for this cluster. */
export function managesLoadBalancer(cluster: Cluster): boolean {
  const lb = controlPlaneLoadBalancerOf(cluster.spec.provider);
  return lb !== undefined && lb.targetGroupArn === undefined;
}

export interface InfrastructureState {
  ready: boolean;
  /** A permanent failure, reported as the Cluster's failureReason/failureMessage. */
  failure?: { reason: string; message: string };
  message?: string;
}

export function infrastructureState(cluster: Cluster, observed: Observed): InfrastructureState {
  if (!managesLoadBalancer(cluster)) return { ready: true };
  const lb = observed.loadBalancer;
  if (!lb) return { ready: false, message: 'Waiting for the control-plane load balancer to be created' };
  if (lb.state === 'failed')
    return {
      ready: false,
      failure: { reason: 'CreateError', message: `Load balancer ${lb.name} failed to provision` },
      message: `Load balancer ${lb.name} failed`,
    };
  if (lb.state === 'provisioning') return { ready: false, message: `Waiting for load balancer ${lb.name} to be active` };
  return { ready: true };
}
