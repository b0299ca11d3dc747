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
 */
import type { z } from 'zod';
import type { clusterNetwork, clusterProvider } from '../../functions/api/cluster.js';
import { API_VERSION, Labels, type intOrPercent } from '../../functions/api/common.js';
import { canonicalJson } from '../../functions/api/kind.js';
import { machineClassSpec } from '../../functions/api/machine-class.js';
import { shortHash } from '../../functions/core/machineset/hash.js';
import type { deploymentStrategy } from '../../functions/api/machine-deployment.js';
import type { unhealthyCondition } from '../../functions/api/machine-health-check.js';

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

/** Every object of the fleet, in the API's creation order per cluster. */
export function fleetManifests(clusters: readonly FleetCluster[]): Manifest[] {
  return clusters.flatMap(clusterManifests);
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
