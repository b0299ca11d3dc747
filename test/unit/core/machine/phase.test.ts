/**
 * A Machine's InfrastructureReady condition, phase and failure from its instance, as Cluster API's machine
 * controller sets them (internal/controllers/machine/machine_controller_status.go, machine_controller_phases.go).
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { detectFailure, infrastructureCondition, launchRequested, machinePhase } from '../../../../functions/core/machine/phase.js';
import { instance, machine } from '../cluster/fixtures.js';

const withInfra = (infra: NonNullable<Machine['status']>['infrastructure'], ready = false): Machine => {
  const m = machine('m', { launched: false });
  return { ...m, status: { ...m.status, infrastructure: infra, infrastructureReady: ready } } as Machine;
};

describe('InfrastructureReady', () => {
  it.each([
    { name: 'True while the instance runs', m: () => machine('m'), i: 'running' as const, want: { status: 'True', reason: 'InfrastructureReady' } },
    {
      name: 'False while the instance is pending',
      m: () => machine('m'),
      i: 'pending' as const,
      want: { status: 'False', reason: 'InfrastructureNotReady', message: 'Instance i-m is pending' },
    },
    {
      name: 'False, deleted, once the instance is terminated',
      m: () => machine('m'),
      i: 'terminated' as const,
      want: { status: 'False', reason: 'InfrastructureDeleted', message: 'Instance i-m is terminated' },
    },
    {
      name: 'False, deleted, once the instance is shutting down',
      m: () => machine('m'),
      i: 'shutting-down' as const,
      want: { status: 'False', reason: 'InfrastructureDeleted', message: 'Instance i-m is shutting-down' },
    },
    {
      name: 'False, deleted, when a ready instance is no longer seen',
      m: () => machine('m'),
      i: undefined,
      want: { status: 'False', reason: 'InfrastructureDeleted', message: 'Instance no longer exists' },
    },
    {
      name: 'False while a launch is under way, with its attempt',
      m: () => withInfra({ launchRequestedAt: '2026-01-01T00:00:00Z', attempt: 3 }),
      i: undefined,
      want: { status: 'False', reason: 'InfrastructureNotReady', message: 'Waiting for the instance to be launched (attempt 3)' },
    },
    {
      name: 'False while the first launch is under way',
      m: () => withInfra({ clientToken: 't' }),
      i: undefined,
      want: { status: 'False', reason: 'InfrastructureNotReady', message: 'Waiting for the instance to be launched (attempt 1)' },
    },
    {
      name: 'False before any launch',
      m: () => machine('m', { launched: false }),
      i: undefined,
      want: { status: 'False', reason: 'InfrastructureDoesNotExist', message: 'Waiting for the instance to be launched' },
    },
  ])('$name', ({ m, i, want }) => {
    // Prepare
    const mm = m();
    // Act & Assess
    expect(infrastructureCondition(mm, i ? instance(mm, i) : undefined)).toEqual({ type: 'InfrastructureReady', ...want });
  });
});

describe('a launch requested', () => {
  it.each([
    { name: 'by its request time', infra: { launchRequestedAt: '2026-01-01T00:00:00Z' }, want: true },
    { name: 'by its client token', infra: { clientToken: 't' }, want: true },
    { name: 'by its instance id', infra: { instanceId: 'i-1' }, want: true },
    { name: 'not without any of them', infra: {}, want: false },
  ])('is known $name', ({ infra, want }) => {
    // Act & Assess
    expect(launchRequested(withInfra(infra))).toBe(want);
  });
});

describe('a failure', () => {
  it('names the instance id recorded, else the providerID, else no id, when a ready instance is gone', () => {
    // Prepare
    const recorded = withInfra({ instanceId: 'i-rec' }, true);
    const byProvider = { ...withInfra({}, true), spec: { ...withInfra({}, true).spec, providerID: 'sim:///zone/m' } } as Machine;
    const neither = withInfra(undefined, true);
    // Act & Assess
    expect(detectFailure(recorded, undefined)).toEqual({ reason: 'UpdateError', message: 'Instance i-rec no longer exists' });
    expect(detectFailure(byProvider, undefined)?.message).toBe('Instance sim:///zone/m no longer exists');
    expect(detectFailure(neither, undefined)?.message).toBe('The instance no longer exists');
  });

  it('a machine whose launch is under way is Provisioning before its instance is seen', () => {
    // Act & Assess
    expect(
      machinePhase({
        machine: withInfra({ clientToken: 't' }),
        instance: undefined,
        infrastructureReady: false,
        hasNodeRef: false,
        failed: false,
        deleted: false,
      }),
    ).toBe('Provisioning');
  });
});

describe('a machine whose instance is seen', () => {
  it('is Provisioning once its instance exists, even with no launch recorded on it', () => {
    // Prepare
    const m = machine('m', { launched: false });
    // Act & Assess
    expect(machinePhase({ machine: m, instance: instance(m, 'pending'), infrastructureReady: false, hasNodeRef: false, failed: false, deleted: false })).toBe(
      'Provisioning',
    );
  });
});
