/**
 * A Machine's NodeReady and NodeHealthy conditions from its node, as Cluster API's machine controller sets them
 * (core/reconcilers/machine/machine_controller_status.go: setNodeHealthyAndReadyConditions and
 * summarizeNodeConditions).
 */
import type { Condition } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import { getCondition, type ConditionInput } from '../conditions.js';
import type { NodeFact } from '../observed.js';
import type { NodeLookup } from './facts.js';

export const NodeConditionReason = {
  NodeReady: 'NodeReady',
  NodeNotReady: 'NodeNotReady',
  NodeReadyUnknown: 'NodeReadyUnknown',
  NodeHealthy: 'NodeHealthy',
  NodeNotHealthy: 'NodeNotHealthy',
  NodeHealthUnknown: 'NodeHealthUnknown',
  NodeDeleted: 'NodeDeleted',
  NodeDoesNotExist: 'NodeDoesNotExist',
  NodeInspectionFailed: 'NodeInspectionFailed',
  NodeConnectionDown: 'NodeConnectionDown',
} as const;

/** The node conditions whose bad state makes a node unhealthy: Ready must be True, the pressures False. */
export const NODE_HEALTH = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

function both(status: Condition['status'], reason: string, message: string): ConditionInput[] {
  return [
    { type: 'NodeReady', status, reason, message },
    { type: 'NodeHealthy', status, reason, message },
  ];
}

export interface NodeConditionsInput {
  machine: Machine;
  lookup: NodeLookup;
  providerID?: string;
  /** The cluster's control plane answers (ControlPlaneInitialized): before it, no node can exist. */
  controlPlaneInitialized: boolean;
  deleting: boolean;
}

/** NodeReady mirrors the node's Ready condition (keeping its transition time); NodeHealthy summarises. */
export function nodeConditions(input: NodeConditionsInput): ConditionInput[] {
  const { machine, lookup } = input;
  const nodeRefName = machine.status?.nodeRef?.name;
  if (!lookup.known) {
    if (!input.controlPlaneInitialized)
      return both('Unknown', NodeConditionReason.NodeInspectionFailed, 'Waiting for the cluster control plane to be initialized');
    // Note: the workload cluster did not answer this time. Keep the last known node conditions rather than
    // flap them: a short API outage must not make every machine look broken (Cluster API does the same
    // within its remote-conditions grace period).
    const ready = getCondition(machine.status?.conditions, 'NodeReady');
    const healthy = getCondition(machine.status?.conditions, 'NodeHealthy');
    if (ready && healthy) return [];
    return both('Unknown', NodeConditionReason.NodeConnectionDown, 'The workload cluster could not be reached');
  }
  if (lookup.node) return [nodeReadyCondition(lookup.node), nodeHealthyCondition(lookup.node)];
  if (nodeRefName !== undefined)
    return both(
      'False',
      NodeConditionReason.NodeDeleted,
      input.deleting ? `Node ${nodeRefName} has been deleted` : `Node ${nodeRefName} has been deleted while the Machine still exists`,
    );
  if (input.deleting) return both('Unknown', NodeConditionReason.NodeDoesNotExist, 'Node does not exist');
  if (input.providerID !== undefined)
    return both('Unknown', NodeConditionReason.NodeInspectionFailed, `Waiting for a Node with spec.providerID ${input.providerID} to exist`);
  return both('Unknown', NodeConditionReason.NodeInspectionFailed, 'Waiting for the instance to report its providerID');
}

function nodeReadyCondition(node: NodeFact): ConditionInput {
  const ready = node.conditions.find((c) => c.type === 'Ready');
  if (!ready)
    return { type: 'NodeReady', status: 'Unknown', reason: NodeConditionReason.NodeReadyUnknown, message: '* Node.Ready: Condition not yet reported' };
  const reason =
    ready.status === 'True'
      ? NodeConditionReason.NodeReady
      : ready.status === 'False'
        ? NodeConditionReason.NodeNotReady
        : NodeConditionReason.NodeReadyUnknown;
  return {
    type: 'NodeReady',
    status: ready.status,
    reason,
    ...(ready.status !== 'True' && ready.message ? { message: `* Node.Ready: ${ready.message}` } : {}),
    lastTransitionTime: ready.lastTransitionTime,
  };
}

function nodeHealthyCondition(node: NodeFact): ConditionInput {
  let bad = 0;
  let unknown = 0;
  const messages: string[] = [];
  for (const type of NODE_HEALTH) {
    const c = node.conditions.find((x) => x.type === type);
    if (!c) {
      unknown++;
      messages.push(`* Node.${type}: Condition not yet reported`);
      continue;
    }
    const healthy = type === 'Ready' ? c.status === 'True' : c.status === 'False';
    if (healthy) continue;
    messages.push(`* Node.${type}: ${c.message || `Condition is ${c.status}`}`);
    if (c.status === 'Unknown') unknown++;
    else bad++;
  }
  if (bad > 0) return { type: 'NodeHealthy', status: 'False', reason: NodeConditionReason.NodeNotHealthy, message: messages.join('\n') };
  if (unknown > 0) return { type: 'NodeHealthy', status: 'Unknown', reason: NodeConditionReason.NodeHealthUnknown, message: messages.join('\n') };
  return { type: 'NodeHealthy', status: 'True', reason: NodeConditionReason.NodeHealthy };
}
