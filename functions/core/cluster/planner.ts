/**
 * The Cluster planner: phase, conditions and failure domains of the Cluster, its infrastructure, and the order
 * in which a deleting cluster is taken apart. Learnt from Cluster API's core/reconcilers/cluster/
 * (cluster_controller.go reconcileDelete, cluster_controller_phases.go, cluster_controller_status.go setPhase
 * and the v1beta2 conditions).
 */
import type { Cluster, ClusterStatus } from '../../api/cluster.js';
import { Finalizers } from '../../api/common.js';
import type { Condition } from '../../api/common.js';
import { getCondition, isTrue, mirrorCondition, setConditions, summaryCondition, type ConditionInput, type SummarisedType } from '../conditions.js';
import type { Observed } from '../observed.js';
import { emptyPlan, refOf, type Plan } from '../plan.js';
import { clusterDeletionStep, ClusterDeletingReason, type ClusterDeletionStep } from './deletion.js';
import { failureDomainsOf } from './failure-domains.js';
import { infrastructureState, managesLoadBalancer } from './infrastructure.js';
import { isDeleting, isPaused, statusWrite, type ClusterObjects } from './objects.js';

/** How soon a cluster waiting for its load balancer is looked at again (AWS takes minutes to make one). */
export const LOAD_BALANCER_REQUEUE_SECONDS = 15;

export const ClusterPhaseReason = {
  Initialized: 'Initialized',
  NotInitialized: 'NotInitialized',
  ControlPlaneDoesNotExist: 'ControlPlaneDoesNotExist',
  Paused: 'Paused',
  NotPaused: 'NotPaused',
  NoWorkers: 'NoWorkers',
  Available: 'Available',
  NotAvailable: 'NotAvailable',
  AvailableUnknown: 'AvailableUnknown',
} as const;

type ClusterPhase = NonNullable<ClusterStatus['phase']>;

/**
 * Cluster API's phase rules (setPhase), with one change: Provisioned waits for the control plane to answer.
 *
 * Note: in Cluster API a cluster is Provisioned once its infrastructure is up and it has an endpoint; with the
 * simulator the infrastructure is ready at once, so a newcomer's first cluster would read Provisioned before a
 * single machine exists. Here Pending means no ControlPlane is declared yet, Provisioning that one is being
 * brought up, and Provisioned that the infrastructure is ready and the control plane initialized.
 */
export function clusterPhase(input: {
  cluster: Cluster;
  hasControlPlane: boolean;
  infrastructureReady: boolean;
  controlPlaneInitialized: boolean;
  failed: boolean;
}): ClusterPhase {
  let phase: ClusterPhase = 'Pending';
  if (input.hasControlPlane) phase = 'Provisioning';
  if (input.infrastructureReady && input.controlPlaneInitialized) phase = 'Provisioned';
  if (input.failed) phase = 'Failed';
  if (isDeleting(input.cluster)) phase = 'Deleting';
  return phase;
}

/**
 * Plans the Cluster. A paused cluster gets nothing but its own Paused condition: no writes to its objects and no
 * actions, as Cluster API's paused.EnsurePausedCondition leaves it.
 */
export function planCluster(objects: ClusterObjects, observed: Observed, now: Date): Plan {
  const plan = emptyPlan();
  const { cluster, controlPlane } = objects;
  const name = cluster.metadata.name;
  const generation = cluster.metadata.generation;
  const old = cluster.status ?? {};

  if (isPaused(cluster)) {
    const conditions = setConditions(old.conditions, [{ type: 'Paused', status: 'True', reason: ClusterPhaseReason.Paused }], now, generation);
    plan.writes.push(...statusWrite(cluster, { ...old, conditions }));
    plan.notes.push(`Cluster ${name}: paused, nothing done`);
    return plan;
  }

  const deleting = isDeleting(cluster);
  const infra = infrastructureState(cluster, observed);
  // Note: Cluster API's v1beta2 initialization.infrastructureProvisioned never goes back to false; a load balancer
  // that is briefly impaired must not stop every machine from launching. The condition shows the current state.
  const infrastructureReady = Boolean(old.infrastructureReady) || infra.ready;
  const controlPlaneInitialized = isTrue(old.conditions, 'ControlPlaneInitialized') || Boolean(controlPlane?.status?.initialized);
  const failure = old.failureReason !== undefined ? { reason: old.failureReason, message: old.failureMessage ?? '' } : infra.failure;

  let step: ClusterDeletionStep | undefined;
  if (deleting) step = clusterDeletionStep(objects, observed, refOf(cluster));

  const conditions: ConditionInput[] = [
    infra.ready
      ? { type: 'InfrastructureReady', status: 'True', reason: 'InfrastructureReady' }
      : { type: 'InfrastructureReady', status: 'False', reason: 'InfrastructureNotReady', message: infra.message ?? '' },
    controlPlaneInitialized
      ? { type: 'ControlPlaneInitialized', status: 'True', reason: ClusterPhaseReason.Initialized }
      : {
          type: 'ControlPlaneInitialized',
          status: 'False',
          reason: ClusterPhaseReason.NotInitialized,
          message: controlPlane ? 'Waiting for the first control plane machine to have a node' : 'No ControlPlane is declared for this cluster',
        },
    controlPlane
      ? mirrorCondition(controlPlane.status?.conditions, 'Available', 'ControlPlaneAvailable')
      : {
          type: 'ControlPlaneAvailable',
          status: 'False',
          reason: ClusterPhaseReason.ControlPlaneDoesNotExist,
          message: 'No ControlPlane is declared for this cluster',
        },
    workersAvailable(objects),
    step
      ? { type: 'Deleting', status: 'True', reason: step.reason, message: step.message }
      : { type: 'Deleting', status: 'False', reason: ClusterDeletingReason.NotDeleting },
    { type: 'Paused', status: 'False', reason: ClusterPhaseReason.NotPaused },
  ];
  let merged = setConditions(old.conditions, conditions, now, generation);
  merged = setConditions(
    merged,
    [
      summaryCondition(merged, 'Ready', ['Deleting', 'InfrastructureReady', 'ControlPlaneAvailable', 'WorkersAvailable'], {
        negativePolarity: ['Deleting'],
      }),
    ],
    now,
    generation,
  );

  const phase = clusterPhase({
    cluster,
    hasControlPlane: controlPlane !== undefined,
    infrastructureReady,
    controlPlaneInitialized,
    failed: failure !== undefined,
  });
  const status: ClusterStatus = {
    ...old,
    phase,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    infrastructureReady,
    controlPlaneReady: Boolean(controlPlane?.status?.ready),
    failureDomains: failureDomainsOf(cluster),
    ...(failure ? { failureReason: failure.reason, failureMessage: failure.message } : {}),
    conditions: merged,
  };

  // The endpoint of a load balancer clusterless made is recorded in the spec, as Cluster API copies the
  // InfrastructureCluster's; that Update is the only write to the Cluster this time (one write per object).
  const lb = observed.loadBalancer;
  if (!deleting && managesLoadBalancer(cluster) && cluster.spec.controlPlaneEndpoint === undefined && lb?.dnsName && lb.state !== 'failed') {
    const port = lb.port ?? 6443;
    plan.writes.push({ type: 'Update', object: { ...cluster, spec: { ...cluster.spec, controlPlaneEndpoint: { host: lb.dnsName, port } } } });
    plan.notes.push(`Cluster ${name}: control-plane endpoint ${lb.dnsName}:${port} recorded`);
    return plan;
  }

  plan.writes.push(...statusWrite(cluster, status));
  if (phase !== old.phase) plan.notes.push(`Cluster ${name}: ${old.phase ?? 'new'} -> ${phase}`);

  if (step) {
    plan.writes.push(...step.writes);
    plan.actions.push(...step.actions);
    if (step.done && (cluster.metadata.finalizers ?? []).includes(Finalizers.cluster)) {
      plan.writes.push({ type: 'RemoveFinalizer', ref: refOf(cluster), finalizer: Finalizers.cluster });
      plan.notes.push(`Cluster ${name}: nothing left, finalizer removed`);
    } else if (!step.done) plan.notes.push(`Cluster ${name}: deleting: ${step.message.replace(/\n/g, '; ')}`);
    return plan;
  }

  if (!infra.ready && failure === undefined && managesLoadBalancer(cluster) && observed.loadBalancer === undefined)
    plan.actions.push({ type: 'ProvisionInfrastructure', cluster: refOf(cluster) });
  if (!infra.ready) {
    plan.notes.push(`Cluster ${name}: ${infra.message ?? 'infrastructure not ready'}`);
    // Nothing writes when a load balancer becomes active: look again (Cluster API's AWSCluster requeues likewise).
    if (failure === undefined && managesLoadBalancer(cluster)) plan.requeueAfterSeconds = LOAD_BALANCER_REQUEUE_SECONDS;
  }
  return plan;
}

const deploymentEntry = (name: string): SummarisedType => `MachineDeployment ${name}`;

/**
 * WorkersAvailable aggregates the MachineDeployments' Available conditions, as Cluster API's Cluster does
 * (cluster_controller_status.go, setWorkersAvailableCondition); a cluster without workers is not held back.
 */
function workersAvailable(objects: ClusterObjects): ConditionInput {
  const deployments = objects.machineDeployments;
  if (deployments.length === 0) return { type: 'WorkersAvailable', status: 'True', reason: ClusterPhaseReason.NoWorkers };
  const byName = Object.fromEntries(deployments.map((md) => [md.metadata.name, getCondition(md.status?.conditions, 'Available')]));
  const conditions: Condition[] = Object.entries(byName).map(([n, c]) => ({
    type: deploymentEntry(n),
    status: c?.status ?? 'Unknown',
    reason: c?.reason ?? 'NotYetReported',
    ...(c?.message ? { message: c.message } : {}),
    lastTransitionTime: c?.lastTransitionTime ?? '',
  }));
  const summary = summaryCondition(conditions, 'WorkersAvailable', Object.keys(byName).map(deploymentEntry).sort(), {
    reasons: { issue: ClusterPhaseReason.NotAvailable, unknown: ClusterPhaseReason.AvailableUnknown, info: ClusterPhaseReason.Available },
  });
  return summary;
}
