/** ELBv2: LoadBalancerTargets (the control-plane target group) and the control-plane load balancers clusterless makes. */
export { Elbv2LoadBalancerTargets } from './elbv2-targets.js';
export { Elbv2ControlPlaneLoadBalancers, loadBalancerName, type Elbv2ControlPlaneLoadBalancersOptions } from './elbv2-load-balancers.js';
// What its users imported from here before the AWS adapters shared their clients (aws/clients.ts).
export { createElbv2Client } from '../aws/clients.js';
