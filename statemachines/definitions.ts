/**
 * Every state machine, by name: the source of statemachines/*.asl.json (`npm run statemachines` writes them; a
 * test fails when a committed file differs). A new stepping workflow is one entry here.
 */
import type { WorkflowName } from '../functions/ports.js';
import type { StateMachineDefinition } from './asl.js';
import { fleetUpgrade } from './fleet-upgrade.js';
import { provisionMachine } from './provision-machine.js';
import { reconcileCluster } from './reconcile-cluster.js';
import { steppingWorkflow } from './stepping-workflow.js';

export const DEFINITIONS: Readonly<Record<WorkflowName, StateMachineDefinition>> = {
  'reconcile-cluster': reconcileCluster,
  'provision-machine': provisionMachine,
  'rolling-upgrade': steppingWorkflow({
    comment:
      'Drives one MachineDeployment rollout: each step re-reads the cluster, runs the rollout planner (maxSurge/maxUnavailable, Recreate, OnDelete), provisions new machines, drains and deletes old ones, then waits for machines to become available. It ends when the rollout is complete, paused or superseded; after a bounded number of steps it continues as a new execution.',
    task: 'RolloutTaskFunctionArn',
    step: 'rolloutStep',
    subject: ['deploymentName'],
    // revision '': any revision; generation 0: superseded by any generation (functions/workflows/stepping.ts).
    inputFields: { revision: '', generation: 0 },
    giveUpFields: ['revision'],
  }),
  remediate: steppingWorkflow({
    comment:
      "Replaces one unhealthy Machine: re-checks that it is still unhealthy and that remediation is still allowed (the health check's short-circuit and maxInFlight, etcd quorum for control-plane machines), deletes it, and waits until its owner has made the replacement. When the remediation is no longer asked for, it clears the mark it is named after and ends; the health check marks the machine again, a new episode with a new name, once remediation is allowed.",
    task: 'RemediateTaskFunctionArn',
    step: 'remediateStep',
    subject: ['healthCheckName', 'machineName'],
    inputFields: { machineUid: '', markedAt: '' },
    // The give-up path clears the mark the execution is named after.
    giveUpFields: ['machineUid', 'markedAt'],
  }),
  'delete-cluster': steppingWorkflow({
    comment:
      "Deletes one cluster in order: workers, then the control plane, then infrastructure, then the cluster's finalizer, waiting between steps until each stage is gone. Nothing is left behind.",
    task: 'TeardownTaskFunctionArn',
    step: 'teardownStep',
    subject: [],
    inputFields: {},
    giveUpFields: [],
  }),
  'fleet-upgrade': fleetUpgrade,
};
