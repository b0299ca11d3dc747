/**
 * The EC2 permissions of the cluster transfer function (functions/handlers/cluster-transfer.ts), the server side of
 * `clusterless import` and `clusterless move`. Its only EC2 writes are CreateTags, in two shapes:
 *
 * - adopting a Cluster API instance (adapters/ec2/capa-adoption.ts): the instance must carry Cluster API AWS's role
 *   tag and no installation or machine of clusterless's, and the request may write only clusterless's keys and the
 *   cloud provider's `kubernetes.io/cluster/<name>`, with this installation's id;
 * - handing a cluster over to another installation (adapters/ec2/cluster-handover.ts): instances and volumes that
 *   carry this installation's tag and a cluster tag, and the request may write the installation key only.
 *
 * Nothing is launched, stopped or terminated, and no tag is deleted (no code deletes one), so neither is granted.
 * Who may call the function at all is the API's to say (api/access-entries.ts mayTransfer).
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { CAPA_ROLE_TAG } from '../../functions/api/capi/import-plan.js';
import { grantDescribe } from './ec2-permissions.js';

export interface ClusterTransferPermissionsOptions {
  /** This installation's id: what adoption writes, and what a hand-over may take off. */
  readonly installationId: string;
}

/** The keys an adoption writes (CapaInstanceAdoption.adopt); the cloud provider's key carries the cluster's name. */
const ADOPTION_TAG_KEYS = [TagKeys.installation, TagKeys.cluster, TagKeys.machineUid, TagKeys.machineName, TagKeys.role, 'kubernetes.io/cluster/*'];

const ec2Arn = (resource: string) => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}/*`;

export function grantClusterTransfer(grantee: iam.IGrantable, options: ClusterTransferPermissionsOptions): void {
  // EC2's describes have no resource-level permissions: DescribeInstances (the instance to adopt, the cluster's
  // instances to hand over) and DescribeTags (the cluster's volumes) are granted on *.
  grantDescribe(grantee, ['ec2:DescribeInstances', 'ec2:DescribeTags']);
  // Adoption. Note: Cluster API AWS's owned tag names the cluster in its key (sigs.k8s.io/cluster-api-provider-aws/
  // cluster/<name>), which no condition key can name for every cluster; its role tag, which it puts on every instance
  // it launches (cluster-api-provider-aws pkg/cloud/services/ec2/instances.go, CreateInstance), stands for it here, and
  // the function checks the owned tag of the Machine's own cluster before it tags.
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:CreateTags'],
    resourceArns: [ec2Arn('instance')],
    conditions: {
      Null: {
        [`aws:ResourceTag/${CAPA_ROLE_TAG}`]: 'false',
        [`aws:ResourceTag/${TagKeys.installation}`]: 'true',
        [`aws:ResourceTag/${TagKeys.machineUid}`]: 'true',
      },
      StringEquals: { [`aws:RequestTag/${TagKeys.installation}`]: options.installationId },
      'ForAllValues:StringLike': { 'aws:TagKeys': ADOPTION_TAG_KEYS },
    },
  });
  // Hand-over: this installation's resources of a cluster get the target installation's id, and nothing else changes.
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:CreateTags'],
    resourceArns: [ec2Arn('instance'), ec2Arn('volume')],
    conditions: {
      StringEquals: { [`aws:ResourceTag/${TagKeys.installation}`]: options.installationId },
      StringLike: { [`aws:ResourceTag/${TagKeys.cluster}`]: '?*/?*' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TagKeys.installation] },
    },
  });
}
