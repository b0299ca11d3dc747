/**
 * The topology planner: for a Cluster with spec.topology, the ControlPlane, MachineDeployments and
 * MachineHealthChecks its ClusterClass stamps out, compared with what is stored, as creates, updates and deletes,
 * and the Cluster's TopologyReconciled condition. Learnt from cluster-api internal/controllers/topology/cluster/
 * (cluster_controller.go: the reconcile; reconcile_state.go: create, update, delete of what the topology owns;
 * conditions.go: TopologyReconciled and its reasons). Objects without the topology-owned label are never touched.
 *
 * Note: TopologyReconciled is True only once every generated object matches the topology and the control plane and
 * every MachineDeployment have finished rolling. Cluster API's goes True once the versions are written; a
 * FleetUpgrade needs to know the cluster is done.
 */
import type { ClusterClass } from '../../api/cluster-class.js';
import { TopologyLabels, topologyClassCauses, topologyObjectNames } from '../../api/cluster-class.js';
import type { Cluster } from '../../api/cluster.js';
import { Finalizers, Labels, isPlainObject } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import { jsonEqual, type ApiObject } from '../../api/kind.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import type { MachineSet } from '../../api/machine-set.js';
import { validateCreate } from '../../api/validate.js';
import { ConditionType, setCondition, type ConditionInput } from '../conditions.js';
import { adopted } from '../machineset/ownership.js';
import { emptyPlan, refOf, type Plan, type Write } from '../plan.js';
import { OWNED_OPTIONAL_FIELDS, desiredControlPlane, desiredHealthChecks, desiredMachineDeployment } from './desired.js';
import { controlPlaneStable, decideVersions, machineDeploymentStable } from './upgrade.js';

/** The reasons of TopologyReconciled (Cluster API's, plus ClusterClassRollout for a class change rolling out). */
export const TopologyReason = {
  Reconciled: 'Reconciled',
  ClusterClassNotFound: 'ClusterClassNotFound',
  VariablesInvalid: 'VariablesInvalid',
  TopologyInvalid: 'TopologyInvalid',
  ControlPlaneUpgradePending: 'ControlPlaneUpgradePending',
  MachineDeploymentsUpgradePending: 'MachineDeploymentsUpgradePending',
  ClusterClassRollout: 'ClusterClassRollout',
} as const;
export type TopologyReason = (typeof TopologyReason)[keyof typeof TopologyReason];

export interface TopologyObjects {
  cluster: Cluster;
  /** The ClusterClass spec.topology.class names, when it exists. */
  clusterClass?: ClusterClass;
  controlPlane?: ControlPlane;
  machineDeployments: readonly MachineDeployment[];
  machineSets: readonly MachineSet[];
  machineHealthChecks: readonly MachineHealthCheck[];
}

/** `base` with `intent` laid over it: objects merged key by key, anything else (lists too) replaced. */
function overlay(base: unknown, intent: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(intent)) return structuredClone(intent);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(intent)) out[k] = overlay(base[k], v);
  return out;
}

function without(obj: Record<string, unknown>, path: readonly string[]): void {
  let node: unknown = obj;
  for (const p of path.slice(0, -1)) node = isPlainObject(node) ? node[p] : undefined;
  if (isPlainObject(node)) delete node[path.at(-1)!];
}

function hasPath(obj: unknown, path: readonly string[]): boolean {
  let node = obj;
  for (const p of path) {
    if (!isPlainObject(node) || !(p in node)) return false;
    node = node[p];
  }
  return true;
}

const isOwned = (o: ApiObject, cluster: Cluster) =>
  Object.hasOwn(o.metadata.labels ?? {}, TopologyLabels.owned) && o.metadata.labels?.[Labels.clusterName] === cluster.metadata.name;

type Outcome = { ok: true; write?: Write } | { ok: false; message: string };

/**
 * The write that brings `actual` to `intent` (a create when there is none), the intent parsed by its kind's schema
 * so that defaults and rules apply as to any object; an error when the result is not a valid object or the name is
 * taken by an object the topology did not make.
 */
function reconcileObject(cluster: Cluster, intent: Record<string, unknown>, actual: ApiObject | undefined, finalizer?: string): Outcome {
  const kind = intent['kind'] as 'ControlPlane' | 'MachineDeployment' | 'MachineHealthCheck';
  const name = (intent['metadata'] as { name: string }).name;
  if (actual && !isOwned(actual, cluster)) return { ok: false, message: `${kind} ${name} exists and was not made by the topology; it is left alone` };
  let candidate: Record<string, unknown>;
  if (actual) {
    candidate = overlay(actual, intent) as Record<string, unknown>;
    for (const path of OWNED_OPTIONAL_FIELDS[kind]) if (!hasPath(intent, path)) without(candidate, path);
  } else candidate = intent;
  const v = validateCreate(candidate);
  if (!v.ok) return { ok: false, message: `${kind} ${name}: ${v.causes.map((c) => `${c.field}: ${c.message}`).join('; ')}` };
  if (!actual) {
    const meta = v.object.metadata;
    const created = adopted({ ...v.object, metadata: { ...meta, ...(finalizer ? { finalizers: [finalizer] } : {}) } }, cluster);
    return { ok: true, write: { type: 'Create', object: created } };
  }
  const next = adopted(v.object, cluster);
  return jsonEqual(next, actual) ? { ok: true } : { ok: true, write: { type: 'Update', object: next } };
}

/** The Cluster's status with TopologyReconciled and the class generation it was reconciled against, when they changed. */
function withCondition(cluster: Cluster, cc: ClusterClass | undefined, condition: Omit<ConditionInput, 'type'>, now: Date): Write | undefined {
  const conditions = setCondition(cluster.status?.conditions, { type: ConditionType.TopologyReconciled, ...condition }, now, cluster.metadata.generation);
  const classGeneration = cc?.metadata.generation;
  const generationChanged = classGeneration !== undefined && classGeneration !== cluster.status?.observedClusterClassGeneration;
  if (conditions === cluster.status?.conditions && !generationChanged) return undefined;
  const status = { ...cluster.status, conditions, ...(classGeneration !== undefined ? { observedClusterClassGeneration: classGeneration } : {}) };
  return { type: 'UpdateStatus', object: { ...cluster, status } };
}

function conditionOnly(cluster: Cluster, cc: ClusterClass | undefined, reason: TopologyReason, message: string, now: Date): Plan {
  const plan = emptyPlan();
  const w = withCondition(cluster, cc, { status: 'False', reason, message }, now);
  if (w) plan.writes.push(w);
  plan.notes.push(`topology: ${reason}: ${message}`);
  return plan;
}

/** Whether a MachineDeployment still runs machines of an older version than its template's. */
function upgradingMachines(md: MachineDeployment, sets: readonly MachineSet[]): boolean {
  return sets.some(
    (ms) =>
      ms.metadata.labels?.[Labels.deploymentName] === md.metadata.name &&
      ms.spec.template.spec.version !== md.spec.template.spec.version &&
      (ms.spec.replicas > 0 || (ms.status?.replicas ?? 0) > 0),
  );
}

export function planTopology(objects: TopologyObjects, now: Date): Plan {
  const { cluster, clusterClass: cc } = objects;
  const topology = cluster.spec.topology;
  if (!topology || cluster.metadata.deletionTimestamp) return emptyPlan();
  if (!cc)
    return conditionOnly(
      cluster,
      undefined,
      TopologyReason.ClusterClassNotFound,
      `ClusterClass ${topology.class} not found in namespace ${cluster.metadata.namespace}`,
      now,
    );
  const causes = topologyClassCauses(topology, cc);
  if (causes.length) {
    const reason = causes.every((c) => c.field.includes('.variables')) ? TopologyReason.VariablesInvalid : TopologyReason.TopologyInvalid;
    return conditionOnly(cluster, cc, reason, causes.map((c) => `${c.field}: ${c.message}`).join('; '), now);
  }

  const clusterName = cluster.metadata.name;
  const target = topology.version;
  const mdTopologies = topology.workers?.machineDeployments ?? [];
  const actualMd = (name: string) => objects.machineDeployments.find((m) => m.metadata.name === topologyObjectNames.machineDeployment(clusterName, name));
  const cp = objects.controlPlane?.metadata.name === topologyObjectNames.controlPlane(clusterName) ? objects.controlPlane : undefined;
  const cpTaken = !cp && objects.controlPlane !== undefined;
  const versions = decideVersions(
    cluster,
    target,
    cp && isOwned(cp, cluster) ? cp : undefined,
    mdTopologies.map((m) => {
      const a = actualMd(m.name);
      return { name: m.name, ...(a && isOwned(a, cluster) ? { actual: a } : {}) };
    }),
  );

  // Every object the topology asks for, as the write that brings it there.
  const writes: Write[] = [];
  const errors: string[] = [];
  if (cpTaken) errors.push(`the cluster already has ControlPlane ${objects.controlPlane!.metadata.name}, not made by the topology`);
  const take = (o: Outcome) => {
    if (!o.ok) errors.push(o.message);
    else if (o.write) writes.push(o.write);
  };
  const cpIntent = desiredControlPlane(cluster, cc, versions.controlPlane);
  if (!cpIntent.ok) errors.push(`ControlPlane: ${cpIntent.error}`);
  else take(reconcileObject(cluster, cpIntent.object, cp, Finalizers.controlPlane));
  const classes = new Map(cc.spec.workers.machineDeployments.map((m) => [m.class, m]));
  for (const m of mdTopologies) {
    const actual = actualMd(m.name);
    const intent = desiredMachineDeployment(cluster, cc, m, classes.get(m.class)!, versions.machineDeployments.get(m.name)!, actual !== undefined);
    if (!intent.ok) errors.push(`MachineDeployment ${m.name}: ${intent.error}`);
    else take(reconcileObject(cluster, intent.object, actual, Finalizers.machineDeployment));
  }
  const checks = desiredHealthChecks(cluster, cc);
  for (const c of checks) {
    const name = (c['metadata'] as { name: string }).name;
    take(
      reconcileObject(
        cluster,
        c,
        objects.machineHealthChecks.find((h) => h.metadata.name === name),
      ),
    );
  }
  if (errors.length) return conditionOnly(cluster, cc, TopologyReason.TopologyInvalid, errors.join('; '), now);

  // What the topology made and no longer asks for goes; what it did not make stays.
  const wantedMds = new Set(mdTopologies.map((m) => topologyObjectNames.machineDeployment(clusterName, m.name)));
  for (const md of objects.machineDeployments)
    if (isOwned(md, cluster) && !wantedMds.has(md.metadata.name) && !md.metadata.deletionTimestamp)
      writes.push({ type: 'Delete', ref: refOf(md), reason: 'removed from the Cluster topology' });
  const wantedChecks = new Set(checks.map((c) => (c['metadata'] as { name: string }).name));
  for (const h of objects.machineHealthChecks)
    if (isOwned(h, cluster) && !wantedChecks.has(h.metadata.name) && !h.metadata.deletionTimestamp)
      writes.push({ type: 'Delete', ref: refOf(h), reason: 'no longer asked for by the ClusterClass' });

  const condition = topologyCondition(
    objects,
    cp,
    mdTopologies.map((m) => ({ name: topologyObjectNames.machineDeployment(clusterName, m.name), actual: actualMd(m.name) })),
    target,
    versions.controlPlane,
    writes.length > 0,
  );
  const plan = emptyPlan();
  plan.writes.push(...writes);
  const status = withCondition(cluster, cc, condition, now);
  if (status) plan.writes.push(status);
  if (writes.length) plan.notes.push(`topology: ${writes.length} change(s) to the generated objects`);
  return plan;
}

/** TopologyReconciled from what is stored and what this pass writes (the progress contract the fleet reads). */
function topologyCondition(
  objects: TopologyObjects,
  cp: ControlPlane | undefined,
  mds: readonly { name: string; actual: MachineDeployment | undefined }[],
  target: string,
  cpVersion: string,
  changing: boolean,
): Omit<ConditionInput, 'type'> {
  const pending = (reason: TopologyReason, message: string) => ({ status: 'False' as const, reason, message });
  if (!cp || cp.spec.version !== target || cp.status?.version !== target)
    return pending(
      TopologyReason.ControlPlaneUpgradePending,
      !cp
        ? `ControlPlane being created at ${target}`
        : cpVersion === target
          ? `ControlPlane ${cp.metadata.name} is rolling to ${target}`
          : `ControlPlane ${cp.metadata.name} is rolling to ${cpVersion} on the way to ${target}`,
    );
  if (!controlPlaneStable(cp)) return pending(TopologyReason.ClusterClassRollout, `ControlPlane ${cp.metadata.name} is rolling out`);
  const behind = mds.filter(({ actual: m }) => !m || m.spec.template.spec.version !== target || upgradingMachines(m, objects.machineSets));
  if (behind.length)
    return pending(TopologyReason.MachineDeploymentsUpgradePending, `MachineDeployments not yet at ${target}: ${behind.map((m) => m.name).join(', ')}`);
  const rolling = mds.filter(({ actual: m }) => m && !machineDeploymentStable(m)).map((m) => m.name);
  if (changing || rolling.length)
    return pending(
      TopologyReason.ClusterClassRollout,
      rolling.length ? `MachineDeployments rolling out: ${rolling.join(', ')}` : 'generated objects are being updated to the ClusterClass',
    );
  return { status: 'True', reason: TopologyReason.Reconciled, message: '' };
}
