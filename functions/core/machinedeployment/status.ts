/**
 * MachineDeployment status: counters, phase and the v1beta2 conditions Available, RollingOut, ScalingUp,
 * ScalingDown and Paused. Learnt from cluster-api core/reconcilers/machinedeployment/
 * machinedeployment_status.go (setReplicas, setPhase, setAvailableCondition, setRollingOutCondition,
 * setScalingUpCondition, setScalingDownCondition) and machinedeployment_sync.go (calculateV1Beta1Status:
 * unavailableReplicas from the sum of spec.replicas).
 */
import { selectorString, type LabelSelector } from '../../api/common.js';
import type { MachineDeployment, MachineDeploymentStatus } from '../../api/machine-deployment.js';
import { setConditions, type ConditionInput } from '../conditions.js';
import { pausedCondition } from '../machineset/paused.js';

export interface MachineDeploymentStatusInput {
  machineDeployment: MachineDeployment;
  selector: LabelSelector;
  now: Date;
  /** Machines of all the deployment's sets (deleting ones included), and of the new set. */
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** Sum of the sets' spec.replicas after this plan. */
  specReplicas: number;
  maxUnavailable: number;
  /** Machines of old sets, and why they are out of date ("* Version v1.30.5, v1.31.2 required"). */
  notUpToDate: number;
  rolloutReasons: readonly string[];
  /** Why the deployment cannot scale up (missing MachineClass, invalid failure domain). */
  scaleUpBlocked?: string;
  /** A terminal problem: the phase becomes Failed. */
  failed?: string;
}

export function machineDeploymentStatus(input: MachineDeploymentStatusInput): MachineDeploymentStatus {
  const md = input.machineDeployment;
  const deleting = md.metadata.deletionTimestamp !== undefined;
  const desired = deleting ? 0 : md.spec.replicas;
  const minAvailable = md.spec.replicas - input.maxUnavailable;

  const phase: MachineDeploymentStatus['phase'] = input.failed
    ? 'Failed'
    : deleting || input.replicas > desired
      ? 'ScalingDown'
      : input.replicas < desired
        ? 'ScalingUp'
        : 'Running';

  let availableMessage = `${input.availableReplicas} available replicas, at least ${minAvailable} required`;
  const ru = md.spec.strategy.type === 'RollingUpdate' ? md.spec.strategy.rollingUpdate : undefined;
  if (ru) availableMessage += ` (spec.strategy.rollingUpdate.maxUnavailable is ${ru.maxUnavailable}, spec.replicas is ${md.spec.replicas})`;
  if (deleting) availableMessage = 'Deletion in progress';

  const conditions: ConditionInput[] = [
    input.availableReplicas >= minAvailable && !deleting
      ? { type: 'Available', status: 'True', reason: 'Available' }
      : { type: 'Available', status: 'False', reason: 'NotAvailable', message: availableMessage },
    input.notUpToDate > 0
      ? {
          type: 'RollingOut',
          status: 'True',
          reason: 'RollingOut',
          message: [`Rolling out ${input.notUpToDate} not up-to-date replicas`, ...input.rolloutReasons].join('\n'),
        }
      : { type: 'RollingOut', status: 'False', reason: 'NotRollingOut' },
    input.replicas < desired
      ? {
          type: 'ScalingUp',
          status: 'True',
          reason: 'ScalingUp',
          message: `Scaling up from ${input.replicas} to ${desired} replicas${input.scaleUpBlocked ? ` is blocked because ${input.scaleUpBlocked}` : ''}`,
        }
      : {
          type: 'ScalingUp',
          status: 'False',
          reason: 'NotScalingUp',
          ...(input.scaleUpBlocked && !deleting ? { message: `Scaling up would be blocked because ${input.scaleUpBlocked}` } : {}),
        },
    input.replicas > desired
      ? { type: 'ScalingDown', status: 'True', reason: 'ScalingDown', message: `Scaling down from ${input.replicas} to ${desired} replicas` }
      : { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown' },
    pausedCondition(md.spec.paused ? ['MachineDeployment spec.paused is set to true'] : []),
  ];

  const generation = md.metadata.generation;
  return {
    ...md.status,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    selector: selectorString(input.selector),
    replicas: input.replicas,
    updatedReplicas: input.updatedReplicas,
    readyReplicas: input.readyReplicas,
    availableReplicas: input.availableReplicas,
    unavailableReplicas: Math.max(input.specReplicas - input.availableReplicas, 0),
    phase,
    conditions: setConditions(md.status?.conditions, conditions, input.now, generation),
  };
}
