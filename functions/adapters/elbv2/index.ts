/** LoadBalancerTargets over ELBv2 (the control-plane target group). */
export { Elbv2LoadBalancerTargets, createElbv2Client } from './elbv2-targets.js';
