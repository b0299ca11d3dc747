/**
 * A Machine's phase and infrastructure condition from what was recorded and what is observed. The phase rules
 * are Cluster API's (core/reconcilers/machine/machine_controller_status.go, setMachinePhaseAndLastUpdated:
 * each later rule overrides the earlier ones), with the instance standing in for the InfrastructureMachine.
 */
import type { Machine, MachinePhase } from '../../api/machine.js';
import type { ConditionInput } from '../conditions.js';
import type { InstanceFact } from '../observed.js';
import { GONE_STATES } from './facts.js';

export const InfrastructureReason = {
  InfrastructureReady: 'InfrastructureReady',
  InfrastructureNotReady: 'InfrastructureNotReady',
  InfrastructureDoesNotExist: 'InfrastructureDoesNotExist',
  InfrastructureDeleted: 'InfrastructureDeleted',
} as const;

/** Cluster API's MachineStatusError for a machine broken outside its control (api/v1beta1 MachineStatusError). */
export const FailureReason = { UpdateError: 'UpdateError', CreateError: 'CreateError' } as const;

/** The launch has been recorded (intent before action: clientToken and launchRequestedAt come first). */
export function launchRequested(machine: Machine): boolean {
  const infra = machine.status?.infrastructure;
  return infra?.launchRequestedAt !== undefined || infra?.clientToken !== undefined || infra?.instanceId !== undefined;
}

/**
 * Terminal failure: an instance that ran and then went away without the Machine being deleted. Cluster API
 * providers report this as failureReason UpdateError (e.g. CAPA: "EC2 instance state terminated is unexpected");
 * the Machine stays Failed for good and a MachineHealthCheck replaces it.
 *
 * Note: an instance that is absent before it was ever seen running is not a failure: right after RunInstances
 * EC2's describe calls can miss a new instance for a while, and the provision-machine workflow owns launch
 * errors (it marks the Machine Failed itself when the launch cannot succeed).
 */
export function detectFailure(machine: Machine, instance: InstanceFact | undefined): { reason: string; message: string } | undefined {
  if (machine.metadata.deletionTimestamp !== undefined) return undefined;
  if (instance && GONE_STATES.includes(instance.state))
    return {
      reason: FailureReason.UpdateError,
      message: `Instance ${instance.instanceId} is ${instance.state}: it was stopped outside clusterless`,
    };
  if (!instance && machine.status?.infrastructureReady) {
    const id = machine.status.infrastructure?.instanceId ?? machine.spec.providerID;
    return { reason: FailureReason.UpdateError, message: `${id ? `Instance ${id}` : 'The instance'} no longer exists` };
  }
  return undefined;
}

export interface PhaseInput {
  machine: Machine;
  instance: InstanceFact | undefined;
  infrastructureReady: boolean;
  hasNodeRef: boolean;
  failed: boolean;
  /** Deleting and nothing is left of the instance. */
  deleted: boolean;
}

export function machinePhase(input: PhaseInput): MachinePhase {
  const { machine, instance } = input;
  let phase: MachinePhase = 'Pending';
  if (launchRequested(machine) || instance !== undefined) phase = 'Provisioning';
  if (input.infrastructureReady) phase = 'Provisioned';
  if (input.hasNodeRef && input.infrastructureReady) phase = 'Running';
  if (input.failed) phase = 'Failed';
  if (machine.metadata.deletionTimestamp !== undefined) phase = input.deleted ? 'Deleted' : 'Deleting';
  return phase;
}

/** InfrastructureReady from the instance (core/reconcilers/machine/machine_controller_status.go). */
export function infrastructureCondition(machine: Machine, instance: InstanceFact | undefined): ConditionInput {
  const type = 'InfrastructureReady';
  if (instance) {
    if (instance.state === 'running') return { type, status: 'True', reason: InfrastructureReason.InfrastructureReady };
    if (GONE_STATES.includes(instance.state))
      return { type, status: 'False', reason: InfrastructureReason.InfrastructureDeleted, message: `Instance ${instance.instanceId} is ${instance.state}` };
    return { type, status: 'False', reason: InfrastructureReason.InfrastructureNotReady, message: `Instance ${instance.instanceId} is ${instance.state}` };
  }
  if (machine.status?.infrastructureReady)
    return { type, status: 'False', reason: InfrastructureReason.InfrastructureDeleted, message: 'Instance no longer exists' };
  if (launchRequested(machine))
    return {
      type,
      status: 'False',
      reason: InfrastructureReason.InfrastructureNotReady,
      message: `Waiting for the instance to be launched (attempt ${machine.status?.infrastructure?.attempt ?? 1})`,
    };
  return { type, status: 'False', reason: InfrastructureReason.InfrastructureDoesNotExist, message: 'Waiting for the instance to be launched' };
}
