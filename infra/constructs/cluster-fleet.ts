import { CustomResource, Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { validateCreate } from '../../functions/api/validate.js';
import { fleetManifests, type FleetCluster } from './fleet-template.js';

/** What a fleet needs of a clusterless control plane: the service token of its fleet custom resource. */
export interface IClusterlessControlPlane {
  /** The ARN of the Provider framework function that applies fleets (ControlPlaneStack.fleetServiceToken). */
  readonly fleetServiceToken: string;
}

export interface ClusterFleetProps {
  readonly controlPlane: IClusterlessControlPlane;
  /** Clusters from the fleet template (fleet-template.ts). @default - none */
  readonly clusters?: readonly FleetCluster[];
  /** Further objects of the resource API as they are, e.g. a shared MachineClass. @default - none */
  readonly manifests?: readonly Record<string, unknown>[];
  /**
   * Names the custom resource's owner annotation (`clusterless.dev/fleet`).
   * @default - a name unique in the app, from the construct path
   */
  readonly fleetName?: string;
}

/** Thrown at synth time: the fleet would be refused by the API, so it is not deployed at all. */
export class InvalidFleetError extends Error {
  override name = 'InvalidFleetError';
}

/**
 * Clusters declared in CDK: their objects are applied, updated and deleted by a CloudFormation custom resource
 * (functions/handlers/fleet-resource.ts) through the same API code as `clusterless apply`. A stack update
 * applies the new manifests and deletes the objects no longer declared; deleting the construct deletes its
 * objects (deletionTimestamp: the workflows tear the clusters down after the stack update has finished).
 * A MachineClass is immutable, so the template names each class after its content (`{cluster}-{hash}`): changing
 * a `machineClass` makes a new class, points the ControlPlane or MachineDeployment at it (their machines roll),
 * and the old class is deleted by the stack update once no machine of it is left (or by a later one).
 * The manifests are validated with the API's own rules at synth time, so a bad fleet fails `cdk synth`.
 */
export class ClusterFleet extends Construct {
  /** Every object of the fleet, as sent to the API. */
  public readonly manifests: readonly Record<string, unknown>[];
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterFleetProps) {
    super(scope, id);
    this.manifests = [...fleetManifests(props.clusters ?? []), ...(props.manifests ?? [])];
    const problems: string[] = [];
    const seen = new Set<string>();
    this.manifests.forEach((m, i) => {
      const v = validateCreate(m);
      const meta = (m['metadata'] ?? {}) as { name?: string; namespace?: string };
      const key = `${String(m['kind'])} ${meta.namespace ?? 'default'}/${meta.name ?? ''}`;
      if (!v.ok) problems.push(`manifests[${i}] ${key}: ${v.causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`);
      if (seen.has(key)) problems.push(`manifests[${i}] ${key}: declared twice`);
      seen.add(key);
    });
    if (problems.length) throw new InvalidFleetError(`ClusterFleet ${this.node.path} would be refused by the API:\n- ${problems.join('\n- ')}`);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.controlPlane.fleetServiceToken,
      resourceType: 'Custom::ClusterlessFleet',
      properties: {
        FleetName: props.fleetName ?? Names.uniqueResourceName(this, { maxLength: 100 }),
        // One JSON string: CloudFormation would turn numbers and booleans into strings.
        Manifests: JSON.stringify(this.manifests),
      },
    });
  }
}
