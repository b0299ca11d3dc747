/**
 * One reconcile of a MachineDeployment and its MachineSets: the deployment planner decides the sets'
 * replicas, then each set's planner decides its machines, on the sets as the deployment plan leaves them
 * and with the same machine facts. That is what makes the deployment planner's availability counts exact
 * (rolling-update.ts): the machines it expects a scale-down to remove are the ones removed.
 *
 * A set this plan creates has no uid yet, so its machines (whose owner reference needs the uid) come in the
 * next reconcile, which the creation itself triggers (DynamoDB stream); the plan asks for a requeue anyway.
 */
import { Labels } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { MachineClass } from '../../api/machine-class.js';
import type { MachineSet } from '../../api/machine-set.js';
import { indexMachines } from '../machineset/machine-health.js';
import { MAX_MACHINE_CREATES_PER_PASS, planMachineSet, type MachineSetPlan } from '../machineset/planner.js';
import { mergePlans, type Plan } from '../plan.js';
import { planMachineDeployment, type MachineDeploymentPlan, type MachineDeploymentPlanInput } from './rollout-planner.js';
import { chainWrites } from './writes.js';

export interface MachineDeploymentReconcile extends Plan {
  machineDeployment: MachineDeploymentPlan;
  machineSets: MachineSetPlan[];
}

/** Seconds to wait before planning the machines of a MachineSet created by this plan. */
export const NEW_MACHINE_SET_REQUEUE_SECONDS = 1;

function classOf(classes: readonly MachineClass[], ms: MachineSet): MachineClass | undefined {
  const name = ms.spec.template.spec.machineClassRef.name;
  return classes.find((c) => c.metadata.name === name && c.metadata.namespace === ms.metadata.namespace);
}

/** Machines created by a plan. */
export function machineCreates(plan: Plan): number {
  // Counted, not filtered into a list: a scale-down's plan holds tens of thousands of Delete writes.
  let n = 0;
  for (const w of plan.writes) if (w.type === 'Create' && w.object.kind === 'Machine') n++;
  return n;
}

export function reconcileMachineDeployment(
  /** createBudget: the machines its sets may create in this pass (MachineSetPlanInput.createBudget). */
  input: MachineDeploymentPlanInput & { createBudget?: number },
): MachineDeploymentReconcile {
  const index = input.index ?? indexMachines(input.machines, input.observed, input.now);
  const { createBudget, ...planInput } = input;
  const mdPlan = planMachineDeployment({ ...planInput, index });
  const setPlans: MachineSetPlan[] = [];
  let created = false;
  let budget = createBudget ?? MAX_MACHINE_CREATES_PER_PASS;
  const deploymentName = input.machineDeployment.metadata.name;
  let mine: Machine[] | undefined;
  // Read only for a deployment with spec.capacity, once.
  const deploymentMachines = () => (mine ??= input.machines.filter((m) => m.metadata.labels?.[Labels.deploymentName] === deploymentName));
  for (const ms of mdPlan.machineSets) {
    if (!ms.metadata.uid) {
      created = true;
      continue;
    }
    const setPlan = planMachineSet({
      machineSet: ms,
      machines: input.machines,
      cluster: input.cluster,
      machineClass: classOf(input.machineClasses, ms),
      controlPlane: input.controlPlane,
      observed: input.observed,
      now: input.now,
      index,
      createBudget: budget,
      ...(input.machineDeployment.spec.capacity ? { capacity: { spec: input.machineDeployment.spec.capacity, deploymentMachines: deploymentMachines() } } : {}),
    });
    budget -= machineCreates(setPlan);
    setPlans.push(setPlan);
  }
  const merged = mergePlans(
    mdPlan,
    ...setPlans,
    created ? { writes: [], actions: [], notes: [], requeueAfterSeconds: NEW_MACHINE_SET_REQUEUE_SECONDS } : { writes: [], actions: [], notes: [] },
  );
  // mergePlans made merged.writes for this plan alone: chained in place.
  return { ...merged, writes: chainWrites(merged.writes, true), machineDeployment: mdPlan, machineSets: setPlans };
}
