/**
 * ControlPlane status and conditions. Learnt from Cluster API's controlplane/kubeadm/reconcilers/kubeadmcontrolplane/
 * status.go (replica counters, version as the lowest of the machines, initialized/ready, and the v1beta2
 * conditions Available, MachinesReady, MachinesUpToDate, RollingOut, ScalingUp, ScalingDown, Remediating,
 * Deleting).
 */
import { compareVersions, selectorString } from '../../api/common.js';
import type { ControlPlaneStatus } from '../../api/control-plane.js';
import { setConditions, type ConditionInput } from '../conditions.js';
import { isDeleting } from '../cluster/objects.js';
import { projectEtcdCluster } from './etcd.js';
import { etcdClusterCondition } from './etcd-health.js';
import { controlPlaneSelectorLabels, outdatedReasons } from './machines.js';
import type { LastRemediation } from './remediation.js';
import { healthOf, type ControlPlaneScope } from './scope.js';

export const ControlPlaneReason = {
  Available: 'Available',
  NotAvailable: 'NotAvailable',
  AvailableUnknown: 'AvailableUnknown',
  Initialized: 'Initialized',
  NotInitialized: 'NotInitialized',
  Ready: 'Ready',
  NotReady: 'NotReady',
  NoReplicas: 'NoReplicas',
  UpToDate: 'UpToDate',
  NotUpToDate: 'NotUpToDate',
  RollingOut: 'RollingOut',
  NotRollingOut: 'NotRollingOut',
  ScalingUp: 'ScalingUp',
  NotScalingUp: 'NotScalingUp',
  ScalingDown: 'ScalingDown',
  NotScalingDown: 'NotScalingDown',
  RemediationInProgress: 'RemediationInProgress',
  NotRemediating: 'NotRemediating',
  Deleting: 'Deleting',
  NotDeleting: 'NotDeleting',
} as const;

export interface StatusInput {
  /** Why the operation of this reconcile waits, if it does. */
  waiting?: string;
  remediating: string[];
  remediationInProgress: boolean;
  lastRemediation?: LastRemediation;
  deletingMessage?: string;
}

export function controlPlaneStatus(scope: ControlPlaneScope, input: StatusInput): ControlPlaneStatus {
  const { cp, machines, now } = scope;
  const old = cp.status ?? {};
  const live = machines.filter((m) => !isDeleting(m));
  const ready = live.filter((m) => healthOf(scope, m).nodeReady);
  const upToDate = live.length - scope.outdated.length;
  const initialized = Boolean(old.initialized) || machines.some((m) => healthOf(scope, m).hasNode);
  const versions = machines.map((m) => m.spec.version).sort(compareVersions);
  const desired = scope.desiredReplicas;

  // Available: initialized, and the etcd members that vote have a healthy quorum.
  const etcd = projectEtcdCluster(scope.members.filter((m) => !m.learner && m.name !== ''));
  const etcdUnread = scope.observed.etcd?.error !== undefined;
  const available = initialized && scope.nodesKnown && !etcdUnread && etcd.voting > 0 && etcd.healthy >= etcd.quorum;
  const etcdCondition = etcdClusterCondition(scope);
  const notReady = machines.filter((m) => !healthOf(scope, m).nodeReady);
  const waiting = input.waiting ? `; ${input.waiting.replace(/^ControlPlane [^:]+: /, '')}` : '';

  const conditions: ConditionInput[] = [
    available
      ? { type: 'Available', status: 'True', reason: ControlPlaneReason.Available }
      : initialized && (!scope.nodesKnown || etcdUnread)
        ? {
            type: 'Available',
            status: 'Unknown',
            reason: ControlPlaneReason.AvailableUnknown,
            message: scope.nodesKnown ? `etcd could not be read: ${scope.observed.etcd?.error}` : 'The workload cluster could not be read',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: ControlPlaneReason.NotAvailable,
            message: !initialized
              ? 'Control plane not yet initialized'
              : `etcd has ${etcd.healthy} healthy member(s) of ${etcd.voting}, quorum is ${etcd.quorum}`,
          },
    initialized
      ? { type: 'Initialized', status: 'True', reason: ControlPlaneReason.Initialized }
      : {
          type: 'Initialized',
          status: 'False',
          reason: ControlPlaneReason.NotInitialized,
          message: 'Waiting for the first control plane machine to have a node',
        },
    machines.length === 0
      ? { type: 'MachinesReady', status: 'True', reason: ControlPlaneReason.NoReplicas }
      : notReady.length === 0
        ? { type: 'MachinesReady', status: 'True', reason: ControlPlaneReason.Ready }
        : {
            type: 'MachinesReady',
            status: 'False',
            reason: ControlPlaneReason.NotReady,
            message: notReady.map((m) => `* Machine ${m.metadata.name}: ${healthOf(scope, m).hasNode ? 'Node is not Ready' : 'no Node yet'}`).join('\n'),
          },
    scope.outdated.length === 0
      ? { type: 'MachinesUpToDate', status: 'True', reason: ControlPlaneReason.UpToDate }
      : {
          type: 'MachinesUpToDate',
          status: 'False',
          reason: ControlPlaneReason.NotUpToDate,
          message: scope.outdated.map((m) => `* Machine ${m.metadata.name}: ${outdatedReasons(m, cp).join(', ')}`).join('\n'),
        },
    scope.outdated.length > 0
      ? {
          type: 'RollingOut',
          status: 'True',
          reason: ControlPlaneReason.RollingOut,
          message: `Rolling out ${scope.outdated.length} not up-to-date replica(s)${waiting}`,
        }
      : { type: 'RollingOut', status: 'False', reason: ControlPlaneReason.NotRollingOut },
    machines.length < desired && !isDeleting(cp)
      ? {
          type: 'ScalingUp',
          status: 'True',
          reason: ControlPlaneReason.ScalingUp,
          message: `Scaling up from ${machines.length} to ${desired} replicas${waiting}`,
        }
      : { type: 'ScalingUp', status: 'False', reason: ControlPlaneReason.NotScalingUp },
    machines.length > desired || (isDeleting(cp) && machines.length > 0)
      ? {
          type: 'ScalingDown',
          status: 'True',
          reason: ControlPlaneReason.ScalingDown,
          message: `Scaling down from ${machines.length} to ${isDeleting(cp) ? 0 : desired} replicas${waiting}`,
        }
      : { type: 'ScalingDown', status: 'False', reason: ControlPlaneReason.NotScalingDown },
    input.remediationInProgress || input.remediating.length > 0
      ? {
          type: 'Remediating',
          status: 'True',
          reason: ControlPlaneReason.RemediationInProgress,
          message: input.remediating.length > 0 ? input.remediating.join('\n') : 'A remediation is in progress',
        }
      : { type: 'Remediating', status: 'False', reason: ControlPlaneReason.NotRemediating },
    isDeleting(cp)
      ? { type: 'Deleting', status: 'True', reason: ControlPlaneReason.Deleting, message: input.deletingMessage ?? 'Deleting' }
      : { type: 'Deleting', status: 'False', reason: ControlPlaneReason.NotDeleting },
    ...(etcdCondition ? [etcdCondition] : []),
  ];

  const lastRemediation = input.lastRemediation ?? old.lastRemediation;
  return {
    ...old,
    ...(cp.metadata.generation !== undefined ? { observedGeneration: cp.metadata.generation } : {}),
    selector: selectorString({ matchLabels: controlPlaneSelectorLabels(cp) }),
    replicas: machines.length,
    readyReplicas: ready.length,
    updatedReplicas: upToDate,
    unavailableReplicas: Math.max(0, machines.length - ready.length),
    ...(versions.length > 0 ? { version: versions[0] } : {}),
    initialized,
    ready: initialized && ready.length > 0,
    ...(lastRemediation ? { lastRemediation } : {}),
    conditions: setConditions(old.conditions, conditions, now, cp.metadata.generation),
  };
}
