/**
 * TargetGroupRegistrations over ELBv2: control-plane instances in the cluster's target group, by instance id and the
 * API server's port. Learnt from cluster-api-provider-aws pkg/cloud/services/elb/loadbalancer.go
 * (RegisterInstanceWithAPIServerLB / DeregisterInstanceFromAPIServerELB for NLBs: RegisterTargets and
 * DeregisterTargets with the instance id; a deregistration of a target that is gone is no error).
 */
import { DeregisterTargetsCommand, RegisterTargetsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvalidSpecError, type TargetGroupRegistrations } from '../../ports.js';
import { errorCode as code } from '../aws/errors.js';
import { TagKeys } from '../aws/tags.js';
import { elbv2Error } from './errors.js';

function mapped(e: unknown, targetGroupArn: string): unknown {
  const c = code(e);
  if (c === undefined) return e;
  if (c === 'TargetGroupNotFound' || c === 'TargetGroupNotFoundException' || c === 'ValidationError')
    return new InvalidSpecError(`target group ${targetGroupArn}: ${c}: ${(e as Error).message}`, { cause: e });
  // The control plane may change only target groups tagged with a cluster and its installation (infra/constructs/ec2-permissions.ts).
  if (c === 'AccessDenied' || c === 'AccessDeniedException')
    return new InvalidSpecError(
      `target group ${targetGroupArn}: ${c}: tag it ${TagKeys.cluster}={namespace}/{cluster} and ${TagKeys.installation}={the installation id} so the control plane may register targets (${(e as Error).message})`,
      { cause: e },
    );
  return elbv2Error(e, `ELBv2 target group ${targetGroupArn}`);
}

export class Elbv2TargetGroupRegistrations implements TargetGroupRegistrations {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  async register(targetGroupArn: string, target: { instanceId: string; port: number }): Promise<void> {
    try {
      await this.client.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: target.instanceId, Port: target.port }] }));
    } catch (e) {
      throw mapped(e, targetGroupArn);
    }
  }

  async deregister(targetGroupArn: string, target: { instanceId: string; port: number }): Promise<void> {
    try {
      await this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: target.instanceId, Port: target.port }] }));
    } catch (e) {
      // An instance already terminated is no longer a valid target: nothing left to deregister.
      if (code(e) === 'InvalidTarget' || code(e) === 'InvalidTargetException') return;
      throw mapped(e, targetGroupArn);
    }
  }
}
