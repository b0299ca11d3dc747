import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INSTALLATION_ENV } from '../../functions/installation.js';
import type { MachineRole } from '../../functions/ports.js';
import type { BootstrapSecrets } from './bootstrap-secrets.js';

export interface NodeRolesProps {
  /** The bootstrap secrets a node reads (and deletes) once, at its first boot. */
  readonly secrets: BootstrapSecrets;
}

/**
 * The IAM roles of the machines clusterless launches, one for control-plane machines and one for workers, each
 * with its instance profile: what the provision task launches with when a MachineClass names no
 * iamInstanceProfile, and the only roles it may pass to EC2 (with ControlPlaneStackProps.additionalNodeRoles).
 * They hold what a kubeadm node needs from AWS here and nothing more: reading and deleting its own bootstrap
 * secret, and pulling images from the account's ECR repositories in this region. A node that needs more (the
 * AWS cloud provider, the EBS CSI driver) gets it from the roles' addToPrincipalPolicy or addManagedPolicy.
 * Learnt from Cluster API AWS's node role (cmd/clusterawsadm/cloudformation/bootstrap/cluster_api_node.go: the
 * bootstrap secret's GetSecretValue and DeleteSecret, ECR read-only as an option); here the secret is also bound to
 * the one instance it was made for (BootstrapSecrets.grantFetchBootstrapData).
 */
export class NodeRoles extends Construct {
  public readonly controlPlane: iam.Role;
  public readonly worker: iam.Role;
  public readonly controlPlaneInstanceProfile: iam.InstanceProfile;
  public readonly workerInstanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: NodeRolesProps) {
    super(scope, id);
    const role = (name: string, what: string) => {
      const r = new iam.Role(this, `${name}Role`, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'), description: `clusterless: ${what}` });
      props.secrets.grantFetchBootstrapData(r);
      grantEcrPull(r);
      return r;
    };
    this.controlPlane = role('ControlPlane', 'the control-plane machines (kubeadm nodes)');
    this.worker = role('Worker', 'the worker machines (kubeadm nodes)');
    this.controlPlaneInstanceProfile = new iam.InstanceProfile(this, 'ControlPlaneInstanceProfile', { role: this.controlPlane });
    this.workerInstanceProfile = new iam.InstanceProfile(this, 'WorkerInstanceProfile', { role: this.worker });
  }

  /** The roles the provision task may pass to EC2. */
  get roles(): iam.IRole[] {
    return [this.controlPlane, this.worker];
  }

  /** NODE_INSTANCE_PROFILES (functions/installation.ts): the instance profile of each machine role, by ARN. */
  get environment(): Record<string, string> {
    const profiles: Record<MachineRole, string> = {
      'control-plane': this.controlPlaneInstanceProfile.instanceProfileArn,
      worker: this.workerInstanceProfile.instanceProfileArn,
    };
    return { [INSTALLATION_ENV.nodeInstanceProfiles]: Stack.of(this).toJsonString(profiles) };
  }
}

/** ECR pulls from the account's repositories in this region (the read half of AmazonEC2ContainerRegistryReadOnly). */
function grantEcrPull(grantee: iam.IGrantable): void {
  // GetAuthorizationToken has no resource-level permissions.
  iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
    resourceArns: [`arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${Aws.ACCOUNT_ID}:repository/*`],
  });
}
