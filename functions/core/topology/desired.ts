/**
 * The desired state of a managed topology: the fields of the ControlPlane, each MachineDeployment and the
 * MachineHealthChecks that the class, the topology and the variables give, with the class's patches applied.
 * Only the fields the topology owns are in these intents; the planner lays them over the stored objects, so a
 * field it does not own (a MachineDeployment's paused, revisionHistoryLimit, ...) keeps a hand edit. Learnt from
 * cluster-api exp/topology/desiredstate/desired_state.go (computeControlPlane, computeMachineDeployment,
 * computeMachineHealthCheck) and the patches engine it runs on them.
 */
import type { ClusterClass, MachineDeploymentClass, MachineHealthCheckClass } from '../../api/cluster-class.js';
import { TopologyLabels, resolvedVariables, topologyObjectNames } from '../../api/cluster-class.js';
import type { Cluster, ClusterTopology, MachineDeploymentTopology } from '../../api/cluster.js';
import { API_VERSION, Labels } from '../../api/common.js';
import { applyPatches, type PatchResult } from './patches.js';

type Json = Record<string, unknown>;
type Meta = { labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined };

/** Labels and annotations of several sources, later ones winning; undefined when there are none. */
function mergedMeta(...sources: (Meta | undefined)[]): { labels?: Record<string, string>; annotations?: Record<string, string> } {
  const labels = Object.assign({}, ...sources.map((s) => s?.labels ?? {})) as Record<string, string>;
  const annotations = Object.assign({}, ...sources.map((s) => s?.annotations ?? {})) as Record<string, string>;
  return { ...(Object.keys(labels).length ? { labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) };
}

/** The built-in variables of Cluster API's builtin.* that clusterless has (BUILTIN_VARIABLES in api/cluster-class.ts). */
export function builtinVariables(cluster: Cluster, controlPlaneReplicas: number, md?: MachineDeploymentTopology, mdReplicas?: number): Map<string, unknown> {
  const t = cluster.spec.topology!;
  const out = new Map<string, unknown>([
    ['builtin.cluster.name', cluster.metadata.name],
    ['builtin.cluster.namespace', cluster.metadata.namespace],
    ['builtin.cluster.topology.version', t.version],
    ['builtin.controlPlane.replicas', controlPlaneReplicas],
  ]);
  if (md) {
    out.set('builtin.machineDeployment.name', md.name);
    out.set('builtin.machineDeployment.class', md.class);
    if (mdReplicas !== undefined) out.set('builtin.machineDeployment.replicas', mdReplicas);
  }
  return out;
}

const ownedLabels = (cluster: Cluster) => ({ [Labels.clusterName]: cluster.metadata.name, [TopologyLabels.owned]: '' });

export function controlPlaneReplicas(topology: ClusterTopology, cc: ClusterClass): number {
  return topology.controlPlane?.replicas ?? cc.spec.controlPlane.replicas;
}

/** The ControlPlane the topology asks for, at `version` (the upgrade sequence chooses it). */
export function desiredControlPlane(cluster: Cluster, cc: ClusterClass, version: string): PatchResult {
  const t = cluster.spec.topology!;
  const c = cc.spec.controlPlane;
  const replicas = controlPlaneReplicas(t, cc);
  const intent: Json = {
    apiVersion: API_VERSION,
    kind: 'ControlPlane',
    metadata: {
      name: topologyObjectNames.controlPlane(cluster.metadata.name),
      namespace: cluster.metadata.namespace,
      ...mergedMeta(c.metadata, t.controlPlane?.metadata, { labels: ownedLabels(cluster) }),
    },
    spec: {
      clusterName: cluster.metadata.name,
      replicas,
      version,
      machineClassRef: { name: c.machineClassRef.name },
      rollout: structuredClone(c.rollout),
      remediation: structuredClone(c.remediation),
      nodeDrainTimeoutSeconds: c.nodeDrainTimeoutSeconds,
    },
  };
  const variables = new Map([...resolvedVariables(cc, t.variables ?? []), ...builtinVariables(cluster, replicas)]);
  return applyPatches(intent, cc.spec.patches, { kind: 'ControlPlane' }, variables);
}

/**
 * One MachineDeployment of the topology, at `version`. `replicas` is left out when the topology leaves it unset
 * and the MachineDeployment exists (as Cluster API leaves it to an autoscaler then); a new one starts with 1.
 */
export function desiredMachineDeployment(
  cluster: Cluster,
  cc: ClusterClass,
  md: MachineDeploymentTopology,
  mdClass: MachineDeploymentClass,
  version: string,
  exists: boolean,
): PatchResult {
  const t = cluster.spec.topology!;
  const replicas = md.replicas ?? (exists ? undefined : 1);
  const tmpl = mdClass.template;
  const mdLabel = { [TopologyLabels.machineDeploymentName]: md.name };
  const meta = mergedMeta(tmpl.metadata, md.metadata, { labels: { ...ownedLabels(cluster), ...mdLabel } });
  const intent: Json = {
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: topologyObjectNames.machineDeployment(cluster.metadata.name, md.name), namespace: cluster.metadata.namespace, ...meta },
    spec: {
      clusterName: cluster.metadata.name,
      ...(replicas !== undefined ? { replicas } : {}),
      template: {
        metadata: mergedMeta(tmpl.metadata, md.metadata, { labels: mdLabel }),
        spec: {
          version,
          machineClassRef: { name: tmpl.machineClassRef.name },
          nodeDrainTimeoutSeconds: tmpl.nodeDrainTimeoutSeconds,
          ...(tmpl.taints ? { taints: structuredClone(tmpl.taints) } : {}),
          ...(md.failureDomain ? { failureDomain: md.failureDomain } : {}),
        },
      },
      strategy: structuredClone(mdClass.strategy),
      minReadySeconds: mdClass.minReadySeconds,
    },
  };
  const variables = new Map([
    ...resolvedVariables(cc, t.variables ?? [], md.variables?.overrides ?? []),
    ...builtinVariables(cluster, controlPlaneReplicas(t, cc), md, replicas),
  ]);
  return applyPatches(intent, cc.spec.patches, { kind: 'MachineDeployment', class: md.class }, variables);
}

/**
 * Fields the topology owns that its intent may leave out: when the intent has none, a stored value is removed
 * (a class that drops its taints, a topology that unpins its failure domain), not kept.
 */
export const OWNED_OPTIONAL_FIELDS: Record<'ControlPlane' | 'MachineDeployment' | 'MachineHealthCheck', readonly string[][]> = {
  ControlPlane: [],
  MachineDeployment: [
    ['spec', 'template', 'spec', 'taints'],
    ['spec', 'template', 'spec', 'failureDomain'],
  ],
  MachineHealthCheck: [
    ['spec', 'unhealthyRange'],
    ['spec', 'maxInFlight'],
  ],
};

function healthCheck(
  cluster: Cluster,
  name: string,
  selector: Record<string, string>,
  spec: MachineHealthCheckClass,
  extraLabels: Record<string, string> = {},
): Json {
  return {
    apiVersion: API_VERSION,
    kind: 'MachineHealthCheck',
    metadata: { name, namespace: cluster.metadata.namespace, labels: { ...ownedLabels(cluster), ...extraLabels } },
    spec: {
      clusterName: cluster.metadata.name,
      selector: { matchLabels: { [Labels.clusterName]: cluster.metadata.name, ...selector } },
      ...structuredClone(spec),
    },
  };
}

/** The MachineHealthChecks the class asks for: one for the control plane, one per MachineDeployment whose class has one. */
export function desiredHealthChecks(cluster: Cluster, cc: ClusterClass): Json[] {
  const t = cluster.spec.topology!;
  const out: Json[] = [];
  const cpCheck = cc.spec.controlPlane.machineHealthCheck;
  if (cpCheck) out.push(healthCheck(cluster, topologyObjectNames.controlPlaneHealthCheck(cluster.metadata.name), { [Labels.controlPlane]: '' }, cpCheck));
  const classes = new Map(cc.spec.workers.machineDeployments.map((m) => [m.class, m]));
  for (const md of t.workers?.machineDeployments ?? []) {
    const check = classes.get(md.class)?.machineHealthCheck;
    if (!check) continue;
    const mdName = topologyObjectNames.machineDeployment(cluster.metadata.name, md.name);
    out.push(
      healthCheck(cluster, topologyObjectNames.machineDeploymentHealthCheck(cluster.metadata.name, md.name), { [Labels.deploymentName]: mdName }, check, {
        [TopologyLabels.machineDeploymentName]: md.name,
      }),
    );
  }
  return out;
}
