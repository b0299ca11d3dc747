/** ELBv2: TargetGroupRegistrations (control-plane instances in a cluster's target group) and ManagedLoadBalancers (the load balancers clusterless makes). */
export { Elbv2TargetGroupRegistrations } from './elbv2-target-group-registrations.js';
export { Elbv2ManagedLoadBalancers, loadBalancerName, type Elbv2ManagedLoadBalancersOptions } from './elbv2-managed-load-balancers.js';
// What its users imported from here before the AWS adapters shared their clients (aws/clients.ts).
export { createElbv2Client } from '../aws/clients.js';
