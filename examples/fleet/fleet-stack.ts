/**
 * An example fleet: two clusters on the aws provider, declared in CDK and applied by the control plane's
 * fleet custom resource. Deploy it with `npx cdk deploy -c fleet=example ...` (see README.md here).
 *
 * Every value marked REPLACE is a placeholder of the right shape: the API accepts it, EC2 will not. Give
 * real ones with context (-c subnets=..., -c securityGroup=..., -c ami=..., -c instanceProfile=...) or edit
 * them here before deploying.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ClusterFleet, type IClusterlessControlPlane } from '../../infra/constructs/cluster-fleet.js';
import type { FleetCluster, MachineClassInput } from '../../infra/constructs/fleet-template.js';

/** REPLACE: subnets of your VPC, one per availability zone (`-c subnets=subnet-0abc...:us-east-1a,...`). */
export const PLACEHOLDER_SUBNETS = [
  { id: 'subnet-0000000000000000a', availabilityZone: 'us-east-1a' },
  { id: 'subnet-0000000000000000b', availabilityZone: 'us-east-1b' },
  { id: 'subnet-0000000000000000c', availabilityZone: 'us-east-1c' },
];
/** REPLACE: a security group that lets the nodes reach each other and the API server (`-c securityGroup=sg-...`). */
export const PLACEHOLDER_SECURITY_GROUP = 'sg-0000000000000000a';
/** REPLACE: a Kubernetes node image of the region (`-c ami=ami-...`). */
export const PLACEHOLDER_AMI = 'ami-0000000000000000a';

export interface ExampleFleetStackProps extends StackProps {
  readonly controlPlane: IClusterlessControlPlane;
}

function subnetsFrom(value: unknown): { id: string; availabilityZone: string }[] {
  if (typeof value !== 'string' || value === '') return PLACEHOLDER_SUBNETS;
  return value.split(',').map((pair) => {
    const [id, availabilityZone] = pair.split(':');
    if (!id || !availabilityZone) throw new Error(`-c subnets takes SUBNET_ID:AVAILABILITY_ZONE,... not "${value}"`);
    return { id, availabilityZone };
  });
}

export class ExampleFleetStack extends Stack {
  public readonly fleet: ClusterFleet;

  constructor(scope: Construct, id: string, props: ExampleFleetStackProps) {
    super(scope, id, { description: 'clusterless: an example fleet of two clusters', ...props });
    const ctx = (key: string): string | undefined => this.node.tryGetContext(key) as string | undefined;
    const subnets = subnetsFrom(ctx('subnets'));
    const region = ctx('clusterRegion') ?? subnets[0]!.availabilityZone.slice(0, -1);
    const provider = { aws: { region, subnets, securityGroupIds: [ctx('securityGroup') ?? PLACEHOLDER_SECURITY_GROUP] } };
    const machineClass = (instanceTypes: string[]): MachineClassInput => ({
      aws: {
        instanceTypes,
        ami: ctx('ami') ?? PLACEHOLDER_AMI,
        // No iamInstanceProfile: machines launch with the control plane's own node roles (NodeRoles), the only
        // roles it may pass to EC2.
        rootVolume: { sizeGiB: 40 },
      },
    });
    const clusters: FleetCluster[] = [
      {
        // Production: three control-plane machines (etcd quorum survives one loss), two worker pools.
        name: 'prod',
        kubernetesVersion: 'v1.34.1',
        provider,
        machineClass: machineClass(['m7g.large', 'm6g.large']),
        controlPlane: { replicas: 3 },
        workers: [
          { name: 'general', replicas: 3 },
          { name: 'spot', replicas: 2, machineClass: { aws: { ...machineClass(['c7g.large', 'c6g.large']).aws!, spot: {} } } },
        ],
        labels: { environment: 'prod' },
      },
      {
        // Staging: one control-plane machine, one small pool, replaced rather than rolled.
        name: 'staging',
        kubernetesVersion: 'v1.34.1',
        provider,
        machineClass: machineClass(['t4g.large']),
        workers: [{ name: 'general', replicas: 1, strategy: { type: 'Recreate' } }],
        labels: { environment: 'staging' },
      },
    ];
    this.fleet = new ClusterFleet(this, 'Fleet', { controlPlane: props.controlPlane, clusters });
  }
}
