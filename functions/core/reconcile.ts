import type { ApiObject } from '../api/kind.js';
import type { Cluster } from '../api/cluster.js';
import type { ClusterClass } from '../api/cluster-class.js';
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../api/cluster-resource-set.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { MachineClass } from '../api/machine-class.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import type { MachineSet } from '../api/machine-set.js';
import type { Machine } from '../api/machine.js';
import { planAddons } from './addons/planner.js';
import { isPaused, type ClusterObjects } from './cluster/objects.js';
import { planCluster } from './cluster/planner.js';
import { planControlPlane } from './controlplane/planner.js';
import { planMachineHealthChecks } from './healthcheck/planner.js';
import { GONE_STATES } from './machine/facts.js';
import { interruptionsToAct, planInterruptions } from './machine/interruption.js';
import { planMachines } from './machine/planner.js';
import type { MachinePlanMemo } from './machine/plan-memo.js';
import { coalesceWrites } from './coalesce.js';
import { machineCreates, reconcileMachineDeployment } from './machinedeployment/reconcile.js';
import { indexMachines, type IndexMemo } from './machineset/machine-health.js';
import { controllerOf } from './machineset/ownership.js';
import { MAX_MACHINE_CREATES_PER_PASS, planMachineSet } from './machineset/planner.js';
import type { Observed } from './observed.js';
import { emptyPlan, mergePlans, refOf, type Action, type Plan } from './plan.js';
import { planTopology } from './topology/planner.js';

/**
 * Sorts one cluster's objects (one Query of the store) into the planners' input. Returns undefined when the
 * Cluster itself is not there (deleted, or not yet created): then nothing of it is planned.
 */
export function clusterObjectsOf(
  clusterName: string,
  objects: readonly ApiObject[],
  machineClasses: readonly MachineClass[],
  clusterResourceSets: readonly StoredClusterResourceSet[] = [],
  clusterClasses: readonly ClusterClass[] = [],
): ClusterObjects | undefined {
  const cluster = objects.find((o): o is Cluster => o.kind === 'Cluster' && o.metadata.name === clusterName);
  if (!cluster) return undefined;
  const of = <T extends ApiObject>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
  const controlPlanes = of<ControlPlane>('ControlPlane');
  const binding = objects.find((o): o is ClusterResourceSetBinding => o.kind === 'ClusterResourceSetBinding' && o.metadata.name === clusterName);
  const clusterClass = cluster.spec.topology ? clusterClasses.find((c) => c.metadata.name === cluster.spec.topology!.class) : undefined;
  return {
    cluster,
    // A cluster has one control plane; should two be declared, the oldest one is the cluster's.
    ...(controlPlanes.length
      ? { controlPlane: [...controlPlanes].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))[0]! }
      : {}),
    machineDeployments: of<MachineDeployment>('MachineDeployment'),
    machineSets: of<MachineSet>('MachineSet'),
    machines: of<Machine>('Machine'),
    machineHealthChecks: of<MachineHealthCheck>('MachineHealthCheck'),
    machineClasses: [...machineClasses],
    clusterResourceSets: [...clusterResourceSets],
    ...(binding ? { clusterResourceSetBinding: binding } : {}),
    ...(clusterClass ? { clusterClass } : {}),
  };
}

/**
 * Instances tagged with the cluster whose Machine is gone from the store. A Machine is always stored (with its
 * uid) before its instance is launched, and removed only after its instance is gone, so such an instance has
 * no owner left and is terminated.
 */
export function orphanInstanceActions(objects: ClusterObjects, observed: Observed): Action[] {
  const uids = new Set(objects.machines.map((m) => m.metadata.uid));
  return observed.instances
    .filter((i) => !uids.has(i.machineUid) && !GONE_STATES.includes(i.state))
    .map((i) => ({ type: 'TerminateOrphanInstance', cluster: refOf(objects.cluster), instanceId: i.instanceId, machineUid: i.machineUid }) as const);
}

/**
 * `memo`: what the cluster's last reconcile left for the machine index (machineset/machine-health.ts IndexMemo), and
 * `machineMemo` for the Machine planner (machine/plan-memo.ts), kept by the caller and updated here; the plan is the
 * same without them.
 */
export function planClusterReconcile(objects: ClusterObjects, observed: Observed, now: Date, memo?: IndexMemo, machineMemo?: MachinePlanMemo): Plan {
  const clusterPlan = planCluster(objects, observed, now);
  // A paused cluster: its own status only, no action and no write to anything else.
  if (isPaused(objects.cluster)) return { ...clusterPlan, actions: [] };

  // The topology first: what it creates or changes is planned by the other planners on the next pass, which
  // its writes trigger (as Cluster API's topology controller writes objects that other controllers reconcile).
  const topologyPlan = planTopology(
    {
      cluster: objects.cluster,
      ...(objects.clusterClass ? { clusterClass: objects.clusterClass } : {}),
      ...(objects.controlPlane ? { controlPlane: objects.controlPlane } : {}),
      machineDeployments: objects.machineDeployments,
      machineSets: objects.machineSets,
      machineHealthChecks: objects.machineHealthChecks,
    },
    now,
  );
  // Machines leaving on an interruption notice: replaced at once by their sets, then deleted (interruption.ts).
  const interruptions = interruptionsToAct(objects.machines, objects.machineSets, objects.machineDeployments);
  const index = indexMachines(objects.machines, observed, now, new Set(interruptions.keys()), memo);
  const deploymentNames = new Set(objects.machineDeployments.map((md) => md.metadata.name));
  // One budget of machine creates for the whole cluster in this pass, taken in turn (MAX_MACHINE_CREATES_PER_PASS).
  let createBudget = MAX_MACHINE_CREATES_PER_PASS;
  const deploymentPlans = objects.machineDeployments.map((md) => {
    const plan = reconcileMachineDeployment({
      machineDeployment: md,
      machineSets: objects.machineSets,
      machines: objects.machines,
      cluster: objects.cluster,
      machineClasses: objects.machineClasses ?? [],
      controlPlane: objects.controlPlane,
      observed,
      now,
      index,
      createBudget,
    });
    createBudget -= machineCreates(plan);
    return plan;
  });
  // Sets no deployment of this cluster controls (made by hand, or left by a deployment that is gone).
  const standaloneSetPlans = objects.machineSets
    .filter((ms) => {
      const owner = controllerOf(ms);
      return !(owner?.kind === 'MachineDeployment' && deploymentNames.has(owner.name));
    })
    .map((ms) => {
      const plan = planMachineSet({
        machineSet: ms,
        machines: objects.machines,
        cluster: objects.cluster,
        machineClass: (objects.machineClasses ?? []).find((c) => c.metadata.name === ms.spec.template.spec.machineClassRef.name),
        controlPlane: objects.controlPlane,
        observed,
        now,
        index,
        createBudget,
      });
      createBudget -= machineCreates(plan);
      return plan;
    });
  const orphans = emptyPlan();
  orphans.actions.push(...orphanInstanceActions(objects, observed));
  const merged = mergePlans(
    topologyPlan,
    clusterPlan,
    planControlPlane(objects, observed, now),
    planMachines(objects, observed, now, machineMemo),
    ...deploymentPlans,
    ...standaloneSetPlans,
    planMachineHealthChecks(objects, observed, now),
    planInterruptions(interruptions, objects.machineSets, index),
    orphans,
    planAddons({
      cluster: objects.cluster,
      ...(objects.controlPlane ? { controlPlane: objects.controlPlane } : {}),
      clusterResourceSets: objects.clusterResourceSets ?? [],
      ...(objects.clusterResourceSetBinding ? { binding: objects.clusterResourceSetBinding } : {}),
      apiAnswers: observed.nodes !== undefined,
    }),
  );
  const originals = [
    objects.cluster,
    ...(objects.controlPlane ? [objects.controlPlane] : []),
    ...objects.machineDeployments,
    ...objects.machineSets,
    ...objects.machines,
    ...objects.machineHealthChecks,
  ];
  return { ...merged, writes: coalesceWrites(merged.writes, originals) };
}
