/** ELBv2: LoadBalancerTargets (the control-plane target group) and the control-plane load balancers clusterless makes. */
export { Elbv2LoadBalancerTargets, createElbv2Client } from './elbv2-targets.js';
export { Elbv2ControlPlaneLoadBalancers, loadBalancerName, type Elbv2ControlPlaneLoadBalancersOptions } from './elbv2-load-balancers.js';
