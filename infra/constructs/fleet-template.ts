/**
 * The fleet template: clusters declared as plain data, expanded into the objects of the resource API that
 * `clusterless generate cluster` would write for each (MachineClass, Cluster, ControlPlane, a
 * MachineDeployment and a MachineHealthCheck per worker pool). Pure: no CDK, so it is tested on its own and
 * its output is what the API validates.
 *
 * A MachineClass is immutable, so each class is named after its content (`{base}-{hash}`, machineClassName): a
 * changed class is a new class and the ControlPlane or MachineDeployment naming it rolls, as Cluster API's topology
 * controller rotates an infrastructure machine template it changes under a new name
 * (cluster-api internal/controllers/topology/cluster/reconcile_state.go, reconcileReferencedTemplate). The fleet
 * resource deletes the old class once nothing names it (functions/handlers/fleet-resource.ts).
 *
 * A fleet may also be declared by class, as Cluster API's ClusterClass (cluster-api api/core/v1beta2/
 * clusterclass_types.go): `classes` expand into a ClusterClass and its content-named MachineClasses
 * (`{class}-control-plane-{hash}`, `{class}-{worker class}-{hash}`), and a cluster naming a `class` into one
 * Cluster with spec.topology; the topology planner makes its ControlPlane, MachineDeployments and health checks.
 */
import type { z } from 'zod';
import type { clusterNetwork, clusterProvider } from '../../functions/api/cluster.js';
import { API_VERSION, Labels, type intOrPercent } from '../../functions/api/common.js';
import { canonicalJson } from '../../functions/api/kind.js';
import { machineClassSpec } from '../../functions/api/machine-class.js';
import { shortHash } from '../../functions/core/machineset/hash.js';
import type { deploymentStrategy } from '../../functions/api/machine-deployment.js';
import type { unhealthyCondition } from '../../functions/api/machine-health-check.js';
import type { nodeTaint } from '../../functions/api/taint.js';

/** A manifest as a user writes it (the API fills the defaults). */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

export type ClusterProviderInput = z.input<typeof clusterProvider>;
export type ClusterNetworkInput = z.input<typeof clusterNetwork>;
export type MachineClassInput = z.input<typeof machineClassSpec>;
export type DeploymentStrategyInput = z.input<typeof deploymentStrategy>;
export type UnhealthyConditionInput = z.input<typeof unhealthyCondition>;
export type IntOrPercentInput = z.input<typeof intOrPercent>;
export type TaintInput = z.input<typeof nodeTaint>;

export interface FleetWorkerPool {
  /** The pool's name: its MachineDeployment is `{cluster}-{name}` (and its own class `{cluster}-{name}-{hash}`). */
  readonly name: string;
  readonly replicas: number;
  /** @default - the cluster's machineClass */
  readonly machineClass?: MachineClassInput;
  /** @default - RollingUpdate, maxSurge 1, maxUnavailable 0 */
  readonly strategy?: DeploymentStrategyInput;
  /** @default - spread over the cluster's zones */
  readonly failureDomain?: string;
}

export interface FleetHealthCheck {
  /** @default - Ready False or Unknown for 300s */
  readonly unhealthyConditions?: UnhealthyConditionInput[];
  /** @default '10m' */
  readonly nodeStartupTimeout?: string;
  /** @default '40%' */
  readonly maxUnhealthy?: IntOrPercentInput;
}

export interface FleetCluster {
  readonly name: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** e.g. v1.34.1 */
  readonly kubernetesVersion: string;
  /** `{ aws: { region, subnets, securityGroupIds } }` or `{ sim: {} }`. */
  readonly provider: ClusterProviderInput;
  /** @default - the API's (pods 192.168.0.0/16, services 10.96.0.0/12) */
  readonly clusterNetwork?: ClusterNetworkInput;
  /** The machine template of the control plane and of every pool without its own: MachineClass `{cluster}-{hash}`. */
  readonly machineClass: MachineClassInput;
  /** Its own machineClass is MachineClass `{cluster}-control-plane-{hash}`. @default - 1 replica of the cluster's machineClass */
  readonly controlPlane?: { readonly replicas?: number; readonly machineClass?: MachineClassInput };
  /** @default - no workers */
  readonly workers?: readonly FleetWorkerPool[];
  /** One MachineHealthCheck per worker pool; false for none. @default - Cluster API's usual check */
  readonly healthCheck?: FleetHealthCheck | false;
  /** Labels of every object of the cluster. @default - none */
  readonly labels?: Record<string, string>;
}

/** Labels and annotations a class puts on the objects it stamps out (and their machines). */
export interface FleetClassMetadata {
  /** @default - none */
  readonly labels?: Record<string, string>;
  /** @default - none */
  readonly annotations?: Record<string, string>;
}

/** A worker class of a ClusterClass: what every MachineDeployment of the class is made of. */
export interface FleetWorkerClass {
  /** The name topology workers refer to (`workers[].class` of a cluster). */
  readonly class: string;
  /** Their machine template: MachineClass `{class}-{worker class}-{hash}`. */
  readonly machineClass: MachineClassInput;
  /** @default - RollingUpdate, maxSurge 1, maxUnavailable 0 */
  readonly strategy?: DeploymentStrategyInput;
  /** @default 0 */
  readonly minReadySeconds?: number;
  /** @default - the API's */
  readonly nodeDrainTimeoutSeconds?: number;
  /** Taints the machines' nodes register with. @default - none */
  readonly taints?: readonly TaintInput[];
  /** @default - none */
  readonly metadata?: FleetClassMetadata;
  /** One MachineHealthCheck per MachineDeployment of the class; false for none. @default - Cluster API's usual check */
  readonly healthCheck?: FleetHealthCheck | false;
}

/** A ClusterClass variable, as Cluster API's: a name and an OpenAPI v3 schema (the subset the API reads). */
export interface FleetClassVariable {
  readonly name: string;
  /** @default false */
  readonly required?: boolean;
  readonly schema: { readonly openAPIV3Schema: Record<string, unknown> };
}

/** A ClusterClass patch, as Cluster API's inline patches: definitions of a selector and JSON patches. */
export interface FleetClassPatch {
  readonly name: string;
  readonly definitions: readonly Record<string, unknown>[];
  /** @default - always enabled */
  readonly enabledIf?: string;
}

/** A ClusterClass of the fleet (the key of `classes` is its name). */
export interface ClusterClassProps {
  /** @default 'default' */
  readonly namespace?: string;
  readonly controlPlane: {
    /** The control plane's machine template: MachineClass `{class}-control-plane-{hash}`. */
    readonly machineClass: MachineClassInput;
    /** The default when a cluster sets none. @default 1 */
    readonly replicas?: number;
    /** @default - the API's */
    readonly nodeDrainTimeoutSeconds?: number;
    /** @default - none */
    readonly metadata?: FleetClassMetadata;
    /** A MachineHealthCheck of the control plane. @default - none (as the non-class form) */
    readonly healthCheck?: FleetHealthCheck;
  };
  /** @default - no worker classes */
  readonly workers?: readonly FleetWorkerClass[];
  /** @default - none */
  readonly variables?: readonly FleetClassVariable[];
  /** @default - none */
  readonly patches?: readonly FleetClassPatch[];
}

/** A topology worker pool: a MachineDeployment `{cluster}-{name}` of a worker class. */
export interface FleetTopologyWorkers {
  readonly name: string;
  /** A worker class of the cluster's class. */
  readonly class: string;
  readonly replicas: number;
  /** @default - spread over the cluster's zones */
  readonly failureDomain?: string;
  /** Values of class variables for this pool alone. @default - the cluster's */
  readonly variables?: Record<string, unknown>;
}

/** A cluster made from a ClusterClass: one Cluster with spec.topology. */
export interface FleetTopologyCluster {
  readonly name: string;
  /** @default 'default' (the class must be in the same namespace) */
  readonly namespace?: string;
  /** A ClusterClass of the namespace (declared in `classes` or applied otherwise). */
  readonly class: string;
  /** The Kubernetes version of the whole cluster, e.g. v1.34.1. */
  readonly version: string;
  readonly provider: ClusterProviderInput;
  /** @default - the API's */
  readonly clusterNetwork?: ClusterNetworkInput;
  /** @default - the class's replicas */
  readonly controlPlane?: { readonly replicas?: number };
  /** @default - no workers */
  readonly workers?: readonly FleetTopologyWorkers[];
  /** Values of the class's variables, by name. @default - the class's defaults */
  readonly variables?: Record<string, unknown>;
  /** Labels of the Cluster. @default - none */
  readonly labels?: Record<string, string>;
}

/** A cluster of the fleet: the explicit form (FleetCluster) or one made from a class (FleetTopologyCluster). */
export type FleetClusterDeclaration = FleetCluster | FleetTopologyCluster;

export const isTopologyCluster = (c: FleetClusterDeclaration): c is FleetTopologyCluster => 'class' in c && c.class !== undefined;

/** Characters of a class name's hash suffix: shortHash's 10 and the dash. */
const HASH_SUFFIX = 11;
const DNS_LABEL_MAX = 63;

/**
 * The name of a MachineClass of `spec` for `base` (`{cluster}`, `{cluster}-control-plane`, `{cluster}-{pool}`):
 * `{base}-{10 characters}`, a DNS label of at most 63 characters (a long base is cut). The hash is of the base and
 * of the spec with the API's defaults filled in, key order ignored: the same name always means the same stored
 * spec, so replacing a class of that name never meets its immutability, and spelling out a default does not roll.
 */
export function machineClassName(base: string, spec: MachineClassInput): string {
  const parsed = machineClassSpec.safeParse(spec);
  // An invalid spec keeps a name (the API refuses it with its reasons at synth time).
  const hash = shortHash(`${base}\n${canonicalJson(parsed.success ? parsed.data : spec)}`);
  const cut = base.slice(0, DNS_LABEL_MAX - HASH_SUFFIX).replace(/[-.]+$/, '');
  return `${cut}-${hash}`;
}

/** Every object of the fleet: the classes first, then each cluster's objects in the API's creation order. */
export function fleetManifests(clusters: readonly FleetClusterDeclaration[], classes: Readonly<Record<string, ClusterClassProps>> = {}): Manifest[] {
  return [
    ...Object.entries(classes).flatMap(([name, props]) => clusterClassManifests(name, props)),
    ...clusters.flatMap((c) => (isTopologyCluster(c) ? [topologyClusterManifest(c)] : clusterManifests(c))),
  ];
}

const metadataOf = (m: FleetClassMetadata | undefined) =>
  m && (m.labels || m.annotations) ? { metadata: { ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) } } : {};

const healthCheckSpec = (hc: FleetHealthCheck) => ({
  unhealthyConditions: hc.unhealthyConditions ?? [
    { type: 'Ready', status: 'Unknown', timeout: '300s' },
    { type: 'Ready', status: 'False', timeout: '300s' },
  ],
  nodeStartupTimeout: hc.nodeStartupTimeout ?? '10m',
  maxUnhealthy: hc.maxUnhealthy ?? '40%',
});

/** A ClusterClass and its MachineClasses, named after their content. */
export function clusterClassManifests(name: string, c: ClusterClassProps): Manifest[] {
  const namespace = c.namespace ?? 'default';
  const object = (kind: string, n: string, spec: Record<string, unknown>): Manifest => ({
    apiVersion: API_VERSION,
    kind,
    metadata: { name: n, namespace },
    spec,
  });
  const controlPlaneClass = machineClassName(`${name}-control-plane`, c.controlPlane.machineClass);
  const classes: Manifest[] = [object('MachineClass', controlPlaneClass, c.controlPlane.machineClass as Record<string, unknown>)];
  const workers = (c.workers ?? []).map((w) => {
    const className = machineClassName(`${name}-${w.class}`, w.machineClass);
    // Two worker classes of one content share one MachineClass.
    if (!classes.some((m) => m.metadata.name === className)) classes.push(object('MachineClass', className, w.machineClass as Record<string, unknown>));
    const hc = w.healthCheck === false ? undefined : (w.healthCheck ?? {});
    return {
      class: w.class,
      template: {
        ...metadataOf(w.metadata),
        machineClassRef: { name: className },
        ...(w.taints ? { taints: w.taints } : {}),
        ...(w.nodeDrainTimeoutSeconds !== undefined ? { nodeDrainTimeoutSeconds: w.nodeDrainTimeoutSeconds } : {}),
      },
      ...(w.strategy ? { strategy: w.strategy } : {}),
      ...(w.minReadySeconds !== undefined ? { minReadySeconds: w.minReadySeconds } : {}),
      ...(hc ? { machineHealthCheck: healthCheckSpec(hc) } : {}),
    };
  });
  const cp = c.controlPlane;
  return [
    ...classes,
    object('ClusterClass', name, {
      controlPlane: {
        ...metadataOf(cp.metadata),
        machineClassRef: { name: controlPlaneClass },
        ...(cp.replicas !== undefined ? { replicas: cp.replicas } : {}),
        ...(cp.nodeDrainTimeoutSeconds !== undefined ? { nodeDrainTimeoutSeconds: cp.nodeDrainTimeoutSeconds } : {}),
        ...(cp.healthCheck ? { machineHealthCheck: healthCheckSpec(cp.healthCheck) } : {}),
      },
      ...(workers.length > 0 ? { workers: { machineDeployments: workers } } : {}),
      ...(c.variables?.length ? { variables: c.variables } : {}),
      ...(c.patches?.length ? { patches: c.patches } : {}),
    }),
  ];
}

const variablesOf = (values: Record<string, unknown>) => Object.entries(values).map(([name, value]) => ({ name, value }));

/** The Cluster of a topology cluster: spec.topology and the provider settings, nothing else. */
export function topologyClusterManifest(c: FleetTopologyCluster): Manifest {
  return {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name: c.name, namespace: c.namespace ?? 'default', labels: { ...c.labels, [Labels.clusterName]: c.name } },
    spec: {
      provider: c.provider,
      ...(c.clusterNetwork ? { clusterNetwork: c.clusterNetwork } : {}),
      topology: {
        class: c.class,
        version: c.version,
        ...(c.controlPlane?.replicas !== undefined ? { controlPlane: { replicas: c.controlPlane.replicas } } : {}),
        ...(c.workers?.length
          ? {
              workers: {
                machineDeployments: c.workers.map((w) => ({
                  class: w.class,
                  name: w.name,
                  replicas: w.replicas,
                  ...(w.failureDomain ? { failureDomain: w.failureDomain } : {}),
                  ...(w.variables ? { variables: { overrides: variablesOf(w.variables) } } : {}),
                })),
              },
            }
          : {}),
        ...(c.variables && Object.keys(c.variables).length > 0 ? { variables: variablesOf(c.variables) } : {}),
      },
    },
  };
}

export function clusterManifests(c: FleetCluster): Manifest[] {
  const namespace = c.namespace ?? 'default';
  const labels = { ...c.labels, [Labels.clusterName]: c.name };
  const meta = (name: string) => ({ name, namespace, labels });
  const object = (kind: string, name: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: API_VERSION, kind, metadata: meta(name), spec });
  const version = c.kubernetesVersion;

  const clusterClass = machineClassName(c.name, c.machineClass);
  const classes: Manifest[] = [object('MachineClass', clusterClass, c.machineClass as Record<string, unknown>)];
  const controlPlaneClass = c.controlPlane?.machineClass ? machineClassName(`${c.name}-control-plane`, c.controlPlane.machineClass) : clusterClass;
  if (c.controlPlane?.machineClass) classes.push(object('MachineClass', controlPlaneClass, c.controlPlane.machineClass as Record<string, unknown>));

  const pools = (c.workers ?? []).map((pool) => {
    const deploymentName = `${c.name}-${pool.name}`;
    const className = pool.machineClass ? machineClassName(deploymentName, pool.machineClass) : clusterClass;
    if (pool.machineClass) classes.push(object('MachineClass', className, pool.machineClass as Record<string, unknown>));
    const deployment = object('MachineDeployment', deploymentName, {
      clusterName: c.name,
      replicas: pool.replicas,
      template: { spec: { version, machineClassRef: { name: className }, ...(pool.failureDomain ? { failureDomain: pool.failureDomain } : {}) } },
      ...(pool.strategy ? { strategy: pool.strategy } : {}),
    });
    const hc = c.healthCheck === false ? undefined : (c.healthCheck ?? {});
    const check =
      hc &&
      object('MachineHealthCheck', deploymentName, {
        clusterName: c.name,
        selector: { matchLabels: { [Labels.clusterName]: c.name, [Labels.deploymentName]: deploymentName } },
        unhealthyConditions: hc.unhealthyConditions ?? [
          { type: 'Ready', status: 'Unknown', timeout: '300s' },
          { type: 'Ready', status: 'False', timeout: '300s' },
        ],
        nodeStartupTimeout: hc.nodeStartupTimeout ?? '10m',
        maxUnhealthy: hc.maxUnhealthy ?? '40%',
      });
    return { deployment, check };
  });

  return [
    ...classes,
    object('Cluster', c.name, { provider: c.provider, ...(c.clusterNetwork ? { clusterNetwork: c.clusterNetwork } : {}) }),
    object('ControlPlane', `${c.name}-control-plane`, {
      clusterName: c.name,
      replicas: c.controlPlane?.replicas ?? 1,
      version,
      machineClassRef: { name: controlPlaneClass },
    }),
    ...pools.map((p) => p.deployment),
    ...pools.flatMap((p) => (p.check ? [p.check] : [])),
  ];
}
