import { Annotations, CustomResource, Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { validateCreate } from '../../functions/api/validate.js';
import { type ClusterClassProps, type FleetClusterDeclaration, fleetManifests, isTopologyCluster } from './fleet-template.js';

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

/** The class `name` of `namespace` as the fleet declares it: in `classes`, or a ClusterClass among `manifests`. */
function declaredClass(
  name: string,
  namespace: string | undefined,
  classes: Readonly<Record<string, ClusterClassProps>>,
  manifests: readonly Record<string, unknown>[],
): { workers: string[]; variables: string[] } | undefined {
  const ns = namespace ?? 'default';
  const props = classes[name];
  if (props && (props.namespace ?? 'default') === ns)
    return { workers: (props.workers ?? []).map((w) => w.class), variables: (props.variables ?? []).map((v) => v.name) };
  const manifest = manifests.find((m) => {
    const meta = (m['metadata'] ?? {}) as { name?: string; namespace?: string };
    return m['kind'] === 'ClusterClass' && meta.name === name && (meta.namespace ?? 'default') === ns;
  });
  if (!manifest) return undefined;
  const spec = (manifest['spec'] ?? {}) as { workers?: { machineDeployments?: { class?: string }[] }; variables?: { name?: string }[] };
  return {
    workers: (spec.workers?.machineDeployments ?? []).map((w) => String(w.class)),
    variables: (spec.variables ?? []).map((v) => String(v.name)),
  };
}

/**
 * What the topology planner would refuse of a cluster whose class the fleet declares, found at synth time: a
 * worker class or a variable the class does not have (Cluster API's webhook refuses both when the Cluster is
 * written: cluster-api internal/webhooks/cluster.go, validateTopology).
 */
function topologyProblems(
  clusters: readonly FleetClusterDeclaration[],
  classes: Readonly<Record<string, ClusterClassProps>>,
  manifests: readonly Record<string, unknown>[],
): string[] {
  const problems: string[] = [];
  for (const c of clusters) {
    if (!isTopologyCluster(c)) continue;
    const cls = declaredClass(c.class, c.namespace, classes, manifests);
    if (!cls) continue;
    (c.workers ?? []).forEach((w, i) => {
      if (!cls.workers.includes(w.class))
        problems.push(
          `cluster ${c.name} workers[${i}].class: ClusterClass ${c.class} has no worker class "${w.class}" (it has: ${cls.workers.join(', ') || 'none'})`,
        );
      for (const v of Object.keys(w.variables ?? {}))
        if (!cls.variables.includes(v)) problems.push(`cluster ${c.name} workers[${i}].variables.${v}: ClusterClass ${c.class} declares no such variable`);
    });
    for (const v of Object.keys(c.variables ?? {}))
      if (!cls.variables.includes(v)) problems.push(`cluster ${c.name} variables.${v}: ClusterClass ${c.class} declares no such variable`);
  }
  return problems;
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
    const problems: string[] = topologyProblems(props.clusters ?? [], props.classes ?? {}, props.manifests ?? []);
    for (const c of props.clusters ?? [])
      if (isTopologyCluster(c) && !declaredClass(c.class, c.namespace, props.classes ?? {}, props.manifests ?? []))
        Annotations.of(this).addWarningV2(
          'clusterless:fleet-class-not-declared',
          `cluster ${c.name} names ClusterClass ${c.class}, which this fleet does not declare: it must exist in namespace ${c.namespace ?? 'default'} (or the cluster's TopologyReconciled says ClusterClassNotFound)`,
        );
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
