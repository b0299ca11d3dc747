import { Annotations, CustomResource, Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { topologyClassCauses, type ClusterClass } from '../../functions/api/cluster-class.js';
import type { Cluster } from '../../functions/api/cluster.js';
import type { ApiObject } from '../../functions/api/kind.js';
import { validateCreate } from '../../functions/api/validate.js';
import { type ClusterClassProps, type FleetClusterDeclaration, fleetManifests } from './fleet-template.js';

/** What a fleet needs of a clusterless control plane: the service token of its fleet custom resource. */
export interface IClusterlessControlPlane {
  /** The ARN of the Provider framework function that applies fleets (ControlPlaneStack.fleetServiceToken). */
  readonly fleetServiceToken: string;
}

export interface ClusterFleetProps {
  readonly controlPlane: IClusterlessControlPlane;
  /**
   * Clusters from the fleet template (fleet-template.ts): each declared whole (FleetCluster) or by a class
   * (FleetTopologyCluster: `{ name, class, version, provider, workers, variables }`). @default - none
   */
  readonly clusters?: readonly FleetClusterDeclaration[];
  /** ClusterClasses by name, for the clusters declared by class. @default - none */
  readonly classes?: Readonly<Record<string, ClusterClassProps>>;
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
 * Clusters declared by class become a ClusterClass (with content-named MachineClasses, rotated the same way) and
 * Clusters with spec.topology; a class change rolls every cluster of the class, through the topology planner.
 */
export class ClusterFleet extends Construct {
  /** Every object of the fleet, as sent to the API. */
  public readonly manifests: readonly Record<string, unknown>[];
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterFleetProps) {
    super(scope, id);
    this.manifests = [...fleetManifests(props.clusters ?? [], props.classes ?? {}), ...(props.manifests ?? [])];
    const problems: string[] = [];
    const seen = new Set<string>();
    const parsed: { index: number; key: string; object: ApiObject }[] = [];
    this.manifests.forEach((m, i) => {
      const v = validateCreate(m);
      const meta = (m['metadata'] ?? {}) as { name?: string; namespace?: string };
      const key = `${String(m['kind'])} ${meta.namespace ?? 'default'}/${meta.name ?? ''}`;
      if (!v.ok) problems.push(`manifests[${i}] ${key}: ${v.causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`);
      else parsed.push({ index: i, key, object: v.object });
      if (seen.has(key)) problems.push(`manifests[${i}] ${key}: declared twice`);
      seen.add(key);
    });
    // A cluster of a class the fleet declares is checked against it as the API's admission will (variables,
    // worker classes); a class declared elsewhere cannot be, so it is only a warning.
    const classes = new Map(parsed.filter((p) => p.object.kind === 'ClusterClass').map((p) => [p.key, p.object as ClusterClass]));
    for (const { index, key, object } of parsed) {
      const topology = object.kind === 'Cluster' ? (object as Cluster).spec.topology : undefined;
      if (!topology) continue;
      const cc = classes.get(`ClusterClass ${object.metadata.namespace ?? 'default'}/${topology.class}`);
      if (!cc) {
        Annotations.of(this).addWarningV2(
          'clusterless:fleet-class-not-declared',
          `cluster ${object.metadata.name} names ClusterClass ${topology.class}, which this fleet does not declare: it must exist in namespace ${object.metadata.namespace ?? 'default'} (or the cluster's TopologyReconciled says ClusterClassNotFound)`,
        );
        continue;
      }
      const causes = topologyClassCauses(topology, cc);
      if (causes.length) problems.push(`manifests[${index}] ${key}: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`);
    }
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
