/**
 * MachineDeployment status: the v1beta2 conditions as cluster-api
 * core/reconcilers/machinedeployment/machinedeployment_status.go sets them (setAvailableCondition,
 * setRollingOutCondition, setScalingUpCondition, setScalingDownCondition).
 */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { machineDeploymentStatus, type MachineDeploymentStatusInput } from '../../../../functions/core/machinedeployment/status.js';
import { T0, machineDeployment, type MachineDeploymentOptions } from '../machineset/fixtures.js';

const since = '2026-03-01T12:00:00Z';

function statusOf(md: MachineDeployment, counters: Partial<MachineDeploymentStatusInput> = {}) {
  return machineDeploymentStatus({
    machineDeployment: md,
    selector: { matchLabels: { [Labels.clusterName]: 'c1' } },
    now: T0,
    replicas: md.spec.replicas,
    updatedReplicas: md.spec.replicas,
    readyReplicas: md.spec.replicas,
    availableReplicas: md.spec.replicas,
    specReplicas: md.spec.replicas,
    maxUnavailable: 0,
    notUpToDate: 0,
    rolloutReasons: [],
    ...counters,
  });
}

const conditionsOf = (opts: MachineDeploymentOptions, counters: Partial<MachineDeploymentStatusInput> = {}) =>
  Object.fromEntries((statusOf(machineDeployment(opts), counters).conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => [c.type, c]));

describe('machineDeploymentStatus', () => {
  it('a settled deployment: Available, not rolling out, not scaling, not paused', () => {
    // Act
    const status = statusOf(machineDeployment({ replicas: 3 }));
    // Assess
    expect(status.phase).toBe('Running');
    expect(status.conditions).toEqual([
      { type: 'Available', status: 'True', reason: 'Available', lastTransitionTime: since, observedGeneration: 1 },
      { type: 'RollingOut', status: 'False', reason: 'NotRollingOut', lastTransitionTime: since, observedGeneration: 1 },
      { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown', lastTransitionTime: since, observedGeneration: 1 },
      { type: 'ScalingUp', status: 'False', reason: 'NotScalingUp', lastTransitionTime: since, observedGeneration: 1 },
      { type: 'Paused', status: 'False', reason: 'NotPaused', lastTransitionTime: since, observedGeneration: 1 },
    ]);
  });

  it('is Available with exactly replicas - maxUnavailable available machines, not with one fewer', () => {
    // Act
    const atMinimum = conditionsOf({ replicas: 3, maxUnavailable: 1 }, { availableReplicas: 2, maxUnavailable: 1 });
    const below = conditionsOf({ replicas: 3, maxUnavailable: 1 }, { availableReplicas: 1, maxUnavailable: 1 });
    // Assess
    expect(atMinimum.Available).toMatchObject({ status: 'True', reason: 'Available' });
    expect(below.Available).toMatchObject({ status: 'False', reason: 'NotAvailable' });
  });

  it('a Recreate deployment names no maxUnavailable in its Available message', () => {
    // Act
    const c = conditionsOf({ replicas: 3, strategy: 'Recreate' }, { availableReplicas: 1 });
    // Assess
    expect(c.Available).toMatchObject({ status: 'False', message: '1 available replicas, at least 3 required' });
  });

  it('is RollingOut only while a machine of an old set is left', () => {
    // Act
    const one = conditionsOf({}, { notUpToDate: 1, rolloutReasons: ['* Version v1.30.5, v1.31.2 required'] });
    const none = conditionsOf({}, { notUpToDate: 0, rolloutReasons: ['* Version v1.30.5, v1.31.2 required'] });
    // Assess
    expect(one.RollingOut).toMatchObject({
      status: 'True',
      reason: 'RollingOut',
      message: 'Rolling out 1 not up-to-date replicas\n* Version v1.30.5, v1.31.2 required',
    });
    expect(none.RollingOut).toEqual({ type: 'RollingOut', status: 'False', reason: 'NotRollingOut', observedGeneration: 1 });
  });

  it('ScalingUp and ScalingDown name where they scale from and to', () => {
    // Act
    const up = conditionsOf({ replicas: 3 }, { replicas: 1 });
    const down = conditionsOf({ replicas: 3 }, { replicas: 5 });
    // Assess
    expect(up.ScalingUp).toEqual({ type: 'ScalingUp', status: 'True', reason: 'ScalingUp', message: 'Scaling up from 1 to 3 replicas', observedGeneration: 1 });
    expect(down.ScalingDown).toEqual({
      type: 'ScalingDown',
      status: 'True',
      reason: 'ScalingDown',
      message: 'Scaling down from 5 to 3 replicas',
      observedGeneration: 1,
    });
  });

  it('a deployment that is not scaling up says that scaling up would be blocked, and why', () => {
    // Act
    const c = conditionsOf({ replicas: 3 }, { scaleUpBlocked: 'MachineClass huge does not exist' });
    // Assess
    expect(c.ScalingUp).toEqual({
      type: 'ScalingUp',
      status: 'False',
      reason: 'NotScalingUp',
      message: 'Scaling up would be blocked because MachineClass huge does not exist',
      observedGeneration: 1,
    });
  });

  it('a deployment being deleted is neither Available nor warned that scaling up would be blocked', () => {
    // Prepare
    const md = machineDeployment({ replicas: 3 });
    md.metadata.deletionTimestamp = since;
    // Act
    const status = statusOf(md, { scaleUpBlocked: 'MachineClass huge does not exist' });
    // Assess
    const c = Object.fromEntries((status.conditions ?? []).map((x) => [x.type, x]));
    expect(status.phase).toBe('ScalingDown');
    expect(c.Available).toMatchObject({ status: 'False', reason: 'NotAvailable', message: 'Deletion in progress' });
    expect(c.ScalingUp).not.toHaveProperty('message');
    expect(c.ScalingDown).toMatchObject({ status: 'True', message: 'Scaling down from 3 to 0 replicas' });
  });

  it('a paused deployment is Paused because of spec.paused', () => {
    // Act
    const c = conditionsOf({ paused: true });
    // Assess
    expect(c.Paused).toEqual({
      type: 'Paused',
      status: 'True',
      reason: 'Paused',
      message: 'MachineDeployment spec.paused is set to true',
      observedGeneration: 1,
    });
  });
});
